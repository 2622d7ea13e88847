/* One producer, many viewers: the live relay's clients and the console's
 * live preview. A message is a refcounted immutable buffer shared by every
 * viewer's queue, never copied per viewer. Each viewer has a queue bounded
 * in bytes; a viewer that falls behind skips to the next message it can
 * start decoding at, and is given up on when it stays behind. */
#ifndef CAMREC_FANOUT_H
#define CAMREC_FANOUT_H

#include <stddef.h>
#include <stdint.h>

enum {
	FANOUT_KEY = 1,		/* a viewer may start decoding here */
	FANOUT_TEXT = 2,	/* a notice to viewers: never dropped, sent as text */
	FANOUT_INIT = 4,	/* stream header (MP4 init segment): never dropped */
};

/* Headroom before every message's data, for the transport's frame header
 * (lws_write() needs LWS_PRE, 16 in libwebsockets 4.1). The headroom is
 * scratch: each send may overwrite it, the data itself never changes. */
#define FANOUT_PRE 32

struct fanout_msg;

/* fanout.c */
/* A message holding a copy of data[0..len), with one reference. NULL with
 * errno ENOMEM. */
struct fanout_msg *fanout_msg_new(const void *data, size_t len, int flags);
void fanout_msg_ref(struct fanout_msg *m);
/* Drop a reference; the last one frees the message. NULL is ignored. */
void fanout_msg_unref(struct fanout_msg *m);
const unsigned char *fanout_msg_data(const struct fanout_msg *m);
/* The data with FANOUT_PRE writable bytes before it, for lws_write(). */
unsigned char *fanout_msg_sendbuf(struct fanout_msg *m);
size_t fanout_msg_len(const struct fanout_msg *m);
int fanout_msg_flags(const struct fanout_msg *m);
/* Microseconds on the monotonic clock when the message was made. */
int64_t fanout_msg_born(const struct fanout_msg *m);

/* The most messages a viewer queue holds whatever their size. */
#define VQ_SLOTS 256
/* Defaults of vq_init(): give up on a viewer that had to skip this many
 * times in a row, or that has been skipping for this long. */
#define VQ_MAX_SKIPS 4
#define VQ_MAX_BEHIND_US (10 * 1000000LL)

enum vq_state {
	VQ_WAITING,		/* not started: waits for the first KEY */
	VQ_LIVE,		/* every message is queued */
	VQ_SKIPPING,		/* fell behind: waits for the next KEY */
};

/* A viewer's queue, embedded in its per-session data. Messages in it have
 * not been started: the one being sent was popped before it was sent. */
struct viewer_q {
	struct fanout_msg *slot[VQ_SLOTS];	/* a ring, head first */
	unsigned head, count;
	size_t bytes, max_bytes;
	enum vq_state state;
	unsigned skips_in_row, max_skips;
	int64_t behind_since, max_behind_us;	/* first skip of the row */
	/* Counters for the status. */
	uint64_t bytes_sent, msgs_sent;
	uint64_t msgs_dropped, bytes_dropped;	/* for lag, not waiting */
	uint64_t skips;
};

enum vq_result {
	VQ_OK,			/* queued, or not wanted yet (waiting for a KEY) */
	VQ_SKIPPED,		/* not queued: the viewer is behind and skips */
	VQ_BEHIND,		/* still behind after skipping: disconnect it */
};

void vq_init(struct viewer_q *q, size_t max_bytes);
/* Change when a viewer that keeps skipping is given up on (0: never). */
void vq_limits(struct viewer_q *q, unsigned max_skips, int64_t max_behind_us);
/* Offer m to the viewer; the queue takes its own reference when it keeps
 * m. A viewer not started yet drops messages other than KEY, TEXT and
 * INIT. A message that would take the queue over max_bytes (an empty queue
 * takes any message) drops the queued media and makes the viewer wait for
 * the next KEY: VQ_SKIPPED. Skipping max_skips times in a row without
 * draining, or for longer than max_behind_us, gives VQ_BEHIND. */
enum vq_result vq_push(struct viewer_q *q, struct fanout_msg *m);
/* The oldest queued message (the queue keeps its reference), or NULL. */
struct fanout_msg *vq_peek(struct viewer_q *q);
/* Remove the oldest message, counting it as sent, and unref it. */
void vq_pop(struct viewer_q *q);
size_t vq_bytes(const struct viewer_q *q);
/* Unref every queued message; the counters stay. */
void vq_free(struct viewer_q *q);

#endif
