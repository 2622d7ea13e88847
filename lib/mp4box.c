#include <string.h>

#include "mp4box.h"
#include "util.h"

int
mp4_check(const unsigned char *p, size_t len, const char **why, size_t *at)
{
	size_t off = 0, hdr, size;
	int moov = 0;

	while (off < len) {
		*at = off;
		if (len - off < 8) {
			*why = "truncated box header";
			return -1;
		}
		size = be32_get(p + off);
		hdr = 8;
		if (size == 1) {		/* 64-bit largesize follows the type */
			uint64_t large;

			if (len - off < 16) {
				*why = "truncated box header";
				return -1;
			}
			large = be64_get(p + off + 8);
			hdr = 16;
			size = large > len - off ? len - off + 1 : (size_t)large;
		} else if (size == 0)		/* the box runs to the end */
			size = len - off;
		if (size < hdr) {
			*why = "box shorter than its header";
			return -1;
		}
		if (size > len - off) {
			*why = "box runs past the end";
			return -1;
		}
		if (off == 0 && memcmp(p + 4, "ftyp", 4) != 0) {
			*why = "does not start with an ftyp box";
			return -1;
		}
		if (memcmp(p + off + 4, "moov", 4) == 0)
			moov = 1;
		off += size;
	}
	*at = len;
	if (len == 0) {
		*why = "empty";
		return -1;
	}
	if (!moov) {
		*why = "no moov box";
		return -1;
	}
	return 0;
}

/* The box of type t among the boxes in p[0..len): its payload in
 * [*body, *body + *body_len). 0, or -1 when there is none or the boxes
 * do not tile the range. */
static int
find_box(const unsigned char *p, size_t len, const char *t,
    const unsigned char **body, size_t *body_len, size_t *from)
{
	size_t off = *from, hdr, size;

	while (off + 8 <= len) {
		size = be32_get(p + off);
		hdr = 8;
		if (size == 1) {
			if (len - off < 16 || be64_get(p + off + 8) > len - off)
				return -1;
			size = (size_t)be64_get(p + off + 8);
			hdr = 16;
		} else if (size == 0)
			size = len - off;
		if (size < hdr || size > len - off)
			return -1;
		if (memcmp(p + off + 4, t, 4) == 0) {
			*body = p + off + hdr;
			*body_len = size - hdr;
			*from = off + size;
			return 0;
		}
		off += size;
	}
	return -1;
}

static int
child(const unsigned char *p, size_t len, const char *t,
    const unsigned char **body, size_t *body_len)
{
	size_t from = 0;

	return find_box(p, len, t, body, body_len, &from);
}

int
mp4_video_track(const unsigned char *p, size_t len, uint64_t *samples,
    double *seconds)
{
	const unsigned char *moov, *trak, *mdia, *hdlr, *mdhd, *b;
	size_t moov_len, trak_len, mdia_len, hdlr_len, mdhd_len, b_len, from = 0;
	uint64_t timescale, duration;

	if (child(p, len, "moov", &moov, &moov_len) < 0)
		return -1;
	while (find_box(moov, moov_len, "trak", &trak, &trak_len, &from) == 0) {
		if (child(trak, trak_len, "mdia", &mdia, &mdia_len) < 0 ||
		    child(mdia, mdia_len, "hdlr", &hdlr, &hdlr_len) < 0 ||
		    hdlr_len < 12 || memcmp(hdlr + 8, "vide", 4) != 0)
			continue;
		if (child(mdia, mdia_len, "mdhd", &mdhd, &mdhd_len) < 0)
			return -1;
		if (mdhd_len >= 24 && mdhd[0] == 0) {
			timescale = be32_get(mdhd + 12);
			duration = be32_get(mdhd + 16);
		} else if (mdhd_len >= 36 && mdhd[0] == 1) {
			timescale = be32_get(mdhd + 20);
			duration = be64_get(mdhd + 24);
		} else
			return -1;
		if (timescale == 0 ||
		    child(mdia, mdia_len, "minf", &b, &b_len) < 0 ||
		    child(b, b_len, "stbl", &b, &b_len) < 0 ||
		    child(b, b_len, "stsz", &b, &b_len) < 0 || b_len < 12)
			return -1;
		*samples = be32_get(b + 8);
		*seconds = (double)duration / (double)timescale;
		return 0;
	}
	return -1;
}
