/* ctl: the operator's command tool. It turns "start 16:9 4 30" into the
 * JSON an Android phone expects (or the plain text of an ESP32 board),
 * writes it as a line into wsrecv's control FIFO, and reads sessionwriter's
 * status file to say which cameras confirmed. It never talks to a camera
 * itself: wsrecv owns the sockets, so ctl can come and go while recording
 * goes on. A "start ... for 10s" keeps a timer in this process; ctl does
 * not exit (and an interrupt does not end it) before that stop is sent. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "util.h"

#define LINE_MAX_CTL 4096
#define MAX_TIMERS 16
#define QUIT (-1)

struct timer {
	int64_t due_us;
	struct ctl_cmd stop;
	struct sent prev;
};

volatile sig_atomic_t ctl_signal;
static sigset_t wait_mask;	/* the mask while waiting: signals let through */
static struct timer timers[MAX_TIMERS];
static size_t ntimers;

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: ctl [-n] [-c fifo] [-s status] [-w seconds] "
	    "[command [argument ...]]\n");
	exit(status);
}

static void
on_signal(int sig)
{
	ctl_signal = sig;
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

int
ctl_sleep(int64_t us)
{
	struct timespec ts;

	if (us < 0)
		us = 0;
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	if (ctl_signal)
		return -1;
	ppoll(NULL, 0, &ts, &wait_mask);
	return ctl_signal ? -1 : 0;
}

static int
list(const struct ctl_opts *o, const struct ctl_cmd *c)
{
	struct status st;
	char errbuf[160];
	int r;

	if (o->status == NULL) {
		warnx("list needs the status file (-s or CAMREC_STATUS)");
		return EX_CTL_USAGE;
	}
	if ((r = status_load(o->status, &st, errbuf, sizeof(errbuf))) == -2) {
		warnx("status file %s: %s", o->status, errbuf);
		return EX_CTL_BADSTATUS;
	}
	if (r < 0) {
		warn("status file %s", o->status);
		return EX_CTL_RUNTIME;
	}
	list_cameras(&st, c);
	status_free(&st);
	return 0;
}

static int
run(const struct ctl_opts *o, const struct ctl_cmd *c)
{
	struct ctl_cmd stop;
	struct sent sent;
	int rv, rs;

	switch (c->verb) {
	case VERB_HELP:
		cmd_help();
		return 0;
	case VERB_LIST:
		return list(o, c);
	case VERB_QUIT:
		return QUIT;
	default:
		break;
	}
	if (c->duration > 0 && !o->dry_run && ntimers == MAX_TIMERS) {
		warnx("too many pending stops (at most %d)", MAX_TIMERS);
		return EX_CTL_RUNTIME;
	}
	rv = cmd_send(o, c, &sent);
	if (c->duration <= 0 || !sent.written)
		return rv;
	cmd_stop_for(c, &stop);
	if (o->dry_run) {
		printf("# after %s\n", c->duration_text);
		rs = cmd_send_stop(o, &stop, &sent);
		return rv != 0 ? rv : rs;
	}
	timers[ntimers].due_us = sent.sent_us + (int64_t)(c->duration * 1e6);
	timers[ntimers].stop = stop;
	timers[ntimers].prev = sent;
	ntimers++;
	printf("%s: stop in %s\n", cmd_name(c), c->duration_text);
	return rv;
}

/* Send the stops that are due (all of them when all is set), in the order
 * they fall due. The status of the last that failed, or 0. */
static int
fire_timers(const struct ctl_opts *o, int all)
{
	struct timer t;
	size_t i, first;
	int rv = 0, r;

	for (;;) {
		first = ntimers;
		for (i = 0; i < ntimers; i++)
			if (first == ntimers || timers[i].due_us < timers[first].due_us)
				first = i;
		if (first == ntimers || (!all && timers[first].due_us > mono_us()))
			return rv;
		t = timers[first];
		timers[first] = timers[--ntimers];
		if ((r = cmd_send_stop(o, &t.stop, &t.prev)) != 0)
			rv = r;
		fflush(stdout);
	}
}

static int64_t
next_due(void)
{
	int64_t due = INT64_MAX;
	size_t i;

	for (i = 0; i < ntimers; i++)
		if (timers[i].due_us < due)
			due = timers[i].due_us;
	return due;
}

/* Wait for the pending stops and send them; an interrupt sends them now. */
static int
drain_timers(const struct ctl_opts *o)
{
	int rv = 0, r;

	while (ntimers > 0) {
		ctl_sleep(next_due() - mono_us());
		if ((r = fire_timers(o, ctl_signal != 0)) != 0)
			rv = r;
	}
	return rv;
}

static int
do_line(const struct ctl_opts *o, char *line)
{
	struct ctl_cmd c;
	char errbuf[512];
	int r;

	if ((r = cmd_parse(line, &c, errbuf, sizeof(errbuf))) < 0) {
		warnx("%s", errbuf);
		return EX_CTL_USAGE;
	}
	if (r == 1)
		return 0;
	r = run(o, &c);
	fflush(stdout);
	return r;
}

/* Commands from stdin, one a line, while the timers of earlier "for"
 * commands run: poll() waits for input or the next stop, whichever is
 * first. The status is that of the last command that failed. */
static int
interact(const struct ctl_opts *o)
{
	char buf[LINE_MAX_CTL + 1], *nl, *p;
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	struct timespec ts, *tsp;
	size_t have = 0;
	int64_t wait;
	ssize_t n;
	int tty = isatty(0), prompted = 0, skipping = 0, rv = 0, r, eof = 0;

	while (!eof && !ctl_signal) {
		if (tty && !prompted) {
			fputs("camrec> ", stdout);
			fflush(stdout);
			prompted = 1;
		}
		tsp = NULL;
		if (ntimers > 0) {
			wait = next_due() - mono_us();
			if (wait < 0)
				wait = 0;
			ts.tv_sec = wait / 1000000;
			ts.tv_nsec = (wait % 1000000) * 1000;
			tsp = &ts;
		}
		n = ppoll(&pfd, 1, tsp, &wait_mask);
		if (ctl_signal)
			break;
		if (ntimers > 0 && next_due() <= mono_us()) {
			if (prompted)
				putchar('\n');
			if ((r = fire_timers(o, 0)) != 0)
				rv = r;
			prompted = 0;
		}
		if (n <= 0)
			continue;
		if ((n = read(0, buf + have, LINE_MAX_CTL - have)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			warn("stdin");
			rv = EX_CTL_RUNTIME;
			break;
		}
		if (n == 0) {
			eof = 1;
			if (have == 0 || skipping)
				break;
			buf[have++] = '\n';	/* a last line without newline */
		}
		have += (size_t)n;
		prompted = 0;
		p = buf;
		while ((nl = memchr(p, '\n', have - (size_t)(p - buf))) != NULL) {
			*nl = '\0';
			if (skipping)
				skipping = 0;
			else if (strlen(p) != (size_t)(nl - p)) {
				warnx("line with a NUL byte; skipped");
				rv = EX_CTL_USAGE;
			}
			else if ((r = do_line(o, p)) == QUIT)
				goto done;
			else if (r != 0)
				rv = r;
			p = nl + 1;
			if (ctl_signal)
				goto done;
		}
		have -= (size_t)(p - buf);
		memmove(buf, p, have);
		if (have == LINE_MAX_CTL) {
			warnx("line too long (more than %d bytes); skipped",
			    LINE_MAX_CTL);
			rv = EX_CTL_USAGE;
			have = 0;
			skipping = 1;
		}
	}
done:
	if (ntimers > 0 && !ctl_signal) {
		printf("waiting for %zu pending stop%s (interrupt to send now)\n",
		    ntimers, ntimers == 1 ? "" : "s");
		fflush(stdout);
	}
	if ((r = drain_timers(o)) != 0)
		rv = r;
	return rv;
}

static int
one_shot(const struct ctl_opts *o, int argc, char *argv[])
{
	char line[LINE_MAX_CTL];
	size_t len = 0, n;
	int i, rv, r;

	for (i = 0; i < argc; i++) {
		n = strlen(argv[i]);
		if (len + n + 2 > sizeof(line)) {
			warnx("command too long");
			return EX_CTL_USAGE;
		}
		memcpy(line + len, argv[i], n);
		len += n;
		line[len++] = ' ';
	}
	line[len] = '\0';
	rv = do_line(o, line);
	if (rv == QUIT)
		rv = 0;
	if ((r = drain_timers(o)) != 0 && rv == 0)
		rv = r;
	return rv;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts o = { 0 };
	struct sigaction sa;
	sigset_t block;
	int c, rv;

	o.fifo = getenv("CAMREC_CTL");
	o.status = getenv("CAMREC_STATUS");
	o.wait = 3;
	/* "+": the first operand ends the options, so "start -1" is a command. */
	while ((c = getopt_long(argc, argv, "+c:ns:w:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.fifo = optarg;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 's':
			o.status = optarg;
			break;
		case 'w':
			if (parse_double(optarg, 0, 3600, &o.wait) < 0)
				errx(2, "-w %s: expected seconds from 0 to 3600", optarg);
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'V':
			return print_version("ctl") < 0;
		default:
			usage(stderr, 2);
		}
	}
	argc -= optind;
	argv += optind;
	if (o.fifo != NULL && *o.fifo == '\0')
		o.fifo = NULL;
	if (o.status != NULL && *o.status == '\0')
		o.status = NULL;

	/* Signals stay blocked except inside ppoll(), so none is lost between
	 * checking the flag and going to sleep. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGHUP);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	catch(SIGINT, &sa);
	catch(SIGTERM, &sa);
	catch(SIGHUP, &sa);

	rv = argc > 0 ? one_shot(&o, argc, argv) : interact(&o);
	if (ctl_signal)
		rv = 128 + ctl_signal;
	if (stdout_close() < 0 && rv == 0)
		err(1, "stdout");
	return rv;
}
