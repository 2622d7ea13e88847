/* Running ffmpeg into files atomically, for mux and thumb: ffmpeg writes
 * each output under a hidden temporary name beside it (outfile_temp) and
 * its messages to OUT.log; only when it succeeds are the temporaries
 * renamed and the log removed, so an output is never half written and a
 * failure leaves its reason behind. */
#ifndef CAMREC_FFRUN_H
#define CAMREC_FFRUN_H

#include <stddef.h>
#include <sys/types.h>

#include "spawn.h"

#define FFRUN_MAX_OUT 64

struct ffrun {
	char *log;			/* OUT.log: ffmpeg's stdout and stderr */
	int log_fd;
	char *tmp[FFRUN_MAX_OUT];	/* where ffmpeg writes; NULL once renamed */
	char *final[FFRUN_MAX_OUT];	/* what each temporary becomes */
	size_t nout;
	volatile pid_t pid;		/* the running ffmpeg, or -1 */
};

/* ffrun.c */
/* Create (truncate) OUT.log for out. 0, or -1 with errno. */
int ffrun_open(struct ffrun *fr, const char *out);
/* Add an output named final (copied); ffmpeg is to write fr->tmp[i]. i,
 * or -1 with errno (ENOSPC when FFRUN_MAX_OUT are taken). */
int ffrun_output(struct ffrun *fr, const char *final);
/* Ignore SIGPIPE (writes to ffmpeg fail with EPIPE instead), and on
 * SIGINT, SIGTERM or SIGHUP stop the running ffmpeg, remove fr's
 * temporaries and die of the signal as if it had not been caught. */
void ffrun_catch_signals(struct ffrun *fr);
/* spawn() argv with its output going to the log. 0, or -1 with errno;
 * then the temporaries and the log are removed and sp->exec_errno tells
 * a failed exec (see spawn()). */
int ffrun_start(struct ffrun *fr, struct spawn *sp, char *const argv[], int flags);
/* spawn_wait() for the ffmpeg ffrun_start started. */
int ffrun_wait(struct ffrun *fr, struct spawn *sp, int *status);
/* "ffmpeg failed with exit status N" or "ffmpeg killed by signal N" for
 * a waitpid status; written to buf, which is returned. */
const char *ffrun_failure(int status, char *buf, size_t size);
/* Remove the temporaries not renamed yet (async-signal-safe). */
void ffrun_discard(struct ffrun *fr);
/* Rename every temporary onto its final name, in order. 0, or -1 with
 * errno, *failed the final name that could not be written and the
 * temporaries left removed. */
int ffrun_commit(struct ffrun *fr, const char **failed);
/* Close and remove the log; free fr. */
void ffrun_close(struct ffrun *fr);

#endif
