/* Running another program (ffmpeg) from mux and thumb: fork + execvp with
 * an argv array, never a shell, so no file name is ever parsed as a
 * command. */
#ifndef CAMREC_SPAWN_H
#define CAMREC_SPAWN_H

#include <sys/types.h>

#define SPAWN_STDIN 0x1		/* give the child a pipe as its stdin */
#define SPAWN_PGRP  0x2		/* the child leads a new process group */

struct spawn {
	pid_t pid;
	int in;			/* write end of the child's stdin, or -1 */
	int exec_errno;		/* why the program could not be run, or 0 */
};

/* spawn.c */
/* Start argv[0] (looked up on PATH unless it holds a '/') with argv. The
 * child's stdin is a pipe (SPAWN_STDIN; its write end in sp->in) or
 * /dev/null; its stdout and stderr go to log_fd when log_fd >= 0. SIGPIPE
 * is back to its default in the child. 0, or -1 with errno; when the exec
 * itself failed sp->exec_errno holds its errno too (ENOENT: not found,
 * EACCES: not executable), and the child has already been reaped. */
int spawn(struct spawn *sp, char *const argv[], int flags, int log_fd);
/* spawn() with the child's stdout on out_fd and its stderr on err_fd,
 * each left as it is when < 0. With SPAWN_PGRP the child is the leader of
 * a new process group (pgid sp->pid), so all it starts can be signalled
 * at once. */
int spawn_io(struct spawn *sp, char *const argv[], int flags, int out_fd,
    int err_fd);
/* Close sp->in if still open and wait for the child; 0 and *status (as
 * from waitpid), or -1 with errno. */
int spawn_wait(struct spawn *sp, int *status);
/* The exit status for a failed exec: 127 not found, 126 otherwise. */
int spawn_exec_status(int exec_errno);
/* The ffmpeg program to run: $FFMPEG_BIN when set and not empty, else
 * "ffmpeg" looked up on PATH. */
const char *spawn_ffmpeg(void);

#endif
