/* One WebSocket connection of wsrecv: who it is, reassembly of its messages,
 * the messages queued to it, its closing handshake and its pings. Each
 * message is reassembled into a buffer with room for the record header in
 * front, so wsrecv.c hands a complete one to the output queue without a
 * copy. Nothing here knows of records, stdout or the control FIFO. */
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rec.h"
#include "secret.h"
#include "util.h"
#include "wsrecv.h"

#define SENDQ_MAX	(8u << 20)	/* per connection, bytes not yet written */
#define RX_MIN		4096

static void
peer_name(struct lws *wsi, char *addr, size_t addr_len, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	const char *p;

	snprintf(addr, addr_len, "unknown");
	*port = 0;
	if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, addr, addr_len);
		*port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, addr_len);
		*port = ntohs(sin6->sin6_port);
		/* A v4 client on a dual-stack socket is still a v4 client. */
		if (strncmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.')) {
			p = addr + 7;
			memmove(addr, p, strlen(p) + 1);
		}
	}
}

/* The request path with its query string, as the client asked for it,
 * less any token parameter: the path goes into records, session.json and
 * logs, where a secret must never be. */
static char *
request_path(struct lws *wsi)
{
	int plen = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI);
	int qlen = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
	int i, flen, left;
	size_t n, sep;
	char *s;

	if (plen < 0)
		plen = 0;
	if (qlen < 0)
		qlen = 0;
	/* Room for every parameter and a separator before each. */
	if ((s = malloc((size_t)plen + 2 * (size_t)qlen + 3)) == NULL)
		err(1, "memory");
	s[0] = '\0';
	if (plen > 0 && lws_hdr_copy(wsi, s, plen + 1, WSI_TOKEN_GET_URI) < 0)
		s[0] = '\0';
	n = strlen(s);
	/* One parameter at a time, joined with '&' as the client sent them
	 * (lws would join them with ','). */
	for (i = 0, left = qlen; left > 0 && (flen = lws_hdr_fragment_length(wsi,
	    WSI_TOKEN_HTTP_URI_ARGS, i)) > 0 && flen <= left; i++) {
		/* lws counts a separator between parameters. */
		left -= flen + 1;
		sep = n;
		s[n++] = sep == strcspn(s, "?") ? '?' : '&';
		if (lws_hdr_copy_fragment(wsi, s + n, flen + 1,
		    WSI_TOKEN_HTTP_URI_ARGS, i) < 0 || query_is(s + n, "token"))
			n = sep;
		else
			n += strlen(s + n);
		s[n] = '\0';
	}
	return s;
}

void
conn_start(struct conn *c, struct lws *wsi, uint64_t id, int64_t now)
{
	c->wsi = wsi;
	c->id = id;
	c->path = request_path(wsi);
	c->last_rx_us = now;
	peer_name(wsi, c->addr, sizeof c->addr, &c->port);
	c->opened = 1;
}

void
conn_link(struct conn **list, struct conn *c)
{
	c->prev = NULL;
	c->next = *list;
	if (*list)
		(*list)->prev = c;
	*list = c;
}

void
conn_unlink(struct conn **list, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

struct conn *
conn_find(struct conn *list, uint64_t id)
{
	struct conn *c;

	for (c = list; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

/* Stop or resume reading for one reason (HOLD_*); reading resumes when no
 * reason is left. */
void
conn_hold(struct conn *c, int why, int on, int64_t now)
{
	int was = c->holds != 0;

	c->holds = on ? c->holds | why : c->holds & ~why;
	if (was == (c->holds != 0))
		return;
	lws_rx_flow_control(c->wsi, (c->holds ? LWS_RXFLOW_REASON_APPLIES_DISABLE :
	    LWS_RXFLOW_REASON_APPLIES_ENABLE) | LWS_RXFLOW_REASON_USER_BOOL |
	    LWS_RXFLOW_REASON_FLAG_PROCESS_NOW);
	/* Time spent not reading is not the peer's silence, except while it
	 * holds budget with a message it has not finished. */
	if ((why == HOLD_STDOUT && !on) || (!c->holds && !c->in_msg))
		c->last_rx_us = now;
}

static void
server_reason(struct conn *c, uint16_t code, const char *reason, size_t len)
{
	if (len > CLOSE_REASON_MAX)
		len = CLOSE_REASON_MAX;
	c->server_closed = 1;
	c->close_code = code;
	memcpy(c->close_reason, reason, len);
	c->close_reason_len = len;
}

static void
sendq_free(struct conn *c)
{
	struct sendmsg *m;

	while ((m = c->sq_head) != NULL) {
		c->sq_head = m->next;
		free(m);
	}
	c->sq_tail = NULL;
	c->sq_bytes = 0;
}

/* Close with a close frame once the socket is writable; a peer that never
 * lets us write is dropped a few seconds later anyway. */
void
conn_close(struct conn *c, uint16_t code, const char *reason, size_t len)
{
	if (c->server_closed || c->peer_closed)
		return;
	server_reason(c, code, reason, len);
	c->close_pending = 1;
	lws_callback_on_writable(c->wsi);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 3);
}

/* A silent peer is most likely gone (a phone off Wi-Fi): no point waiting
 * for it to take a close frame, drop it now. */
static void
conn_drop(struct conn *c, const char *reason, size_t len)
{
	server_reason(c, LWS_CLOSE_STATUS_GOINGAWAY, reason, len);
	lws_close_reason(c->wsi, LWS_CLOSE_STATUS_GOINGAWAY,
	    (unsigned char *)c->close_reason, c->close_reason_len);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* Ping a peer not heard from in a third of the idle limit (a pong counts as
 * hearing from it) and close a silent one. A connection wsrecv is not
 * reading is exempt, unless it holds part of a message: a client must not
 * hold memory for ever by never finishing one. That one is dropped once
 * held_limit has passed since its last fragment. */
void
conn_check_idle(struct conn *c, int64_t now, int64_t limit, int64_t held_limit)
{
	int64_t ping_every = limit / 3;

	if (c->server_closed || c->peer_closed)
		return;
	if (c->holds & HOLD_BUDGET && c->in_msg) {
		if (now - c->last_rx_us >= held_limit)
			conn_drop(c, REASON_STALLED, sizeof REASON_STALLED - 1);
		return;
	}
	if (c->holds || limit == 0)
		return;
	if (now - c->last_rx_us >= limit)
		conn_drop(c, REASON_IDLE, sizeof REASON_IDLE - 1);
	else if (now - c->last_rx_us >= ping_every &&
	    now - c->last_ping_us >= ping_every) {
		c->ping_due = 1;
		c->last_ping_us = now;
		lws_callback_on_writable(c->wsi);
	}
}

int
conn_send(struct conn *c, int binary, const void *msg, size_t len)
{
	struct sendmsg *m;

	if (c->server_closed || c->peer_closed)
		return -1;
	if (len > SENDQ_MAX - c->sq_bytes) {
		warnx("conn %llu: send queue full (%zu bytes), message dropped",
		    (unsigned long long)c->id, c->sq_bytes);
		return -1;
	}
	if ((m = malloc(sizeof *m + LWS_PRE + len)) == NULL)
		err(1, "memory");
	m->next = NULL;
	m->len = len;
	m->binary = binary;
	memcpy(m->buf + LWS_PRE, msg, len);
	if (c->sq_tail)
		c->sq_tail->next = m;
	else
		c->sq_head = m;
	c->sq_tail = m;
	c->sq_bytes += len;
	lws_callback_on_writable(c->wsi);
	return 0;
}

int
conn_writeable(struct conn *c)
{
	struct sendmsg *m;
	int n;

	if (c->ping_due && !c->close_pending) {
		/* lws 4.1 does not report a pong with no payload: give it one. */
		unsigned char ping[LWS_PRE + 4] = { [LWS_PRE] = 'p', 'i', 'n', 'g' };

		c->ping_due = 0;
		if (lws_write(c->wsi, ping + LWS_PRE, 4, LWS_WRITE_PING) < 0)
			return -1;
		if (lws_send_pipe_choked(c->wsi)) {
			lws_callback_on_writable(c->wsi);
			return 0;
		}
	}
	while ((m = c->sq_head) != NULL) {
		n = lws_write(c->wsi, m->buf + LWS_PRE, m->len,
		    m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
		if (n < (int)m->len)
			return -1;
		c->sq_head = m->next;
		if (c->sq_head == NULL)
			c->sq_tail = NULL;
		c->sq_bytes -= m->len;
		free(m);
		if (lws_send_pipe_choked(c->wsi))
			break;
	}
	if (c->sq_head) {
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	/* Messages queued before a close command go out before it. */
	if (c->close_pending) {
		lws_close_reason(c->wsi, c->close_code,
		    (unsigned char *)c->close_reason, c->close_reason_len);
		return -1;
	}
	return 0;
}

/* Add a fragment to the message being reassembled. The buffer grows by
 * what the fragment needs, and by at most room bytes more ahead of need. */
enum conn_rx
conn_receive(struct conn *c, const void *in, size_t len, uint64_t max_message,
    size_t room, int64_t now)
{
	size_t need;

	c->last_rx_us = now;
	if (c->server_closed)
		return CONN_RX_PARTIAL;
	if (!c->in_msg) {
		c->in_msg = 1;
		c->rx_binary = lws_frame_is_binary(c->wsi);
		c->rx_len = 0;
	}
	if (len > max_message - c->rx_len) {
		char why[64];
		int n;

		n = snprintf(why, sizeof why, "message exceeds %llu bytes",
		    (unsigned long long)max_message);
		server_reason(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, why, (size_t)n);
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
		    (unsigned char *)c->close_reason, c->close_reason_len);
		free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
		return CONN_RX_TOO_BIG;
	}
	need = REC_HDR + c->rx_len + len;
	if (need > c->rx_cap) {
		/* Size for the whole frame when lws knows it, else double. */
		size_t cap = need + lws_remaining_packet_payload(c->wsi);
		unsigned char *p;

		if (cap < 2 * c->rx_cap)
			cap = 2 * c->rx_cap;
		if (cap < RX_MIN)
			cap = RX_MIN;
		if (cap > REC_HDR + max_message)
			cap = REC_HDR + max_message;
		if (cap - c->rx_cap > room)
			cap = c->rx_cap + room > need ? c->rx_cap + room : need;
		if ((p = realloc(c->rx, cap)) == NULL)
			err(1, "memory");
		c->rx = p;
		c->rx_cap = cap;
	}
	if (len)
		memcpy(c->rx + REC_HDR + c->rx_len, in, len);
	c->rx_len += len;
	if (!lws_is_final_fragment(c->wsi))
		return CONN_RX_PARTIAL;
	c->in_msg = 0;
	return CONN_RX_MESSAGE;
}

/* The complete message: REC_HDR free bytes, then c->rx_len bytes. The
 * caller owns the buffer; the connection starts a new one. */
unsigned char *
conn_take(struct conn *c)
{
	unsigned char *buf = c->rx;

	if (buf == NULL && (buf = malloc(REC_HDR)) == NULL)
		err(1, "memory");
	c->rx = NULL;
	c->rx_cap = 0;
	return buf;
}

void
conn_peer_close(struct conn *c, const unsigned char *in, size_t len)
{
	c->peer_closed = 1;
	if (c->server_closed)
		return;
	if (len >= 2) {
		c->close_code = be16_get(in);
		len -= 2;
		if (len > CLOSE_REASON_MAX)
			len = CLOSE_REASON_MAX;
		memcpy(c->close_reason, in + 2, len);
		c->close_reason_len = len;
	} else
		c->close_code = LWS_CLOSE_STATUS_NO_STATUS;
}

/* How the connection ended, once: the code and reason of the close frame
 * that ended it, or 1006 when it simply vanished. Frees its buffers. */
void
conn_finish(struct conn *c, struct conn_end *e)
{
	c->finished = 1;
	e->clean = c->peer_closed;
	e->by_server = c->server_closed;
	e->code = c->close_code;
	e->reason = c->close_reason;
	e->reason_len = c->close_reason_len;
	if (!c->peer_closed && !c->server_closed) {
		e->code = LWS_CLOSE_STATUS_ABNORMAL_CLOSE;
		e->reason = REASON_LOST;
		e->reason_len = sizeof REASON_LOST - 1;
	}
	c->close_code = e->code;
	sendq_free(c);
	free(c->rx);
	free(c->path);
	c->rx = NULL;
	c->rx_cap = 0;
	c->path = NULL;
}

