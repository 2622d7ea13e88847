/* The door of wsrecv before any handshake: sockets that lws drops at the
 * handshake timeout (silent, or too slow) are counted and reported at most
 * once per period, and so are lws's own error lines, which a client can
 * provoke at will ("Ran out of header data space" for a request over the
 * limit). A socket its client closes before sending a request (a port
 * probe) is no news. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wsrecv.h"

#define GATE_LOG_US	(10 * 1000000LL)

static struct gate *log_gate;	/* for lws's log callback, which has no user */

/* What a socket carries until its request is complete. */
struct waiting {
	struct gate *gate;
	int64_t accepted_us;
};

void
gate_accepted(struct gate *g, struct lws *wsi)
{
	struct waiting *w;

	if ((w = malloc(sizeof *w)) == NULL)
		err(1, "memory");
	w->gate = g;
	w->accepted_us = mono_us();
	lws_set_opaque_user_data(wsi, w);
}

void
gate_passed(struct lws *wsi)
{
	free(lws_get_opaque_user_data(wsi));
	lws_set_opaque_user_data(wsi, NULL);
}

void
gate_released(struct gate *g, struct lws *wsi)
{
	struct waiting *w = lws_get_opaque_user_data(wsi);
	int64_t now = mono_us(), lived;

	if (w == NULL || w->gate != g)
		return;
	lived = now - w->accepted_us;
	gate_passed(wsi);
	/* lws checks its timeouts once a second. */
	if (lived < (int64_t)g->handshake_s * 1000000 - 1000000)
		return;
	g->dropped++;
	if (g->dropped_logged_us != 0 && now - g->dropped_logged_us < GATE_LOG_US)
		return;
	fprintf(stderr, "wsrecv: %llu connection%s closed for not completing "
	    "a request within %u s%s\n",
	    (unsigned long long)g->dropped, g->dropped == 1 ? "" : "s",
	    g->handshake_s,
	    g->dropped_logged_us ? " in the last 10 s" : "");
	g->dropped_logged_us = now;
	g->dropped = 0;
}

static void
lws_line(int level, const char *line)
{
	struct gate *g = log_gate;
	int64_t now = mono_us();

	(void)level;
	if (g != NULL && !g->verbose) {
		if (g->lws_logged_us != 0 && now - g->lws_logged_us < GATE_LOG_US) {
			g->lws_suppressed++;
			return;
		}
		if (g->lws_suppressed)
			fprintf(stderr, "wsrecv: %llu more libwebsockets "
			    "messages in the last 10 s not shown\n",
			    (unsigned long long)g->lws_suppressed);
		g->lws_logged_us = now;
		g->lws_suppressed = 0;
	}
	fprintf(stderr, "wsrecv: libwebsockets: %s", line);
}

void
gate_log(struct gate *g, int levels)
{
	log_gate = g;
	lws_set_log_level(levels, lws_line);
}
