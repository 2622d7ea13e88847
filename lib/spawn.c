/* A failed exec is reported through a close-on-exec pipe (as mblaze's
 * pipeto.c does): a successful exec closes it with nothing written, a
 * failed one writes errno, so the parent learns "not found" from "not
 * executable" instead of guessing from an exit status of 127. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"

static void
child(char *const argv[], int flags, int in_fd, int out_fd, int errout_fd,
    int err_fd)
{
	sigset_t none;
	int e;

	if ((flags & SPAWN_PGRP) && setpgid(0, 0) < 0)
		goto fail;
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (in_fd < 0)
		in_fd = open("/dev/null", O_RDONLY);
	if (in_fd < 0 || dup2(in_fd, 0) < 0)
		goto fail;
	if ((out_fd >= 0 && dup2(out_fd, 1) < 0) ||
	    (errout_fd >= 0 && dup2(errout_fd, 2) < 0))
		goto fail;
	execvp(argv[0], argv);
fail:
	e = errno;
	(void)!write(err_fd, &e, sizeof e);
	_exit(127);
}

int
spawn(struct spawn *sp, char *const argv[], int flags, int log_fd)
{
	return spawn_io(sp, argv, flags, log_fd, log_fd);
}

int
spawn_io(struct spawn *sp, char *const argv[], int flags, int out_fd,
    int err_fd)
{
	int ep[2], ip[2] = { -1, -1 }, e, saved;
	ssize_t n;

	sp->pid = -1;
	sp->in = -1;
	sp->exec_errno = 0;
	if (pipe2(ep, O_CLOEXEC) < 0)
		return -1;
	if ((flags & SPAWN_STDIN) && pipe2(ip, O_CLOEXEC) < 0)
		goto fail;
	if ((sp->pid = fork()) < 0)
		goto fail;
	if (sp->pid == 0)
		child(argv, flags, ip[0], out_fd, err_fd, ep[1]);
	/* Also here, so the group exists before the caller signals it. */
	if (flags & SPAWN_PGRP)
		(void)setpgid(sp->pid, sp->pid);
	close(ep[1]);
	ep[1] = -1;
	if (ip[0] >= 0) {
		close(ip[0]);
		ip[0] = -1;
	}
	while ((n = read(ep[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (n == (ssize_t)sizeof e) {
		while (waitpid(sp->pid, NULL, 0) < 0 && errno == EINTR)
			;
		sp->pid = -1;
		if (ip[1] >= 0)
			close(ip[1]);
		sp->exec_errno = e;
		errno = e;
		return -1;
	}
	sp->in = ip[1];
	return 0;
fail:
	saved = errno;
	close(ep[0]);
	if (ep[1] >= 0)
		close(ep[1]);
	if (ip[0] >= 0)
		close(ip[0]);
	if (ip[1] >= 0)
		close(ip[1]);
	errno = saved;
	return -1;
}

int
spawn_wait(struct spawn *sp, int *status)
{
	if (sp->in >= 0) {
		close(sp->in);
		sp->in = -1;
	}
	if (sp->pid < 0) {
		errno = ECHILD;
		return -1;
	}
	while (waitpid(sp->pid, status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	sp->pid = -1;
	return 0;
}

int
spawn_exec_status(int exec_errno)
{
	return exec_errno == ENOENT || exec_errno == ENOTDIR ? 127 : 126;
}

const char *
spawn_ffmpeg(void)
{
	const char *s = getenv("FFMPEG_BIN");

	return s != NULL && *s != '\0' ? s : "ffmpeg";
}
