/* The source's byte stream cut into messages a viewer can start at
 * (liverelay.h). Reads arrive in arbitrary pieces; only whole boxes or
 * whole packets ever leave, so a viewer never gets half a fragment. For
 * fragmented MP4 a fragment is KEY when the video track's first sample is
 * a sync sample by the sample flags of ISO/IEC 14496-12 8.8.3.1: trun's
 * first-sample or per-sample flags, else tfhd's default, else trex's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "liverelay.h"
#include "util.h"

#define TS_PACKET 188
#define TS_MAX_PACKETS 512		/* per message, between key packets */
#define SAMPLE_NON_SYNC 0x10000u

void
cut_init(struct cutter *c, enum cut_format f)
{
	memset(c, 0, sizeof(*c));
	c->format = f;
}

void
cut_reset(struct cutter *c)
{
	c->len = c->scan = 0;
	c->in_fragment = c->key = 0;
	c->video_track = c->trex_flags = 0;
}

void
cut_free(struct cutter *c)
{
	free(c->buf);
	cut_init(c, c->format);
}

int
cut_feed(struct cutter *c, const void *p, size_t n)
{
	if (c->cap - c->len < n) {
		size_t cap = c->cap ? c->cap : 65536;
		unsigned char *b;

		while (cap - c->len < n)
			cap *= 2;
		if ((b = realloc(c->buf, cap)) == NULL)
			return -1;
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return 0;
}

/* The box at p[0..len): 1 with its type and payload, 0 when incomplete,
 * -1 when malformed. */
static int
box_at(const unsigned char *p, size_t len, char type[5],
    const unsigned char **body, size_t *body_len, size_t *size)
{
	uint64_t sz;
	size_t hdr = 8;

	if (len < 8)
		return 0;
	sz = be32_get(p);
	if (sz == 1) {
		if (len < 16)
			return 0;
		sz = be64_get(p + 8);
		hdr = 16;
	} else if (sz == 0)
		return -1;		/* "to the end" cannot be streamed */
	if (sz < hdr || sz > CUT_MAX_BOX)
		return -1;
	memcpy(type, p + 4, 4);
	type[4] = '\0';
	*size = (size_t)sz;
	if (len < sz)
		return 0;
	*body = p + hdr;
	*body_len = (size_t)sz - hdr;
	return 1;
}

/* The child box of type t in p[0..len) after skip bytes of the parent's
 * own fields, or NULL. */
static const unsigned char *
child(const unsigned char *p, size_t len, const char *t, size_t *body_len,
    const unsigned char **next)
{
	size_t off = 0, size;
	const unsigned char *body;
	char type[5];

	while (box_at(p + off, len - off, type, &body, body_len, &size) == 1) {
		off += size;
		if (memcmp(type, t, 4) == 0) {
			if (next)
				*next = p + off;
			return body;
		}
	}
	return NULL;
}

/* From the moov: the video track's id and its trex default flags. */
static void
read_moov(struct cutter *c, const unsigned char *p, size_t len)
{
	const unsigned char *trak, *rest = p, *mvex, *trex, *tkhd, *mdia, *hdlr;
	size_t trak_len, n, mvex_len;

	while ((trak = child(rest, len - (size_t)(rest - p), "trak", &trak_len,
	    &rest)) != NULL) {
		if ((tkhd = child(trak, trak_len, "tkhd", &n, NULL)) == NULL ||
		    n < 24 ||
		    (mdia = child(trak, trak_len, "mdia", &n, NULL)) == NULL ||
		    (hdlr = child(mdia, n, "hdlr", &n, NULL)) == NULL || n < 12 ||
		    memcmp(hdlr + 8, "vide", 4) != 0)
			continue;
		c->video_track = be32_get(tkhd + (tkhd[0] == 1 ? 20 : 12));
		break;
	}
	if ((mvex = child(p, len, "mvex", &mvex_len, NULL)) == NULL)
		return;
	rest = mvex;
	while ((trex = child(rest, mvex_len - (size_t)(rest - mvex), "trex", &n,
	    &rest)) != NULL)
		if (n >= 24 && be32_get(trex + 4) == c->video_track)
			c->trex_flags = be32_get(trex + 20);
}

/* Whether the moof's video track fragment starts with a sync sample. */
static int
moof_key(const struct cutter *c, const unsigned char *p, size_t len)
{
	const unsigned char *traf, *rest = p, *tfhd, *trun;
	size_t traf_len, n, off;
	uint32_t tf, tr, flags;

	while ((traf = child(rest, len - (size_t)(rest - p), "traf", &traf_len,
	    &rest)) != NULL) {
		if ((tfhd = child(traf, traf_len, "tfhd", &n, NULL)) == NULL ||
		    n < 8)
			continue;
		if (c->video_track && be32_get(tfhd + 4) != c->video_track)
			continue;
		flags = c->trex_flags;
		tf = be32_get(tfhd) & 0xffffff;
		off = 8 + (tf & 0x1 ? 8 : 0) + (tf & 0x2 ? 4 : 0) +
		    (tf & 0x8 ? 4 : 0) + (tf & 0x10 ? 4 : 0);
		if (tf & 0x20 && n >= off + 4)
			flags = be32_get(tfhd + off);
		if ((trun = child(traf, traf_len, "trun", &n, NULL)) == NULL ||
		    n < 8 || be32_get(trun + 4) == 0)
			return 0;
		tr = be32_get(trun) & 0xffffff;
		off = 8 + (tr & 0x1 ? 4 : 0);
		if (tr & 0x4) {
			if (n < off + 4)
				return 0;
			flags = be32_get(trun + off);
		} else if (tr & 0x400) {
			off += (tr & 0x100 ? 4 : 0) + (tr & 0x200 ? 4 : 0);
			if (n < off + 4)
				return 0;
			flags = be32_get(trun + off);
		}
		return !(flags & SAMPLE_NON_SYNC);
	}
	return 0;
}

static struct fanout_msg *
take(struct cutter *c, size_t n, int flags, const char **why)
{
	struct fanout_msg *m;

	if ((m = fanout_msg_new(c->buf, n, flags)) == NULL) {
		*why = "memory";
		return NULL;
	}
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	c->scan = 0;
	return m;
}

static struct fanout_msg *
next_fmp4(struct cutter *c, const char **why)
{
	const unsigned char *body;
	size_t body_len, size;
	char type[5];
	int r;

	while ((r = box_at(c->buf + c->scan, c->len - c->scan, type, &body,
	    &body_len, &size)) == 1) {
		c->scan += size;
		if (strcmp(type, "moov") == 0) {
			c->video_track = c->trex_flags = 0;
			read_moov(c, body, body_len);
			c->in_fragment = 0;
			return take(c, c->scan, FANOUT_INIT, why);
		}
		if (strcmp(type, "moof") == 0) {
			c->in_fragment = 1;
			c->key = moof_key(c, body, body_len);
		} else if (strcmp(type, "mdat") == 0 && c->in_fragment) {
			c->in_fragment = 0;
			return take(c, c->scan, c->key ? FANOUT_KEY : 0, why);
		}
	}
	if (r < 0)
		*why = "malformed MP4 box";
	else if (c->scan > CUT_MAX_BOX)
		*why = "no MP4 fragment in 64 MiB";
	return NULL;
}

static int
ts_random_access(const unsigned char *p)
{
	return (p[3] & 0x20) && p[4] > 0 && (p[5] & 0x40);
}

static struct fanout_msg *
next_ts(struct cutter *c, const char **why)
{
	size_t n = 0, skip = 0;

	/* Lost sync (or a source that does not start on a packet): drop
	 * bytes up to the next sync byte. */
	while (skip < c->len && c->buf[skip] != 0x47)
		skip++;
	if (skip > 0) {
		memmove(c->buf, c->buf + skip, c->len - skip);
		c->len -= skip;
	}
	while (c->len - n >= TS_PACKET && n / TS_PACKET < TS_MAX_PACKETS) {
		if (c->buf[n] != 0x47)
			break;		/* lost sync: the next call finds it */
		if (n > 0 && ts_random_access(c->buf + n))
			break;
		n += TS_PACKET;
	}
	if (n == 0)
		return NULL;
	return take(c, n, ts_random_access(c->buf) ? FANOUT_KEY : 0, why);
}

struct fanout_msg *
cut_next(struct cutter *c, const char **why)
{
	*why = NULL;
	if (c->format == CUT_MPEGTS)
		return next_ts(c, why);
	return next_fmp4(c, why);
}
