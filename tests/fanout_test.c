/* lib/fanout driven directly: each case prints "ok NAME" or "FAIL NAME:
 * why" and the program exits 1 on any failure. Built by liverelay.bats
 * against the library of the build under test (ASan included). */
#include <stdio.h>
#include <string.h>

#include "fanout.h"

static int failed;

#define CHECK(name, cond) do { \
	if (cond) \
		printf("ok %s\n", name); \
	else { \
		printf("FAIL %s: %s\n", name, #cond); \
		failed = 1; \
	} \
} while (0)

static struct fanout_msg *
msg(size_t len, int flags)
{
	static unsigned char zero[1 << 16];

	return fanout_msg_new(zero, len, flags);
}

int
main(void)
{
	static struct viewer_q a, b;
	struct fanout_msg *init = msg(100, FANOUT_INIT), *key = msg(1000, FANOUT_KEY),
	    *delta = msg(1000, 0), *text = msg(10, FANOUT_TEXT), *big;
	int i, behind = 0;
	enum vq_result res = VQ_OK;

	vq_init(&a, 4000);
	vq_init(&b, 4000);
	/* A viewer that has not started takes the header and notices, and
	 * starts at a KEY, never at a delta. */
	CHECK("waiting takes init", vq_push(&a, init) == VQ_OK && vq_bytes(&a) == 100);
	CHECK("waiting drops delta", vq_push(&a, delta) == VQ_OK && vq_bytes(&a) == 100);
	CHECK("waiting takes text", vq_push(&a, text) == VQ_OK && vq_bytes(&a) == 110);
	CHECK("starts at key", vq_push(&a, key) == VQ_OK && a.state == VQ_LIVE);
	CHECK("live takes delta", vq_push(&a, delta) == VQ_OK && vq_bytes(&a) == 2110);
	/* Shared, not copied: both queues hold the very same message. */
	vq_push(&b, key);
	CHECK("shared", vq_peek(&b) == key &&
	    fanout_msg_data(vq_peek(&b)) == fanout_msg_data(key));
	CHECK("order", vq_peek(&a) == init);
	vq_pop(&a);
	CHECK("pop counts", a.msgs_sent == 1 && a.bytes_sent == 100 &&
	    vq_peek(&a) == text);
	/* Over the bound: media dropped, the notice kept, then only a KEY
	 * resumes the viewer. */
	vq_push(&a, delta);
	res = vq_push(&a, delta);
	CHECK("over bound skips", res == VQ_SKIPPED && a.state == VQ_SKIPPING);
	CHECK("skip keeps text", vq_peek(&a) == text && vq_bytes(&a) == 10);
	CHECK("skipping drops delta", vq_push(&a, delta) == VQ_SKIPPED &&
	    vq_bytes(&a) == 10);
	CHECK("key resumes", vq_push(&a, key) == VQ_OK && a.state == VQ_LIVE);
	CHECK("dropped counted", a.msgs_dropped == 5 && a.bytes_dropped == 5000 &&
	    a.skips == 1);
	/* An empty queue takes a message larger than its bound, or a large
	 * key frame could never be sent. */
	big = msg(10000, FANOUT_KEY);
	vq_init(&b, 4000);
	CHECK("empty takes big", vq_push(&b, big) == VQ_OK);
	vq_free(&b);
	/* A viewer that never drains is given up on after max_skips. */
	vq_limits(&a, 3, 0);
	for (i = 0; i < 20 && !behind; i++) {
		vq_push(&a, key);
		vq_push(&a, delta);
		behind = vq_push(&a, delta) == VQ_BEHIND ||
		    vq_push(&a, delta) == VQ_BEHIND;
	}
	CHECK("behind after skips", behind && a.skips_in_row > 3);
	/* One that drains in time starts over. */
	vq_init(&b, 4000);
	vq_limits(&b, 1, 0);
	for (i = 0; i < 5 && res != VQ_BEHIND; i++) {
		int k;

		vq_push(&b, key);
		while (vq_peek(&b))
			vq_pop(&b);
		for (k = 0; k < 5; k++)
			res = vq_push(&b, delta);
	}
	CHECK("draining viewer not behind", res == VQ_SKIPPED &&
	    b.skips_in_row == 1 && b.skips == 5);
	/* A restart makes a live viewer wait for the new stream's KEY. */
	vq_restart(&b);
	CHECK("restart waits", vq_push(&b, delta) == VQ_OK && vq_bytes(&b) == 0 &&
	    b.state == VQ_WAITING);
	vq_free(&a);
	vq_free(&b);
	fanout_msg_unref(init);
	fanout_msg_unref(key);
	fanout_msg_unref(delta);
	fanout_msg_unref(text);
	fanout_msg_unref(big);
	return failed;
}
