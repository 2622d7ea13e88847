/* sessionwriter: the end of the recording pipeline (wsrecv | frameparse |
 * sessionwriter). It turns each Android camera's capture into a session
 * folder (stream.h264, index.tsv, session.json; or for a phone on the
 * current app its MP4 segments and segments.tsv; for an ESP32 board its
 * JPEG images as stream.mjpeg and index.tsv) and announces each
 * finished one on stdout for the finalizing loop. It reads only the record stream:
 * folder names and times come from the stream's clock, so replaying a saved
 * stream rebuilds the same folders. Its own clock only paces fdatasync. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "campath.h"
#include "connmap.h"
#include "h264.h"
#include "sessionwriter.h"
#include "utf8.h"
#include "stdopt.h"
#include "util.h"

#define HOLD_GAP_US   2000000	/* held frames older than this are stale */
#define AUTO_START_US 3000000	/* frames for this long without capture_started */
#define HOLD_MAX      (8u << 20)	/* bytes held per connection at most */
#define STATUS_WAIT_MS 100	/* idle time before a held-back status is written */
#define TEXT_MAX      4096	/* bytes of a text message kept for status */
#define IDLE_CHECK_US 100000	/* how often boards are checked for idling */

/* All of sessionwriter's state; the lower layers get their parts passed. */
struct writer {
	struct sessions sessions;
	struct status status;
	struct conn *conn_first, *conn_last;	/* in order of OPEN */
	struct connmap conns;
	uint64_t newest_t_us;		/* the newest arrival time read */
	int64_t newest_mono_us;		/* our clock when it was read */
	uint64_t grace_us;		/* --segment-grace */
	size_t nstopping;		/* connections with c->stopping set */
	struct images images;		/* --images */
	uint64_t esp_idle_us;		/* --esp-idle */
	uint64_t idle_checked_us;	/* stream time of the last check */
	size_t nesp;			/* connections of ESP32 boards */
};

static struct writer w = { .sessions = { .root = "recordings", .sync = 1 },
	.grace_us = 5000000, .esp_idle_us = 10000000 };
static volatile sig_atomic_t stop_signal;

static void
status_now(int force)
{
	status_update(&w.status, w.conn_first, w.newest_t_us, force);
}

/* End the connection's session. One that waits for late segments after
 * capture_stopped ends as of then, whatever ends it now. */
static void
end_session(struct conn *c, uint64_t t_us, const char *ended_by)
{
	if (c->stopping) {
		t_us = c->stop_t_us;
		ended_by = "capture_stopped";
		c->stopping = 0;
		w.nstopping--;
	}
	session_end(c, t_us, ended_by);
}

/* End the sessions whose grace after capture_stopped is over at now_us. */
static void
grace_over(uint64_t now_us)
{
	struct conn *c;

	if (w.nstopping == 0)
		return;
	for (c = w.conn_first; c != NULL && w.nstopping > 0; c = c->next)
		if (c->stopping && now_us >= c->stop_t_us &&
		    now_us - c->stop_t_us > w.grace_us) {
			end_session(c, now_us, "capture_stopped");
			status_now(1);
		}
}

/* End the sessions of ESP32 boards that sent no image for --esp-idle by
 * now_us, looking at most every IDLE_CHECK_US of stream time. */
static void
idle_over(uint64_t now_us, int force)
{
	struct conn *c;

	if (w.esp_idle_us == 0 || w.nesp == 0 || (!force && now_us >= w.idle_checked_us &&
	    now_us - w.idle_checked_us < IDLE_CHECK_US))
		return;
	w.idle_checked_us = now_us;
	for (c = w.conn_first; c != NULL; c = c->next)
		if (c->kind == CAMPATH_ESP && esp_idle(c, now_us, w.esp_idle_us))
			status_now(1);
}

/* Our clock's time of the next end of a grace or of an ESP32 board's
 * session by idling, or -1 when none waits. */
static int64_t
grace_deadline(void)
{
	int64_t best = -1, at;
	struct conn *c;

	if (w.nstopping == 0 && (w.nesp == 0 || w.esp_idle_us == 0))
		return -1;
	for (c = w.conn_first; c != NULL; c = c->next) {
		if (c->stopping)
			at = (int64_t)(c->stop_t_us + w.grace_us);
		else if (c->kind == CAMPATH_ESP && c->s != NULL && w.esp_idle_us > 0)
			at = (int64_t)(c->last_image_t_us + w.esp_idle_us);
		else
			continue;
		at += w.newest_mono_us - (int64_t)w.newest_t_us + 1;
		if (best < 0 || at < best)
			best = at;
	}
	return best;
}

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: sessionwriter [-v] [-d dir] [-s seconds] [--segment-grace seconds] "
	    "[--esp-idle seconds] [--images[=N]] [--status file] [file]\n");
	exit(status);
}

static void
on_signal(int sig)
{
	stop_signal = sig;
}

static char *
copy_text(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p == NULL)
		err(1, NULL);
	memcpy(p, s, len);
	p[len] = '\0';
	/* It goes into JSON: no NUL to cut it short, no byte that is not
	 * UTF-8 (a client's, or one a length limit cut in two). */
	utf8_fix(p, len);
	return p;
}

static void
hold_clear(struct conn *c)
{
	c->nheld = 0;
	c->hold_len = 0;
}

static void
conn_free(struct conn *c)
{
	connmap_del(&w.conns, c->id);
	if (c->kind == CAMPATH_ESP)
		w.nesp--;
	if (c->prev)
		c->prev->next = c->next;
	else
		w.conn_first = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		w.conn_last = c->prev;
	free(c->addr);
	free(c->path);
	free(c->device_model);
	free(c->config);
	free(c->held);
	free(c->hold_data);
	free(c->last_text);
	free(c->last_status);
	free(c->pending_message);
	free(c->resume_message);
	free(c->esp_ack);
	free(c);
}

static void
on_open(const struct rec *r)
{
	struct rec_open o;
	struct conn *c;

	if ((c = connmap_get(&w.conns, r->conn)) != NULL) {
		/* A reused id means the old connection is gone. */
		end_session(c, r->t_us, "close");
		conn_free(c);
	}
	if ((c = calloc(1, sizeof *c)) == NULL)
		err(1, NULL);
	c->id = r->conn;
	c->open_t_us = r->t_us;
	if (rec_open_parse(r, &o) == 0) {
		c->addr = copy_text(o.addr, o.addr_len);
		c->path = copy_text(o.path, o.path_len);
		c->port = o.port;
		c->open_wall_us = o.wall_us;
		c->kind = campath_kind(o.path, o.path_len);
	} else {
		c->addr = copy_text("", 0);
		c->path = copy_text("", 0);
		c->kind = CAMPATH_DEV;	/* unreadable: never record it */
	}
	if (connmap_put(&w.conns, c->id, c) < 0)
		err(1, NULL);
	if (c->kind == CAMPATH_ESP)
		w.nesp++;
	c->prev = w.conn_last;
	if (w.conn_last)
		w.conn_last->next = c;
	else
		w.conn_first = c;
	w.conn_last = c;
	status_now(1);
}

/* Whether the connection may open another session at now_us: fewer than
 * SESSION_BURST opens in the SESSION_WINDOW_US before it. A clock running
 * backwards (only a damaged replay has one) opens nothing. */
static int
may_open(const struct conn *c, uint64_t now_us)
{
	uint64_t oldest;

	if (c->nopened < SESSION_BURST)
		return 1;
	oldest = c->opened_us[c->nopened % SESSION_BURST];
	return now_us >= oldest && now_us - oldest >= SESSION_WINDOW_US;
}

static void
pending_clear(struct conn *c)
{
	c->start_pending = 0;
	free(c->pending_message);
	c->pending_message = NULL;
}

/* Open a session starting at t_us (now_us is the record that caused it),
 * and write the held frames at its head. */
static void
start(struct conn *c, uint64_t t_us, uint64_t now_us, const char *started_by,
    const char *message, int kind)
{
	size_t i;

	c->stopped = 0;
	c->discard = 0;
	c->bound_warned = 0;
	c->opened_us[c->nopened++ % SESSION_BURST] = now_us;
	if (session_open(&w.sessions, c, t_us, started_by, message, kind) == 0)
		for (i = 0; i < c->nheld && c->s != NULL; i++) {
			struct rec_frame f = c->held[i].f;

			f.payload = c->hold_data + c->held[i].off;
			session_frame(c, &f, c->held[i].t_us);
		}
	pending_clear(c);
	hold_clear(c);
	status_now(1);
}

/* A capture_started over the bound: the open session goes on; without one,
 * the capture starts with the first frame the bound allows. */
static void
defer_start(struct conn *c, const char *message)
{
	if (!c->bound_warned)
		warnx("conn %llu: more than %d sessions in %d s, capture_started deferred",
		    (unsigned long long)c->id, SESSION_BURST, SESSION_WINDOW_US / 1000000);
	c->bound_warned = 1;
	if (c->s != NULL)
		return;
	pending_clear(c);
	c->start_pending = 1;
	c->stopped = 0;
	if (message != NULL)
		c->pending_message = copy_text(message, strlen(message));
}

static void
on_status(struct conn *c, const struct rec *r, const char *status, const char *message)
{
	free(c->last_status);
	c->last_status = copy_text(status, strlen(status));
	c->last_status_us = r->t_us;
	c->have_status = 1;
	if (c->stopping && strcmp(status, "capture_started") == 0)
		end_session(c, r->t_us, "capture_stopped");
	if (strcmp(status, "capture_started") == 0) {
		if (c->s != NULL && !c->s->have_real) {
			/* Nothing recorded yet: the same capture, told again. */
			if (message != NULL) {
				free(c->s->capture_message);
				c->s->capture_message = copy_text(message, strlen(message));
			}
			return;
		}
		if (c->s != NULL && strcmp(c->s->started_by, "frames") == 0) {
			/* The status came late to a session the frames began. */
			if (c->s->capture_message == NULL && message != NULL)
				c->s->capture_message = copy_text(message, strlen(message));
			return;
		}
		if (!may_open(c, r->t_us)) {
			defer_start(c, message);
			return;
		}
		end_session(c, r->t_us, "capture_started");
		if (c->nheld > 0 && r->t_us - c->held[c->nheld - 1].t_us > HOLD_GAP_US)
			hold_clear(c);
		start(c, r->t_us, r->t_us, "capture_started", message, SESSION_FRAMES);
	} else if (strcmp(status, "capture_stopped") == 0) {
		/* The phone on the current app sends its last segment after
		 * capture_stopped: a session of segments, or one with nothing
		 * in it yet, waits --segment-grace for it. */
		if (c->s != NULL && !c->stopping &&
		    (c->s->kind == SESSION_SEGMENTS || !c->s->have_real)) {
			c->stopping = 1;
			c->stop_t_us = r->t_us;
			w.nstopping++;
		} else if (!c->stopping)
			end_session(c, r->t_us, "capture_stopped");
		hold_clear(c);
		pending_clear(c);
		c->stopped = 1;
		c->discard = 0;
	}
}

static void
on_text(struct conn *c, const struct rec *r)
{
	const char *status, *message, *model;
	json_error_t jerr;
	json_t *j;

	free(c->last_text);
	c->last_text = copy_text((const char *)r->body, r->len < TEXT_MAX ? r->len : TEXT_MAX);
	c->last_text_us = r->t_us;
	c->have_text = 1;
	if (c->kind == CAMPATH_ESP)
		esp_text(c, r);
	if (c->kind == CAMPATH_ANDROID &&
	    (j = json_loadb((const char *)r->body, r->len, JSON_REJECT_DUPLICATES, &jerr)) != NULL) {
		status = json_string_value(json_object_get(j, "status"));
		message = json_string_value(json_object_get(j, "message"));
		model = json_string_value(json_object_get(j, "deviceModel"));
		if (status != NULL)
			on_status(c, r, status, message);
		if (model != NULL && json_is_string(json_object_get(j, "type")) &&
		    strcmp(json_string_value(json_object_get(j, "type")), "capabilities") == 0) {
			free(c->device_model);
			c->device_model = copy_text(model, strnlen(model, 256));
		}
		json_decref(j);
	}
	status_now(1);
}

static void
remember_config(struct conn *c, const unsigned char *p, size_t len, uint32_t seq, uint64_t t_us)
{
	if (len > c->config_cap) {
		unsigned char *q = realloc(c->config, len);
		if (q == NULL)
			err(1, NULL);
		c->config = q;
		c->config_cap = len;
	}
	memcpy(c->config, p, len);
	c->config_len = len;
	c->config_seq = seq;
	c->config_t_us = t_us;
}

/* Many encoders repeat SPS/PPS before key frames; keep the newest copy. */
static void
remember_inband_config(struct conn *c, const struct rec_frame *f, uint64_t t_us)
{
	static const unsigned char sc[4] = { 0, 0, 0, 1 };
	unsigned char buf[1024];
	struct h264_nal nal;
	size_t pos = 0, len = 0;
	int sps = 0, pps = 0;

	while (h264_next_nal(f->payload, f->payload_len, &pos, &nal)) {
		if (nal.type >= 1 && nal.type <= 5)
			break;
		if (nal.type != NAL_SPS && nal.type != NAL_PPS)
			continue;
		if (len + 4 + nal.len > sizeof buf)
			return;
		memcpy(buf + len, sc, 4);
		memcpy(buf + len + 4, nal.p, nal.len);
		len += 4 + nal.len;
		sps |= nal.type == NAL_SPS;
		pps |= nal.type == NAL_PPS;
	}
	if (sps && pps)
		remember_config(c, buf, len, f->seq, t_us);
}

static void
hold(struct conn *c, const struct rec_frame *f, uint64_t t_us)
{
	if (c->nheld > 0 && t_us - c->held[c->nheld - 1].t_us > HOLD_GAP_US)
		hold_clear(c);
	if (c->nheld == c->held_cap) {
		size_t cap = c->held_cap ? c->held_cap * 2 : 64;
		struct held *h = reallocarray(c->held, cap, sizeof *h);
		if (h == NULL)
			err(1, NULL);
		c->held = h;
		c->held_cap = cap;
	}
	if (f->payload_len > c->hold_cap - c->hold_len) {
		size_t cap = c->hold_cap ? c->hold_cap : 1 << 16;
		unsigned char *p;

		while (cap - c->hold_len < f->payload_len)
			cap *= 2;
		if ((p = realloc(c->hold_data, cap)) == NULL)
			err(1, NULL);
		c->hold_data = p;
		c->hold_cap = cap;
	}
	memcpy(c->hold_data + c->hold_len, f->payload, f->payload_len);
	c->held[c->nheld].f = *f;
	c->held[c->nheld].f.payload = NULL;
	c->held[c->nheld].t_us = t_us;
	c->held[c->nheld].off = c->hold_len;
	c->nheld++;
	c->hold_len += f->payload_len;
	if (c->start_pending) {
		if (may_open(c, t_us))
			start(c, c->held[0].t_us, t_us, "capture_started", c->pending_message,
			    SESSION_FRAMES);
		else if (c->hold_len >= HOLD_MAX)
			hold_clear(c);
		return;
	}
	/* A camera streaming with no capture_started at all still records. */
	if (t_us - c->held[0].t_us >= AUTO_START_US || c->hold_len >= HOLD_MAX) {
		if (may_open(c, t_us))
			start(c, c->held[0].t_us, t_us, "frames", NULL, SESSION_FRAMES);
		else if (c->hold_len >= HOLD_MAX)
			hold_clear(c);
	}
}

static void
on_frame(struct conn *c, const struct rec *r)
{
	struct rec_frame f;

	if (c->kind != CAMPATH_ANDROID || rec_frame_parse(r, &f) < 0)
		return;
	status_rate(c, r->t_us, f.payload_len);
	if (f.kind == FRAME_CONFIG) {
		remember_config(c, f.payload, f.payload_len, f.seq, r->t_us);
		c->stopped = 0;	/* a new encoder is starting */
	} else if (f.kind == FRAME_KEY) {
		remember_inband_config(c, &f, r->t_us);
	}
	if (c->discard) {
		/* After a write error: a new session on the first key frame
		 * once the back-off is over, its codec config put first. */
		if (f.kind != FRAME_KEY || r->t_us < c->retry_at_us || !may_open(c, r->t_us))
			return;
		start(c, r->t_us, r->t_us, "resumed", c->resume_message, SESSION_FRAMES);
		if (c->s == NULL)
			return;
	}
	if (c->stopping)
		end_session(c, r->t_us, "capture_stopped");
	if (c->s != NULL && c->s->kind == SESSION_SEGMENTS) {
		/* Frames after segments: the phone changed; so does the session. */
		end_session(c, r->t_us, "switched");
		if (may_open(c, r->t_us))
			start(c, r->t_us, r->t_us, "frames", NULL, SESSION_FRAMES);
	}
	if (c->s != NULL)
		session_frame(c, &f, r->t_us);
	else if (!c->stopped)
		hold(c, &f, r->t_us);
}

static void
on_segment(struct conn *c, const struct rec *r)
{
	struct rec_segment sg;
	const char *started_by = "segments";

	if (c->kind != CAMPATH_ANDROID || rec_segment_parse(r, &sg) < 0)
		return;
	if (c->s != NULL && c->s->kind == SESSION_FRAMES && c->s->have_real)
		end_session(c, r->t_us, "switched");
	if (c->s == NULL) {
		if (c->discard && r->t_us < c->retry_at_us) {
			warnx("conn %llu: segment dropped: waiting after a write error",
			    (unsigned long long)c->id);
			return;
		}
		if (!may_open(c, r->t_us)) {
			warnx("conn %llu: segment dropped: more than %d sessions in %d s",
			    (unsigned long long)c->id, SESSION_BURST,
			    SESSION_WINDOW_US / 1000000);
			return;
		}
		if (c->discard)
			started_by = "resumed";
		else if (c->start_pending)
			started_by = "capture_started";
		hold_clear(c);
		start(c, r->t_us, r->t_us, started_by,
		    c->discard ? c->resume_message : c->pending_message, SESSION_SEGMENTS);
		if (c->s == NULL)
			return;
	}
	session_segment(c, &sg, r->t_us);
	status_now(1);
}

static void
dispatch(const struct rec *r)
{
	struct conn *c;

	if (r->t_us > w.newest_t_us) {
		w.newest_t_us = r->t_us;
		w.newest_mono_us = mono_us();
	}
	grace_over(r->t_us);
	idle_over(r->t_us, 0);
	if (r->type == REC_OPEN) {
		on_open(r);
		return;
	}
	if ((c = connmap_get(&w.conns, r->conn)) == NULL)
		return;
	switch (r->type) {
	case REC_CLOSE:
		end_session(c, r->t_us, "close");
		conn_free(c);
		status_now(1);
		return;
	case REC_TEXT:
		on_text(c, r);
		return;
	case REC_FRAME:
		on_frame(c, r);
		break;
	case REC_BINARY:
		status_rate(c, r->t_us, r->len);
		break;
	case REC_BADFRAME:
		if (c->s != NULL)
			c->s->bad_frames++;
		break;
	case REC_SEGMENT:
		on_segment(c, r);
		return;
	case REC_BADSEGMENT:
		if (c->s != NULL)
			c->s->bad_segments++;
		break;
	case REC_IMAGE:
		if (c->kind != CAMPATH_ESP)
			break;
		status_rate(c, r->t_us, r->len - REC_IMAGE_FIXED);
		if (esp_image(&w.sessions, &w.images, c, r, w.esp_idle_us))
			status_now(1);
		break;
	case REC_BADIMAGE:
		if (c->s != NULL)
			c->s->bad_frames++;
		break;
	case REC_SENT:
		if (c->kind == CAMPATH_ESP)
			esp_sent(c, r);
		break;
	}
	status_now(0);
}

static uint64_t
now_ms(void)
{
	return (uint64_t)mono_us() / 1000;
}

/* Wait for input, syncing written sessions every sync_ms meanwhile (with
 * syncs off, writing their index lines).
 * 0 when input is ready, -1 when a signal asks to stop. */
static int
wait_input(int fd, uint64_t sync_ms, uint64_t *next_sync)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int64_t deadline;
	int timeout, n;

	for (;;) {
		if (stop_signal)
			return -1;
		timeout = -1;
		if (session_any_dirty(&w.sessions)) {
			uint64_t now = now_ms();
			if (now >= *next_sync) {
				session_sync_all(&w.sessions, w.newest_t_us);
				*next_sync = now + sync_ms;
				continue;
			}
			timeout = (int)(*next_sync - now);
		}
		/* A status change held back waits for input no longer than
		 * it would have waited for the next change. */
		if (status_pending(&w.status) && (timeout < 0 || timeout > STATUS_WAIT_MS))
			timeout = STATUS_WAIT_MS;
		/* With no input, a grace after capture_stopped ends by our
		 * clock, which runs with the stream's while the stream is live. */
		if ((deadline = grace_deadline()) >= 0) {
			int64_t left = (deadline - mono_us() + 999) / 1000;

			if (left <= 0) {
				uint64_t now = w.newest_t_us + (uint64_t)(mono_us() - w.newest_mono_us);

				grace_over(now);
				idle_over(now, 1);
				continue;
			}
			if (timeout < 0 || timeout > left)
				timeout = (int)(left < INT_MAX ? left : INT_MAX);
		}
		n = poll(&p, 1, timeout);
		if (n > 0)
			return 0;
		if (n == 0)
			status_flush(&w.status, w.conn_first, w.newest_t_us);
		if (n < 0 && errno != EINTR)
			return 0;	/* let read(2) report it */
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "status", required_argument, NULL, 'S' },
		{ "segment-grace", required_argument, NULL, 'G' },
		{ "esp-idle", required_argument, NULL, 'I' },
		{ "images", optional_argument, NULL, 'J' },
		STD_LONGOPTS,
	};
	struct sigaction sa;
	struct rec_reader rd;
	struct rec r;
	const char *name = "stdin", *status_file = NULL;
	uint64_t sync_s = 1, sync_ms, next_sync;
	double grace, idle;
	uint64_t keep_images = 0;
	int ch, got = 0;

	while ((ch = getopt_long(argc, argv, "vd:s:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'v':
			w.sessions.verbose = 1;
			break;
		case 'd':
			w.sessions.root = optarg;
			break;
		case 's':
			if (parse_u64(optarg, 0, 86400, &sync_s) < 0)
				errx(2, "-s %s: not a number of seconds 0-86400", optarg);
			break;
		case 'S':
			status_file = optarg;
			break;
		case 'G':
			if (parse_double(optarg, 0, 3600, &grace) < 0)
				errx(2, "--segment-grace %s: not a number of seconds 0-3600", optarg);
			w.grace_us = (uint64_t)(grace * 1e6 + 0.5);
			break;
		case 'I':
			if (parse_double(optarg, 0, 86400, &idle) < 0)
				errx(2, "--esp-idle %s: not a number of seconds 0-86400", optarg);
			w.esp_idle_us = (uint64_t)(idle * 1e6 + 0.5);
			break;
		case 'J':
			keep_images = 200;
			if (optarg != NULL && parse_u64(optarg, 1, 1000000, &keep_images) < 0)
				errx(2, "--images=%s: not a number of images 1-1000000", optarg);
			break;
		default:
			return std_option(ch, "sessionwriter", usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage(stderr, 2);
	if (*w.sessions.root == '\0')
		errx(2, "-d: empty folder name");
	w.sessions.sync = sync_s > 0;
	/* With syncs off, index lines are still written each second. */
	sync_ms = sync_s > 0 ? sync_s * 1000 : 1000;
	if (argc == 1 && strcmp(argv[0], "-") != 0)
		name = argv[0];
	if (mkdir(w.sessions.root, 0755) < 0 && errno != EEXIST)
		err(1, "%s", w.sessions.root);
	if (status_file != NULL && status_open(&w.status, status_file,
	    w.sessions.root, &w.sessions.counts) < 0)
		err(1, NULL);
	if (keep_images > 0 && images_open(&w.images, w.sessions.root, keep_images) < 0)
		err(1, "%s/%s", w.sessions.root, IMAGES_DIR);
	/* Two descriptors per recording camera: allow as many as we may. */
	fdlimit_raise(RLIM_INFINITY);
	/* An empty camera list at once: ctl can tell "nobody connected" from
	 * "no recorder". */
	status_now(1);
	/* The finalizing loop reading stdout may die; recording goes on. */
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (rec_reader_open_path(&rd, argc == 1 ? argv[0] : NULL) < 0) {
		if (rd.error)
			errx(3, "%s: %s", name, rd.error);
		err(1, "%s", name);
	}
	next_sync = now_ms() + sync_ms;
	for (;;) {
		if (!rec_buffered(&rd) && wait_input(rd.fd, sync_ms, &next_sync) < 0)
			break;
		if ((got = rec_read(&rd, &r)) <= 0)
			break;
		dispatch(&r);
		if (session_any_dirty(&w.sessions) && now_ms() >= next_sync) {
			session_sync_all(&w.sessions, w.newest_t_us);
			next_sync = now_ms() + sync_ms;
		}
	}
	/* End of input, a signal or an unreadable stream: end every session
	 * properly either way, in the order the connections opened. */
	for (struct conn *c = w.conn_first; c != NULL; c = c->next)
		end_session(c, w.newest_t_us, "end_of_input");
	session_retry_json(&w.sessions, 1);
	status_now(1);
	status_flush(&w.status, w.conn_first, w.newest_t_us);
	while (w.conn_first)
		conn_free(w.conn_first);
	if (got < 0) {
		if (rd.error)
			errx(3, "%s: offset %llu: %s", name,
			    (unsigned long long)rd.rec_offset, rd.error);
		err(1, "%s", name);
	}
	rec_reader_close(&rd);
	connmap_free(&w.conns);
	images_close(&w.images);
	if (stdout_close() < 0 && errno != EPIPE)
		err(1, "stdout");
	return w.sessions.write_failed ? 1 : 0;
}
