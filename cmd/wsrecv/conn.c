/* The WebSocket side of wsrecv: one callback over the lws reasons, after
 * minimal-ws-server-echo. Each connection reassembles its messages into a
 * buffer with room for the record header in front, so a complete message
 * moves to the output queue without a copy. */
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "campath.h"
#include "rec.h"
#include "util.h"
#include "wsrecv.h"

#define SENDQ_MAX	(8u << 20)	/* per connection, bytes not yet written */
#define RX_MIN		4096

/* What wsrecv does with a request path. Every path is recorded for now;
 * /dev (developer console) and /live (live view) are the places a later
 * version serves differently, and this is where it decides. */
enum path_use {
	PATH_RECORD,
};

static enum path_use
path_use(const char *path)
{
	switch (campath_kind(path, strlen(path))) {
	case CAMPATH_DEV:
	case CAMPATH_LIVE:
	default:
		return PATH_RECORD;
	}
}

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

/* The request path with its query string, as the client asked for it. */
static char *
request_path(struct lws *wsi)
{
	int plen = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI);
	int qlen = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
	char *s;

	if (plen < 0)
		plen = 0;
	if (qlen < 0)
		qlen = 0;
	if ((s = malloc((size_t)plen + (size_t)qlen + 3)) == NULL)
		err(1, "memory");
	s[0] = '\0';
	if (plen > 0 && lws_hdr_copy(wsi, s, plen + 1, WSI_TOKEN_GET_URI) < 0)
		s[0] = '\0';
	if (qlen > 0) {
		size_t n = strlen(s);

		s[n++] = '?';
		if (lws_hdr_copy(wsi, s + n, qlen + 1, WSI_TOKEN_HTTP_URI_ARGS) < 0)
			s[n - 1] = '\0';
	}
	return s;
}

static void
rx_flow(struct conn *c, int pause)
{
	if (c->rx_paused == pause)
		return;
	c->rx_paused = pause;
	lws_rx_flow_control(c->wsi, (pause ? LWS_RXFLOW_REASON_APPLIES_DISABLE :
	    LWS_RXFLOW_REASON_APPLIES_ENABLE) | LWS_RXFLOW_REASON_USER_BOOL |
	    LWS_RXFLOW_REASON_FLAG_PROCESS_NOW);
	/* Time spent not reading is not the peer's silence. */
	if (!pause)
		c->last_rx_us = now_us();
}

void
conn_pause_all(int pause)
{
	struct conn *c;

	W.paused = pause;
	if (W.verbose)
		fprintf(stderr, "wsrecv: stdout %s, %s reading\n",
		    pause ? "backed up" : "drained", pause ? "stop" : "resume");
	for (c = W.conns; c != NULL; c = c->next)
		rx_flow(c, pause);
}

static int
conn_open(struct conn *c, struct lws *wsi)
{
	unsigned char body[REC_OPEN_FIXED + INET6_ADDRSTRLEN + 0xffff];
	char addr[INET6_ADDRSTRLEN + 8];
	struct rec_open o;
	struct timespec ts;
	size_t blen;

	c->wsi = wsi;
	c->id = ++W.next_id;
	c->path = request_path(wsi);
	c->last_rx_us = now_us();
	peer_name(wsi, addr, sizeof addr, &o.port);
	clock_gettime(CLOCK_REALTIME, &ts);
	o.wall_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	o.addr = addr;
	o.addr_len = strlen(addr);
	o.path = c->path;
	o.path_len = strlen(c->path);
	if (o.path_len > 0xffff)
		o.path_len = 0xffff;

	switch (path_use(c->path)) {
	case PATH_RECORD:
		break;
	}
	if (!W.lines) {
		blen = rec_open_pack(body, sizeof body, &o);
		if (out_record(REC_OPEN, 0, c->id, (uint64_t)c->last_rx_us,
		    body, blen, NULL, 0) < 0)
			err(1, "memory");
	}
	c->opened = 1;
	c->next = W.conns;
	if (W.conns)
		W.conns->prev = c;
	W.conns = c;
	W.nconns++;
	if (W.verbose)
		fprintf(stderr, "wsrecv: conn %llu open %s port %u path %s\n",
		    (unsigned long long)c->id, addr, o.port, c->path);
	if (W.paused)
		rx_flow(c, 1);
	if (W.stopping)
		conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "going away", 10);
	return 0;
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
conn_idle(struct conn *c)
{
	static const char why[] = "idle timeout";

	server_reason(c, LWS_CLOSE_STATUS_GOINGAWAY, why, sizeof why - 1);
	lws_close_reason(c->wsi, LWS_CLOSE_STATUS_GOINGAWAY,
	    (unsigned char *)c->close_reason, c->close_reason_len);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* Ping the peers not heard from in a third of the idle timeout (a pong
 * counts as hearing from them) and close the silent ones. Runs often
 * enough that a live peer has two chances to answer before its time is
 * up. A connection wsrecv is not reading (stdout backpressure) is exempt. */
void
conn_sweep(lws_sorted_usec_list_t *sul)
{
	int64_t now = now_us(), limit = (int64_t)W.idle_s * 1000000;
	int64_t ping_every = limit / 3, period = limit / 8;
	struct conn *c;

	for (c = W.conns; c != NULL; c = c->next) {
		if (c->rx_paused || c->server_closed || c->peer_closed)
			continue;
		if (now - c->last_rx_us >= limit)
			conn_idle(c);
		else if (now - c->last_rx_us >= ping_every &&
		    now - c->last_ping_us >= ping_every) {
			c->ping_due = 1;
			c->last_ping_us = now;
			lws_callback_on_writable(c->wsi);
		}
	}
	if (period > 1000000)
		period = 1000000;
	lws_sul_schedule(W.ctx, 0, sul, conn_sweep, period);
}

struct conn *
conn_find(uint64_t id)
{
	struct conn *c;

	for (c = W.conns; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
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
	if (!W.lines && out_record(REC_SENT, binary ? REC_SENT_BINARY : REC_SENT_TEXT,
	    c->id, (uint64_t)now_us(), NULL, 0, msg, len) < 0)
		err(1, "memory");
	return 0;
}

static int
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

static int
conn_receive(struct conn *c, struct lws *wsi, const void *in, size_t len)
{
	int64_t t = now_us();
	size_t need;

	c->last_rx_us = t;
	if (c->server_closed)
		return 0;
	if (!c->in_msg) {
		c->in_msg = 1;
		c->rx_binary = lws_frame_is_binary(wsi);
		c->rx_len = 0;
	}
	if (len > W.max_message - c->rx_len) {
		char why[64];
		int n;

		n = snprintf(why, sizeof why, "message exceeds %llu bytes",
		    (unsigned long long)W.max_message);
		server_reason(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, why, (size_t)n);
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
		    (unsigned char *)c->close_reason, c->close_reason_len);
		free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
		return -1;
	}
	need = REC_HDR + c->rx_len + len;
	if (need > c->rx_cap) {
		/* Size for the whole frame when lws knows it, else double. */
		size_t cap = need + lws_remaining_packet_payload(wsi);
		unsigned char *p;

		if (cap < 2 * c->rx_cap)
			cap = 2 * c->rx_cap;
		if (cap < RX_MIN)
			cap = RX_MIN;
		if (cap > REC_HDR + W.max_message)
			cap = REC_HDR + W.max_message;
		if ((p = realloc(c->rx, cap)) == NULL)
			err(1, "memory");
		c->rx = p;
		c->rx_cap = cap;
	}
	if (len)
		memcpy(c->rx + REC_HDR + c->rx_len, in, len);
	c->rx_len += len;
	if (!lws_is_final_fragment(wsi))
		return 0;

	c->in_msg = 0;
	if (W.lines) {
		if (!c->rx_binary && out_line(c->rx + REC_HDR, c->rx_len) < 0)
			err(1, "memory");
		return 0;
	}
	if (c->rx == NULL && (c->rx = malloc(REC_HDR)) == NULL)
		err(1, "memory");
	if (out_record_owned(c->rx, c->rx_len, c->rx_binary ? REC_BINARY : REC_TEXT,
	    0, c->id, (uint64_t)t) < 0)
		err(1, "memory");
	c->rx = NULL;
	c->rx_cap = 0;
	c->rx_len = 0;
	return 0;
}

static void
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

/* The one CLOSE record of a connection, however it ended. */
static void
conn_finish(struct conn *c)
{
	static const char lost[] = "no close frame";
	unsigned char code[2];
	const char *reason = c->close_reason;
	size_t reason_len = c->close_reason_len;
	uint16_t flags = 0;

	c->finished = 1;
	if (c->peer_closed)
		flags |= REC_CLOSE_CLEAN;
	if (c->server_closed)
		flags |= REC_CLOSE_BY_SERVER;
	if (!c->peer_closed && !c->server_closed) {
		c->close_code = LWS_CLOSE_STATUS_ABNORMAL_CLOSE;
		reason = lost;
		reason_len = sizeof lost - 1;
	}
	be16_put(code, c->close_code);
	if (!W.lines && out_record(REC_CLOSE, flags, c->id, (uint64_t)now_us(),
	    code, 2, reason, reason_len) < 0)
		err(1, "memory");
	if (W.verbose)
		fprintf(stderr, "wsrecv: conn %llu closed code %u%s%s %.*s\n",
		    (unsigned long long)c->id, c->close_code,
		    flags & REC_CLOSE_CLEAN ? " clean" : "",
		    flags & REC_CLOSE_BY_SERVER ? " by server" : "",
		    (int)reason_len, reason);
	if (c->prev)
		c->prev->next = c->next;
	else
		W.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	W.nconns--;
	sendq_free(c);
	free(c->rx);
	free(c->path);
	c->rx = NULL;
	c->path = NULL;
}

static int
conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		return conn_open(c, wsi);
	case LWS_CALLBACK_RECEIVE:
		return conn_receive(c, wsi, in, len);
	case LWS_CALLBACK_RECEIVE_PONG:
		c->last_rx_us = now_us();
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return conn_writeable(c);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		conn_peer_close(c, in, len);
		return 0;
	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_WSI_DESTROY:
		if (c != NULL && c->opened && !c->finished)
			conn_finish(c);
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols conn_protocol = {
	"camrec", conn_callback, sizeof(struct conn), 16384, 0, NULL, 0
};
