/* The output queue on stdout. The event loop must never block on a slow
 * reader (pings, the control FIFO and closing handshakes would stall), so
 * stdout is non-blocking and records wait here. Once the queue holds more
 * than OUT_HIGH bytes it reports a backlog until it is down to OUT_LOW; its
 * caller stops reading the cameras meanwhile, so TCP pushes back on them
 * instead of this queue growing. It knows nothing of connections. There is
 * one stdout per process, so its state is this file's own. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "rec.h"
#include "util.h"
#include "wsrecv.h"

#define OUT_HIGH	(8u << 20)
#define OUT_LOW		(2u << 20)
#define OUT_IOV		64
#define OUT_RETRY_US	10000	/* stdout that cannot be polled: retry period */

struct chunk {
	struct chunk *next;
	unsigned char *data;
	size_t len, off;
	int separate;			/* data is its own allocation */
	unsigned char inline_data[];
};

static struct {
	int fd;
	int flags;			/* file status flags to restore */
	int pollable;			/* a pipe or socket: POLLERR tells of a gone reader */
	struct chunk *head, *tail;
	size_t bytes;
	int failed;			/* errno of the write that failed */
	int backlog;			/* above OUT_HIGH, not yet down to OUT_LOW */
	struct lws_context *ctx;	/* the loop, while it runs */
	struct lws_vhost *vh;
	struct lws *wsi;		/* stdout adopted into the loop, or NULL */
	lws_sorted_usec_list_t retry;
} out = { .fd = -1 };

/* A chunk whose len bytes of data follow it in the same allocation. */
static struct chunk *
chunk_new(size_t len)
{
	struct chunk *ch;

	if ((ch = malloc(sizeof *ch + len)) == NULL)
		return NULL;
	ch->data = ch->inline_data;
	ch->separate = 0;
	ch->len = len;
	return ch;
}

static void
enqueue(struct chunk *ch)
{
	ch->next = NULL;
	ch->off = 0;
	if (out.tail)
		out.tail->next = ch;
	else
		out.head = ch;
	out.tail = ch;
	out.bytes += ch->len;
	if (out.bytes > OUT_HIGH)
		out.backlog = 1;
}

static void
restore_flags(void)
{
	if (out.fd >= 0)
		fcntl(out.fd, F_SETFL, out.flags);
}

int
out_init(int fd, int lines)
{
	struct stat st;

	out.fd = fd;
	if ((out.flags = fcntl(fd, F_GETFL)) < 0)
		return -1;
	if (fcntl(fd, F_SETFL, out.flags | O_NONBLOCK) < 0)
		return -1;
	atexit(restore_flags);
	if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		out.pollable = 1;
	pipe_grow(fd, 1 << 20);	/* a pipe of 1 MiB: fewer wake-ups both sides */
	if (!lines) {
		struct chunk *ch;

		if ((ch = chunk_new(REC_STREAM_HDR)) == NULL)
			return -1;
		rec_pack_stream_header(ch->data);
		enqueue(ch);
	}
	return 0;
}

/* Pipes and sockets are watched by the loop, so a blocked stdout wakes it
 * when it drains; anything else (a terminal) is retried on a short timer. */
static void
adopt(void)
{
	lws_sock_file_fd_type fd;
	int dupfd;

	if (!out.pollable || out.wsi != NULL)
		return;
	/* lws closes what it adopted; give it a duplicate, keep writing to fd. */
	if ((dupfd = fcntl(out.fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return;
	fd.filefd = dupfd;
	out.wsi = lws_adopt_descriptor_vhost(out.vh, LWS_ADOPT_RAW_FILE_DESC, fd,
	    OUT_PROTOCOL, NULL);
	if (out.wsi == NULL)
		out.pollable = 0;
}

static void
retry_cb(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	out_pump();
}

static void
wait_writable(void)
{
	if (out.ctx == NULL)
		return;
	adopt();
	if (out.wsi != NULL)
		lws_callback_on_writable(out.wsi);
	else
		lws_sul_schedule(out.ctx, 0, &out.retry, retry_cb, OUT_RETRY_US);
}

/* Write from the lws loop of ctx, until out_detach. */
void
out_attach(struct lws_context *ctx, struct lws_vhost *vh)
{
	out.ctx = ctx;
	out.vh = vh;
}

/* The loop is going away: records still come (the CLOSE records of the
 * connections lws ends), and out_finish writes them. */
void
out_detach(void)
{
	out.ctx = NULL;
	out.vh = NULL;
}

int
out_record(uint16_t type, uint16_t flags, uint64_t conn, uint64_t t_us,
    const void *a, size_t alen, const void *b, size_t blen)
{
	size_t body = alen + blen;
	struct chunk *ch;

	if (body > REC_MAX_BODY) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((ch = chunk_new(REC_HDR + body)) == NULL)
		return -1;
	rec_pack_header(ch->data, type, flags, (uint32_t)body, conn, t_us);
	if (alen)
		memcpy(ch->data + REC_HDR, a, alen);
	if (blen)
		memcpy(ch->data + REC_HDR + alen, b, blen);
	enqueue(ch);
	return 0;
}

/* buf holds REC_HDR free bytes and then body_len bytes of body; the queue
 * takes it over, so a large message is never copied. */
int
out_record_owned(unsigned char *buf, size_t body_len, uint16_t type,
    uint16_t flags, uint64_t conn, uint64_t t_us)
{
	struct chunk *ch;

	if (body_len > REC_MAX_BODY) {
		free(buf);
		errno = EMSGSIZE;
		return -1;
	}
	if ((ch = malloc(sizeof *ch)) == NULL) {
		free(buf);
		return -1;
	}
	rec_pack_header(buf, type, flags, (uint32_t)body_len, conn, t_us);
	ch->data = buf;
	ch->separate = 1;
	ch->len = REC_HDR + body_len;
	enqueue(ch);
	return 0;
}

int
out_line(const void *text, size_t len)
{
	struct chunk *ch;

	if ((ch = chunk_new(len + 1)) == NULL)
		return -1;
	memcpy(ch->data, text, len);
	ch->data[len] = '\n';
	enqueue(ch);
	return 0;
}

static void
chunk_free(struct chunk *ch)
{
	if (ch->separate)
		free(ch->data);
	free(ch);
}

/* Write what stdout takes now. Returns 1 when it would block. */
static int
write_some(void)
{
	struct iovec iov[OUT_IOV];
	struct chunk *ch;
	ssize_t n;
	int i;

	while (out.head != NULL && !out.failed) {
		for (i = 0, ch = out.head; ch != NULL && i < OUT_IOV; ch = ch->next, i++) {
			iov[i].iov_base = ch->data + ch->off;
			iov[i].iov_len = ch->len - ch->off;
		}
		n = writev(out.fd, iov, i);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			out.failed = errno;
			return 0;
		}
		out.bytes -= (size_t)n;
		while (n > 0) {
			size_t left = out.head->len - out.head->off;

			if ((size_t)n < left) {
				out.head->off += (size_t)n;
				break;
			}
			n -= (ssize_t)left;
			ch = out.head;
			out.head = ch->next;
			if (out.head == NULL)
				out.tail = NULL;
			chunk_free(ch);
		}
	}
	return 0;
}

void
out_pump(void)
{
	struct pollfd pfd;

	if (out.failed)
		return;
	if (write_some())
		wait_writable();
	else if (out.head == NULL && out.pollable) {
		/* Nothing to write would tell of a reader that went away;
		 * POLLERR on a pipe or socket does, so idle time ends too. */
		pfd.fd = out.fd;
		pfd.events = 0;
		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)))
			out.failed = EPIPE;
	}
	if (out.bytes < OUT_LOW)
		out.backlog = 0;
}

int
out_backlogged(void)
{
	return out.backlog;
}

size_t
out_queued(void)
{
	return out.bytes;
}

int
out_failed(void)
{
	return out.failed;
}

int
out_finish(void)
{
	struct chunk *ch;

	if (!out.failed) {
		fcntl(out.fd, F_SETFL, out.flags & ~O_NONBLOCK);
		write_some();
	}
	while ((ch = out.head) != NULL) {
		out.head = ch->next;
		chunk_free(ch);
	}
	out.tail = NULL;
	restore_flags();
	if (out.failed) {
		errno = out.failed;
		return -1;
	}
	return 0;
}

int
out_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	char discard[4096];

	(void)user;
	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return -1;	/* not a WebSocket subprotocol */
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		out_pump();
		break;
	case LWS_CALLBACK_RAW_RX_FILE:
		/* Only a socket on stdout can have something to read. */
		if (read(lws_get_socket_fd(wsi), discard, sizeof discard) <= 0)
			return -1;
		break;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (wsi == out.wsi) {
			out.wsi = NULL;
			out.pollable = 0;
		}
		break;
	default:
		break;
	}
	return 0;
}
