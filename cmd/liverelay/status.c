/* The relay's status as JSON, for GET /status and camlive.sh status: the
 * source's life and every viewer's queue, as camrec.7 describes them. */
#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#include "liverelay.h"
#include "util.h"

static const char *const state_names[] = {
	[RELAY_IDLE] = "idle",
	[RELAY_STARTING] = "starting",
	[RELAY_RUNNING] = "running",
	[RELAY_BACKOFF] = "restarting",
	[RELAY_STOPPING] = "stopping",
};

static json_t *
utc(time_t t)
{
	char buf[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *
viewer_json(const struct viewer *v, time_t now)
{
	static const char *const q_states[] = {
		[VQ_WAITING] = "waiting", [VQ_LIVE] = "live",
		[VQ_SKIPPING] = "skipping",
	};

	return json_pack("{sI ss so sI sI sI sI sI sI sI ss}",
	    "id", (json_int_t)v->id,
	    "peer", v->peer,
	    "since", utc(v->since),
	    "seconds", (json_int_t)(now - v->since),
	    "bytes_sent", (json_int_t)v->q.bytes_sent,
	    "messages_sent", (json_int_t)v->q.msgs_sent,
	    "messages_dropped", (json_int_t)v->q.msgs_dropped,
	    "bytes_dropped", (json_int_t)v->q.bytes_dropped,
	    "skips", (json_int_t)v->q.skips,
	    "queued_bytes", (json_int_t)vq_bytes(&v->q),
	    "state", v->close_why ? "closing" : q_states[v->q.state]);
}

char *
status_json(const struct relay *r)
{
	const struct viewer *v;
	json_t *root, *viewers, *src;
	time_t now = time(NULL);
	int running = r->src.pid > 0;
	char *text;

	if ((viewers = json_array()) == NULL)
		return NULL;
	for (v = r->viewers; v; v = v->next)
		json_array_append_new(viewers, viewer_json(v, now));
	src = json_pack("{ss sb so sf sI sI}",
	    "state", state_names[r->state],
	    "running", running,
	    "pid", running ? json_integer(r->src.pid) : json_null(),
	    "uptime", running ? (double)(mono_us() - r->up_since) / 1e6 : 0.0,
	    "restarts", (json_int_t)r->restarts,
	    "bytes_read", (json_int_t)r->bytes_read);
	root = json_pack("{ss sI so sI sI so}",
	    "path", r->cfg->path,
	    "viewer_count", (json_int_t)r->nviewers,
	    "viewers", viewers,
	    "messages_sent", (json_int_t)r->msgs_out,
	    "bytes_sent", (json_int_t)r->bytes_out,
	    "source", src);
	if (root == NULL)
		return NULL;
	text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(root);
	return text;
}
