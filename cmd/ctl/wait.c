/* Waiting, the bottom layer of ctl: the signals that end a wait early,
 * and the sleeps and polls that give way to them. Signals stay blocked
 * except inside ppoll(), so none is lost between checking for one and
 * going to sleep. This file calls no other file of ctl. */
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "util.h"

/* Written only by the handler; read through struct waiter. */
static volatile sig_atomic_t caught;

static void
on_signal(int sig)
{
	caught = sig;
}

/* A signal ignored when ctl starts (a background job of a script for
 * SIGINT) stays ignored, as the shell meant. */
static void
catch(int sig, const struct sigaction *sa)
{
	struct sigaction old;

	if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
		return;
	sigaction(sig, sa, NULL);
}

void
wait_init(struct waiter *w)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	sigset_t block;
	size_t i;

	w->caught = &caught;
	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &w->mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(&w->mask, sigs[i]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		catch(sigs[i], &sa);
}

int
wait_signal(const struct waiter *w)
{
	return *w->caught;
}

int
wait_poll(const struct waiter *w, struct pollfd *fds, nfds_t nfds,
    int64_t until_us)
{
	struct timespec ts, *tsp = NULL;
	int64_t us;

	if (*w->caught)
		return -1;
	if (until_us != INT64_MAX) {
		if ((us = until_us - mono_us()) < 0)
			us = 0;
		ts.tv_sec = us / 1000000;
		ts.tv_nsec = (us % 1000000) * 1000;
		tsp = &ts;
	}
	return ppoll(fds, nfds, tsp, &w->mask);
}

int
wait_sleep(const struct waiter *w, int64_t us)
{
	if (us < 0)
		us = 0;
	wait_poll(w, NULL, 0, mono_us() + us);
	return *w->caught ? -1 : 0;
}
