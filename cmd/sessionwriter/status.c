/* The --status file: what every camera is doing, for ctl. It is rewritten
 * whole through a temporary file and rename(2), so a reader never sees half
 * of it. Rates are counted in 100 ms slots of arrival time, which keeps the
 * per-frame work to one slot update. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campath.h"
#include "sessionwriter.h"
#include "util.h"

#define RATE_WINDOW 30		/* slots: 3 s */
#define ESP_WINDOW  10		/* slots: 1 s, the old server's fps per second */

static void status_write(struct status *st, const struct conn *first, uint64_t now_us);

int
status_open(struct status *st, const char *path, const char *root,
    const struct session_counts *counts)
{
	size_t len = strlen(path) + sizeof ".tmp";

	if ((st->path = strdup(path)) == NULL || (st->tmp = malloc(len)) == NULL)
		return -1;
	/* NULL when it cannot be made absolute: metrics then has no folder. */
	st->recordings = realpath(root, NULL);
	st->counts = counts;
	snprintf(st->tmp, len, "%s.tmp", path);
	return 0;
}

void
status_rate(struct conn *c, uint64_t t_us, size_t bytes)
{
	uint64_t period = t_us / RATE_SLOT_US + 1;
	size_t i = period % RATE_SLOTS;

	if (c->rate_since_us == 0 || t_us - c->rate_last_us > RATE_WINDOW * RATE_SLOT_US)
		c->rate_since_us = t_us;
	c->rate_last_us = t_us;

	if (c->rate.slot[i] != period) {
		c->rate.slot[i] = period;
		c->rate.frames[i] = 0;
		c->rate.bytes[i] = 0;
	}
	c->rate.frames[i]++;
	c->rate.bytes[i] += bytes;
}

static void
rates(const struct conn *c, uint64_t now_us, double *fps, double *kbps)
{
	uint64_t now = now_us / RATE_SLOT_US + 1, frames = 0, bytes = 0, span;
	/* A board's images are counted over the last second, as the old
	 * server logged them; a phone's frames over 3 s, which smooths the
	 * bursts of its key frames. */
	uint64_t window = c->kind == CAMPATH_ESP ? ESP_WINDOW : RATE_WINDOW;
	double secs;
	size_t i;

	for (i = 0; i < RATE_SLOTS; i++)
		if (c->rate.slot[i] != 0 && c->rate.slot[i] <= now &&
		    now - c->rate.slot[i] < window) {
			frames += c->rate.frames[i];
			bytes += c->rate.bytes[i];
		}
	/* A camera that began less than 3 s ago is measured over what it sent,
	 * but over at least a second, so one frame is not a rate. */
	span = now_us - c->rate_since_us;
	if (span > window * RATE_SLOT_US)
		span = window * RATE_SLOT_US;
	if (span < 1000000)
		span = 1000000;
	secs = (double)span / 1e6;
	*fps = (double)frames / secs;
	*kbps = (double)bytes * 8 / 1000 / secs;
}

static const char *
kind_name(int kind)
{
	switch (kind) {
	case CAMPATH_ESP:
		return "esp";
	case CAMPATH_DEV:
		return "dev";
	case CAMPATH_LIVE:
		return "live";
	default:
		return "android";
	}
}

static json_t *
camera(const struct conn *c, uint64_t now_us)
{
	json_t *o = json_object();
	double fps, kbps;

	rates(c, now_us, &fps, &kbps);
	json_object_set_new(o, "conn", json_integer((json_int_t)c->id));
	json_object_set_new(o, "peer", json_text(c->addr, strlen(c->addr)));
	json_object_set_new(o, "port", json_integer(c->port));
	json_object_set_new(o, "path", json_text(c->path, strlen(c->path)));
	json_object_set_new(o, "kind", json_string(kind_name(c->kind)));
	json_object_set_new(o, "device_model", c->device_model ?
	    json_string(c->device_model) : json_null());
	json_object_set_new(o, "recording", json_boolean(c->s != NULL));
	json_object_set_new(o, "session", c->s ? json_string(c->s->dir) : json_null());
	json_object_set_new(o, "fps", json_real((double)(long long)(fps * 10 + 0.5) / 10));
	json_object_set_new(o, "kbps", json_real((double)(long long)(kbps * 10 + 0.5) / 10));
	json_object_set_new(o, "frames_written", json_integer((json_int_t)c->frames_written));
	json_object_set_new(o, "bytes_written", json_integer((json_int_t)c->bytes_written));
	json_object_set_new(o, "last_text", c->have_text ?
	    json_text(c->last_text, strlen(c->last_text)) : json_null());
	json_object_set_new(o, "last_text_us", c->have_text ?
	    json_integer((json_int_t)c->last_text_us) : json_null());
	json_object_set_new(o, "last_status", c->have_status ?
	    json_string(c->last_status) : json_null());
	json_object_set_new(o, "last_status_us", c->have_status ?
	    json_integer((json_int_t)c->last_status_us) : json_null());
	return o;
}

/* Totals since sessionwriter started; the names are those of metrics(1)
 * without camrec_. */
static json_t *
counters(const struct session_counts *n)
{
	json_t *o = json_object();

	json_object_set_new(o, "sessions_opened_total", json_integer((json_int_t)n->opened));
	json_object_set_new(o, "sessions_closed_total", json_integer((json_int_t)n->closed));
	json_object_set_new(o, "sessions_failed_total", json_integer((json_int_t)n->failed));
	json_object_set_new(o, "written_frames_total", json_integer((json_int_t)n->frames));
	json_object_set_new(o, "written_bytes_total", json_integer((json_int_t)n->bytes));
	return o;
}

/* A change is written at once unless the last write was less than this
 * ago: a client sending text as fast as it can must not turn the one
 * thread that writes every recording into a status-file writer. */
#define FORCE_GAP_US 100000

void
status_update(struct status *st, const struct conn *first, uint64_t now_us, int force)
{
	uint64_t gap = now_us - st->last_write_t_us;

	if (st->path == NULL)
		return;
	if (force)
		st->pending = 1;
	if (st->written && gap < 1000000 && !(st->pending && gap >= FORCE_GAP_US))
		return;
	status_write(st, first, now_us);
}

int
status_pending(const struct status *st)
{
	return st->pending;
}

void
status_flush(struct status *st, const struct conn *first, uint64_t now_us)
{
	if (st->pending)
		status_write(st, first, now_us);
}

static void
status_write(struct status *st, const struct conn *first, uint64_t now_us)
{
	const struct conn *c;
	json_t *o, *cams;
	char *text;
	int fd, ok;

	st->pending = 0;
	st->written = 1;
	st->last_write_t_us = now_us;
	o = json_object();
	cams = json_array();
	json_object_set_new(o, "format", json_string("camrec-status 1"));
	json_object_set_new(o, "t_us", json_integer((json_int_t)now_us));
	for (c = first; c != NULL; c = c->next)
		json_array_append_new(cams, camera(c, now_us));
	json_object_set_new(o, "cameras", cams);
	if (st->recordings != NULL)
		json_object_set_new(o, "recordings", json_text(st->recordings,
		    strlen(st->recordings)));
	json_object_set_new(o, "counters", counters(st->counts));
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text == NULL)
		return;
	ok = (fd = open(st->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) >= 0;
	if (ok) {
		ok = writeall(fd, text, strlen(text)) == 0 && writeall(fd, "\n", 1) == 0;
		if (close(fd) < 0)
			ok = 0;
		if (ok && rename(st->tmp, st->path) < 0)
			ok = 0;
	}
	if (!ok && !st->warned)	/* the recording matters more: warn once */
		warn("status file %s", st->path);
	st->warned = !ok;
	free(text);
}
