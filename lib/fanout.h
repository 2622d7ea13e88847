/* Viewer fan-out: one copy of a message shared by every viewer that is
 * sent it (reference counted), and a bounded queue per viewer that drops
 * whole pictures, never half a stream: a viewer that falls behind skips to
 * the next key frame, and one that stays behind is told to go. */
#ifndef CAMREC_FANOUT_H
#define CAMREC_FANOUT_H

#include <stddef.h>

#define FANOUT_KEY	1	/* a viewer may start (again) here */
#define FANOUT_TEXT	2	/* a text message, not binary */
/* Free bytes in front of the data, for a transport's frame header (a
 * WebSocket's LWS_PRE); a sender may write there. */
#define FANOUT_PRE	16

struct fanout_msg;

/* fanout.c */
/* A message holding a copy of data (or, when data is NULL, len bytes for
 * the caller to fill), one reference; NULL with errno ENOMEM. */
struct fanout_msg *fanout_msg_new(const void *data, size_t len, unsigned flags);
struct fanout_msg *fanout_msg_ref(struct fanout_msg *m);
void fanout_msg_unref(struct fanout_msg *m);	/* NULL is fine */
unsigned char *fanout_msg_data(struct fanout_msg *m);
size_t fanout_msg_len(const struct fanout_msg *m);
unsigned fanout_msg_flags(const struct fanout_msg *m);

/* One viewer's queue; embedded in the viewer's own state. */
struct vq_item;
struct viewer_q {
	struct vq_item *head, *tail;
	size_t bytes, max_bytes;
	int skipping;		/* dropping until the next key message */
	int popped;		/* the viewer took a message since it last skipped */
	unsigned long skipped;	/* messages dropped, for the curious */
};

enum vq_result {
	VQ_OK,			/* queued (holds a reference) */
	VQ_SKIPPED,		/* dropped: the viewer waits for a key message */
	VQ_BEHIND,		/* the viewer cannot keep up: disconnect it */
};

void vq_init(struct viewer_q *q, size_t max_bytes);
/* Queue m unless the queue would exceed its bound: then everything queued
 * is dropped and so is every message up to the next key one. A viewer that
 * overflows again without having taken a single message meanwhile is
 * behind. A key message larger than the bound itself is behind too. */
enum vq_result vq_push(struct viewer_q *q, struct fanout_msg *m);
struct fanout_msg *vq_peek(const struct viewer_q *q);	/* or NULL */
void vq_pop(struct viewer_q *q);			/* drop the head */
size_t vq_bytes(const struct viewer_q *q);
void vq_free(struct viewer_q *q);

#endif
