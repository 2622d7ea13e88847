/* The source process. No source may outlive the relay: the child asks the
 * kernel for SIGKILL when the relay dies (checking it did not die already,
 * before the request took effect), and leads its own process group so that
 * a stop reaches what it started. A failed exec is reported through a
 * close-on-exec pipe, so "not found" is an error here, not a dead child. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liverelay.h"
#include "util.h"

static void
child(char *const argv[], int out, int report, pid_t parent)
{
	sigset_t none;
	int fd, e;

	setpgid(0, 0);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if ((fd = open("/dev/null", O_RDONLY)) < 0 || dup2(fd, 0) < 0 ||
	    dup2(out, 1) < 0)
		goto fail;
	execvp(argv[0], argv);
fail:
	e = errno;
	(void)!write(report, &e, sizeof(e));
	_exit(127);
}

int
source_start(struct source *s, char *const argv[])
{
	int out[2], report[2], e = 0;
	pid_t parent = getpid(), pid;
	ssize_t n;

	if (pipe2(out, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(report, O_CLOEXEC) < 0) {
		e = errno;
		goto close_out;
	}
	if ((pid = fork()) < 0) {
		e = errno;
		close(report[0]);
		close(report[1]);
		goto close_out;
	}
	if (pid == 0)
		child(argv, out[1], report[1], parent);
	/* Both sides set the group, so a signal sent right after fork()
	 * already reaches it. */
	setpgid(pid, pid);
	close(out[1]);
	close(report[1]);
	while ((n = read(report[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(report[0]);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close(out[0]);
		errno = e;
		return -1;
	}
	fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
	pipe_grow(out[0], PIPE_GROW);
	s->pid = pid;
	s->fd = out[0];
	s->started_us = mono_us();
	return 0;
close_out:
	close(out[0]);
	close(out[1]);
	errno = e;
	return -1;
}

void
source_signal(const struct source *s, int sig)
{
	if (s->pid > 0 && kill(-s->pid, sig) < 0)
		kill(s->pid, sig);
}

int
source_reap(struct source *s, int *status)
{
	siginfo_t si;

	if (s->pid <= 0)
		return -1;
	/* Looked at without reaping: while it is a zombie its pid, and so
	 * its group's id, cannot be reused, and whatever it left in its
	 * group goes with it. */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return -1;
	if (si.si_pid == 0)
		return 0;
	kill(-s->pid, SIGKILL);
	while (waitpid(s->pid, status, 0) < 0 && errno == EINTR)
		;
	s->pid = -1;
	return 1;
}

const char *
source_how(int status, char *buf, size_t cap)
{
	if (WIFSIGNALED(status))
		snprintf(buf, cap, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, cap, "exit status %d", WEXITSTATUS(status));
	return buf;
}
