/* Open addressing with linear probing; deletion shifts later entries back,
 * so there are no tombstones and lookups stay short however many
 * connections came and went. */
#include <errno.h>
#include <stdlib.h>

#include "connmap.h"

static size_t
home(const struct connmap *m, uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 17) & (m->cap - 1);
}

void *
connmap_get(const struct connmap *m, uint64_t id)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	for (i = home(m, id); m->slot[i].val != NULL; i = (i + 1) & (m->cap - 1))
		if (m->slot[i].id == id)
			return m->slot[i].val;
	return NULL;
}

static void
place(struct connmap *m, uint64_t id, void *val)
{
	size_t i;

	for (i = home(m, id); m->slot[i].val != NULL; i = (i + 1) & (m->cap - 1))
		if (m->slot[i].id == id) {
			m->slot[i].val = val;
			return;
		}
	m->slot[i].id = id;
	m->slot[i].val = val;
	m->n++;
}

int
connmap_put(struct connmap *m, uint64_t id, void *val)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct connmap old = *m;
		size_t i;

		m->cap = old.cap ? old.cap * 2 : 64;
		m->slot = calloc(m->cap, sizeof *m->slot);
		if (m->slot == NULL) {
			*m = old;
			errno = ENOMEM;
			return -1;
		}
		m->n = 0;
		for (i = 0; i < old.cap; i++)
			if (old.slot[i].val != NULL)
				place(m, old.slot[i].id, old.slot[i].val);
		free(old.slot);
	}
	place(m, id, val);
	return 0;
}

void *
connmap_del(struct connmap *m, uint64_t id)
{
	size_t i, j, h, mask = m->cap - 1;
	void *val;

	if (m->cap == 0)
		return NULL;
	for (i = home(m, id); m->slot[i].val != NULL; i = (i + 1) & mask)
		if (m->slot[i].id == id)
			break;
	if (m->slot[i].val == NULL)
		return NULL;
	val = m->slot[i].val;
	m->slot[i].val = NULL;
	m->n--;
	/* Move back any later entry whose probe run crossed the hole. */
	for (j = (i + 1) & mask; m->slot[j].val != NULL; j = (j + 1) & mask) {
		h = home(m, m->slot[j].id);
		if (((j - h) & mask) >= ((j - i) & mask)) {
			m->slot[i] = m->slot[j];
			m->slot[j].val = NULL;
			i = j;
		}
	}
	return val;
}

void
connmap_free(struct connmap *m)
{
	free(m->slot);
	m->slot = NULL;
	m->cap = m->n = 0;
}
