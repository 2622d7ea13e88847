/* hookrun: the files of one tool, top down: hookrun.c (options, the log
 * line) over facts.c (session.json to environment variables) and run.c
 * (the hook's process group, its deadline and its stderr). */
#ifndef CAMREC_HOOKRUN_H
#define CAMREC_HOOKRUN_H

#include <stddef.h>
#include <stdint.h>

/* facts.c */
/* Put the facts of the session folder open at dir_fd (named dir) into
 * the environment as CAMREC_* variables, for event. 0, or -1 with a
 * message in why (session.json unreadable or not an object). */
int facts_export(int dir_fd, const char *dir, const char *event,
    char *why, size_t why_size);

/* run.c */
#define RUN_TAIL 4096		/* bytes of the hook's stderr kept */

enum run_end {
	RUN_EXITED,		/* status: its exit status */
	RUN_SIGNALLED,		/* status: the signal that killed it */
	RUN_TIMED_OUT,		/* killed at the deadline */
	RUN_STOPPED,		/* killed because hookrun itself was told to stop */
	RUN_NOT_RUN,		/* status: errno of the failed exec */
};

struct run {
	enum run_end end;
	int status;
	int64_t took_us;
	char tail[RUN_TAIL];	/* the last bytes of its stderr, in order */
	size_t tail_len;
};

/* Run argv as the leader of its own process group, stdout shared with
 * ours, stderr read into r->tail. After timeout_us (0: none), or when
 * SIGTERM, SIGINT or SIGHUP arrive, the group gets SIGTERM and, grace_us
 * later, SIGKILL; what the hook leaves in its group when it exits is
 * stopped the same way. 0, or -1 with errno when it could not be watched. */
int run_hook(char *const argv[], int64_t timeout_us, int64_t grace_us,
    struct run *r);

#endif
