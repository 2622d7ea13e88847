/* Deciding what goes into the MP4 before ffmpeg starts, so that an input
 * without a decodable picture fails with nothing written, and so that the
 * FLV writer only copies bytes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "h264.h"
#include "mux.h"
#include "rec.h"

static int
same(const struct ps *a, const unsigned char *p, size_t len)
{
	return a->p != NULL && a->len == len && memcmp(a->p, p, len) == 0;
}

static int
complete(const struct psset *s)
{
	int i, sps = 0, pps = 0;

	for (i = 0; i < 32; i++)
		sps |= s->sps[i].p != NULL;
	for (i = 0; i < 256; i++)
		pps |= s->pps[i].p != NULL;
	return sps && pps;
}

static void *
grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *q;

	if (need <= *cap)
		return p;
	ncap = *cap ? *cap * 2 : 1024;
	while (ncap < need)
		ncap *= 2;
	if ((q = reallocarray(p, ncap, size)) == NULL)
		return NULL;
	*cap = ncap;
	return q;
}

static int
add_nal(struct plan *pl, const unsigned char *p, size_t len)
{
	struct nalref *q = grow(pl->nal, &pl->nalcap, pl->nnal + 1, sizeof *q);

	if (q == NULL)
		return -1;
	pl->nal = q;
	pl->nal[pl->nnal].p = p;
	pl->nal[pl->nnal].len = len;
	pl->nnal++;
	return 0;
}

static int
new_part(struct plan *pl, const struct psset *cur)
{
	struct part *q = reallocarray(pl->part, pl->npart + 1, sizeof *q);
	struct h264_sps sps;
	int i;

	if (q == NULL)
		return -1;
	pl->part = q;
	q += pl->npart++;
	memset(q, 0, sizeof *q);
	q->ps = *cur;
	q->pic0 = pl->npic;
	for (i = 0; i < 32; i++) {
		if (cur->sps[i].p != NULL &&
		    h264_sps_parse(cur->sps[i].p, cur->sps[i].len, &sps) == 0) {
			q->width = sps.width;
			q->height = sps.height;
			break;
		}
	}
	return 0;
}

int
plan_build(struct plan *pl, const struct index *ix, const unsigned char *buf, size_t len)
{
	struct psset cur;
	struct part *part = NULL;
	struct h264_sps sps;
	struct h264_nal nal;
	uint64_t last_ms = 0;
	size_t i, pos, nal0;
	int changed = 0, picture, slice, key, id;

	memset(pl, 0, sizeof *pl);
	memset(&cur, 0, sizeof cur);
	for (i = 0; i < ix->n; i++) {
		const struct index_entry *e = &ix->e[i];

		/* Entries are in file order, so once one runs past the end
		 * (a stream.h264 cut short) so do the rest. */
		if (e->offset > len || e->size > len - e->offset) {
			pl->truncated = ix->n - i;
			pl->first_truncated = i + 1;
			break;
		}
		picture = e->kind == FRAME_KEY || e->kind == FRAME_DELTA;
		slice = key = 0;
		nal0 = pl->nnal;
		pos = 0;
		while (h264_next_nal(buf + e->offset, e->size, &pos, &nal)) {
			if (nal.len == 0)
				continue;
			switch (nal.type) {
			case NAL_SPS:
				if (h264_sps_parse(nal.p, nal.len, &sps) < 0)
					break;
				id = sps.sps_id;
				if (part != NULL && !same(&part->ps.sps[id], nal.p, nal.len))
					changed = 1;
				cur.sps[id].p = nal.p;
				cur.sps[id].len = nal.len;
				break;
			case NAL_PPS:
				if ((id = h264_pps_id(nal.p, nal.len)) < 0)
					break;
				if (part != NULL && !same(&part->ps.pps[id], nal.p, nal.len))
					changed = 1;
				cur.pps[id].p = nal.p;
				cur.pps[id].len = nal.len;
				break;
			default:
				if (!picture)
					break;
				if (nal.type >= 1 && nal.type <= 5)
					slice = 1;
				if (nal.type == NAL_IDR)
					key = 1;
				if (add_nal(pl, nal.p, nal.len) < 0)
					return -1;
			}
		}
		if (!picture)
			continue;
		if (!slice) {
			pl->nnal = nal0;
			pl->empty++;
			continue;
		}
		if (!complete(&cur)) {
			pl->nnal = nal0;
			pl->no_params++;
			continue;
		}
		if (part == NULL || changed) {
			/* A part must open with a picture that needs no other. */
			if (!key) {
				pl->nnal = nal0;
				pl->lead_delta++;
				continue;
			}
			if (new_part(pl, &cur) < 0)
				return -1;
			part = &pl->part[pl->npart - 1];
			changed = 0;
		}
		{
			struct pic *q = grow(pl->pic, &pl->piccap, pl->npic + 1, sizeof *q);
			uint64_t ms = e->device_ms;

			if (q == NULL)
				return -1;
			pl->pic = q;
			/* MP4 needs strictly increasing times; a camera clock
			 * that repeats or steps back is nudged forward. */
			if (pl->npic > 0 && ms <= last_ms) {
				ms = last_ms + 1;
				pl->ts_fixed++;
			}
			last_ms = ms;
			q += pl->npic++;
			q->ms = ms;
			q->seq = e->seq;
			q->key = key;
			q->nal0 = nal0;
			q->nnal = pl->nnal - nal0;
			part->npic++;
		}
	}
	return 0;
}

void
plan_free(struct plan *pl)
{
	free(pl->pic);
	free(pl->nal);
	free(pl->part);
	memset(pl, 0, sizeof *pl);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t
plan_last_interval(const struct plan *pl, const struct part *pt)
{
	uint64_t *d, m;
	size_t i, n = pt->npic - 1;

	/* A lone picture has no spacing to go by: show it for 1/30 s. */
	if (pt->npic < 2 || (d = calloc(n, sizeof *d)) == NULL)
		return 33;
	for (i = 0; i < n; i++)
		d[i] = pl->pic[pt->pic0 + i + 1].ms - pl->pic[pt->pic0 + i].ms;
	qsort(d, n, sizeof *d, cmp_u64);
	m = d[n / 2];
	free(d);
	return m;
}
