/* The hook runs as the leader of its own process group so that a timeout
 * stops everything it started (a shell script's rclone, curl, sleep), not
 * just the script. Three things are watched at once with poll: the
 * leader's exit (a pidfd), its stderr (a pipe, of which only the tail is
 * kept, however much it writes) and the signals asking hookrun itself to
 * stop (a signalfd). This file calls no other file of hookrun. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hookrun.h"
#include "spawn.h"
#include "util.h"

/* How long the hook's stderr is still read once its group is killed:
 * something outside the group may hold the pipe open. */
#define DRAIN_US 1000000

struct watch {
	pid_t pgid;
	int64_t kill_at;	/* when SIGKILL follows SIGTERM, or 0 */
	int64_t grace_us;
	int termed, killed;
};

static void
tail_add(struct run *r, const char *buf, size_t n)
{
	if (n >= RUN_TAIL) {
		memcpy(r->tail, buf + n - RUN_TAIL, RUN_TAIL);
		r->tail_len = RUN_TAIL;
		return;
	}
	if (r->tail_len + n > RUN_TAIL) {
		size_t drop = r->tail_len + n - RUN_TAIL;

		memmove(r->tail, r->tail + drop, r->tail_len - drop);
		r->tail_len -= drop;
	}
	memcpy(r->tail + r->tail_len, buf, n);
	r->tail_len += n;
}

/* Read what the pipe holds now; 1 at end of file. */
static int
tail_read(int fd, struct run *r)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n > 0) {
			tail_add(r, buf, (size_t)n);
			continue;
		}
		if (n == 0)
			return 1;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? 0 : 1;
	}
}

static void
stop_group(struct watch *w, int64_t now)
{
	if (w->termed)
		return;
	w->termed = 1;
	(void)kill(-w->pgid, SIGTERM);
	w->kill_at = now + w->grace_us;
}

static void
kill_group(struct watch *w)
{
	w->killed = 1;
	w->kill_at = 0;
	(void)kill(-w->pgid, SIGKILL);
}

/* Milliseconds for poll until the first of the given times (0: unset). */
static int
wait_ms(int64_t now, int64_t a, int64_t b)
{
	int64_t next = a == 0 || (b != 0 && b < a) ? b : a;

	if (next == 0)
		return -1;
	if (next <= now)
		return 0;
	return (int)((next - now + 999) / 1000);
}

int
run_hook(char *const argv[], int64_t timeout_us, int64_t grace_us,
    struct run *r)
{
	struct watch w = { .grace_us = grace_us };
	struct spawn sp;
	struct pollfd pf[3];
	struct signalfd_siginfo si;
	sigset_t stop, old;
	int ep[2], sig_fd = -1, pid_fd = -1, status, eof = 0, exited = 0;
	int64_t start, deadline, now, drain_end = 0;
	int rv = -1, e;

	memset(r, 0, sizeof *r);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &stop, &old) < 0)
		return -1;
	ep[0] = ep[1] = -1;
	if ((sig_fd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    pipe2(ep, O_CLOEXEC) < 0 ||
	    fcntl(ep[0], F_SETFL, O_NONBLOCK) < 0)
		goto out;
	start = mono_us();
	if (spawn_io(&sp, argv, SPAWN_PGRP, -1, ep[1]) < 0) {
		if (sp.exec_errno == 0)
			goto out;
		r->end = RUN_NOT_RUN;
		r->status = sp.exec_errno;
		rv = 0;
		goto out;
	}
	close(ep[1]);
	ep[1] = -1;
	w.pgid = sp.pid;
	if ((pid_fd = pidfd_open(sp.pid, 0)) < 0) {
		e = errno;
		kill_group(&w);
		spawn_wait(&sp, &status);
		errno = e;
		goto out;
	}
	deadline = timeout_us > 0 ? start + timeout_us : 0;
	r->end = RUN_EXITED;
	while (!exited || !eof) {
		now = mono_us();
		if (!exited && deadline != 0 && now >= deadline && !w.termed) {
			r->end = RUN_TIMED_OUT;
			stop_group(&w, now);
		}
		if (w.kill_at != 0 && now >= w.kill_at)
			kill_group(&w);
		if (exited && drain_end != 0 && now >= drain_end)
			break;
		pf[0] = (struct pollfd){ .fd = eof ? -1 : ep[0], .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = exited ? -1 : pid_fd, .events = POLLIN };
		pf[2] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		if (poll(pf, 3, wait_ms(now, exited ? drain_end : deadline,
		    w.kill_at)) < 0) {
			if (errno == EINTR)
				continue;
			kill_group(&w);
			exited = 1;
			spawn_wait(&sp, &status);
			goto out;
		}
		if (pf[2].revents & POLLIN) {
			while (read(sig_fd, &si, sizeof si) == sizeof si)
				;
			if (!exited) {
				if (r->end == RUN_EXITED)
					r->end = RUN_STOPPED;
				stop_group(&w, mono_us());
			}
		}
		if (pf[0].revents)
			eof = tail_read(ep[0], r);
		if (!exited && pf[1].revents) {
			if (spawn_wait(&sp, &status) < 0)
				goto out;
			exited = 1;
			r->took_us = mono_us() - start;
			if (r->end == RUN_EXITED && WIFSIGNALED(status)) {
				r->end = RUN_SIGNALLED;
				r->status = WTERMSIG(status);
			} else if (r->end == RUN_EXITED) {
				r->status = WEXITSTATUS(status);
			}
			/* What it left behind in its group goes with it. */
			if (!w.killed)
				stop_group(&w, mono_us());
			drain_end = mono_us() + grace_us + DRAIN_US;
		}
	}
	if (w.kill_at != 0)
		kill_group(&w);
	rv = 0;
out:
	e = errno;
	if (ep[0] >= 0)
		close(ep[0]);
	if (ep[1] >= 0)
		close(ep[1]);
	if (pid_fd >= 0)
		close(pid_fd);
	if (sig_fd >= 0)
		close(sig_fd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return rv;
}
