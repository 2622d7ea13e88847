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
#include <unistd.h>

#include "ctl.h"
#include "stdopt.h"
#include "util.h"

#define LINE_MAX_CTL 4096
#define MAX_TIMERS 16
#define QUIT (-1)

struct timer {
	int64_t due_us;
	struct ctl_cmd stop;
	struct sent prev;
};

/* Lifetime: main(); what every command of this run shares. */
struct run {
	const struct ctl_opts *o;
	struct waiter w;
	struct timer timers[MAX_TIMERS];	/* the stops of "for" commands */
	size_t ntimers;
};

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: ctl [-n] [-c fifo] [-s status] [-w seconds] "
	    "[command [argument ...]]\n");
	exit(status);
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
run(struct run *R, const struct ctl_cmd *c)
{
	const struct ctl_opts *o = R->o;
	struct timer *t;
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
	if (c->duration > 0 && !o->dry_run && R->ntimers == MAX_TIMERS) {
		warnx("too many pending stops (at most %d)", MAX_TIMERS);
		return EX_CTL_RUNTIME;
	}
	rv = cmd_send(o, &R->w, c, &sent);
	if (c->duration <= 0 || !sent.written)
		return rv;
	cmd_stop_for(c, &stop);
	if (o->dry_run) {
		printf("# after %s\n", c->duration_text);
		rs = cmd_send_stop(o, &R->w, &stop, &sent);
		return rv != 0 ? rv : rs;
	}
	t = &R->timers[R->ntimers++];
	t->due_us = sent.sent_us + (int64_t)(c->duration * 1e6);
	t->stop = stop;
	t->prev = sent;
	printf("%s: stop in %s\n", cmd_name(c), c->duration_text);
	return rv;
}

/* Send the stops that are due (all of them when all is set), in the order
 * they fall due. The status of the last that failed, or 0. */
static int
fire_timers(struct run *R, int all)
{
	struct timer *timers = R->timers, t;
	size_t i, first;
	int rv = 0, r;

	for (;;) {
		first = R->ntimers;
		for (i = 0; i < R->ntimers; i++)
			if (first == R->ntimers || timers[i].due_us < timers[first].due_us)
				first = i;
		if (first == R->ntimers || (!all && timers[first].due_us > mono_us()))
			return rv;
		t = timers[first];
		timers[first] = timers[--R->ntimers];
		if ((r = cmd_send_stop(R->o, &R->w, &t.stop, &t.prev)) != 0)
			rv = r;
		fflush(stdout);
	}
}

/* When the next stop falls due; INT64_MAX when none is pending. */
static int64_t
next_due(const struct run *R)
{
	int64_t due = INT64_MAX;
	size_t i;

	for (i = 0; i < R->ntimers; i++)
		if (R->timers[i].due_us < due)
			due = R->timers[i].due_us;
	return due;
}

/* Wait for the pending stops and send them; an interrupt sends them now. */
static int
drain_timers(struct run *R)
{
	int rv = 0, r;

	while (R->ntimers > 0) {
		wait_sleep(&R->w, next_due(R) - mono_us());
		if ((r = fire_timers(R, wait_signal(&R->w) != 0)) != 0)
			rv = r;
	}
	return rv;
}

static int
do_line(struct run *R, char *line)
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
	r = run(R, &c);
	fflush(stdout);
	return r;
}

/* Commands from stdin, one a line, while the timers of earlier "for"
 * commands run: poll() waits for input or the next stop, whichever is
 * first. The status is that of the last command that failed. */
static int
interact(struct run *R)
{
	char buf[LINE_MAX_CTL + 1], *nl, *p;
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	size_t have = 0;
	ssize_t n;
	int tty = isatty(0), prompted = 0, skipping = 0, rv = 0, r, eof = 0;

	while (!eof && !wait_signal(&R->w)) {
		if (tty && !prompted) {
			fputs("camrec> ", stdout);
			fflush(stdout);
			prompted = 1;
		}
		n = wait_poll(&R->w, &pfd, 1, next_due(R));
		if (wait_signal(&R->w))
			break;
		if (R->ntimers > 0 && next_due(R) <= mono_us()) {
			if (prompted)
				putchar('\n');
			if ((r = fire_timers(R, 0)) != 0)
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
			else if ((r = do_line(R, p)) == QUIT)
				goto done;
			else if (r != 0)
				rv = r;
			p = nl + 1;
			if (wait_signal(&R->w))
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
	if (R->ntimers > 0 && !wait_signal(&R->w)) {
		printf("waiting for %zu pending stop%s (interrupt to send now)\n",
		    R->ntimers, R->ntimers == 1 ? "" : "s");
		fflush(stdout);
	}
	if ((r = drain_timers(R)) != 0)
		rv = r;
	return rv;
}

static int
one_shot(struct run *R, int argc, char *argv[])
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
	rv = do_line(R, line);
	if (rv == QUIT)
		rv = 0;
	if ((r = drain_timers(R)) != 0 && rv == 0)
		rv = r;
	return rv;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		STD_LONGOPTS,
	};
	static struct run R;	/* static: its timers are some 200 KiB */
	struct ctl_opts o = { 0 };
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
		default:
			return std_option(c, "ctl", usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (o.fifo != NULL && *o.fifo == '\0')
		o.fifo = NULL;
	if (o.status != NULL && *o.status == '\0')
		o.status = NULL;

	signal(SIGPIPE, SIG_IGN);
	R.o = &o;
	wait_init(&R.w);

	rv = argc > 0 ? one_shot(&R, argc, argv) : interact(&R);
	if (wait_signal(&R.w))
		rv = 128 + wait_signal(&R.w);
	if (stdout_close() < 0 && rv == 0)
		err(1, "stdout");
	return rv;
}
