/* Turning a command into control FIFO lines for wsrecv, writing them, and
 * watching the status file for the cameras' answers. With a status file the
 * cameras are addressed by connection id, so Android phones get JSON and
 * ESP boards plain text, and a camera that connects meanwhile is not
 * started by surprise. Without it ctl can only address request paths. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "util.h"

#define MAX_LINES 64
#define WRITE_TIMEOUT_US 2000000

struct lines {
	size_t n;
	char *line[MAX_LINES];
};

static int
is_generic(const struct ctl_cmd *c)
{
	return c->verb == VERB_START || c->verb == VERB_STOP;
}

static void
lines_free(struct lines *L)
{
	while (L->n > 0)
		free(L->line[--L->n]);
}

/* One FIFO line; a write of at most PIPE_BUF bytes is atomic, so wsrecv
 * never sees half of it interleaved with another writer's. */
static int
lines_add(struct lines *L, const char *target, const char *msg)
{
	char *s;
	int len;

	if (L->n == MAX_LINES)
		return -1;
	len = asprintf(&s, "text %s %s\n", target, msg);
	if (len < 0)
		return -1;
	if (len > PIPE_BUF) {
		free(s);
		return -1;
	}
	L->line[L->n++] = s;
	return 0;
}

/* Lines for the cameras of one kind, as few as fit in PIPE_BUF each. */
static int
add_id_group(struct lines *L, const struct sent *s, enum cam_kind kind,
    const char *msg)
{
	char target[PIPE_BUF], id[24];
	size_t tlen = 0, i, fixed = strlen("text  \n") + strlen(msg);

	for (i = 0; i < s->n; i++) {
		if (s->kinds[i] != kind)
			continue;
		snprintf(id, sizeof(id), "%llu", (unsigned long long)s->ids[i]);
		if (tlen > 0 && fixed + tlen + 1 + strlen(id) > PIPE_BUF) {
			if (lines_add(L, target, msg) < 0)
				return -1;
			tlen = 0;
		}
		tlen += (size_t)snprintf(target + tlen, sizeof(target) - tlen, "%s%s",
		    tlen > 0 ? "," : "", id);
	}
	return tlen > 0 ? lines_add(L, target, msg) : 0;
}

static int
build_lines(const struct ctl_cmd *c, const struct sent *s, struct lines *L)
{
	char *amsg = cmd_android_message(c), *emsg = cmd_esp_message(c);
	int rv = 0;

	if (s->with_status || s->n > 0) {
		if (amsg != NULL)
			rv = add_id_group(L, s, KIND_ANDROID, amsg);
		if (rv == 0 && emsg != NULL)
			rv = add_id_group(L, s, KIND_ESP, emsg);
	} else {
		if (amsg != NULL)
			rv = lines_add(L, CTL_ANDROID_PATH, amsg);
		if (rv == 0 && emsg != NULL)
			rv = lines_add(L, CTL_ESP_PATH, emsg);
	}
	free(amsg);
	free(emsg);
	return rv;
}

static int
put_line(int fd, const char *line)
{
	size_t len = strlen(line);
	int64_t deadline = mono_us() + WRITE_TIMEOUT_US;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	ssize_t n;

	for (;;) {
		if ((n = write(fd, line, len)) == (ssize_t)len)
			return 0;
		if (n >= 0) {
			errno = EIO;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || mono_us() >= deadline)
			return -1;
		poll(&pfd, 1, 100);
	}
}

static int
fifo_write(const struct ctl_opts *o, const struct lines *L)
{
	struct stat sb;
	size_t i;
	int fd, rv = 0;

	if (o->dry_run) {
		for (i = 0; i < L->n; i++)
			fputs(L->line[i], stdout);
		return 0;
	}
	if (o->fifo == NULL) {
		warnx("no control FIFO: give -c FIFO or set CAMREC_CTL");
		return EX_CTL_USAGE;
	}
	if ((fd = open(o->fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		if (errno == ENXIO) {
			warnx("recorder not running (no reader on FIFO %s)", o->fifo);
			return EX_CTL_NOTRUNNING;
		}
		if (errno == ENOENT) {
			warnx("recorder not running (no control FIFO %s)", o->fifo);
			return EX_CTL_NOTRUNNING;
		}
		warn("control FIFO %s", o->fifo);
		return EX_CTL_RUNTIME;
	}
	if (fstat(fd, &sb) < 0 || !S_ISFIFO(sb.st_mode)) {
		warnx("control FIFO %s: not a FIFO", o->fifo);
		close(fd);
		return EX_CTL_RUNTIME;
	}
	for (i = 0; i < L->n && rv == 0; i++) {
		if (put_line(fd, L->line[i]) == 0)
			continue;
		if (errno == EPIPE) {
			warnx("recorder not running (FIFO %s closed)", o->fifo);
			rv = EX_CTL_NOTRUNNING;
		} else if (errno == EAGAIN) {
			warnx("control FIFO %s: full for %d s; is the recorder stuck?",
			    o->fifo, WRITE_TIMEOUT_US / 1000000);
			rv = EX_CTL_RUNTIME;
		} else {
			warn("control FIFO %s", o->fifo);
			rv = EX_CTL_RUNTIME;
		}
	}
	close(fd);
	return rv;
}

/* Which cameras a command goes to. With a status file every target must
 * name a connected camera that takes this command, or nothing is sent. */
static int
resolve(const struct ctl_cmd *c, const struct status *st, struct sent *s)
{
	int matched[CTL_MAX_TARGETS] = { 0 };
	const struct cam *other[CTL_MAX_TARGETS] = { 0 };
	size_t i, j;
	int hit, fits;

	memset(s, 0, sizeof(*s));
	if (st == NULL) {
		for (j = 0; j < c->ntargets; j++) {
			if (c->targets[j].is_peer) {
				warnx("%s: an address target needs the status file "
				    "(-s or CAMREC_STATUS)", c->targets[j].text);
				return EX_CTL_USAGE;
			}
			s->ids[s->n] = c->targets[j].id;
			s->kinds[s->n++] = is_generic(c) ? KIND_ANDROID : KIND_ESP;
		}
		return 0;
	}
	s->with_status = 1;
	for (i = 0; i < st->ncams; i++) {
		const struct cam *cam = &st->cams[i];

		fits = cam->kind == KIND_ESP || (cam->kind == KIND_ANDROID &&
		    is_generic(c));
		hit = c->ntargets == 0;
		for (j = 0; j < c->ntargets; j++) {
			if (!target_matches(&c->targets[j], cam))
				continue;
			hit = 1;
			if (fits)
				matched[j] = 1;
			else if (other[j] == NULL)
				other[j] = cam;
		}
		if (!hit || !fits)
			continue;
		if (s->n == sizeof(s->ids) / sizeof(s->ids[0])) {
			warnx("too many cameras (at most %zu per command)", s->n);
			return EX_CTL_RUNTIME;
		}
		s->ids[s->n] = cam->conn;
		s->kinds[s->n++] = cam->kind;
	}
	for (j = 0; j < c->ntargets; j++) {
		if (matched[j])
			continue;
		if (other[j] != NULL && other[j]->kind == KIND_ANDROID)
			warnx("%s: connection %llu is an Android camera; %s is for "
			    "ESP boards", c->targets[j].text,
			    (unsigned long long)other[j]->conn, cmd_name(c));
		else if (other[j] != NULL)
			warnx("%s: connection %llu is a %s client, not a camera",
			    c->targets[j].text, (unsigned long long)other[j]->conn,
			    other[j]->kind_name);
		else
			warnx("%s: no such camera connected", c->targets[j].text);
		return EX_CTL_NOCAMERA;
	}
	if (s->n == 0) {
		warnx("%s: no %s connected", cmd_name(c),
		    is_generic(c) ? "camera" : "ESP board");
		return EX_CTL_NOCAMERA;
	}
	return 0;
}

/* Write the command's lines for the cameras in *s and report on them;
 * st is the status the targets came from (NULL: no confirmation). */
static int
deliver(const struct ctl_opts *o, const struct waiter *w,
    const struct ctl_cmd *c, struct sent *s, const struct status *st)
{
	struct lines L = { 0 };
	size_t i;
	int rv;

	if (build_lines(c, s, &L) < 0) {
		lines_free(&L);
		warnx("%s: message does not fit in one FIFO write", cmd_name(c));
		return EX_CTL_RUNTIME;
	}
	s->sent_us = mono_us();
	rv = fifo_write(o, &L);
	lines_free(&L);
	if (rv != 0)
		return rv;
	s->written = 1;
	if (o->dry_run)
		return 0;
	if (!s->with_status) {
		printf("%s: written to %s (no status file, no confirmation)\n",
		    cmd_name(c), o->fifo);
		return 0;
	}
	printf("%s: sent to %zu camera%s:", cmd_name(c), s->n, s->n == 1 ? "" : "s");
	for (i = 0; i < s->n; i++)
		printf(" %llu", (unsigned long long)s->ids[i]);
	putchar('\n');
	if (c->verb == VERB_START && c->has_settings)
		for (i = 0; i < s->n; i++)
			if (s->kinds[i] == KIND_ESP) {
				printf("note: ESP boards get a plain \"start\"; W:H, "
				    "bitrate and fps are for Android cameras "
				    "(see esp start)\n");
				break;
			}
	if (st == NULL || o->wait <= 0 || o->status == NULL || wait_signal(w))
		return 0;
	fflush(stdout);
	return feedback(o, w, c, s, st);
}

/* Load the status file if there is one. 1 loaded, 0 none (or missing:
 * commands then go by request path), or -1 with the exit status in
 * *status. */
static int
load(const struct ctl_opts *o, struct status *st, int *status)
{
	char errbuf[160];
	int r;

	if (o->status == NULL)
		return 0;
	r = status_load(o->status, st, errbuf, sizeof(errbuf));
	if (r == 0)
		return 1;
	if (r == -2) {
		warnx("status file %s: %s", o->status, errbuf);
		*status = EX_CTL_BADSTATUS;
		return -1;
	}
	if (errno == ENOENT) {
		warnx("status file %s: %s; addressing cameras by path", o->status,
		    strerror(errno));
		return 0;
	}
	warn("status file %s", o->status);
	*status = EX_CTL_RUNTIME;
	return -1;
}

int
cmd_send(const struct ctl_opts *o, const struct waiter *w,
    const struct ctl_cmd *c, struct sent *out)
{
	struct status st;
	struct sent s;
	int have, rv;

	if (out != NULL)
		out->written = 0;
	if ((have = load(o, &st, &rv)) < 0)
		return rv;
	rv = resolve(c, have ? &st : NULL, &s);
	if (rv == 0)
		rv = deliver(o, w, c, &s, have ? &st : NULL);
	if (out != NULL)
		*out = s;
	if (have)
		status_free(&st);
	return rv;
}

int
cmd_send_stop(const struct ctl_opts *o, const struct waiter *w,
    const struct ctl_cmd *stop, const struct sent *prev)
{
	struct status st;
	struct sent s = *prev;
	size_t i, n = 0;
	int have, rv;

	if (!prev->with_status) {
		rv = resolve(stop, NULL, &s);
		return rv != 0 ? rv : deliver(o, w, stop, &s, NULL);
	}
	/* An unreadable status file stops every camera of the start. */
	if ((have = load(o, &st, &rv)) < 0)
		have = 0;
	/* Stop only those still connected; the rest stopped when they left. */
	for (i = 0; i < prev->n; i++)
		if (!have || status_find(&st, prev->ids[i]) != NULL) {
			s.ids[n] = prev->ids[i];
			s.kinds[n++] = prev->kinds[i];
		}
	s.n = n;
	if (n == 0) {
		printf("%s: the cameras have disconnected; nothing to stop\n",
		    cmd_name(stop));
		rv = 0;
	} else
		rv = deliver(o, w, stop, &s, have ? &st : NULL);
	if (have)
		status_free(&st);
	return rv;
}
