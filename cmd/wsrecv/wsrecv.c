/* wsrecv: the WebSocket server at the head of the camrec pipeline.
 *
 *	wsrecv -c ctl.fifo | frameparse | sessionwriter -d recordings
 *
 * It accepts any number of camera connections and turns everything they
 * say into the record stream (camrec-records(5)) on stdout: who connected,
 * each complete message, how each connection ended. It understands nothing
 * of what the cameras send; that is the business of the filters behind it,
 * so wsrecv can stay small and keep up. Commands for the cameras come in
 * through a FIFO, so any shell script can drive them. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "campath.h"
#include "rec.h"
#include "util.h"
#include "wsrecv.h"

#define DEFAULT_PORT	50001
#define DEFAULT_MAX_MSG	(24u << 20)	/* a current phone's segment: ~15.5 MiB */
#define DEFAULT_IDLE	30
#define FD_CAP		(1u << 20)	/* lws sizes its tables by the fd limit */
#define SHUTDOWN_SECS	3
#define DEFAULT_PER_ADDR 64
/* Reassembly and the output queue together: 1,000 cameras that start at
 * once, each with a key frame of ~185 KB, stay below 64 MB for the whole
 * pipeline (BENCHMARKS.md). */
#define DEFAULT_BUDGET	(16u << 20)
#define MIN_BUDGET	(64u << 10)
#define DEFAULT_HANDSHAKE 5		/* seconds from accept to upgrade */
#define DEFAULT_REQUEST	4096		/* bytes of request line and headers */
#define MIN_REQUEST	1024
#define MAX_REQUEST	65535		/* what lws can be told */
#define MAX_BUDGET	(1ull << 40)
#define TRIM_AFTER	(4u << 20)	/* a peak worth giving back */
/* A connection held with an unfinished message, when -i 0. */
#define HELD_LIMIT	30
#define CAP_LOG_US	(10 * 1000000LL)	/* "at the cap" at most this often */
/* Pollfds lws holds beside the connections: the listen socket, its event
 * pipe, the control FIFO and stdout. */
#define POLL_OTHERS	4
#define DEFAULT_VIEW_QUEUE (4u << 20)	/* per console and camera watched */

static volatile sig_atomic_t got_signal;
static struct lws_context *signal_ctx;	/* what a signal wakes, while it may */

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: wsrecv [-v] [-H host] [-p port] [-c fifo] [-m bytes] "
	    "[-i seconds] [--lines]\n"
	    "              [--max-connections n] [--max-per-address n] "
	    "[--rx-budget bytes]\n"
	    "              [--www dir] [--recordings dir] [--status file] "
	    "[--view-queue bytes]\n"
	    "              [--token-file file] [--cert file --key file "
	    "[--tls-port port]]\n"
	    "              [--handshake-timeout seconds] [--max-request bytes]\n"
	    "              [--metrics rundir] [--counters file]\n");
	exit(status);
}

static void
on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
	if (signal_ctx)
		lws_cancel_service(signal_ctx);
}

static uint64_t
number(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (parse_u64(s, min, max, &v) < 0) {
		warnx("%s: %s: want a number from %llu to %llu", opt, s,
		    (unsigned long long)min, (unsigned long long)max);
		usage(stderr, 2);
	}
	return v;
}

/* Say it at most once per CAP_LOG_US: a flood must not flood stderr. */
static void note(int64_t *last, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(int64_t *last, const char *fmt, ...)
{
	int64_t now = mono_us();
	va_list ap;

	if (*last != 0 && now - *last < CAP_LOG_US)
		return;
	*last = now;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

/* Poll the listen socket only below the connection cap and while the
 * output queue takes records: a backed-up stdout must not fill up with the
 * OPEN and CLOSE records of clients that come and go. lws polls it again
 * by itself whenever a socket closes; the next accept comes back here. */
static void
accepting(struct server *s)
{
	int pause = s->peers.sockets >= s->max_sockets || s->paused;
	size_t i;

	if (pause == s->accept_paused)
		return;
	s->accept_paused = pause;
	for (i = 0; i < LISTEN_MAX; i++)
		if (s->listen_wsi[i] != NULL)
			lws_rx_flow_control(s->listen_wsi[i], !pause);
}

/* The listen sockets are learnt from their first accept: lws does not
 * tell them otherwise. */
static void
remember_listener(struct server *s, struct lws *listen_wsi)
{
	size_t i, free_slot = LISTEN_MAX;

	for (i = 0; i < LISTEN_MAX; i++) {
		if (s->listen_wsi[i] == listen_wsi)
			return;
		if (s->listen_wsi[i] == NULL && free_slot == LISTEN_MAX)
			free_slot = i;
	}
	if (free_slot < LISTEN_MAX)
		s->listen_wsi[free_slot] = listen_wsi;
	/* A listener learnt while accepting is paused starts paused too. */
	if (s->accept_paused)
		lws_rx_flow_control(listen_wsi, 0);
}

/* A socket was accepted: keep it, or close it at once. At the cap the
 * listen socket is not polled any more, so the backlog waits in the kernel
 * instead of being accepted and refused one by one (and an accept that
 * fails for want of descriptors is never retried in a loop). */
static int
admit(struct server *s, struct lws *listen_wsi,
    const struct lws_filter_network_conn_args *filt)
{
	const struct sockaddr *sa = (const struct sockaddr *)&filt->cli_addr;
	char addr[INET6_ADDRSTRLEN];
	unsigned held;
	int due;

	remember_listener(s, listen_wsi);
	if (s->peers.sockets >= s->max_sockets || s->paused) {
		if (!s->paused)
			note(&s->cap_logged_us, "at the connection cap (%zu), "
			    "not accepting until one closes", s->max_sockets);
		accepting(s);
		return 1;
	}
	/* Load generators and local proxies connect from loopback. */
	if ((s->cap_loopback || !peers_loopback(sa)) &&
	    peers_count(&s->peers, sa) >= s->max_per_addr) {
		if (lws_write_numeric_address(sa->sa_family == AF_INET6 ?
		    (uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr :
		    (uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr,
		    sa->sa_family == AF_INET6 ? 16 : 4, addr, sizeof addr) < 0)
			snprintf(addr, sizeof addr, "unknown");
		/* Once per period for each address, so one client's flood
		 * does not hide another's. */
		due = ratelog_due(&s->addr_cap_log, addr, mono_us(), CAP_LOG_US, 20, &held);
		if (held)
			warnx("%u more addresses at the per-address cap in the last 10 s", held);
		if (due)
			warnx("%s: at the per-address cap (%zu), refusing its "
			    "connections", addr, s->max_per_addr);
		return 1;
	}
	return 0;
}

static int
on_accepted(struct server *s, struct lws *wsi)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	if (peers_add(&s->peers, wsi, (struct sockaddr *)&ss) < 0)
		err(1, "memory");
	gate_accepted(&s->gate, wsi);
	return 0;
}

static void
on_released(struct server *s, struct lws *wsi)
{
	size_t i;

	for (i = 0; i < LISTEN_MAX; i++)
		if (wsi == s->listen_wsi[i]) {
			s->listen_wsi[i] = NULL;
			return;
		}
	gate_released(&s->gate, wsi);
	peers_del(&s->peers, wsi);
	accepting(s);
}

/* Hold or release connections for the memory budget (budget.c), saying so
 * at most once per CAP_LOG_US. */
static void
budget(struct server *s, struct conn *c, int64_t now)
{
	size_t u = s->rx_used + out_queued();

	if (u > s->max_used)
		s->max_used = u;
	if (budget_update(s, c, now))
		note(&s->budget_logged_us, "memory budget of %llu bytes in use, "
		    "reading less until messages are written",
		    (unsigned long long)s->rx_budget);
}

/* Give back to the system what a burst left behind: freed message buffers
 * stay in the heap otherwise, and the steady state would pay for the worst
 * moment. At most once a second, once what is held has fallen to an eighth
 * of its peak since the last time, and only after a peak worth it. */
static void
trim(struct server *s, int64_t now)
{
	size_t u = s->rx_used + out_queued();

	if (u > s->peak_used)
		s->peak_used = u;
	if (s->peak_used < TRIM_AFTER || u > s->peak_used / 8 ||
	    now - s->trimmed_us < 1000000)
		return;
	malloc_trim(0);
	s->trimmed_us = now;
	s->peak_used = u;
}

/* Stop reading every connection while the output queue is backed up, and
 * read again once it has drained; not while shutting down, when the peers'
 * close frames must be read. */
static void
backpressure(struct server *s)
{
	int hold = out_backlogged() && !s->stopping;
	int64_t now = mono_us();
	struct conn *c;

	if (hold == s->paused)
		return;
	s->paused = hold;
	if (s->verbose)
		fprintf(stderr, "wsrecv: stdout %s, %s reading\n",
		    hold ? "backed up" : "drained", hold ? "stop" : "resume");
	for (c = s->conns; c != NULL; c = c->next)
		conn_hold(c, HOLD_STDOUT, hold, now);
	accepting(s);
}

static int
on_open(struct server *s, struct conn *c, struct lws *wsi)
{
	unsigned char body[REC_OPEN_FIXED + INET6_ADDRSTRLEN + 0xffff];
	struct rec_open o;
	struct timespec ts;
	size_t blen;
	enum campath_kind kind;

	conn_start(c, wsi, ++s->next_id, mono_us());
	counters_conn(&s->counters, c->path);
	/* A console or a live viewer is no camera: it is served, not
	 * recorded. */
	kind = campath_kind(c->path, strlen(c->path));
	if (s->dev != NULL && (kind == CAMPATH_DEV || kind == CAMPATH_LIVE)) {
		dev_open(s->dev, c);
		return 0;
	}
	if (!s->lines) {
		clock_gettime(CLOCK_REALTIME, &ts);
		o.wall_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		o.addr = c->addr;
		o.addr_len = strlen(c->addr);
		o.port = c->port;
		o.path = c->path;
		o.path_len = strlen(c->path);
		if (o.path_len > 0xffff)
			o.path_len = 0xffff;
		blen = rec_open_pack(body, sizeof body, &o);
		if (out_record(REC_OPEN, 0, c->id, (uint64_t)c->last_rx_us,
		    body, blen, NULL, 0) < 0)
			err(1, "memory");
	}
	conn_link(&s->conns, c);
	s->nconns++;
	if (s->verbose)
		fprintf(stderr, "wsrecv: conn %llu open %s port %u path %s\n",
		    (unsigned long long)c->id, c->addr, c->port, c->path);
	if (s->paused)
		conn_hold(c, HOLD_STDOUT, 1, c->last_rx_us);
	if (s->stopping)
		conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, REASON_GOING_AWAY,
		    sizeof REASON_GOING_AWAY - 1);
	if (s->dev != NULL)
		dev_camera_open(s->dev, c);
	backpressure(s);
	return 0;
}

static int
on_receive(struct server *s, struct conn *c, const void *in, size_t len)
{
	int64_t t = mono_us();
	size_t room = budget_room(s, c);
	unsigned char *buf;
	enum conn_rx r;

	budget_uncharge(s, c);
	r = conn_receive(c, in, len, s->max_message, room, t);
	budget_charge(s, c);
	switch (r) {
	case CONN_RX_PARTIAL:
		budget(s, c, t);
		return 0;
	case CONN_RX_TOO_BIG:
		budget_done(s, c, 0);
		return -1;
	case CONN_RX_MESSAGE:
		break;
	}
	if (c->console != NULL) {
		dev_receive(s->dev, c, c->rx + REC_HDR, c->rx_len, c->rx_binary);
		c->rx_len = 0;
		return 0;
	}
	counters_message(&s->counters, c->rx_len);
	/* The consoles see the message before it goes to the output queue,
	 * which owns it from then on. */
	if (s->dev != NULL && c->rx_binary)
		view_frame(&s->views, c, c->rx + REC_HDR, c->rx_len, t);
	else if (s->dev != NULL)
		dev_camera_text(s->dev, c, (const char *)c->rx + REC_HDR, c->rx_len);
	if (s->lines) {
		/* The line is copied: the buffer is freed like a record's. */
		if (!c->rx_binary && out_line(c->rx_len ? c->rx + REC_HDR :
		    (const unsigned char *)"", c->rx_len) < 0)
			err(1, "memory");
		budget_uncharge(s, c);
		free(conn_take(c));
	} else {
		budget_uncharge(s, c);
		buf = conn_take(c);
		if (out_record_owned(buf, c->rx_len, c->rx_binary ? REC_BINARY :
		    REC_TEXT, 0, c->id, (uint64_t)t) < 0)
			err(1, "memory");
	}
	c->rx_len = 0;
	budget_done(s, c, 0);
	budget(s, c, t);
	backpressure(s);
	return 0;
}

/* The one CLOSE record of a connection, however it ended. */
static void
on_close(struct server *s, struct conn *c)
{
	uint16_t flags = 0;
	unsigned char code[2];
	struct conn_end e;

	budget_uncharge(s, c);
	if (c->console != NULL) {
		dev_close(s->dev, c);
		conn_finish(c, &e);
		budget_done(s, c, 1);
		return;
	}
	if (s->dev != NULL) {
		view_camera_gone(&s->views, c);
		dev_camera_close(s->dev, c);
	}
	conn_finish(c, &e);
	budget_done(s, c, 1);
	if (e.clean)
		flags |= REC_CLOSE_CLEAN;
	if (e.by_server)
		flags |= REC_CLOSE_BY_SERVER;
	be16_put(code, e.code);
	if (!s->lines && out_record(REC_CLOSE, flags, c->id, (uint64_t)mono_us(),
	    code, 2, e.reason, e.reason_len) < 0)
		err(1, "memory");
	if (s->verbose)
		fprintf(stderr, "wsrecv: conn %llu closed code %u%s%s %.*s\n",
		    (unsigned long long)c->id, e.code,
		    e.clean ? " clean" : "", e.by_server ? " by server" : "",
		    (int)e.reason_len, e.reason);
	conn_unlink(&s->conns, c);
	s->nconns--;
	budget(s, NULL, mono_us());
	backpressure(s);
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len);

/* A client may name subprotocols in its handshake; lws takes the first one
 * it has in its protocols table and refuses the handshake, without an HTTP
 * answer, when there is none. ESP32 boards always ask for "arduino", which
 * is in the table beside "camrec" and is served alike. Any other list is
 * refused here as lws would, but with a word on stderr, so that an operator
 * can tell why a device cannot connect (lws 4.1 cannot accept a handshake
 * without selecting one of the client's subprotocols). The connection is
 * dropped without an answer: an HTTP error written from this callback
 * would not reach the client before lws closes the socket. */
static int
subprotocol_ok(struct server *s, struct lws *wsi)
{
	char list[256], shown[65], *name, *save, *end;
	const struct lws_protocols *p;
	size_t i;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) <= 0)
		return 1;
	if (lws_hdr_copy(wsi, list, sizeof list, WSI_TOKEN_PROTOCOL) < 0)
		list[0] = '\0';
	for (i = 0; list[i] != '\0' && i < sizeof shown - 1; i++)
		shown[i] = list[i] >= 0x20 && list[i] < 0x7f ? list[i] : '?';
	shown[i] = '\0';
	for (name = strtok_r(list, ",", &save); name != NULL;
	    name = strtok_r(NULL, ",", &save)) {
		name += strspn(name, " \t");
		end = name + strlen(name);
		while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if ((p = lws_vhost_name_to_protocol(s->vh, name)) != NULL) {
			if (p->callback == ws_callback)
				return 1;
			break;
		}
	}
	note(&s->subproto_logged_us, "refusing handshakes for unknown "
	    "subprotocols, such as \"%s\"", shown);
	return 0;
}

/* The callback of the WebSocket protocol, after minimal-ws-server-echo. */
static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct server *s = lws_context_user(lws_get_context(wsi));
	struct conn *c = user;

	if (s == NULL || s->vh == NULL)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		/* wsi is the listen socket, user the new one's address. */
		return admit(s, wsi, user);
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		if (on_accepted(s, wsi) < 0)
			return -1;
		break;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* Every WebSocket handshake, on any path, before anything
		 * else. The answer (401) is written whole to the socket,
		 * which lws then closes. */
		gate_passed(wsi);
		if (!auth_ok(s->auth, wsi)) {
			auth_refuse(s->auth, wsi);
			return -1;
		}
		if (!subprotocol_ok(s, wsi))
			return -1;
		break;
	case LWS_CALLBACK_FILTER_HTTP_CONNECTION:
		/* Every plain HTTP request, whatever serves it: lws asks the
		 * first protocol before it looks for a mount. */
		gate_passed(wsi);
		if (!auth_ok(s->auth, wsi)) {
			auth_refuse(s->auth, wsi);
			return -1;
		}
		break;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* Checked at the upgrade already; a second lock on the door. */
		if (!auth_ok(s->auth, wsi))
			return -1;
		break;
	case LWS_CALLBACK_ESTABLISHED:
		return on_open(s, c, wsi);
	case LWS_CALLBACK_RECEIVE:
		return on_receive(s, c, in, len);
	case LWS_CALLBACK_RECEIVE_PONG:
		c->last_rx_us = mono_us();
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c->console != NULL)
			return dev_writeable(c);
		return conn_writeable(c);
	case LWS_CALLBACK_HTTP:
		if (s->http.www_fd < 0 && s->http.rec_fd < 0 && s->http.metrics == NULL)
			break;
		return http_request(&s->http, wsi, &c->http, in, len);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return http_writeable(wsi, &c->http);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (c != NULL)
			http_done(&c->http);
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		conn_peer_close(c, in, len);
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (c != NULL && c->opened && !c->finished)
			on_close(s, c);
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		if (c != NULL && c->opened && !c->finished)
			on_close(s, c);
		on_released(s, wsi);
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* Previews go out in one send() each (tx_packet_size): with lws's default
 * of the rx buffer size a 1080p key frame took ten trips round the poll
 * loop, each over every console (bench/preview.sh). */
#define TX_PACKET (1024 * 1024)
static const struct lws_protocols protocols[] = {
	{ WS_PROTOCOL, ws_callback, sizeof(struct conn), 16384, 0, NULL, TX_PACKET },
	{ ESP_PROTOCOL, ws_callback, sizeof(struct conn), 16384, 0, NULL, TX_PACKET },
	{ CTL_PROTOCOL, ctl_callback, 0, 0, 0, NULL, 0 },
	{ OUT_PROTOCOL, out_callback, 0, 0, 0, NULL, 0 },
	{ SCRAPE_PROTOCOL, scrape_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Ping the peers not heard from in a while and close the silent ones. Runs
 * often enough that a live peer has two chances to answer in time. */
static void
sweep(lws_sorted_usec_list_t *sul)
{
	struct server *s = lws_container_of(sul, struct server, sweep);
	int64_t now = mono_us(), limit = (int64_t)s->idle_s * 1000000;
	int64_t period = limit ? limit / 8 : 1000000;
	struct conn *c;

	for (c = s->conns; c != NULL; c = c->next)
		conn_check_idle(c, now, limit, limit ? limit : HELD_LIMIT * 1000000LL);
	if (period > 1000000)
		period = 1000000;
	lws_sul_schedule(s->ctx, 0, sul, sweep, period);
}

static void
shutdown_all(struct server *s)
{
	int64_t deadline = mono_us() + SHUTDOWN_SECS * 1000000LL;
	struct conn *c;

	s->stopping = 1;
	backpressure(s);	/* the peers' close frames must be read */
	budget_update(s, NULL, mono_us());
	for (c = s->conns; c != NULL; c = c->next)
		conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, REASON_GOING_AWAY,
		    sizeof REASON_GOING_AWAY - 1);
	while (s->nconns > 0 && mono_us() < deadline && !out_failed()) {
		if (lws_service(s->ctx, 0) < 0)
			break;
		out_pump();
	}
}

/* One listening vhost; with cert and key, for TLS (wss and https). */
static struct lws_vhost *
listen_on(struct lws_context *ctx, struct lws_context_creation_info *info,
    const char *name, unsigned port, const char *cert, const char *key)
{
	struct lws_vhost *vh;

	info->vhost_name = name;
	info->port = (int)port;
	info->ssl_cert_filepath = cert;
	info->ssl_private_key_filepath = key;
	/* HTTP/1.1 only: the WebSocket upgrade of lws 4.1 is HTTP/1. */
	info->alpn = cert != NULL ? "http/1.1" : NULL;
	if ((vh = lws_create_vhost(ctx, info)) == NULL) {
		if (cert != NULL)
			errx(1, "cannot listen with TLS on %s port %u (is %s "
			    "a certificate and %s its key, both PEM?)",
			    info->iface, port, cert, key);
		errx(1, "cannot listen on %s port %u", info->iface, port);
	}
	return vh;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "max-message", required_argument, NULL, 'm' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "lines", no_argument, NULL, 'L' },
		{ "max-connections", required_argument, NULL, 'C' },
		{ "max-per-address", required_argument, NULL, 'A' },
		{ "rx-budget", required_argument, NULL, 'B' },
		{ "www", required_argument, NULL, 'W' },
		{ "recordings", required_argument, NULL, 'R' },
		{ "status", required_argument, NULL, 'S' },
		{ "view-queue", required_argument, NULL, 'Q' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "cert", required_argument, NULL, 'E' },
		{ "key", required_argument, NULL, 'K' },
		{ "tls-port", required_argument, NULL, 'P' },
		{ "handshake-timeout", required_argument, NULL, 'G' },
		{ "max-request", required_argument, NULL, 'X' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "counters", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct lws_context_creation_info info;
	static lws_retry_bo_t retry;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	static struct server server;
	static struct auth auth;
	struct server *s = &server;
	struct sigaction sa;
	const char *host = "0.0.0.0", *fifo = NULL, *token_file = NULL;
	const char *cert = NULL, *key = NULL, *www = NULL, *recs = NULL;
	const char *status = NULL, *metrics = NULL, *counters = NULL;
	uint64_t view_queue = DEFAULT_VIEW_QUEUE;
	int www_fd = -1, rec_fd = -1;
	unsigned port = DEFAULT_PORT, idle_s = DEFAULT_IDLE, tls_port = 0;
	unsigned handshake_s = DEFAULT_HANDSHAKE, max_request = DEFAULT_REQUEST;
	uint64_t max_message = DEFAULT_MAX_MSG, max_sockets = 0;
	uint64_t max_per_addr = DEFAULT_PER_ADDR, rx_budget = 0;
	int verbose = 0, lines = 0, cap_loopback = 0;
	rlim_t fds, reserve;
	int c;

	while ((c = getopt_long(argc, argv, "vH:p:c:m:i:", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = 1;
			break;
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = (unsigned)number("-p", optarg, 1, 65535);
			break;
		case 'c':
			fifo = optarg;
			break;
		case 'm':
			/* frameparse turns a message into a record 4 bytes
			 * longer (its header is 20 bytes to the camera's 16). */
			max_message = number("--max-message", optarg, 1,
			    REC_MAX_BODY - (REC_FRAME_FIXED - 16));
			break;
		case 'i':
			idle_s = (unsigned)number("--idle-timeout", optarg, 0, 86400);
			break;
		case 'L':
			lines = 1;
			break;
		case 'C':
			max_sockets = number("--max-connections", optarg, 1, FD_CAP);
			break;
		case 'A':
			max_per_addr = number("--max-per-address", optarg, 1, FD_CAP);
			cap_loopback = 1;
			break;
		case 'B':
			rx_budget = number("--rx-budget", optarg, MIN_BUDGET, MAX_BUDGET);
			break;
		case 'W':
			www = optarg;
			break;
		case 'R':
			recs = optarg;
			break;
		case 'S':
			status = optarg;
			break;
		case 'Q':
			view_queue = number("--view-queue", optarg, 65536, 1ull << 30);
			break;
		case 'T':
			token_file = optarg;
			break;
		case 'E':
			cert = optarg;
			break;
		case 'K':
			key = optarg;
			break;
		case 'P':
			tls_port = (unsigned)number("--tls-port", optarg, 1, 65535);
			break;
		case 'G':
			handshake_s = (unsigned)number("--handshake-timeout",
			    optarg, 1, 3600);
			break;
		case 'X':
			max_request = (unsigned)number("--max-request", optarg,
			    MIN_REQUEST, MAX_REQUEST);
			break;
		case 'M':
			metrics = optarg;
			break;
		case 'N':
			counters = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'V':
			return print_version("wsrecv") < 0;
		default:
			usage(stderr, 2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 0)
		usage(stderr, 2);
	if (*host == '\0')
		errx(2, "-H: empty host");
	if ((cert == NULL) != (key == NULL))
		errx(2, "--cert and --key go together");
	if (tls_port != 0 && cert == NULL)
		errx(2, "--tls-port needs --cert and --key");
	if (tls_port != 0 && tls_port == port)
		errx(2, "--tls-port %u is the plain port too", tls_port);
	if (token_file != NULL && auth_load(&auth, token_file) < 0)
		exit(2);
	s->auth = &auth;
	/* Fail here, with the file named, rather than in lws's log. */
	if (cert != NULL && (access(cert, R_OK) < 0 || access(key, R_OK) < 0))
		err(1, "%s", access(cert, R_OK) < 0 ? cert : key);
	if (www != NULL && (www_fd = http_root_open(www)) < 0)
		err(2, "--www %s", www);
	if (recs != NULL && (rec_fd = http_root_open(recs)) < 0)
		err(2, "--recordings %s", recs);
	/* A message larger than the budget is still finished, by the one
	 * connection allowed to (budget.c). */
	if (rx_budget == 0)
		rx_budget = DEFAULT_BUDGET;

	/* Thousands of cameras need thousands of descriptors; some are kept
	 * for stdio, the control FIFO, lws itself and the listen socket, so
	 * accept() never fails for want of one. */
	fds = fdlimit_raise(FD_CAP);
	reserve = 16 + fds / 16;
	if (fds <= reserve)
		errx(1, "descriptor limit %llu: too low", (unsigned long long)fds);
	if (max_sockets == 0)
		max_sockets = fds - reserve;
	else if (max_sockets > fds - reserve) {
		warnx("--max-connections %llu: the descriptor limit %llu allows "
		    "%llu", (unsigned long long)max_sockets,
		    (unsigned long long)fds, (unsigned long long)(fds - reserve));
		max_sockets = fds - reserve;
	}
	s->gate.verbose = verbose;
	s->gate.handshake_s = handshake_s;
	gate_log(&s->gate, verbose ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_USER :
	    LLL_ERR);
	if (verbose)
		fprintf(stderr, "wsrecv: descriptor limit %llu, at most %llu "
		    "connections, %llu per address\n", (unsigned long long)fds,
		    (unsigned long long)max_sockets, (unsigned long long)max_per_addr);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	/* An IPv4 address means an IPv4 socket: peers are then plain v4. */
	if (strchr(host, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	/* lws stops accepting by itself too when its table is this full. */
	info.fd_limit_per_thread = (unsigned)(max_sockets + POLL_OTHERS + 1);
	info.pt_serv_buf_size = 16 * 1024;
	/* Request headers: one buffer each for every connection that has
	 * not finished its handshake; one too small is refused by lws. */
	info.max_http_header_data = (unsigned short)max_request;
	info.user = s;
	if (cert != NULL)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if ((ctx = lws_create_context(&info)) == NULL)
		errx(1, "cannot create the libwebsockets context");
	signal_ctx = ctx;

	/* wsrecv pings and hangs up on silent peers itself (sweep), because
	 * only it knows when a connection was not read on purpose (stdout
	 * backpressure); keep lws's own validity checks out of it. */
	retry.secs_since_valid_ping = 65534;
	retry.secs_since_valid_hangup = 65535;
	info.protocols = protocols;
	info.iface = host;
	info.retry_and_idle_policy = &retry;
	info.options |= LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	/* A client that connects and says nothing, or sends its request a
	 * byte at a time, holds a socket and a header buffer: lws drops it
	 * after this long, TLS handshake and HTTP request alike. */
	info.timeout_secs = handshake_s;
	info.timeout_secs_ah_idle = handshake_s;
	/* The plain port, unless TLS takes it; then TLS on its own port. */
	if (cert == NULL || tls_port != 0) {
		vh = listen_on(ctx, &info, "wsrecv", port, NULL, NULL);
		if (tls_port != 0)
			listen_on(ctx, &info, "wsrecv-tls", tls_port, cert, key);
	} else
		vh = listen_on(ctx, &info, "wsrecv-tls", port, cert, key);
	s->ctx = ctx;
	s->vh = vh;
	s->verbose = verbose;
	s->lines = lines;
	s->max_message = max_message;
	s->idle_s = idle_s;
	s->max_sockets = max_sockets;
	s->max_per_addr = max_per_addr;
	s->cap_loopback = cap_loopback;
	s->rx_budget = rx_budget;
	s->http.www_fd = www_fd;
	s->http.rec_fd = rec_fd;
	s->http.metrics = metrics;
	if (counters != NULL && counters_open(&s->counters, counters) < 0)
		err(1, "memory");
	s->views.queue_max = view_queue;
	if (www != NULL)
		s->dev = dev_init(s, &s->views, status);

	if (out_init(STDOUT_FILENO, lines) < 0)
		err(1, "stdout");
	out_attach(ctx, vh);
	if (fifo && ctl_open(s, fifo) < 0)
		err(1, "control fifo %s", fifo);
	/* Even without idle handling, held unfinished messages time out. */
	lws_sul_schedule(ctx, 0, &s->sweep, sweep, LWS_US_PER_SEC);

	while (!got_signal) {
		if (lws_service(ctx, 0) < 0)
			break;
		out_pump();
		if (out_failed()) {
			errno = out_failed();
			err(1, "stdout");
		}
		backpressure(s);
		budget(s, NULL, mono_us());
		trim(s, mono_us());
		counters_tick(&s->counters, mono_us(), s->paused, s->rx_waiting > 0,
		    out_queued(), s->rx_used, 0);
	}
	if (verbose)
		fprintf(stderr, "wsrecv: messages held at most %zu bytes at once "
		    "(budget %llu)\n", s->max_used, (unsigned long long)s->rx_budget);
	shutdown_all(s);
	/* Whatever is left gets its CLOSE record from lws_context_destroy. A
	 * signal from now on must not touch the context being destroyed. */
	signal_ctx = NULL;
	out_detach();
	lws_context_destroy(ctx);
	dev_free(s->dev);
	peers_free(&s->peers);
	counters_tick(&s->counters, mono_us(), 0, 0, 0, 0, 1);
	counters_close(&s->counters);
	if (out_finish() < 0)
		err(1, "stdout");
	return 0;
}
