/* The fan-out of fanout.h: shared messages and bounded viewer queues. A
 * viewer only ever starts or resumes at a KEY message, so what it receives
 * always decodes from there on; notices (TEXT) and the stream header
 * (INIT) are never dropped, or a viewer would lose its decoder setup. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fanout.h"
#include "util.h"

struct fanout_msg {
	unsigned refs;
	int flags;
	size_t len;
	int64_t born;
	unsigned char buf[];		/* FANOUT_PRE headroom, then the data */
};

struct fanout_msg *
fanout_msg_new(const void *data, size_t len, int flags)
{
	struct fanout_msg *m;

	if (len > SIZE_MAX - sizeof(*m) - FANOUT_PRE) {
		errno = ENOMEM;
		return NULL;
	}
	if ((m = malloc(sizeof(*m) + FANOUT_PRE + len)) == NULL)
		return NULL;
	m->refs = 1;
	m->flags = flags;
	m->len = len;
	m->born = mono_us();
	if (len > 0)
		memcpy(m->buf + FANOUT_PRE, data, len);
	return m;
}

void
fanout_msg_ref(struct fanout_msg *m)
{
	m->refs++;
}

void
fanout_msg_unref(struct fanout_msg *m)
{
	if (m != NULL && --m->refs == 0)
		free(m);
}

const unsigned char *
fanout_msg_data(const struct fanout_msg *m)
{
	return m->buf + FANOUT_PRE;
}

unsigned char *
fanout_msg_sendbuf(struct fanout_msg *m)
{
	return m->buf + FANOUT_PRE;
}

size_t
fanout_msg_len(const struct fanout_msg *m)
{
	return m->len;
}

int
fanout_msg_flags(const struct fanout_msg *m)
{
	return m->flags;
}

int64_t
fanout_msg_born(const struct fanout_msg *m)
{
	return m->born;
}

void
vq_init(struct viewer_q *q, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->max_bytes = max_bytes;
	q->state = VQ_WAITING;
	q->max_skips = VQ_MAX_SKIPS;
	q->max_behind_us = VQ_MAX_BEHIND_US;
}

void
vq_limits(struct viewer_q *q, unsigned max_skips, int64_t max_behind_us)
{
	q->max_skips = max_skips;
	q->max_behind_us = max_behind_us;
}

static int
never_dropped(const struct fanout_msg *m)
{
	return (m->flags & (FANOUT_TEXT | FANOUT_INIT)) != 0;
}

static void
append(struct viewer_q *q, struct fanout_msg *m)
{
	fanout_msg_ref(m);
	q->slot[(q->head + q->count) % VQ_SLOTS] = m;
	q->count++;
	q->bytes += m->len;
}

/* Drop the queued media, keeping notices and headers in their order. */
static void
drop_media(struct viewer_q *q)
{
	unsigned i, kept = 0;

	for (i = 0; i < q->count; i++) {
		struct fanout_msg *m = q->slot[(q->head + i) % VQ_SLOTS];

		if (never_dropped(m)) {
			q->slot[(q->head + kept++) % VQ_SLOTS] = m;
			continue;
		}
		q->bytes -= m->len;
		q->msgs_dropped++;
		q->bytes_dropped += m->len;
		fanout_msg_unref(m);
	}
	q->count = kept;
}

static enum vq_result
skip(struct viewer_q *q, struct fanout_msg *m)
{
	int64_t now = mono_us();

	drop_media(q);
	q->msgs_dropped++;
	q->bytes_dropped += m->len;
	if (q->state != VQ_SKIPPING)
		q->skips++;
	if (q->skips_in_row++ == 0)
		q->behind_since = now;
	q->state = VQ_SKIPPING;
	if ((q->max_skips > 0 && q->skips_in_row > q->max_skips) ||
	    (q->max_behind_us > 0 && now - q->behind_since > q->max_behind_us))
		return VQ_BEHIND;
	return VQ_SKIPPED;
}

enum vq_result
vq_push(struct viewer_q *q, struct fanout_msg *m)
{
	if (never_dropped(m)) {
		if (q->count == VQ_SLOTS)
			return VQ_BEHIND;
		append(q, m);
		return VQ_OK;
	}
	if (q->state == VQ_WAITING && !(m->flags & FANOUT_KEY))
		return VQ_OK;
	if (q->state == VQ_SKIPPING && !(m->flags & FANOUT_KEY)) {
		q->msgs_dropped++;
		q->bytes_dropped += m->len;
		return VQ_SKIPPED;
	}
	if (q->count == VQ_SLOTS ||
	    (q->bytes > 0 && m->len > q->max_bytes - (q->bytes < q->max_bytes ?
	    q->bytes : q->max_bytes)))
		return skip(q, m);
	q->state = VQ_LIVE;
	append(q, m);
	return VQ_OK;
}

struct fanout_msg *
vq_peek(struct viewer_q *q)
{
	return q->count > 0 ? q->slot[q->head] : NULL;
}

void
vq_pop(struct viewer_q *q)
{
	struct fanout_msg *m;

	if (q->count == 0)
		return;
	m = q->slot[q->head];
	q->head = (q->head + 1) % VQ_SLOTS;
	q->count--;
	q->bytes -= m->len;
	q->bytes_sent += m->len;
	q->msgs_sent++;
	/* A viewer that drains its queue has caught up. */
	if (q->count == 0 && q->state == VQ_LIVE)
		q->skips_in_row = 0;
	fanout_msg_unref(m);
}

size_t
vq_bytes(const struct viewer_q *q)
{
	return q->bytes;
}

void
vq_free(struct viewer_q *q)
{
	while (q->count > 0) {
		fanout_msg_unref(q->slot[q->head]);
		q->head = (q->head + 1) % VQ_SLOTS;
		q->count--;
	}
	q->bytes = 0;
}
