/* The control FIFO: commands from the operator (or ctl) to the cameras,
 * one line each (grammar in wsrecv(1)). wsrecv holds a write descriptor on
 * its own FIFO so that writers can come and go without an end of file, and
 * reads it from the lws loop like any socket. Each command goes to the
 * connections it names, and a message sent becomes a SENT record. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rec.h"
#include "util.h"
#include "wsrecv.h"

#define CTL_LINE_MAX	(1u << 20)
#define CTL_READ	65536

/* The per-vhost data of the control protocol, made by ctl_open() and freed
 * by lws with the vhost. */
struct ctl {
	struct server *server;
	const char *path;
	int rfd, wfd;
	char *buf;
	size_t len, cap;
	int discarding;			/* inside a line that was too long */
	unsigned long lineno;
};

enum target_kind { TARGET_ALL, TARGET_IDS, TARGET_PATH };

struct target {
	enum target_kind kind;
	const char *s;			/* the id list or the path */
	size_t len;
};

static void bad(struct ctl *ctl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
bad(struct ctl *ctl, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	warnx("control fifo %s: line %lu: %s", ctl->path, ctl->lineno, why);
}

int
ctl_open(struct server *s, const char *path)
{
	lws_sock_file_fd_type fd;
	struct ctl *ctl;
	struct stat st;

	ctl = lws_protocol_vh_priv_zalloc(s->vh,
	    lws_vhost_name_to_protocol(s->vh, CTL_PROTOCOL), sizeof *ctl);
	if (ctl == NULL) {
		errno = ENOMEM;
		return -1;
	}
	ctl->server = s;
	ctl->path = path;
	ctl->rfd = ctl->wfd = -1;
	if (mkfifo(path, 0600) < 0) {
		if (errno != EEXIST)
			return -1;
		if (stat(path, &st) < 0)
			return -1;
		if (!S_ISFIFO(st.st_mode))
			errx(1, "control fifo %s: exists and is not a fifo", path);
	}
	if ((ctl->rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return -1;
	if ((ctl->wfd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	fd.filefd = ctl->rfd;
	if (lws_adopt_descriptor_vhost(s->vh, LWS_ADOPT_RAW_FILE_DESC, fd,
	    CTL_PROTOCOL, NULL) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* Take the next blank-separated word of *p (of *n bytes). */
static int
word(const char **p, size_t *n, const char **w, size_t *wlen)
{
	while (*n > 0 && (**p == ' ' || **p == '\t'))
		(*p)++, (*n)--;
	*w = *p;
	while (*n > 0 && **p != ' ' && **p != '\t')
		(*p)++, (*n)--;
	*wlen = (size_t)(*p - *w);
	return *wlen > 0;
}

static int
is(const char *w, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(w, name, len) == 0;
}

/* Parse the id at s (up to a comma or len). */
static int
parse_id(const char *s, size_t len, uint64_t *id)
{
	char num[24];

	if (len == 0 || len >= sizeof num)
		return -1;
	memcpy(num, s, len);
	num[len] = '\0';
	return parse_u64(num, 1, UINT64_MAX, id);
}

static int
target_parse(const char *w, size_t len, struct target *t)
{
	const char *p, *end = w + len, *comma;
	uint64_t id;

	t->s = w;
	t->len = len;
	if (is(w, len, "all")) {
		t->kind = TARGET_ALL;
		return 0;
	}
	if (w[0] == '/') {
		t->kind = TARGET_PATH;
		return 0;
	}
	t->kind = TARGET_IDS;
	for (p = w; p < end; p = comma + 1) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		if (parse_id(p, (size_t)(comma - p), &id) < 0)
			return -1;
		if (comma == end)
			break;
	}
	return 0;
}

enum act_what { ACT_TEXT, ACT_BINARY, ACT_CLOSE };
static const char *cmd_names[] = { "text", "binary", "close" };

struct action {
	enum act_what what;
	const void *data;
	size_t len;
	uint16_t code;
};

static void
act(struct ctl *ctl, struct conn *c, const struct action *a)
{
	int binary = a->what == ACT_BINARY;

	if (a->what == ACT_CLOSE)
		conn_close(c, a->code, a->data, a->len);
	else if (conn_send(c, binary, a->data, a->len) == 0 && !ctl->server->lines &&
	    out_record(REC_SENT, binary ? REC_SENT_BINARY : REC_SENT_TEXT, c->id,
	    (uint64_t)mono_us(), NULL, 0, a->data, a->len) < 0)
		err(1, "memory");
}

static void
target_apply(struct ctl *ctl, const struct target *t, const struct action *a)
{
	const char *p, *end = t->s + t->len, *comma;
	struct conn *c, *next;
	uint64_t id;

	if (t->kind == TARGET_IDS) {
		for (p = t->s; p < end; p = comma + 1) {
			if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
				comma = end;
			parse_id(p, (size_t)(comma - p), &id);
			if ((c = conn_find(ctl->server->conns, id)) == NULL)
				bad(ctl, "no connection %llu", (unsigned long long)id);
			else
				act(ctl, c, a);
		}
		return;
	}
	for (c = ctl->server->conns; c != NULL; c = next) {
		next = c->next;
		if (c->server_closed || c->peer_closed)
			continue;
		if (t->kind == TARGET_ALL ||
		    (strlen(c->path) == t->len && memcmp(c->path, t->s, t->len) == 0))
			act(ctl, c, a);
	}
}

static int
b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Strict base64 (standard alphabet, padding optional) decoded in place. */
static ssize_t
b64_decode(char *s, size_t len)
{
	unsigned char *out = (unsigned char *)s;
	size_t i, n = 0;
	uint32_t acc = 0;
	int bits = 0, v;

	while (len > 0 && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = b64_value((unsigned char)s[i])) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return (ssize_t)n;
}

static int
close_code_ok(uint64_t code)
{
	/* 1004-1006 and 1015 are never sent in a close frame. */
	return code >= 1000 && code <= 4999 && code != 1004 && code != 1005 &&
	    code != 1006 && code != 1015 && (code >= 3000 || code <= 1014);
}

static void
ctl_exec(struct ctl *ctl, char *line, size_t len)
{
	const char *p = line, *cmd, *tw, *w;
	size_t n = len, cmdlen, tlen, wlen;
	struct target t;
	struct action a;
	uint64_t code;
	char num[8];
	ssize_t got;

	if (len == 0 || line[0] == '#')
		return;
	if (!word(&p, &n, &cmd, &cmdlen))
		return;		/* only blanks */
	if (is(cmd, cmdlen, "text"))
		a.what = ACT_TEXT;
	else if (is(cmd, cmdlen, "binary"))
		a.what = ACT_BINARY;
	else if (is(cmd, cmdlen, "close"))
		a.what = ACT_CLOSE;
	else {
		char name[32];

		if (cmdlen >= sizeof name)
			cmdlen = sizeof name - 1;
		memcpy(name, cmd, cmdlen);
		name[cmdlen] = '\0';
		bad(ctl, "unknown command \"%s\"", name);
		return;
	}
	if (!word(&p, &n, &tw, &tlen)) {
		bad(ctl, "%s: missing target", cmd_names[a.what]);
		return;
	}
	if (target_parse(tw, tlen, &t) < 0) {
		bad(ctl, "%s: bad target (want all, ids like 3,7 or a /path)", cmd_names[a.what]);
		return;
	}
	if (a.what == ACT_TEXT) {
		if (n == 0) {
			bad(ctl, "text: missing message");
			return;
		}
		a = (struct action){ ACT_TEXT, p + 1, n - 1, 0 };
	} else if (a.what == ACT_BINARY) {
		const char *extra;
		size_t extra_len;

		if (!word(&p, &n, &w, &wlen) || word(&p, &n, &extra, &extra_len) ||
		    (got = b64_decode((char *)w, wlen)) < 0) {
			bad(ctl, "binary: want one base64 word");
			return;
		}
		a = (struct action){ ACT_BINARY, w, (size_t)got, 0 };
	} else {
		a = (struct action){ ACT_CLOSE, "", 0, LWS_CLOSE_STATUS_NORMAL };
		if (word(&p, &n, &w, &wlen)) {
			if (wlen >= sizeof num)
				wlen = sizeof num - 1;
			memcpy(num, w, wlen);
			num[wlen] = '\0';
			if (parse_u64(num, 1000, 4999, &code) < 0 || !close_code_ok(code)) {
				bad(ctl, "close: bad close code %s", num);
				return;
			}
			a.code = (uint16_t)code;
			if (n > 0) {
				a.data = p + 1;
				a.len = n - 1;
			}
			if (a.len > CLOSE_REASON_MAX) {
				bad(ctl, "close: reason longer than %d bytes",
				    CLOSE_REASON_MAX);
				return;
			}
		}
	}
	target_apply(ctl, &t, &a);
}

static void
too_long(struct ctl *ctl, unsigned long lineno)
{
	warnx("control fifo %s: line %lu: longer than %u bytes, discarded",
	    ctl->path, lineno, CTL_LINE_MAX);
}

static void
ctl_lines(struct ctl *ctl)
{
	char *start = ctl->buf, *nl, *end = ctl->buf + ctl->len;

	while ((nl = memchr(start, '\n', (size_t)(end - start))) != NULL) {
		ctl->lineno++;
		*nl = '\0';
		if (ctl->discarding)
			ctl->discarding = 0;
		else if ((size_t)(nl - start) > CTL_LINE_MAX)
			too_long(ctl, ctl->lineno);
		else
			ctl_exec(ctl, start, (size_t)(nl - start));
		start = nl + 1;
	}
	ctl->len = (size_t)(end - start);
	memmove(ctl->buf, start, ctl->len);
	/* Do not hold on to a line that is refused anyway. */
	if (ctl->len > CTL_LINE_MAX && !ctl->discarding) {
		ctl->discarding = 1;
		too_long(ctl, ctl->lineno + 1);
	}
	if (ctl->discarding)
		ctl->len = 0;
}

static void
ctl_read(struct ctl *ctl)
{
	ssize_t n;
	int i;

	/* A bounded amount per wakeup, so the cameras are served meanwhile. */
	for (i = 0; i < 16; i++) {
		if (ctl->cap - ctl->len < CTL_READ) {
			char *p = realloc(ctl->buf, ctl->len + 2 * CTL_READ);

			if (p == NULL)
				err(1, "memory");
			ctl->buf = p;
			ctl->cap = ctl->len + 2 * CTL_READ;
		}
		n = read(ctl->rfd, ctl->buf + ctl->len, CTL_READ);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				warn("control fifo %s", ctl->path);
			return;
		}
		if (n == 0)
			return;
		ctl->len += (size_t)n;
		ctl_lines(ctl);
	}
}

int
ctl_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct ctl *ctl;

	(void)user;
	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return -1;	/* not a WebSocket subprotocol */
	case LWS_CALLBACK_RAW_RX_FILE:
		ctl = lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));
		ctl_read(ctl);
		break;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		ctl = lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));
		if (ctl != NULL) {
			free(ctl->buf);
			ctl->buf = NULL;
			ctl->len = ctl->cap = 0;
		}
		break;
	default:
		break;
	}
	return 0;
}
