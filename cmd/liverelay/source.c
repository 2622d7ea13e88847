/* The source process. No source, nor anything it started, may outlive the
 * relay, even one killed with SIGKILL, which no handler sees. So the relay
 * does not start the source itself but a keeper: a small forked process
 * that leads its own process group, starts the source in it, and holds one
 * end of a socket pair whose other end only the relay holds. When the
 * relay dies, however it dies, the kernel closes that end; the keeper sees
 * the end of file and SIGKILLs the whole group, grandchildren such as the
 * ffmpeg under a `sh -c` included, itself last. It is also a child
 * subreaper, so what the source started and then left behind becomes its
 * child and is killed with it even if it left the group.
 *
 * The same socket carries the keeper's reports: the source's pid once it
 * runs, and its wait status when it ends; then the keeper kills the group
 * (what the source left running goes with it) and so itself. A stop is a
 * signal to the group: the keeper ignores SIGTERM, the source and its
 * children get it; SIGKILL ends them all. A failed exec is reported
 * through a close-on-exec pipe, so "not found" is an error here, not a
 * dead child. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liverelay.h"
#include "util.h"

/* The keeper's descriptors, where it moves them. */
#define K_CTL 3
#define K_REPORT 4
#define K_POLL_MS 100			/* without a pidfd: how often to look */
#define KILL_ROUNDS 100			/* of killing children, ... */
#define KILL_ROUND_US 10000		/* ... this far apart at most */

/* In the keeper: SIGKILL every child it has, 1 if there was one. */
static int
kill_children(void)
{
	char path[64], buf[4096];
	ssize_t n;
	char *p, *end;
	int fd, some = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
	    (int)getpid());
	if ((fd = open(path, O_RDONLY)) < 0)
		return 0;
	if ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		for (p = buf; *p; p = end) {
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
				some = 1;
		}
	}
	close(fd);
	return some;
}

/* In the keeper: the end of it all. Its children die first, then those
 * they leave (which, the keeper being their subreaper, become its
 * children, even those that left the group), then the whole group, the
 * keeper last. */
static void
keeper_end(void)
{
	int i;

	for (i = 0; i < KILL_ROUNDS && kill_children(); i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(KILL_ROUND_US);
	}
	if (getpgrp() == getpid())
		kill(0, SIGKILL);
	_exit(127);
}

static void
source_exec(char *const argv[], pid_t keeper)
{
	sigset_t none;
	int e;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != keeper)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	close(K_CTL);
	execvp(argv[0], argv);
	e = errno;
	(void)!write(K_REPORT, &e, sizeof(e));
	_exit(127);
}

/* Wait for the source to end or the relay to go away. */
static void
keeper_wait(pid_t pid)
{
	struct pollfd pfd[2];
	int pidfd, status;
	ssize_t n;
	char c;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	pfd[0].fd = K_CTL;
	pfd[0].events = POLLIN;
	pfd[1].fd = pidfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, pidfd < 0 ? 1 : 2, pidfd < 0 ? K_POLL_MS : -1) < 0 &&
		    errno != EINTR)
			keeper_end();
		if (pfd[0].revents) {
			/* The relay never writes: anything here is its end. */
			n = recv(K_CTL, &c, 1, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				keeper_end();
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			(void)!send(K_CTL, &status, sizeof(status), MSG_NOSIGNAL);
			keeper_end();
		}
	}
}

static void
keeper(char *const argv[], int out, int ctl, int report, pid_t relay)
{
	int fd;
	pid_t pid;

	/* Never a group but its own: keeper_end() kills the whole group. */
	if (setpgid(0, 0) < 0 && getpgrp() != getpid())
		_exit(127);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* The relay may have died before the socket was ours to watch; its
	 * end closed then all the same, so this is only the fast way out. */
	if (getppid() != relay)
		_exit(127);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* Of the relay's descriptors (its viewers' sockets among them) the
	 * keeper keeps only its own, or a viewer's connection would outlive
	 * the relay's close of it. */
	if ((fd = open("/dev/null", O_RDONLY)) < 0 || dup2(fd, 0) < 0 ||
	    (out = fcntl(out, F_DUPFD, 10)) < 0 ||
	    (ctl = fcntl(ctl, F_DUPFD, 10)) < 0 ||
	    (report = fcntl(report, F_DUPFD, 10)) < 0 ||
	    dup2(out, 1) < 0 || dup2(ctl, K_CTL) < 0 ||
	    dup2(report, K_REPORT) < 0 ||
	    fcntl(K_CTL, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(K_REPORT, F_SETFD, FD_CLOEXEC) < 0)
		goto fail;
	report = K_REPORT;
	close_range(K_REPORT + 1, ~0U, 0);
	if ((pid = fork()) < 0)
		goto fail;
	if (pid == 0)
		source_exec(argv, getppid());
	/* The source's output and the exec report are the source's alone:
	 * the relay sees their ends when the source is gone. */
	close(K_REPORT);
	if ((fd = open("/dev/null", O_WRONLY)) < 0 || dup2(fd, 1) < 0)
		keeper_end();
	if (fd > 1)
		close(fd);
	if (send(K_CTL, &pid, sizeof(pid), MSG_NOSIGNAL) != (ssize_t)sizeof(pid))
		keeper_end();
	keeper_wait(pid);
fail:
	fd = errno;
	(void)!write(report, &fd, sizeof(fd));
	keeper_end();
}

int
source_start(struct source *s, char *const argv[])
{
	int out[2], report[2], ctl[2], e = 0;
	pid_t parent = getpid(), pid, spid = -1;
	ssize_t n;

	if (pipe2(out, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(report, O_CLOEXEC) < 0) {
		e = errno;
		goto close_out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0) {
		e = errno;
		goto close_report;
	}
	if ((pid = fork()) < 0) {
		e = errno;
		close(ctl[0]);
		close(ctl[1]);
		goto close_report;
	}
	if (pid == 0)
		keeper(argv, out[1], ctl[1], report[1], parent);
	/* Both sides set the group, so a signal sent right after fork()
	 * already reaches it. */
	setpgid(pid, pid);
	close(out[1]);
	close(report[1]);
	close(ctl[1]);
	/* The source's pid, or nothing when the keeper failed. */
	while ((n = recv(ctl[0], &spid, sizeof(spid), MSG_WAITALL)) < 0 &&
	    errno == EINTR)
		;
	if (n != (ssize_t)sizeof(spid))
		spid = -1;
	while ((n = read(report[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(report[0]);
	if (n == (ssize_t)sizeof(e) || spid <= 0) {
		if (n != (ssize_t)sizeof(e))
			e = ECHILD;
		kill(-pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close(ctl[0]);
		close(out[0]);
		errno = e;
		return -1;
	}
	fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
	pipe_grow(out[0], PIPE_GROW);
	s->pid = spid;
	s->keeper = pid;
	s->ctl = ctl[0];
	s->fd = out[0];
	s->started_us = mono_us();
	return 0;
close_report:
	close(report[0]);
	close(report[1]);
close_out:
	close(out[0]);
	close(out[1]);
	errno = e;
	return -1;
}

void
source_signal(const struct source *s, int sig)
{
	if (s->pid > 0 && kill(-s->keeper, sig) < 0)
		kill(s->keeper, sig);
}

int
source_reap(struct source *s, int *status)
{
	siginfo_t si;
	int kst;

	if (s->pid <= 0)
		return -1;
	/* Looked at without reaping: while the keeper is a zombie its pid,
	 * and so its group's id, cannot be reused, and whatever is left in
	 * its group goes with it. */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)s->keeper, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return -1;
	if (si.si_pid == 0)
		return 0;
	kill(-s->keeper, SIGKILL);
	while (waitpid(s->keeper, &kst, 0) < 0 && errno == EINTR)
		;
	/* The source's own status, when the keeper saw it end; else the
	 * keeper was killed with the group, the source with it. */
	if (recv(s->ctl, status, sizeof(*status), MSG_DONTWAIT) !=
	    (ssize_t)sizeof(*status))
		*status = kst;
	close(s->ctl);
	s->ctl = -1;
	s->pid = -1;
	s->keeper = -1;
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
