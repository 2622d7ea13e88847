/* The door of wsrecv before any handshake: sockets that end without a
 * complete request (silent, too slow, or a request too large; lws drops
 * them at the handshake timeout or the header limit) are counted and
 * reported at most once per period, and so are lws's own error lines, which
 * a client can provoke at will ("Ran out of header data space"). */
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "wsrecv.h"

#define GATE_LOG_US	(10 * 1000000LL)

static struct gate *log_gate;	/* for lws's log callback, which has no user */

void
gate_accepted(struct gate *g, struct lws *wsi)
{
	lws_set_opaque_user_data(wsi, g);
}

void
gate_passed(struct lws *wsi)
{
	lws_set_opaque_user_data(wsi, NULL);
}

void
gate_released(struct gate *g, struct lws *wsi)
{
	int64_t now;

	if (lws_get_opaque_user_data(wsi) != g)
		return;
	lws_set_opaque_user_data(wsi, NULL);
	g->dropped++;
	now = mono_us();
	if (g->dropped_logged_us != 0 && now - g->dropped_logged_us < GATE_LOG_US)
		return;
	fprintf(stderr, "wsrecv: %llu connection%s closed before a complete "
	    "request (none within %u s, or one over %u bytes)%s\n",
	    (unsigned long long)g->dropped, g->dropped == 1 ? "" : "s",
	    g->handshake_s, g->max_request,
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
