/* thumb: one picture of a recording as a JPEG (a session's thumbnail.jpg).
 * It runs after mux when a session is finalized, or offline over old
 * folders. By default it does what the old server did, the first
 * decodable picture at full size and JPEG quality 2; --at and --width pick
 * another moment and a smaller size. ffmpeg writes to a temporary name that
 * is renamed only on success, so a thumbnail is never half written. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ffrun.h"
#include "h264.h"
#include "mapfile.h"
#include "outfile.h"
#include "spawn.h"
#include "stdopt.h"
#include "util.h"

static struct ffrun run;

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: thumb [--at seconds] [--width w] in.h264|in.mp4 out.jpg\n");
	exit(status);
}

/* Raw H.264 has no header for ffmpeg to probe reliably, so it is named. */
static int
is_h264(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot != NULL && (strcmp(dot, ".h264") == 0 || strcmp(dot, ".264") == 0);
}

/* Refuse a stream nobody can decode; return the frame rate its SPS
 * claims (0 when none), by which --at counts in a raw stream. */
static double
check_h264(const char *in)
{
	struct mapfile m;
	struct h264_params hp;
	struct h264_sps s;
	double fps = 0;

	if (mapfile_open(in, &m) < 0)
		err(3, "%s", in);
	h264_find_params(m.p, m.len, &hp);
	if (hp.sps != NULL && h264_sps_parse(hp.sps, hp.sps_len, &s) == 0)
		fps = h264_sps_fps(&s);
	mapfile_close(&m);
	if (hp.sps == NULL || !hp.has_pps)
		errx(3, "%s: no SPS/PPS: no decodable picture", in);
	return fps;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "width", required_argument, NULL, 'w' },
		STD_LONGOPTS,
	};
	const char *at = NULL, *in, *out, *ffmpeg = spawn_ffmpeg();
	char *args[32], *in_url, *out_url, select[64] = "", scale[32] = "",
	    filters[sizeof select + sizeof scale], why[64];
	const char *failed;
	struct spawn sp;
	struct stat st;
	uint64_t width = 0;
	char at_text[32];
	double seconds, fps;
	int c, n = 0, status;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			at = optarg;
			if (parse_double(at, 0, 1e7, &seconds) < 0)
				errx(2, "--at %s: not a number of seconds", at);
			break;
		case 'w':
			if (parse_u64(optarg, 2, 16384, &width) < 0)
				errx(2, "--width %s: not a width between 2 and 16384", optarg);
			break;
		default:
			return std_option(c, "thumb", usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		usage(stderr, 2);
	in = argv[0];
	out = argv[1];

	if (stat(in, &st) < 0)
		err(3, "%s", in);
	if (S_ISREG(st.st_mode) && st.st_size == 0)
		errx(3, "%s: empty", in);
	if (is_h264(in)) {
		/* Raw H.264 carries no times and cannot seek: --at becomes
		 * a picture number at the rate the SPS claims (ffmpeg's own
		 * default of 25 without one), picked by ffmpeg's select. */
		if ((fps = check_h264(in)) <= 0 || fps > 1000)
			fps = 25;
		if (at != NULL) {
			double x = seconds * fps - 1e-6;
			unsigned long long pic = x > 0 ? (unsigned long long)x : 0;

			if ((double)pic < x)
				pic++;
			snprintf(select, sizeof select, "select=gte(n\\,%llu)", pic);
		}
	}

	if (ffrun_open(&run, out) < 0)
		err(1, "%s: cannot write %s.log", out, out);
	if (ffrun_output(&run, out) < 0 || (in_url = outfile_url(in)) == NULL ||
	    (out_url = outfile_url(run.tmp[0])) == NULL)
		err(1, "asprintf");
	args[n++] = (char *)ffmpeg;
	args[n++] = "-nostdin";
	args[n++] = "-hide_banner";
	args[n++] = "-loglevel";
	args[n++] = "warning";
	args[n++] = "-y";
	if (at != NULL && !is_h264(in)) {
		/* As parsed, not as typed: ffmpeg reads "1e3" or "0x10"
		 * otherwise than strtod. */
		snprintf(at_text, sizeof at_text, "%.6f", seconds);
		args[n++] = "-ss";
		args[n++] = at_text;
	}
	if (is_h264(in)) {
		args[n++] = "-f";
		args[n++] = "h264";
	}
	args[n++] = "-i";
	args[n++] = in_url;
	args[n++] = "-map";
	args[n++] = "0:v:0";
	args[n++] = "-frames:v";
	args[n++] = "1";
	args[n++] = "-q:v";
	args[n++] = "2";
	if (width > 0)
		snprintf(scale, sizeof scale, "scale=%llu:-2", (unsigned long long)width);
	if (*select != '\0' || *scale != '\0') {
		snprintf(filters, sizeof filters, "%s%s%s", select,
		    *select && *scale ? "," : "", scale);
		args[n++] = "-vf";
		args[n++] = filters;
	}
	args[n++] = "-f";
	args[n++] = "mjpeg";
	args[n++] = out_url;
	args[n] = NULL;

	ffrun_catch_signals(&run);
	if (ffrun_start(&run, &sp, args, 0) < 0) {
		if (sp.exec_errno != 0)
			errx(spawn_exec_status(sp.exec_errno), "%s: %s", ffmpeg,
			    strerror(sp.exec_errno));
		err(1, "cannot start %s", ffmpeg);
	}
	if (ffrun_wait(&run, &sp, &status) < 0)
		err(1, "waiting for %s", ffmpeg);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ffrun_discard(&run);
		errx(4, "%s: %s; its messages are in %s", out,
		    ffrun_failure(status, why, sizeof why), run.log);
	}
	/* ffmpeg succeeds with no output when no picture decodes, or none
	 * lies at or after --at. */
	if (stat(run.tmp[0], &st) < 0 || st.st_size == 0) {
		ffrun_discard(&run);
		ffrun_close(&run);
		if (at != NULL)
			errx(3, "%s: no picture at %s seconds", in, at);
		errx(3, "%s: no decodable picture", in);
	}
	if (ffrun_commit(&run, &failed) < 0) {
		warn("%s", failed);
		return 1;
	}
	ffrun_close(&run);
	free(in_url);
	free(out_url);
	return 0;
}
