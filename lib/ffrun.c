/* The signal handler needs the state of the one ffrun in progress, so it
 * is kept in a file-local pointer; only unlink() and kill() are called
 * from it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ffrun.h"
#include "outfile.h"

static struct ffrun *caught;

int
ffrun_open(struct ffrun *fr, const char *out)
{
	memset(fr, 0, sizeof *fr);
	fr->pid = -1;
	fr->log_fd = -1;
	if (asprintf(&fr->log, "%s.log", out) < 0) {
		fr->log = NULL;
		return -1;
	}
	if ((fr->log_fd = open(fr->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0) {
		int e = errno;

		free(fr->log);
		fr->log = NULL;
		errno = e;
		return -1;
	}
	return 0;
}

int
ffrun_output(struct ffrun *fr, const char *final)
{
	size_t i = fr->nout;

	if (i >= FFRUN_MAX_OUT) {
		errno = ENOSPC;
		return -1;
	}
	if ((fr->final[i] = strdup(final)) == NULL)
		return -1;
	if ((fr->tmp[i] = outfile_temp(final)) == NULL) {
		free(fr->final[i]);
		fr->final[i] = NULL;
		return -1;
	}
	fr->nout++;
	return (int)i;
}

static void
on_signal(int sig)
{
	if (caught != NULL) {
		if (caught->pid > 0)
			kill(caught->pid, SIGTERM);
		ffrun_discard(caught);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void
ffrun_catch_signals(struct ffrun *fr)
{
	caught = fr;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
}

int
ffrun_start(struct ffrun *fr, struct spawn *sp, char *const argv[], int flags)
{
	int e;

	if (spawn(sp, argv, flags, fr->log_fd) < 0) {
		e = errno;
		ffrun_discard(fr);
		unlink(fr->log);
		errno = e;
		return -1;
	}
	fr->pid = sp->pid;
	return 0;
}

int
ffrun_wait(struct ffrun *fr, struct spawn *sp, int *status)
{
	int rv = spawn_wait(sp, status);

	fr->pid = -1;
	return rv;
}

const char *
ffrun_failure(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "ffmpeg failed with exit status %d",
		    WEXITSTATUS(status));
	else
		snprintf(buf, size, "ffmpeg killed by signal %d",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return buf;
}

void
ffrun_discard(struct ffrun *fr)
{
	size_t i;

	for (i = 0; i < FFRUN_MAX_OUT; i++)
		if (fr->tmp[i] != NULL)
			unlink(fr->tmp[i]);
}

int
ffrun_commit(struct ffrun *fr, const char **failed)
{
	char *tmp;
	size_t i;
	int e;

	for (i = 0; i < fr->nout; i++) {
		if (rename(fr->tmp[i], fr->final[i]) < 0) {
			e = errno;
			*failed = fr->final[i];
			ffrun_discard(fr);
			errno = e;
			return -1;
		}
		/* No longer the signal handler's to remove: forget it first. */
		tmp = fr->tmp[i];
		fr->tmp[i] = NULL;
		free(tmp);
	}
	return 0;
}

void
ffrun_close(struct ffrun *fr)
{
	size_t i;

	if (caught == fr)
		caught = NULL;
	if (fr->log_fd >= 0)
		close(fr->log_fd);
	fr->log_fd = -1;
	if (fr->log != NULL)
		unlink(fr->log);
	free(fr->log);
	fr->log = NULL;
	for (i = 0; i < fr->nout; i++) {
		free(fr->tmp[i]);
		free(fr->final[i]);
		fr->tmp[i] = fr->final[i] = NULL;
	}
	fr->nout = 0;
}
