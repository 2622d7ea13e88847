/* mux: turn a session's stream.h264 into stream.mp4 without re-encoding.
 * It runs after sessionwriter has closed a session (or offline over old
 * folders). With the session's index.tsv every picture keeps the camera's
 * own timestamp, so drops and irregular spacing survive into the MP4: mux
 * writes the pictures as FLV (millisecond tag times, like the camera clock)
 * into ffmpeg's stdin, since ffmpeg takes no timestamp list for raw H.264.
 * Without an index (recordings of the old server) it runs the old server's
 * command with a fixed frame rate. ffmpeg writes to a temporary name that
 * is renamed only on success, so a stream.mp4 is never half written.
 * An ESP32 board's JPEG images (-j) are the one case that is encoded:
 * browsers play no MJPEG in MP4, so they become H.264 here, once, after
 * the session ended and off the recording path. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ffrun.h"
#include "h264.h"
#include "index.h"
#include "mapfile.h"
#include "mux.h"
#include "outfile.h"
#include "segindex.h"
#include "spawn.h"
#include "stdopt.h"
#include "util.h"

#define MAX_PARTS FFRUN_MAX_OUT

static struct ffrun run;

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: mux [-r fps | -t index] in.h264 out.mp4\n"
	    "       mux -g segments out.mp4\n"
	    "       mux -j index in.mjpeg out.mp4\n");
	exit(status);
}

static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		err(1, "asprintf");
	return s;
}

/* OUT.mp4 for part 1, OUT.part2.mp4 for part 2, ... */
static char *
part_name(const char *out, size_t k)
{
	size_t n = strlen(out);

	if (k == 1)
		return xasprintf("%s", out);
	if (n > 4 && strcmp(out + n - 4, ".mp4") == 0)
		return xasprintf("%.*s.part%zu.mp4", (int)(n - 4), out, k);
	return xasprintf("%s.part%zu", out, k);
}

static char *
xalloc(char *s)
{
	if (s == NULL)
		err(1, "asprintf");
	return s;
}

/* What ffmpeg reads on its stdin: one part of the plan as FLV, or the
 * list of segments to join. */
struct feed {
	const struct plan *pl;
	const struct part *pt;
	const unsigned char *buf;	/* the stream the plan maps */
	const char *text;		/* or this text */
};

static int
feed_write(int fd, const struct feed *f)
{
	if (f->pl != NULL)
		return flv_write_part(fd, f->pl, f->pt, f->buf);
	return writeall(fd, f->text, strlen(f->text));
}

/* Run ffmpeg to completion on argv, with f on its stdin unless f is NULL.
 * Returns only on success. */
static void
run_ffmpeg(char **argv, const struct feed *f, const char *out)
{
	struct spawn sp;
	char why[64];
	int status, werr = 0;

	if (ffrun_start(&run, &sp, argv, f != NULL ? SPAWN_STDIN : 0) < 0) {
		if (sp.exec_errno != 0)
			errx(spawn_exec_status(sp.exec_errno), "%s: %s", argv[0],
			    strerror(sp.exec_errno));
		err(1, "cannot start %s", argv[0]);
	}
	if (f != NULL && feed_write(sp.in, f) < 0)
		werr = errno;
	if (werr != 0 && werr != EPIPE)
		kill(sp.pid, SIGTERM);
	if (ffrun_wait(&run, &sp, &status) < 0)
		err(1, "waiting for %s", argv[0]);
	if (werr != 0)
		ffrun_discard(&run);
	if (werr == EFBIG)
		errx(3, "%s: a picture is too large for FLV or the capture spans over 49 days", out);
	if (werr != 0 && werr != EPIPE) {
		errno = werr;
		err(1, "%s: writing to ffmpeg", out);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ffrun_discard(&run);
		errx(4, "%s: %s; its messages are in %s", out,
		    ffrun_failure(status, why, sizeof why), run.log);
	}
	if (werr == EPIPE)
		errx(4, "%s: ffmpeg stopped reading its input; its messages are in %s",
		    out, run.log);
}

static void
warn_plan(const char *in, const struct plan *pl)
{
	if (pl->truncated)
		warnx("%s: index entry %zu and %zu after it lie past the end of the file; "
		    "stopped at the last complete picture", in, pl->first_truncated,
		    pl->truncated - 1);
	if (pl->no_params)
		warnx("%s: %zu pictures before any SPS/PPS left out", in, pl->no_params);
	if (pl->lead_delta)
		warnx("%s: %zu pictures before a key frame left out", in, pl->lead_delta);
	if (pl->empty)
		warnx("%s: %zu key/delta entries without a slice left out", in, pl->empty);
	if (pl->too_large)
		warnx("%s: %zu pictures over %u bytes (more than FLV carries) left out, "
		    "and %zu pictures after them up to the next key frame", in,
		    pl->too_large, PLAN_TAG_MAX - 5, pl->after_large);
	if (pl->parts_dropped)
		warnx("%s: picture seq %u and %zu after it left out: the parameter sets "
		    "change more than %d times", in, pl->first_part_dropped,
		    pl->parts_dropped - 1, MAX_PARTS - 1);
	if (pl->ts_fixed)
		warnx("%s: %zu device timestamps not after the one before; moved 1 ms later",
		    in, pl->ts_fixed);
}

/* A current phone's session: its MP4 segments joined into one. */
static int
join_segments(const char *segs, const char *out, const char *ffmpeg)
{
	char *dir, *tsv, *list, *url;
	const char *why, *failed;
	struct feed feed = { 0 };
	struct stat st;
	size_t n, bad_line;

	if (stat(segs, &st) == 0 && S_ISDIR(st.st_mode)) {
		dir = xasprintf("%s", segs);
		tsv = xasprintf("%s/%s", segs, SEGINDEX_NAME);
	} else {
		tsv = xasprintf("%s", segs);
		dir = xalloc(outfile_beside(segs, "."));
	}
	if ((list = concat_list(dir, tsv, &n, &bad_line, &why)) == NULL) {
		if (errno == EINVAL && bad_line > 0)
			errx(3, "%s: line %zu: %s", tsv, bad_line, why);
		err(3, "%s", tsv);
	}
	if (n == 0)
		errx(3, "%s: no segment", tsv);
	if (ffrun_open(&run, out) < 0)
		err(1, "%s: cannot write %s.log", out, out);
	ffrun_catch_signals(&run);
	if (ffrun_output(&run, out) < 0)
		err(1, "asprintf");
	url = xalloc(outfile_url(run.tmp[0]));
	{
		char *args[] = { (char *)ffmpeg, "-nostdin", "-hide_banner", "-loglevel",
		    "warning", "-y", "-f", "concat", "-safe", "0", "-protocol_whitelist",
		    "file,pipe", "-i", "pipe:0", "-map", "0:v:0", "-c:v", "copy",
		    "-movflags", "+faststart", "-f", "mp4", url, NULL };

		feed.text = list;
		run_ffmpeg(args, &feed, out);
	}
	if (ffrun_commit(&run, &failed) < 0) {
		warn("%s", failed);
		return 1;
	}
	ffrun_close(&run);
	free(url);
	free(list);
	free(tsv);
	free(dir);
	return 0;
}

/* An ESP32 board's session: its JPEG images encoded to H.264, each shown
 * for as long as it lasted. */
static int
encode_images(const char *idx, const char *in, const char *out, const char *ffmpeg)
{
	struct images_plan ip;
	struct feed feed = { 0 };
	struct mapfile m;
	struct index ix;
	struct stat st;
	const char *failed;
	char *idx_path, *abs, *list, *url, *scale, *last;
	size_t bad_line;

	if (stat(idx, &st) == 0 && S_ISDIR(st.st_mode))
		idx_path = xasprintf("%s/%s", idx, INDEX_NAME);
	else
		idx_path = xasprintf("%s", idx);
	if (mapfile_open(in, &m) < 0)
		err(3, "%s", in);
	if ((abs = realpath(in, NULL)) == NULL)
		err(3, "%s", in);
	if (index_load(idx_path, &ix, &bad_line) < 0) {
		if (errno == EINVAL && bad_line > 0)
			errx(3, "%s: line %zu: malformed", idx_path, bad_line);
		err(3, "%s", idx_path);
	}
	if ((list = images_list(abs, &ix, m.p, m.len, &ip)) == NULL) {
		if (ip.n == 0)
			errx(3, "%s: no whole JPEG image in %s", in, idx_path);
		err(1, "%s", in);
	}
	if (ip.skipped)
		warnx("%s: %zu index entries that are no whole JPEG image left out", in,
		    ip.skipped);
	if (ip.ts_fixed)
		warnx("%s: %zu arrival times within 1 ms of the one before; moved 1 ms later",
		    in, ip.ts_fixed);
	if (ffrun_open(&run, out) < 0)
		err(1, "%s: cannot write %s.log", out, out);
	ffrun_catch_signals(&run);
	if (ffrun_output(&run, out) < 0)
		err(1, "asprintf");
	url = xalloc(outfile_url(run.tmp[0]));
	/* Every image at the first one's size (even, as yuv420p needs): a
	 * board that changes resolution mid-session still makes one video. */
	if (ip.width >= 2 && ip.height >= 2)
		scale = xasprintf("scale=%u:%u,format=yuv420p", ip.width & ~1u,
		    ip.height & ~1u);
	else
		scale = xasprintf("scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p");
	/* The MP4 takes the last sample's duration from its packet. Without
	 * B-frames every sample's time is its image's arrival, as the
	 * playlist says, with no reordering for a player to undo. */
	last = xasprintf("setts=duration=%llu/1000/TB", (unsigned long long)ip.last_ms);
	{
		char *args[] = { (char *)ffmpeg, "-nostdin", "-hide_banner", "-loglevel",
		    "error", "-y", "-f", "concat", "-safe", "0", "-protocol_whitelist",
		    "file,pipe,subfile", "-i", "pipe:0", "-map", "0:v:0", "-vf", scale,
		    "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "veryfast", "-bf", "0",
		    "-pix_fmt", "yuv420p", "-bsf:v", last, "-video_track_timescale", "1000",
		    "-movflags", "+faststart", "-f", "mp4", url, NULL };

		feed.text = list;
		run_ffmpeg(args, &feed, out);
	}
	if (ffrun_commit(&run, &failed) < 0) {
		warn("%s", failed);
		return 1;
	}
	ffrun_close(&run);
	free(url);
	free(scale);
	free(last);
	free(list);
	free(abs);
	free(idx_path);
	index_free(&ix);
	mapfile_close(&m);
	return 0;
}

static void
check_decodable(const char *in, const unsigned char *p, size_t len)
{
	struct h264_params hp;

	h264_find_params(p, len, &hp);
	if (hp.sps == NULL || !hp.has_pps)
		errx(3, "%s: no SPS/PPS: no decodable picture", in);
	if (!hp.has_picture)
		errx(3, "%s: no picture", in);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		STD_LONGOPTS,
	};
	const char *fps = NULL, *idx = NULL, *segs = NULL, *jpegs = NULL, *in, *out, *failed,
	    *ffmpeg = spawn_ffmpeg();
	char *idx_path = NULL, *name;
	struct feed feed = { 0 };
	struct mapfile m;
	struct plan pl;
	struct stat st;
	double rate;
	size_t bad_line, k;
	int c;

	while ((c = getopt_long(argc, argv, "g:j:r:t:", longopts, NULL)) != -1) {
		switch (c) {
		case 'g':
			segs = optarg;
			break;
		case 'j':
			jpegs = optarg;
			break;
		case 'r':
			fps = optarg;
			break;
		case 't':
			idx = optarg;
			break;
		default:
			return std_option(c, "mux", usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (jpegs != NULL) {
		if (fps != NULL || idx != NULL || segs != NULL)
			errx(2, "cannot use -j with -g, -r or -t");
		if (argc != 2)
			usage(stderr, 2);
		return encode_images(jpegs, argv[0], argv[1], ffmpeg);
	}
	if (segs != NULL) {
		if (fps != NULL || idx != NULL)
			errx(2, "cannot use -g with -r or -t");
		if (argc != 1)
			usage(stderr, 2);
		return join_segments(segs, argv[0], ffmpeg);
	}
	if (argc != 2)
		usage(stderr, 2);
	in = argv[0];
	out = argv[1];
	if (fps != NULL && idx != NULL)
		errx(2, "cannot use -r and -t together");
	if (fps != NULL && parse_double(fps, 0.01, 1000, &rate) < 0)
		errx(2, "-r %s: not a frame rate between 0.01 and 1000", fps);
	if (fps == NULL && idx == NULL) {
		idx_path = xalloc(outfile_beside(in, INDEX_NAME));
		if (access(idx_path, F_OK) < 0)
			errx(2, "%s: no %s beside it; give -r FPS or -t INDEX", in, INDEX_NAME);
	} else if (idx != NULL) {
		if (stat(idx, &st) == 0 && S_ISDIR(st.st_mode))
			idx_path = xasprintf("%s/%s", idx, INDEX_NAME);
		else
			idx_path = xasprintf("%s", idx);
	}

	if (mapfile_open(in, &m) < 0)
		err(3, "%s", in);
	if (m.len == 0)
		errx(3, "%s: empty", in);
	memset(&pl, 0, sizeof pl);
	if (idx_path != NULL) {
		struct index ix;

		if (index_load(idx_path, &ix, &bad_line) < 0) {
			if (errno == EINVAL && bad_line > 0)
				errx(3, "%s: line %zu: malformed", idx_path, bad_line);
			err(3, "%s", idx_path);
		}
		if (plan_build(&pl, &ix, m.p, m.len, MAX_PARTS) < 0)
			err(1, "%s", in);
		index_free(&ix);
		warn_plan(in, &pl);
		if (pl.npart == 0)
			errx(3, "%s: no decodable picture (%s)", in,
			    pl.no_params ? "no SPS/PPS before the pictures" :
			    pl.lead_delta ? "no key frame" : "no picture in the index");
	} else
		check_decodable(in, m.p, m.len);

	if (ffrun_open(&run, out) < 0)
		err(1, "%s: cannot write %s.log", out, out);
	ffrun_catch_signals(&run);

	if (idx_path == NULL) {
		char *args[] = { (char *)ffmpeg, "-nostdin", "-hide_banner", "-loglevel",
		    "warning", "-y", "-f", "h264", "-r", (char *)fps, "-i",
		    xalloc(outfile_url(in)), "-c:v", "copy", "-movflags", "+faststart",
		    "-f", "mp4", NULL, NULL };

		if (ffrun_output(&run, out) < 0)
			err(1, "asprintf");
		args[18] = xalloc(outfile_url(run.tmp[0]));
		run_ffmpeg(args, NULL, out);
		free(args[11]);
		free(args[18]);
	} else {
		for (k = 0; k < pl.npart; k++) {
			const struct part *pt = &pl.part[k];
			char *args[] = { (char *)ffmpeg, "-nostdin", "-hide_banner",
			    "-loglevel", "warning", "-y", "-f", "flv", "-i", "pipe:0",
			    "-map", "0:v:0", "-c:v", "copy", "-bsf:v", NULL,
			    "-video_track_timescale", "1000", "-movflags", "+faststart",
			    "-f", "mp4", NULL, NULL };

			name = part_name(out, k + 1);
			if (ffrun_output(&run, name) < 0)
				err(1, "asprintf");
			free(name);
			/* The MP4 gives its last picture the duration of the last
			 * packet, which FLV cannot carry; left alone ffmpeg takes
			 * 1/fps of the SPS timing, which phones often fill in
			 * wrong. The median spacing is what the camera did. */
			args[15] = xasprintf("setts=duration=%llu",
			    (unsigned long long)plan_last_interval(&pl, pt));
			args[22] = xalloc(outfile_url(run.tmp[k]));
			if (k > 0)
				warnx("%s: picture seq %u: parameter sets change (%dx%d to %dx%d); "
				    "writing %s", in, pl.pic[pt->pic0].seq, pl.part[k - 1].width,
				    pl.part[k - 1].height, pt->width, pt->height, run.final[k]);
			feed.pl = &pl;
			feed.pt = pt;
			feed.buf = m.p;
			run_ffmpeg(args, &feed, run.final[k]);
			free(args[15]);
			free(args[22]);
		}
	}
	if (ffrun_commit(&run, &failed) < 0) {
		warn("%s", failed);
		return 1;
	}
	ffrun_close(&run);
	free(idx_path);
	plan_free(&pl);
	mapfile_close(&m);
	return 0;
}
