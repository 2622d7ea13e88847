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

/* What a picture's entry adds to the MP4: every NAL unit but the
 * parameter sets, which go into the part's sequence header. */
static int
in_picture(const struct h264_nal *nal)
{
	return nal->len > 0 && nal->type != NAL_SPS && nal->type != NAL_PPS;
}

int
plan_pic_nals(const struct pic *pc, const unsigned char *buf,
    int (*fn)(const unsigned char *p, size_t len, void *arg), void *arg)
{
	struct h264_nal nal;
	size_t pos = 0;
	int r;

	while (h264_next_nal(buf + pc->offset, pc->size, &pos, &nal))
		if (in_picture(&nal) && (r = fn(nal.p, nal.len, arg)) != 0)
			return r;
	return 0;
}

int
plan_build(struct plan *pl, const struct index *ix, const unsigned char *buf,
    size_t len, size_t max_parts)
{
	struct psset cur;
	struct part *part = NULL;
	struct h264_sps sps;
	struct h264_nal nal;
	uint64_t last_ms = 0, base_ms = 0, data, ms;
	size_t i, pos;
	int changed = 0, need_key = 0, picture, slice, key, id;

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
		data = 0;
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
				if (nal.type >= 1 && nal.type <= 5)
					slice = 1;
				if (nal.type == NAL_IDR)
					key = 1;
				data += 4 + nal.len;
			}
		}
		if (!picture)
			continue;
		if (!slice) {
			pl->empty++;
			continue;
		}
		if (pl->parts_dropped) {
			pl->parts_dropped++;
			continue;
		}
		if (!complete(&cur)) {
			pl->no_params++;
			continue;
		}
		/* A picture FLV cannot carry is left out, and so is every
		 * picture that may refer to it, up to the next key frame. */
		if (data + 5 > PLAN_TAG_MAX) {
			pl->too_large++;
			need_key = 1;
			continue;
		}
		if (need_key && !key) {
			pl->after_large++;
			continue;
		}
		need_key = 0;
		/* MP4 needs strictly increasing times; a camera clock that
		 * repeats or steps back is nudged forward. */
		ms = e->device_ms;
		if (pl->npic > 0 && ms <= last_ms)
			ms = last_ms + 1;
		/* FLV times are 32-bit milliseconds from the part's start: a
		 * clock that leaps further starts a new part. */
		if (part != NULL && ms - base_ms > UINT32_MAX)
			changed = 1;
		if (part == NULL || changed) {
			/* A part must open with a picture that needs no other. */
			if (!key) {
				pl->lead_delta++;
				continue;
			}
			if (pl->npart == max_parts) {
				pl->parts_dropped = 1;
				pl->first_part_dropped = e->seq;
				continue;
			}
			if (new_part(pl, &cur) < 0)
				return -1;
			part = &pl->part[pl->npart - 1];
			base_ms = ms;
			changed = 0;
		}
		{
			struct pic *q = grow(pl->pic, &pl->piccap, pl->npic + 1, sizeof *q);

			if (q == NULL)
				return -1;
			pl->pic = q;
			if (pl->npic > 0 && ms != e->device_ms)
				pl->ts_fixed++;
			last_ms = ms;
			q += pl->npic++;
			q->ms = ms;
			q->offset = e->offset;
			q->size = e->size;
			q->seq = e->seq;
			q->data = (uint32_t)data;
			q->key = key;
			part->npic++;
		}
	}
	return 0;
}

void
plan_free(struct plan *pl)
{
	free(pl->pic);
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
