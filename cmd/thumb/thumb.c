/* thumb: one picture of a recording as a JPEG (a session's thumbnail.jpg).
 * It runs after mux when a session is finalized, or offline over old
 * folders. By default it does what the old server did, the first
 * decodable picture at full size and JPEG quality 2; --at and --width pick
 * another moment and a smaller size. ffmpeg writes to a temporary name that
 * is renamed only on success, so a thumbnail is never half written. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "h264.h"
#include "mapfile.h"
#include "spawn.h"
#include "util.h"

static char *tmp_path;
static volatile pid_t ffmpeg_pid = -1;

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: thumb [--at seconds] [--width w] in.h264|in.mp4 out.jpg\n");
	exit(status);
}

static void
on_signal(int sig)
{
	if (ffmpeg_pid > 0)
		kill(ffmpeg_pid, SIGTERM);
	if (tmp_path != NULL)
		unlink(tmp_path);
	signal(sig, SIG_DFL);
	raise(sig);
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

static char *
temp_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xasprintf(".%s.tmp-%ld", path, (long)getpid());
	return xasprintf("%.*s/.%s.tmp-%ld", (int)(slash - path), path, slash + 1,
	    (long)getpid());
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
	struct h264_nal nal;
	struct h264_sps s;
	size_t pos = 0;
	double fps = 0;
	int sps = 0, pps = 0;

	if (mapfile_open(in, &m) < 0)
		err(3, "%s", in);
	while (!(sps && pps) && h264_next_nal(m.p, m.len, &pos, &nal)) {
		if (nal.len > 0 && nal.type == NAL_SPS && !sps) {
			sps = 1;
			if (h264_sps_parse(nal.p, nal.len, &s) == 0)
				fps = h264_sps_fps(&s);
		}
		pps |= nal.len > 0 && nal.type == NAL_PPS;
	}
	mapfile_close(&m);
	if (!sps || !pps)
		errx(3, "%s: no SPS/PPS: no decodable picture", in);
	return fps;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "width", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *at = NULL, *in, *out, *ffmpeg = spawn_ffmpeg();
	char *args[32], *log, *in_url, *out_url, *scale = NULL, *select = NULL,
	    *filters = NULL;
	struct spawn sp;
	struct stat st;
	uint64_t width = 0;
	double seconds, fps;
	int c, n = 0, log_fd, status;

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
		case 'h':
			usage(stdout, 0);
			break;
		case 'V':
			return print_version("thumb") < 0;
		default:
			usage(stderr, 2);
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
			select = xasprintf("select=gte(n\\,%llu)", pic);
		}
	}

	log = xasprintf("%s.log", out);
	if ((log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		err(1, "%s: cannot write %s", out, log);
	tmp_path = temp_name(out);
	/* ffmpeg takes "file:" names literally: no option parsing of a
	 * leading '-', no protocol guessed from a ':'. */
	in_url = xasprintf("file:%s", in);
	out_url = xasprintf("file:%s", tmp_path);
	args[n++] = (char *)ffmpeg;
	args[n++] = "-nostdin";
	args[n++] = "-hide_banner";
	args[n++] = "-loglevel";
	args[n++] = "warning";
	args[n++] = "-y";
	if (at != NULL && !is_h264(in)) {
		args[n++] = "-ss";
		args[n++] = (char *)at;
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
		scale = xasprintf("scale=%llu:-2", (unsigned long long)width);
	if (select != NULL || scale != NULL) {
		filters = xasprintf("%s%s%s", select ? select : "",
		    select && scale ? "," : "", scale ? scale : "");
		args[n++] = "-vf";
		args[n++] = filters;
	}
	args[n++] = "-f";
	args[n++] = "mjpeg";
	args[n++] = out_url;
	args[n] = NULL;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	if (spawn(&sp, args, 0, log_fd) < 0) {
		int e = sp.exec_errno;

		unlink(log);
		if (e != 0)
			errx(spawn_exec_status(e), "%s: %s", ffmpeg, strerror(e));
		err(1, "cannot start %s", ffmpeg);
	}
	ffmpeg_pid = sp.pid;
	if (spawn_wait(&sp, &status) < 0)
		err(1, "waiting for %s", ffmpeg);
	ffmpeg_pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		unlink(tmp_path);
		if (WIFEXITED(status))
			errx(4, "%s: ffmpeg failed with exit status %d; its messages are in %s",
			    out, WEXITSTATUS(status), log);
		errx(4, "%s: ffmpeg killed by signal %d; its messages are in %s", out,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0, log);
	}
	/* ffmpeg succeeds with no output when no picture decodes, or none
	 * lies at or after --at. */
	if (stat(tmp_path, &st) < 0 || st.st_size == 0) {
		unlink(tmp_path);
		unlink(log);
		if (at != NULL)
			errx(3, "%s: no picture at %s seconds", in, at);
		errx(3, "%s: no decodable picture", in);
	}
	if (rename(tmp_path, out) < 0) {
		warn("%s", out);
		unlink(tmp_path);
		return 1;
	}
	close(log_fd);
	unlink(log);
	free(log);
	free(tmp_path);
	free(in_url);
	free(out_url);
	free(scale);
	free(select);
	free(filters);
	return 0;
}
