/* A map from connection id to per-connection state, for the filters that
 * must find a connection's state once per record whatever the number of
 * connections (frameparse, sessionwriter). */
#ifndef CAMREC_CONNMAP_H
#define CAMREC_CONNMAP_H

#include <stddef.h>
#include <stdint.h>

struct connmap_slot {
	uint64_t id;
	void *val;			/* NULL marks a free slot */
};

struct connmap {
	struct connmap_slot *slot;
	size_t cap;			/* a power of two, or 0 */
	size_t n;
};

/* connmap.c */
void *connmap_get(const struct connmap *m, uint64_t id);
/* Insert or replace; val must not be NULL. 0, or -1 with errno ENOMEM. */
int connmap_put(struct connmap *m, uint64_t id, void *val);
/* Remove and return the value, or NULL when absent. */
void *connmap_del(struct connmap *m, uint64_t id);
void connmap_free(struct connmap *m);

#endif
