/* The relay's one vhost: WebSocket viewers at the configured path, the
 * status and the player page over HTTP, and the source's stdout adopted as
 * a raw file so one poll loop serves all. The source's life follows the
 * viewers: started by the first, stopped idle_timeout after the last,
 * restarted with back-off when it dies while some remain. Every timer is
 * an lws_sul on the relay; its child is reaped by polling, so no signal
 * handler ever touches this state. */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liverelay.h"
#include "util.h"

#define BACKOFF_MAX 30.0		/* s between restarts at most */
#define SETTLED_US (10 * LWS_US_PER_SEC)	/* a run this long resets back-off */
#define REAP_US (100 * LWS_USEC_PER_SEC / 1000)
#define EXIT_TICK_US (100 * LWS_USEC_PER_SEC / 1000)
#define READ_CHUNK 65536
#define TX_PACKET (1u << 20)		/* the most one send() takes */
#define CLOSE_WAIT_S 3			/* for a close frame to go out */
#define READS_PER_WAKE 16		/* then let the viewers be served */

static lws_usec_t
us(double seconds)
{
	return (lws_usec_t)(seconds * LWS_US_PER_SEC);
}

static void
close_viewer(struct viewer *v, int code, const char *why)
{
	if (v->close_why == NULL) {
		v->close_code = code;
		v->close_why = why;
		/* What it has not been sent yet is of no use now, and a viewer
		 * that stalled may never take the close frame: it gets a few
		 * seconds, then the connection is cut. */
		vq_free(&v->q);
		lws_set_timeout(v->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_WAIT_S);
	}
	lws_callback_on_writable(v->wsi);
}

static void
broadcast(struct relay *r, struct fanout_msg *m)
{
	struct viewer *v;

	for (v = r->viewers; v; v = v->next) {
		if (v->close_why)
			continue;
		if (vq_push(&v->q, m) == VQ_BEHIND) {
			warnx("viewer %llu dropped: too slow, %llu messages "
			    "skipped", (unsigned long long)v->id,
			    (unsigned long long)v->q.msgs_dropped);
			close_viewer(v, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			    "too slow: stayed behind the stream");
		}		else if (vq_peek(&v->q))
			lws_callback_on_writable(v->wsi);
	}
}

static void
notice(struct relay *r, const char *text)
{
	struct fanout_msg *m;

	if ((m = fanout_msg_new(text, strlen(text), FANOUT_TEXT)) == NULL)
		return;
	broadcast(r, m);
	fanout_msg_unref(m);
}

static void
close_all(struct relay *r, int code, const char *why)
{
	struct viewer *v;

	for (v = r->viewers; v; v = v->next)
		close_viewer(v, code, why);
}

static void
drop_source_fd(struct relay *r)
{
	if (r->src_wsi) {
		lws_set_timeout(r->src_wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
		r->src_wsi = NULL;
	}
}

static void
on_kill(lws_sorted_usec_list_t *sul)
{
	struct relay *r = lws_container_of(sul, struct relay, kill_sul);

	if (r->src.pid > 0) {
		if (r->cfg->verbose)
			warnx("source pid %d: still there after %gs, SIGKILL",
			    (int)r->src.pid, r->cfg->stop_grace);
		source_signal(&r->src, SIGKILL);
	}
}

/* Ask the source to stop: SIGTERM now, SIGKILL after the grace. */
static void
stop_source(struct relay *r)
{
	if (r->src.pid <= 0)
		return;
	source_signal(&r->src, SIGTERM);
	r->state = RELAY_STOPPING;
	lws_sul_cancel(&r->start_sul);
	lws_sul_cancel(&r->restart_sul);
	lws_sul_schedule(r->ctx, 0, &r->kill_sul, on_kill, us(r->cfg->stop_grace));
}

static void on_reap(lws_sorted_usec_list_t *sul);
static void on_start_timeout(lws_sorted_usec_list_t *sul);

static int
start_source(struct relay *r)
{
	lws_sock_file_fd_type fd;

	drop_source_fd(r);
	cut_reset(&r->cut);
	fanout_msg_unref(r->init);
	r->init = NULL;
	if (source_start(&r->src, r->cfg->source) < 0) {
		warn("source %s", r->cfg->source[0]);
		return -1;
	}
	fd.filefd = r->src.fd;
	if ((r->src_wsi = lws_adopt_descriptor_vhost(r->vh,
	    LWS_ADOPT_RAW_FILE_DESC, fd, relay_protocols[1].name, NULL)) == NULL) {
		warnx("source pid %d: cannot watch its output", (int)r->src.pid);
		close(r->src.fd);
		source_signal(&r->src, SIGKILL);
	}
	r->src.fd = -1;
	r->state = RELAY_STARTING;
	r->got_data = 0;
	r->up_since = mono_us();
	r->started_wall = time(NULL);
	if (r->cfg->verbose)
		warnx("source pid %d started", (int)r->src.pid);
	lws_sul_schedule(r->ctx, 0, &r->start_sul, on_start_timeout,
	    us(r->cfg->start_timeout));
	lws_sul_schedule(r->ctx, 0, &r->reap_sul, on_reap, REAP_US);
	return 0;
}

static void
on_start_timeout(lws_sorted_usec_list_t *sul)
{
	struct relay *r = lws_container_of(sul, struct relay, start_sul);

	/* A source that keeps dying before its first bytes is as good as
	 * one that hangs. */
	if (r->state == RELAY_BACKOFF && !r->got_data) {
		lws_sul_cancel(&r->restart_sul);
		r->state = RELAY_IDLE;
	} else if (r->state != RELAY_STARTING)
		return;
	warnx("source: nothing within the start timeout (%gs)",
	    r->cfg->start_timeout);
	close_all(r, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
	    "source did not start: no data within the start timeout");
	stop_source(r);
}

static void
on_restart(lws_sorted_usec_list_t *sul)
{
	struct relay *r = lws_container_of(sul, struct relay, restart_sul);

	if (r->state != RELAY_BACKOFF)
		return;
	r->state = RELAY_IDLE;
	if (r->nviewers == 0 || r->shutting_down)
		return;
	r->restarts++;
	if (start_source(r) < 0)
		close_all(r, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
		    "source cannot be started");
}

static void
source_exited(struct relay *r, int status)
{
	char how[64], text[160];
	int asked = r->state == RELAY_STOPPING;

	lws_sul_cancel(&r->kill_sul);
	fanout_msg_unref(r->init);
	r->init = NULL;
	source_how(status, how, sizeof(how));
	r->state = RELAY_IDLE;
	if (asked) {
		if (r->cfg->verbose)
			warnx("source stopped (%s)", how);
		/* A viewer came back while it was stopping. */
		if (r->nviewers > 0 && !r->shutting_down)
			start_source(r);
		return;
	}
	warnx("source ended (%s)", how);
	if (r->nviewers == 0 || r->shutting_down)
		return;
	if (mono_us() - r->up_since >= SETTLED_US)
		r->backoff = r->cfg->restart_backoff;
	snprintf(text, sizeof(text), "{\"event\":\"source_restarting\","
	    "\"in\":%g,\"reason\":\"source ended (%s)\"}", r->backoff, how);
	notice(r, text);
	r->state = RELAY_BACKOFF;
	lws_sul_schedule(r->ctx, 0, &r->restart_sul, on_restart, us(r->backoff));
	r->backoff = r->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : r->backoff * 2;
	if (r->backoff == 0)
		r->backoff = 0.1;
}

static void
on_reap(lws_sorted_usec_list_t *sul)
{
	struct relay *r = lws_container_of(sul, struct relay, reap_sul);
	int status;

	if (source_reap(&r->src, &status) == 1)
		source_exited(r, status);
	else if (r->src.pid > 0)
		lws_sul_schedule(r->ctx, 0, &r->reap_sul, on_reap, REAP_US);
}

static void
on_idle(lws_sorted_usec_list_t *sul)
{
	struct relay *r = lws_container_of(sul, struct relay, idle_sul);

	if (r->nviewers > 0)
		return;
	if (r->cfg->verbose)
		warnx("no viewer for %gs: stopping the source", r->cfg->idle_timeout);
	if (r->state == RELAY_BACKOFF) {
		lws_sul_cancel(&r->restart_sul);
		r->state = RELAY_IDLE;
	}
	stop_source(r);
}

/* A message cut from the source's output. */
static void
forward(struct relay *r, struct fanout_msg *m)
{
	struct viewer *v;

	r->got_data = 1;
	if (r->state == RELAY_STARTING) {
		r->state = RELAY_RUNNING;
		lws_sul_cancel(&r->start_sul);
	}
	if (fanout_msg_flags(m) & FANOUT_INIT) {
		fanout_msg_unref(r->init);
		fanout_msg_ref(m);
		r->init = m;
		for (v = r->viewers; v; v = v->next)
			vq_restart(&v->q);
	}
	broadcast(r, m);
}

static int
source_readable(struct relay *r, struct lws *wsi)
{
	unsigned char buf[READ_CHUNK];
	struct fanout_msg *m;
	const char *why;
	ssize_t n = -1;
	int i, fd = lws_get_socket_fd(wsi);

	for (i = 0; i < READS_PER_WAKE; i++) {
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			break;
		r->bytes_read += (uint64_t)n;
		if (cut_feed(&r->cut, buf, (size_t)n) < 0) {
			why = "memory";
			goto bad;
		}
		while ((m = cut_next(&r->cut, &why)) != NULL) {
			forward(r, m);
			fanout_msg_unref(m);
		}
		if (why)
			goto bad;
	}
	if (n == 0)
		return -1;		/* its end: the reap tells why */
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		warn("source output");
		return -1;
	}
	return 0;
bad:
	warnx("source output: %s; stopping the source", why);
	source_signal(&r->src, SIGTERM);
	lws_sul_schedule(r->ctx, 0, &r->kill_sul, on_kill, us(r->cfg->stop_grace));
	return -1;
}

static int
callback_source(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct relay *r = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (wsi != r->src_wsi)
			return -1;	/* an old source's: its stream is over */
		return source_readable(r, wsi);
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (wsi == r->src_wsi)
			r->src_wsi = NULL;
		close(lws_get_socket_fd(wsi));
		break;
	default:
		break;
	}
	(void)user;
	(void)in;
	(void)len;
	return 0;
}

static void
viewer_join(struct relay *r, struct lws *wsi, struct viewer *v)
{
	memset(v, 0, sizeof(*v));
	vq_init(&v->q, r->cfg->queue_bytes);
	v->wsi = wsi;
	v->id = ++r->next_id;
	v->since = time(NULL);
	v->is_viewer = 1;
	lws_get_peer_simple(wsi, v->peer, sizeof(v->peer));
	v->next = r->viewers;
	if (r->viewers)
		r->viewers->prev = v;
	r->viewers = v;
	r->nviewers++;
	lws_sul_cancel(&r->idle_sul);
	if (r->cfg->verbose)
		warnx("viewer %llu from %s", (unsigned long long)v->id, v->peer);
	if (r->shutting_down) {
		close_viewer(v, LWS_CLOSE_STATUS_GOINGAWAY, "relay shutting down");
		return;
	}
	if (r->state == RELAY_IDLE) {
		r->backoff = r->cfg->restart_backoff;
		if (start_source(r) < 0)
			close_viewer(v, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
			    "source cannot be started");
	} else if (r->init && vq_push(&v->q, r->init) == VQ_OK)
		lws_callback_on_writable(wsi);
}

static void
viewer_leave(struct relay *r, struct viewer *v)
{
	if (!v->is_viewer)
		return;
	v->is_viewer = 0;
	if (v->prev)
		v->prev->next = v->next;
	else
		r->viewers = v->next;
	if (v->next)
		v->next->prev = v->prev;
	vq_free(&v->q);
	if (--r->nviewers == 0 && !r->shutting_down &&
	    r->state != RELAY_IDLE && r->state != RELAY_STOPPING)
		lws_sul_schedule(r->ctx, 0, &r->idle_sul, on_idle,
		    us(r->cfg->idle_timeout));
}

static int
viewer_write(struct relay *r, struct lws *wsi, struct viewer *v)
{
	struct fanout_msg *m;
	size_t len;
	int text;

	if (v->close_why) {
		lws_close_reason(wsi, (enum lws_close_status)v->close_code,
		    (unsigned char *)(uintptr_t)v->close_why, strlen(v->close_why));
		return -1;
	}
	if ((m = vq_peek(&v->q)) == NULL)
		return 0;
	len = fanout_msg_len(m);
	text = fanout_msg_flags(m) & FANOUT_TEXT;
	/* lws copies what the socket does not take at once. */
	if (lws_write(wsi, fanout_msg_sendbuf(m), len,
	    text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY) < (int)len)
		return -1;
	vq_pop(&v->q);
	r->msgs_out++;
	r->bytes_out += len;
	if (vq_peek(&v->q))
		lws_callback_on_writable(wsi);
	return 0;
}

static int
http_answer(struct lws *wsi, struct viewer *v, int code, const char *type,
    char *body)
{
	unsigned char head[LWS_PRE + 512], *start = head + LWS_PRE, *p = start,
	    *end = head + sizeof(head) - 1;
	size_t len = strlen(body);

	v->http_body = malloc(LWS_PRE + len);
	if (v->http_body == NULL) {
		free(body);
		return -1;
	}
	memcpy(v->http_body + LWS_PRE, body, len);
	v->http_len = len;
	free(body);
	if (lws_add_http_common_headers(wsi, (unsigned)code, type, len, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
	    (const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int
http_request(struct relay *r, struct lws *wsi, struct viewer *v, const char *uri)
{
	memset(v, 0, sizeof(*v));
	if (strcmp(uri, "/status") == 0) {
		char *body = status_json(r);

		if (body == NULL)
			return -1;
		return http_answer(wsi, v, HTTP_STATUS_OK, "application/json", body);
	}
	if (strcmp(uri, "/") == 0) {
		char *body = strdup(relay_page);

		if (body == NULL)
			return -1;
		return http_answer(wsi, v, HTTP_STATUS_OK,
		    "text/html; charset=utf-8", body);
	}
	if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL) ||
	    lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

static int
http_write(struct lws *wsi, struct viewer *v)
{
	int n;

	if (v->http_body == NULL)
		return 0;
	n = lws_write(wsi, (unsigned char *)v->http_body + LWS_PRE, v->http_len,
	    LWS_WRITE_HTTP_FINAL);
	free(v->http_body);
	v->http_body = NULL;
	if (n < (int)v->http_len || lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

/* Only the configured path is a viewer's; the rest is refused. */
static int
wanted_path(struct relay *r, struct lws *wsi)
{
	char uri[256];

	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0)
		return 0;
	return strcmp(uri, r->cfg->path) == 0;
}

static int
callback_live(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct relay *r = lws_context_user(lws_get_context(wsi));
	struct viewer *v = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return http_request(r, wsi, v, in);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return http_write(wsi, v);
	case LWS_CALLBACK_CLOSED_HTTP:
		if (v) {
			free(v->http_body);
			v->http_body = NULL;
		}
		break;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return !wanted_path(r, wsi) || r->shutting_down;
	case LWS_CALLBACK_ESTABLISHED:
		viewer_join(r, wsi, v);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return viewer_write(r, wsi, v);
	case LWS_CALLBACK_RECEIVE:
		break;			/* viewers have nothing to say */
	case LWS_CALLBACK_CLOSED:
		viewer_leave(r, v);
		break;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
	return 0;
}

const struct lws_protocols relay_protocols[] = {
	/* A whole message in one send(): with the default (the rx buffer
	 * size) each fragment would take several trips round the poll loop,
	 * every one of them over all the viewers. */
	{ "liverelay", callback_live, sizeof(struct viewer), 4096, 0, NULL,
	    TX_PACKET },
	{ "liverelay-source", callback_source, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

void
relay_attach(struct relay *r)
{
	r->state = RELAY_IDLE;
	r->src.pid = -1;
	r->src.keeper = -1;
	r->src.ctl = -1;
	r->src.fd = -1;
	r->backoff = r->cfg->restart_backoff;
	cut_init(&r->cut, r->cfg->format);
}

/* While the relay exits, wake its loop every tenth of a second: the last
 * viewer's close or the source's reaping may be the last event there is,
 * and the loop must see that it is done, or that its deadline passed,
 * without waiting for another. */
static void
on_exit_tick(lws_sorted_usec_list_t *sul)
{
	struct relay *r = lws_container_of(sul, struct relay, exit_sul);

	lws_sul_schedule(r->ctx, 0, &r->exit_sul, on_exit_tick, EXIT_TICK_US);
}

void
relay_shutdown(struct relay *r)
{
	r->shutting_down = 1;
	lws_sul_schedule(r->ctx, 0, &r->exit_sul, on_exit_tick, EXIT_TICK_US);
	lws_sul_cancel(&r->idle_sul);
	lws_sul_cancel(&r->restart_sul);
	close_all(r, LWS_CLOSE_STATUS_GOINGAWAY, "relay shutting down");
	if (r->state == RELAY_BACKOFF)
		r->state = RELAY_IDLE;
	stop_source(r);
}

int
relay_done(const struct relay *r)
{
	return r->src.pid <= 0 && r->nviewers == 0;
}

void
relay_kill_source(struct relay *r)
{
	int status;

	if (r->src.pid > 0) {
		source_signal(&r->src, SIGKILL);
		while (source_reap(&r->src, &status) == 0)
			usleep(10000);
	}
	fanout_msg_unref(r->init);
	r->init = NULL;
	cut_free(&r->cut);
}
