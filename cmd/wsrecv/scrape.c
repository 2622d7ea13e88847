/* GET /metrics on the cameras' port: each scrape runs `metrics --once -R
 * RUNDIR` (metrics(1), found on PATH) and answers with what it printed.
 * wsrecv only forks and reads a pipe inside its event loop, never waits:
 * the child's output arrives as lws events like any socket's, its exit is
 * looked for by a timer, and a child slower than SCRAPE_TIMEOUT_US is
 * killed and answered with 503. Nothing is collected or stored here; the
 * numbers come from the files the recorder keeps anyway (metrics(1)).
 *
 * A scrape lives until both its child is reaped and its pipe is closed;
 * the HTTP request that asked for it may go before (the client hung up),
 * and then it only finishes quietly. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "util.h"
#include "wsrecv.h"

#define SCRAPE_TIMEOUT_US (10 * 1000000LL)
#define SCRAPE_POLL_US	  5000		/* looking for the child's exit */
#define SCRAPE_MAX	  (16u << 20)	/* bytes of output at most */
/* Children at once: a client asking again and again gets 503 rather than
 * a process and a buffer each. */
#define SCRAPES_MAX	  2

struct scrape {
	struct lws_context *ctx;
	struct lws *http;		/* the request, or NULL once it is gone */
	struct lws *pipe;		/* the child's stdout, or NULL once closed */
	pid_t pid;			/* -1 once reaped */
	unsigned *running;		/* the count this child is in */
	int status;			/* its wait status */
	int too_big;
	char *out;
	size_t len, cap;
	int64_t deadline_us;
	lws_sorted_usec_list_t sul;
};

static void
scrape_free(struct scrape *sc)
{
	lws_sul_cancel(&sc->sul);
	free(sc->out);
	free(sc);
}

static int
finished(const struct scrape *sc)
{
	return sc->pid < 0 && sc->pipe == NULL;
}

/* Both ends done: tell the request, or go when there is none. */
static void
settle(struct scrape *sc)
{
	if (!finished(sc))
		return;
	if (sc->http != NULL)
		lws_callback_on_writable(sc->http);
	else
		scrape_free(sc);
}

static void
reap(struct scrape *sc, int block)
{
	pid_t r;

	if (sc->pid < 0)
		return;
	while ((r = waitpid(sc->pid, &sc->status, block ? 0 : WNOHANG)) < 0 &&
	    errno == EINTR)
		;
	if (r != 0) {
		sc->pid = -1;
		--*sc->running;
	}
}

/* The timer: the deadline, then the child's exit once its pipe closed. */
static void
tick(lws_sorted_usec_list_t *sul)
{
	struct scrape *sc = lws_container_of(sul, struct scrape, sul);
	int64_t now = mono_us();

	reap(sc, 0);
	if (sc->pid > 0 && now >= sc->deadline_us) {
		kill(sc->pid, SIGKILL);
		sc->deadline_us = INT64_MAX;
		sc->status = -1;
	}
	if (finished(sc)) {
		settle(sc);
		return;
	}
	lws_sul_schedule(sc->ctx, 0, &sc->sul, tick, sc->pipe == NULL ||
	    sc->deadline_us == INT64_MAX ? SCRAPE_POLL_US :
	    sc->deadline_us - now);
}

struct scrape *
scrape_start(struct lws *http, const char *rundir, unsigned *running)
{
	char *argv[] = { "metrics", "--once", "-R", (char *)rundir, NULL };
	lws_sock_file_fd_type fd;
	struct scrape *sc;
	struct spawn sp;
	int p[2];

	if (*running >= SCRAPES_MAX || (sc = calloc(1, sizeof *sc)) == NULL)
		return NULL;
	sc->ctx = lws_get_context(http);
	sc->http = http;
	sc->pid = -1;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(sc);
		return NULL;
	}
	if (spawn_io(&sp, argv, 0, p[1], -1) < 0) {
		if (sp.exec_errno != 0)
			warnx("/metrics: cannot run metrics: %s", strerror(sp.exec_errno));
		close(p[0]);
		close(p[1]);
		free(sc);
		return NULL;
	}
	close(p[1]);
	sc->pid = sp.pid;
	sc->running = running;
	++*running;
	sc->deadline_us = mono_us() + SCRAPE_TIMEOUT_US;
	fd.filefd = p[0];
	sc->pipe = lws_adopt_descriptor_vhost(lws_get_vhost(http),
	    LWS_ADOPT_RAW_FILE_DESC, fd, SCRAPE_PROTOCOL, NULL);
	if (sc->pipe == NULL) {
		close(p[0]);
		kill(sc->pid, SIGKILL);
		reap(sc, 1);
		free(sc);
		return NULL;
	}
	lws_set_opaque_user_data(sc->pipe, sc);
	lws_sul_schedule(sc->ctx, 0, &sc->sul, tick, SCRAPE_TIMEOUT_US);
	return sc;
}

int
scrape_result(struct scrape *sc, char **out, size_t *len)
{
	if (!finished(sc))
		return -1;
	if (sc->too_big || !WIFEXITED(sc->status) || WEXITSTATUS(sc->status) != 0 ||
	    sc->len == 0)
		return 0;
	*out = sc->out;
	*len = sc->len;
	sc->out = NULL;
	return 1;
}

void
scrape_cancel(struct scrape *sc)
{
	if (sc == NULL)
		return;
	sc->http = NULL;
	if (sc->pid > 0)
		kill(sc->pid, SIGKILL);
	if (sc->pipe == NULL) {
		reap(sc, 1);
		scrape_free(sc);
	}
	/* Else the pipe closes soon, the child being dead, and frees it. */
}

static int
read_pipe(struct scrape *sc, struct lws *wsi)
{
	char *p;
	ssize_t n;

	for (;;) {
		if (sc->cap - sc->len < 4096) {
			if (sc->cap >= SCRAPE_MAX) {
				sc->too_big = 1;
				return -1;
			}
			if ((p = realloc(sc->out, sc->cap ? sc->cap * 2 : 16384)) == NULL) {
				sc->too_big = 1;
				return -1;
			}
			sc->out = p;
			sc->cap = sc->cap ? sc->cap * 2 : 16384;
		}
		n = read(lws_get_socket_fd(wsi), sc->out + sc->len, sc->cap - sc->len);
		if (n > 0) {
			sc->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		return -1;	/* end of output, or an error: close the pipe */
	}
}

int
scrape_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct scrape *sc = lws_get_opaque_user_data(wsi);

	(void)user;
	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return -1;	/* not a WebSocket subprotocol */
	case LWS_CALLBACK_RAW_RX_FILE:
		if (sc == NULL)
			return -1;
		return read_pipe(sc, wsi);
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (sc == NULL)
			break;
		lws_set_opaque_user_data(wsi, NULL);
		sc->pipe = NULL;
		if (sc->http == NULL) {
			/* Nobody waits: the killed child is reaped now. */
			reap(sc, 1);
			scrape_free(sc);
			break;
		}
		reap(sc, 0);
		if (finished(sc))
			settle(sc);
		else
			lws_sul_schedule(sc->ctx, 0, &sc->sul, tick, SCRAPE_POLL_US);
		break;
	default:
		break;
	}
	return 0;
}
