/* hookrun: run one hook for one finished session folder. The recorder
 * calls it after finalizing a session (or after failing to), so what
 * people do with a recording (upload it, index it, tell someone) stays
 * out of camrec and cannot hold up recording: the hook gets the session's
 * facts in environment variables, never through a shell, runs under a
 * deadline in its own process group, and leaves one log line behind.
 * While it runs, hookrun holds a shared lock on the folder, which tells
 * prune(1) to leave the folder alone. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hookrun.h"
#include "logtext.h"
#include "spawn.h"
#include "stdopt.h"
#include "util.h"

#define DEFAULT_TIMEOUT_S 300
#define DEFAULT_GRACE_S   5
#define TAIL_SHOWN        400	/* bytes of stderr in the log line */

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: hookrun [-t seconds] [-k seconds] [-e finalized|failed] "
	    "dir -- command [argument ...]\n");
	exit(status);
}

static int64_t
seconds_arg(const char *opt, const char *s, double max)
{
	double v;

	if (parse_double(s, 0, max, &v) < 0)
		errx(2, "%s \"%s\": expected seconds from 0 to %.0f", opt, s, max);
	return (int64_t)(v * 1e6);
}

/* What became of the hook, for the log line. */
static void
describe(const struct run *r, int64_t timeout_us, char *buf, size_t size)
{
	switch (r->end) {
	case RUN_EXITED:
		snprintf(buf, size, "exit %d in %.1fs", r->status, r->took_us / 1e6);
		break;
	case RUN_SIGNALLED:
		snprintf(buf, size, "killed by signal %d (%s) after %.1fs",
		    r->status, strsignal(r->status), r->took_us / 1e6);
		break;
	case RUN_TIMED_OUT:
		snprintf(buf, size, "timed out after %gs, killed",
		    timeout_us / 1e6);
		break;
	case RUN_STOPPED:
		snprintf(buf, size, "stopped after %.1fs: hookrun was told to stop",
		    r->took_us / 1e6);
		break;
	case RUN_NOT_RUN:
		snprintf(buf, size, "cannot run: %s", strerror(r->status));
		break;
	}
}

static void
log_line(const char *dir, const char *command, const char *result,
    const struct run *r)
{
	char dir_text[1024], name_text[256], tail_text[TAIL_SHOWN * 4 + 1];
	const char *name = strrchr(command, '/') ? strrchr(command, '/') + 1 : command;
	size_t len = r->tail_len, from;

	logtext_escape(dir_text, sizeof dir_text, dir, strlen(dir));
	logtext_escape(name_text, sizeof name_text, name, strlen(name));
	while (len > 0 && (r->tail[len - 1] == '\n' || r->tail[len - 1] == '\r'))
		len--;
	from = len > TAIL_SHOWN ? len - TAIL_SHOWN : 0;
	logtext_escape(tail_text, sizeof tail_text, r->tail + from, len - from);
	if (len == 0)
		fprintf(stderr, "hookrun: %s: %s: %s\n", dir_text, name_text, result);
	else
		fprintf(stderr, "hookrun: %s: %s: %s: stderr: %s%s\n", dir_text,
		    name_text, result, from > 0 || r->tail_len == RUN_TAIL ?
		    "..." : "", tail_text);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		STD_LONGOPTS,
	};
	int64_t timeout_us = DEFAULT_TIMEOUT_S * 1000000LL;
	int64_t grace_us = DEFAULT_GRACE_S * 1000000LL;
	const char *event = "finalized", *dir;
	char why[1024 + 256], result[256], dir_text[1024];
	struct stat held, named;
	struct run r;
	sigset_t stop;
	int ch, dir_fd;

	/* A stop asked for from the start is kept until the hook runs, and
	 * then stops it (run_hook reads these signals). */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	while ((ch = getopt_long(argc, argv, "+t:k:e:", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			timeout_us = seconds_arg("-t", optarg, 7 * 86400);
			break;
		case 'k':
			grace_us = seconds_arg("-k", optarg, 3600);
			break;
		case 'e':
			if (strcmp(optarg, "finalized") != 0 && strcmp(optarg, "failed") != 0)
				errx(2, "-e \"%s\": expected finalized or failed", optarg);
			event = optarg;
			break;
		default:
			return std_option(ch, "hookrun", usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3 || strcmp(argv[1], "--") != 0)
		usage(stderr, 2);
	dir = argv[0];
	argv += 2;

	logtext_escape(dir_text, sizeof dir_text, dir, strlen(dir));
	if ((dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		err(1, "%s", dir_text);
	/* prune holds the lock only while it looks at the folder or deletes
	 * it; after a deletion the folder is no longer where it was. */
	while (flock(dir_fd, LOCK_SH) < 0)
		if (errno != EINTR)
			err(1, "%s: lock", dir_text);
	if (fstat(dir_fd, &held) < 0 || stat(dir, &named) < 0 ||
	    held.st_nlink == 0 || held.st_dev != named.st_dev ||
	    held.st_ino != named.st_ino)
		errx(1, "%s: removed by prune; hook not run", dir_text);
	if (facts_export(dir_fd, dir, event, why, sizeof why) < 0) {
		logtext_escape(result, sizeof result, why, strlen(why));
		errx(1, "%s; hook not run", result);
	}
	if (run_hook(argv, timeout_us, grace_us, &r) < 0)
		err(1, "%s: running %s", dir_text, argv[0]);
	describe(&r, timeout_us, result, sizeof result);
	log_line(dir, argv[0], result, &r);
	close(dir_fd);
	if (r.end == RUN_NOT_RUN)
		return spawn_exec_status(r.status);
	return r.end == RUN_EXITED && r.status == 0 ? 0 : 1;
}
