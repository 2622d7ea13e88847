#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fanout.h"

struct fanout_msg {
	size_t refs, len;
	unsigned flags;
	unsigned char buf[];	/* FANOUT_PRE free bytes, then the data */
};

struct vq_item {
	struct vq_item *next;
	struct fanout_msg *m;
};

struct fanout_msg *
fanout_msg_new(const void *data, size_t len, unsigned flags)
{
	struct fanout_msg *m;

	if (len > (size_t)-1 - sizeof *m - FANOUT_PRE) {
		errno = ENOMEM;
		return NULL;
	}
	if ((m = malloc(sizeof *m + FANOUT_PRE + len)) == NULL)
		return NULL;
	m->refs = 1;
	m->len = len;
	m->flags = flags;
	if (len && data != NULL)
		memcpy(m->buf + FANOUT_PRE, data, len);
	return m;
}

struct fanout_msg *
fanout_msg_ref(struct fanout_msg *m)
{
	m->refs++;
	return m;
}

void
fanout_msg_unref(struct fanout_msg *m)
{
	if (m != NULL && --m->refs == 0)
		free(m);
}

unsigned char *
fanout_msg_data(struct fanout_msg *m)
{
	return m->buf + FANOUT_PRE;
}

size_t
fanout_msg_len(const struct fanout_msg *m)
{
	return m->len;
}

unsigned
fanout_msg_flags(const struct fanout_msg *m)
{
	return m->flags;
}

void
vq_init(struct viewer_q *q, size_t max_bytes)
{
	memset(q, 0, sizeof *q);
	q->max_bytes = max_bytes;
	q->popped = 1;
}

static void
vq_clear(struct viewer_q *q)
{
	while (q->head != NULL) {
		q->skipped++;
		vq_pop(q);
	}
}

enum vq_result
vq_push(struct viewer_q *q, struct fanout_msg *m)
{
	struct vq_item *it;
	int key = m->flags & FANOUT_KEY;

	if (q->skipping && !key) {
		q->skipped++;
		return VQ_SKIPPED;
	}
	if (m->len > q->max_bytes - q->bytes || q->bytes > q->max_bytes) {
		if (!q->popped || m->len > q->max_bytes)
			return VQ_BEHIND;
		vq_clear(q);
		q->popped = 0;
		if (!key) {
			q->skipping = 1;
			q->skipped++;
			return VQ_SKIPPED;
		}
	}
	if ((it = malloc(sizeof *it)) == NULL)
		return VQ_BEHIND;
	it->next = NULL;
	it->m = fanout_msg_ref(m);
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->bytes += m->len;
	q->skipping = 0;
	return VQ_OK;
}

struct fanout_msg *
vq_peek(const struct viewer_q *q)
{
	return q->head ? q->head->m : NULL;
}

void
vq_pop(struct viewer_q *q)
{
	struct vq_item *it = q->head;

	if (it == NULL)
		return;
	q->head = it->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->bytes -= it->m->len;
	fanout_msg_unref(it->m);
	free(it);
	q->popped = 1;
}

size_t
vq_bytes(const struct viewer_q *q)
{
	return q->bytes;
}

void
vq_free(struct viewer_q *q)
{
	while (q->head != NULL)
		vq_pop(q);
}
