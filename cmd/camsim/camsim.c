/* camsim: camera simulator. It stands where the phones and ESP32 boards
 * stand, in front of wsrecv, and speaks their wire protocol (status JSON,
 * 16-byte frame headers, SPS/PPS once, JPEG per message, plain-text ESP
 * commands) so the whole pipeline can be tested, demonstrated and
 * benchmarked without hardware. Many cameras share one lws event loop;
 * the faults real cameras show (jitter, bursts, sequence gaps, racing
 * status messages, Wi-Fi loss, bad headers) come on request from a seeded
 * generator so a failing run can be repeated. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "camsim.h"
#include "util.h"

/* The handler's only channel; housekeeping() reads it. */
static volatile sig_atomic_t got_signal;

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: camsim [-v] [-n N] [-u URL] [--esp] [--clip FILE] [--jpeg FILE|DIR]\n"
	    "              [--model NAME] [--autostart] [--fps F] [--max-fps F] [--bitrate MB]\n"
	    "              [--aspect W:H] [--res RES] [--quality Q] [--fast] [--duration S]\n"
	    "              [--frames N] [--stats] [--seq-start N] [--jitter MS] [--burst N]\n"
	    "              [--drop P] [--early N] [--malformed N] [--vanish-after S]\n"
	    "              [--vanish-how silence|reset] [--seed N] [--retry]\n"
	    "              [--sent-log FILE]\n");
	exit(status);
}

static void
on_signal(int sig)
{
	(void)sig;
	got_signal++;
}

static void
begin_stop(struct sim *sim)
{
	int k;

	sim->stopping = 1;
	sim->stop_deadline = lws_now_usecs() + 3 * LWS_US_PER_SEC;
	for (k = 0; k < sim->cf.ncams; k++) {
		if (sim->cams[k].state == CAM_VANISHED)
			cam_vanish_now(&sim->cams[k]);
		else
			cam_stop(&sim->cams[k], "Streaming stopped", 1);
	}
}

/* Only wakes the loop: a signal that lands just before poll() would
 * otherwise wait for the next network event. */
static void
wake(lws_sorted_usec_list_t *sul)
{
	(void)sul;
}

/* Checks that belong to no single connection, run after every pass of the
 * event loop: signals, time bounds, and whether every camera is finished. */
static void
housekeeping(struct sim *sim)
{
	lws_usec_t now = lws_now_usecs();
	int k, live = 0;

	if (got_signal > 1 || (sim->stopping && now > sim->stop_deadline)) {
		sim->loop_done = 1;
		return;
	}
	if (got_signal && !sim->stopping)
		begin_stop(sim);
	for (k = 0; k < sim->cf.ncams; k++) {
		struct cam *c = &sim->cams[k];

		if (c->state == CAM_STREAMING && sim->cf.duration > 0 &&
		    now - c->started_us >= (lws_usec_t)(sim->cf.duration * 1e6))
			cam_stop(c, "Duration reached", 1);
		if (c->state == CAM_VANISHED && c->wsi == NULL)
			c->state = CAM_DONE;
		if (c->state != CAM_DONE)
			live++;
	}
	if (live == 0)
		sim->loop_done = 1;
	else
		lws_sul_schedule(sim->ctx, 0, &sim->sul_wake, wake, 50 * LWS_US_PER_MS);
}

static void
parse_url(const char *url, struct config *cf)
{
	static char host[256];
	const char *p, *end, *slash;
	uint64_t port = 80;
	char portbuf[8];

	if (strncmp(url, "ws://", 5) != 0)
		errx(2, "url %s: only ws:// is supported", url);
	p = url + 5;
	slash = strchr(p, '/');
	end = slash ? slash : p + strlen(p);
	cf->path = slash ? slash : "/";
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (rb == NULL)
			errx(2, "url %s: unclosed [", url);
		snprintf(host, sizeof(host), "%.*s", (int)(rb - p - 1), p + 1);
		p = rb + 1;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		const char *hend = colon ? colon : end;

		snprintf(host, sizeof(host), "%.*s", (int)(hend - p), p);
		p = hend;
	}
	if (*p == ':') {
		snprintf(portbuf, sizeof(portbuf), "%.*s", (int)(end - p - 1), p + 1);
		if (parse_u64(portbuf, 1, 65535, &port) < 0)
			errx(2, "url %s: bad port", url);
	} else if (p != end) {
		errx(2, "url %s: bad host", url);
	}
	if (host[0] == '\0')
		errx(2, "url %s: no host", url);
	cf->host = host;
	cf->port = (int)port;
}

static uint64_t
num(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (parse_u64(s, min, max, &v) < 0)
		errx(2, "%s %s: expected an integer in %llu..%llu", opt, s,
		    (unsigned long long)min, (unsigned long long)max);
	return v;
}

static double
dnum(const char *opt, const char *s, double min, double max)
{
	double v;

	if (parse_double(s, min, max, &v) < 0)
		errx(2, "%s %s: expected a number in %g..%g", opt, s, min, max);
	return v;
}

/* Each connection needs a descriptor; lws sizes its tables from the limit. */
static void
raise_nofile(int ncams)
{
	rlim_t need = (rlim_t)ncams + 32, have;

	if ((have = fdlimit_raise(RLIM_INFINITY)) == 0)
		err(1, "getrlimit");
	if (have < need)
		errx(1, "-n %d needs %llu file descriptors but the limit is %llu "
		    "(raise the hard limit: ulimit -Hn)", ncams,
		    (unsigned long long)need, (unsigned long long)have);
}

static void
parse_options(int argc, char *argv[], struct config *cf, char ***jpegs, int *njpegs,
    const char **clip)
{
	enum { O_ESP = 256, O_CLIP, O_JPEG, O_MODEL, O_AUTOSTART, O_FPS, O_MAXFPS,
		O_BITRATE, O_ASPECT, O_RES, O_QUALITY, O_FAST, O_DURATION, O_FRAMES,
		O_STATS, O_SEQSTART, O_JITTER, O_BURST, O_DROP, O_EARLY, O_MALFORMED,
		O_VANISH, O_VANISHHOW, O_SEED, O_RETRY, O_SENTLOG, O_HELP, O_VERSION };
	static const struct option longopts[] = {
		{ "esp", no_argument, NULL, O_ESP },
		{ "url", required_argument, NULL, 'u' },
		{ "clip", required_argument, NULL, O_CLIP },
		{ "jpeg", required_argument, NULL, O_JPEG },
		{ "model", required_argument, NULL, O_MODEL },
		{ "autostart", no_argument, NULL, O_AUTOSTART },
		{ "fps", required_argument, NULL, O_FPS },
		{ "max-fps", required_argument, NULL, O_MAXFPS },
		{ "bitrate", required_argument, NULL, O_BITRATE },
		{ "aspect", required_argument, NULL, O_ASPECT },
		{ "res", required_argument, NULL, O_RES },
		{ "quality", required_argument, NULL, O_QUALITY },
		{ "fast", no_argument, NULL, O_FAST },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "frames", required_argument, NULL, O_FRAMES },
		{ "stats", no_argument, NULL, O_STATS },
		{ "seq-start", required_argument, NULL, O_SEQSTART },
		{ "jitter", required_argument, NULL, O_JITTER },
		{ "burst", required_argument, NULL, O_BURST },
		{ "drop", required_argument, NULL, O_DROP },
		{ "early", required_argument, NULL, O_EARLY },
		{ "malformed", required_argument, NULL, O_MALFORMED },
		{ "vanish-after", required_argument, NULL, O_VANISH },
		{ "vanish-how", required_argument, NULL, O_VANISHHOW },
		{ "seed", required_argument, NULL, O_SEED },
		{ "retry", no_argument, NULL, O_RETRY },
		{ "sent-log", required_argument, NULL, O_SENTLOG },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL;
	unsigned aw, ah;
	char tail;
	double d;
	int c;

	while ((c = getopt_long(argc, argv, "vn:u:", longopts, NULL)) != -1) {
		switch (c) {
		case 'v': cf->verbose++; break;
		case 'n': cf->ncams = (int)num("-n", optarg, 1, 100000); break;
		case 'u': url = optarg; break;
		case O_ESP: cf->esp = 1; break;
		case O_CLIP: *clip = optarg; break;
		case O_JPEG: (*jpegs)[(*njpegs)++] = optarg; break;
		case O_MODEL: cf->model = optarg; break;
		case O_AUTOSTART: cf->autostart = 1; break;
		case O_FPS: cf->fps = dnum("--fps", optarg, 0, 1000); break;
		case O_MAXFPS: cf->max_fps = dnum("--max-fps", optarg, 0.1, 1000); break;
		case O_BITRATE: cf->bitrate = (unsigned)num("--bitrate", optarg, 1, 1000); break;
		case O_ASPECT:
			if (sscanf(optarg, "%u:%u%c", &aw, &ah, &tail) != 2 || aw == 0 ||
			    ah == 0 || aw > 100 || ah > 100)
				errx(2, "--aspect %s: expected W:H like 16:9", optarg);
			cf->aspect_w = aw;
			cf->aspect_h = ah;
			break;
		case O_RES:
			if (!esp_res_valid(optarg))
				errx(2, "--res %s: not an esp32-camera frame size", optarg);
			cf->esp_res = optarg;
			break;
		case O_QUALITY: cf->esp_quality = (unsigned)num("--quality", optarg, 1, 63); break;
		case O_FAST: cf->fast = 1; break;
		case O_DURATION: cf->duration = dnum("--duration", optarg, 0.001, 1e7); break;
		case O_FRAMES: cf->frames_limit = num("--frames", optarg, 1, UINT64_MAX); break;
		case O_STATS: cf->stats = 1; break;
		case O_SEQSTART: cf->seq_start = (uint32_t)num("--seq-start", optarg, 0, UINT32_MAX); break;
		case O_JITTER: cf->jitter_ms = dnum("--jitter", optarg, 0, 60000); break;
		case O_BURST: cf->burst = num("--burst", optarg, 1, 10000); break;
		case O_DROP:
			d = dnum("--drop", optarg, 0, 1e9);
			if (d >= 1 && d != (double)(uint64_t)d)
				errx(2, "--drop %s: a probability below 1 or a whole N", optarg);
			if (d >= 1)
				cf->drop_every = (uint64_t)d;
			else
				cf->drop_p = d;
			break;
		case O_EARLY: cf->early = num("--early", optarg, 0, 10000); break;
		case O_MALFORMED: cf->malformed_every = num("--malformed", optarg, 1, UINT64_MAX); break;
		case O_VANISH: cf->vanish_after = dnum("--vanish-after", optarg, 0.001, 1e7); break;
		case O_VANISHHOW:
			if (strcmp(optarg, "silence") == 0)
				cf->vanish_how = VANISH_SILENCE;
			else if (strcmp(optarg, "reset") == 0)
				cf->vanish_how = VANISH_RESET;
			else
				errx(2, "--vanish-how %s: expected silence or reset", optarg);
			break;
		case O_SENTLOG: cf->sent_log = optarg; break;
		case O_SEED: cf->seed = num("--seed", optarg, 0, UINT64_MAX); break;
		case O_RETRY: cf->retry = 1; break;
		case O_HELP: usage(stdout, 0); break;
		case O_VERSION: exit(print_version("camsim") < 0);
		default: usage(stderr, 2);
		}
	}
	if (optind < argc)
		usage(stderr, 2);
	if (url == NULL)
		url = cf->esp ? "ws://127.0.0.1:50001/esp" : "ws://127.0.0.1:50001/android-cam";
	parse_url(url, cf);
	if (cf->esp && *clip != NULL)
		errx(2, "--clip is for Android cameras; use --jpeg with --esp");
	if (!cf->esp && *njpegs > 0)
		errx(2, "--jpeg needs --esp");
	if (cf->esp && *njpegs == 0)
		errx(2, "--esp needs --jpeg FILE|DIR (JPEG images to send)");
	if (!cf->esp && *clip == NULL)
		errx(2, "--clip FILE is required (an Annex-B H.264 clip)");
	if (cf->fps < 0)
		cf->fps = cf->esp ? 10 : 0;
}

int
main(int argc, char *argv[])
{
	struct sim sim;
	struct lws_context_creation_info info;
	struct config *cf = &sim.cf;
	const char *clip = NULL, *why = NULL;
	char **jpegs, failed[4096] = "";
	int njpegs = 0, k, r, status = 0;
	double secs;

	memset(&sim, 0, sizeof(sim));
	if ((jpegs = calloc((size_t)argc + 1, sizeof(*jpegs))) == NULL)
		err(1, "calloc");
	cf->ncams = 1;
	cf->model = "camsim";
	cf->fps = -1;
	cf->max_fps = 30;
	cf->bitrate = 4;
	cf->esp_res = "HD";
	cf->esp_quality = 12;
	cf->seed = 1;
	parse_options(argc, argv, cf, &jpegs, &njpegs, &clip);

	if (cf->esp)
		r = media_load_jpegs(&sim.media, jpegs, njpegs, failed,
		    sizeof(failed), &why);
	else
		r = media_load_clip(&sim.media, clip, &why);
	/* lib's mapfile gives EINVAL for a pipe or device: it maps files. */
	if (r == -1 && errno == EINVAL)
		errx(1, "%s: not a regular file", cf->esp ? failed : clip);
	if (r == -1)
		err(1, "%s", cf->esp ? failed : clip);
	if (r < 0)
		errx(3, "%s: %s", cf->esp ? failed : clip, why);
	free(jpegs);
	/* Line-buffered, so a line is out before the next message goes. */
	if (cf->sent_log != NULL && ((sim.sent = fopen(cf->sent_log, "w")) == NULL ||
	    setvbuf(sim.sent, NULL, _IOLBF, 0) != 0))
		err(1, "%s", cf->sent_log);
	if ((sim.scratch = malloc(LWS_PRE + HDR_LEN + sim.media.max_unit + TEXT_MAX)) == NULL)
		err(1, "malloc");

	raise_nofile(cf->ncams);
	if ((sim.cams = calloc((size_t)cf->ncams, sizeof(*sim.cams))) == NULL)
		err(1, "calloc");
	for (k = 0; k < cf->ncams; k++) {
		struct cam *c = &sim.cams[k];

		c->sim = &sim;
		c->index = k;
		if (cf->ncams > 1)
			snprintf(c->model, sizeof(c->model), "%s-%d", cf->model, k);
		else
			snprintf(c->model, sizeof(c->model), "%s", cf->model);
		c->rng = (cf->seed + 1) * 0x9E3779B97F4A7C15ULL + (uint64_t)k * 0xBF58476D1CE4E5B9ULL;
		if (c->rng == 0)
			c->rng = 1;
		/* A sensor clock somewhere in the first day of uptime. */
		c->device_base_ms = 83412345 + (uint64_t)k * 3600000 -
		    (uint64_t)(lws_now_usecs() / 1000);
		c->seq = cf->seq_start;
		c->held_cap = cf->burst + 32;
		if ((c->held = calloc(c->held_cap, sizeof(*c->held))) == NULL)
			err(1, "calloc");
	}

	lws_set_log_level(cf->verbose > 1 ? LLL_ERR | LLL_WARN | LLL_NOTICE : 0, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = cam_protocols;
	info.user = &sim;
	info.fd_limit_per_thread = (unsigned)cf->ncams + 32;
	if ((sim.ctx = lws_create_context(&info)) == NULL)
		errx(1, "cannot create the libwebsockets context");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	for (k = 0; k < cf->ncams; k++)
		cam_connect(&sim.cams[k]);
	housekeeping(&sim);
	while (!sim.loop_done) {
		if (lws_service(sim.ctx, 0) < 0)
			break;
		housekeeping(&sim);
	}
	if (sim.last_end_us == 0 || sim.last_end_us < sim.first_start_us)
		sim.last_end_us = lws_now_usecs();
	lws_context_destroy(sim.ctx);

	for (k = 0; k < cf->ncams; k++) {
		struct cam *c = &sim.cams[k];

		if (c->failed)
			status = 1;
		while (c->ntexts > 0)
			free(c->texts[--c->ntexts]);
		free(c->held);
	}
	free(sim.cams);
	free(sim.scratch);
	media_free(&sim.media);
	if (sim.sent != NULL && fclose(sim.sent) != 0)
		err(1, "%s", cf->sent_log);
	if (got_signal > 1)
		status = 1;
	secs = sim.first_start_us ? (double)(sim.last_end_us - sim.first_start_us) / 1e6 : 0;
	if (cf->stats)
		printf("frames=%llu bytes=%llu seconds=%.3f\n", (unsigned long long)sim.frames,
		    (unsigned long long)sim.bytes, secs);
	if (sim.frames > 0 && (cf->verbose || cf->fast))
		fprintf(stderr, "camsim: %d camera%s, %llu frames, %llu bytes in %.2f s "
		    "(%.2f MB/s)\n", cf->ncams, cf->ncams > 1 ? "s" : "",
		    (unsigned long long)sim.frames, (unsigned long long)sim.bytes, secs,
		    secs > 0 ? (double)sim.bytes / secs / 1e6 : 0.0);
	if (stdout_close() < 0)
		err(1, "stdout");
	return status;
}
