/* FLV is the simplest container ffmpeg reads from a pipe that carries a
 * timestamp per picture, and its tag times are milliseconds, the unit of
 * the camera clock. Payload bytes go from the mapped stream.h264 straight
 * to the pipe with writev; only the small headers are built here. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>

#include "mux.h"
#include "util.h"

#define NIOV 512
#define SCRATCH 16384

struct out {
	int fd;
	struct iovec iov[NIOV];
	int niov;
	unsigned char scratch[SCRATCH];
	size_t used;
};

static int
flush(struct out *o)
{
	struct iovec *v = o->iov;
	int n = o->niov;

	while (n > 0) {
		ssize_t w = writev(o->fd, v, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= v->iov_len) {
			w -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n > 0) {
			v->iov_base = (char *)v->iov_base + w;
			v->iov_len -= (size_t)w;
		}
	}
	o->niov = 0;
	o->used = 0;
	return 0;
}

/* Queue len bytes that stay valid until the next flush. */
static int
put(struct out *o, const void *p, size_t len)
{
	if (o->niov == NIOV && flush(o) < 0)
		return -1;
	o->iov[o->niov].iov_base = (void *)p;
	o->iov[o->niov].iov_len = len;
	o->niov++;
	return 0;
}

/* Room for n header bytes in the scratch area, and for two more iovecs. */
static unsigned char *
room(struct out *o, size_t n)
{
	unsigned char *p;

	/* The puts that follow must not flush, or scratch would be reused
	 * before it is written. */
	if ((o->used + n > SCRATCH || o->niov + 2 > NIOV) && flush(o) < 0)
		return NULL;
	p = o->scratch + o->used;
	o->used += n;
	return p;
}

static void
be24_put(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 16);
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)v;
}

/* The 11-byte tag header and the 5-byte AVC video header. */
static int
tag_start(struct out *o, size_t data, uint32_t ms, int key, int avc_type)
{
	unsigned char *h = room(o, 16);

	if (h == NULL)
		return -1;
	h[0] = 9;
	be24_put(h + 1, (uint32_t)data + 5);
	be24_put(h + 4, ms & 0xffffff);
	h[7] = (unsigned char)(ms >> 24);
	be24_put(h + 8, 0);
	h[11] = (unsigned char)((key ? 0x10 : 0x20) | 7);
	h[12] = (unsigned char)avc_type;
	be24_put(h + 13, 0);	/* composition time: the cameras send no B-frames */
	return put(o, h, 16);
}

static int
tag_end(struct out *o, size_t data)
{
	unsigned char *t = room(o, 4);

	if (t == NULL)
		return -1;
	be32_put(t, (uint32_t)(11 + 5 + data));
	return put(o, t, 4);
}

/* AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.2.4.1) with every
 * parameter set of the part and 4-byte NAL lengths. */
static int
sequence_header(struct out *o, const struct psset *s)
{
	static unsigned char rec[65536];
	const struct ps *first = NULL;
	size_t n = 6, nsps = 0, npps = 0, pps_at, i;

	for (i = 0; i < 32; i++) {
		const struct ps *p = &s->sps[i];
		if (p->p == NULL)
			continue;
		if (p->len > 0xffff || p->len < 4 || n + 2 + p->len > sizeof rec) {
			errno = EINVAL;
			return -1;
		}
		if (first == NULL)
			first = p;
		be16_put(rec + n, (uint16_t)p->len);
		memcpy(rec + n + 2, p->p, p->len);
		n += 2 + p->len;
		nsps++;
	}
	pps_at = n++;
	for (i = 0; i < 256; i++) {
		const struct ps *p = &s->pps[i];
		if (p->p == NULL)
			continue;
		if (p->len > 0xffff || n + 2 + p->len > sizeof rec) {
			errno = EINVAL;
			return -1;
		}
		be16_put(rec + n, (uint16_t)p->len);
		memcpy(rec + n + 2, p->p, p->len);
		n += 2 + p->len;
		npps++;
	}
	/* The record counts SPS in 5 bits and PPS in 8. */
	if (first == NULL || nsps > 31 || npps > 255) {
		errno = EINVAL;
		return -1;
	}
	rec[0] = 1;
	rec[1] = first->p[1];	/* profile_idc */
	rec[2] = first->p[2];	/* constraint flags */
	rec[3] = first->p[3];	/* level_idc */
	rec[4] = 0xfc | 3;	/* lengthSizeMinusOne */
	rec[5] = (unsigned char)(0xe0 | nsps);
	rec[pps_at] = (unsigned char)npps;
	if (tag_start(o, n, 0, 1, 0) < 0 || put(o, rec, n) < 0 || tag_end(o, n) < 0)
		return -1;
	return flush(o);
}

/* One NAL unit of a picture: its 4-byte length, then its bytes. */
static int
put_nal(const unsigned char *p, size_t len, void *arg)
{
	struct out *o = arg;
	unsigned char *n = room(o, 4);

	if (n == NULL)
		return -1;
	be32_put(n, (uint32_t)len);
	return put(o, n, 4) < 0 || put(o, p, len) < 0 ? -1 : 0;
}

int
flv_write_part(int fd, const struct plan *pl, const struct part *pt,
    const unsigned char *buf)
{
	static struct out o;
	static const unsigned char header[13] = {
		'F', 'L', 'V', 1, 0x01, 0, 0, 0, 9, 0, 0, 0, 0,
	};
	uint64_t base = pl->pic[pt->pic0].ms;
	size_t i;

	memset(&o, 0, sizeof o);
	o.fd = fd;
	if (put(&o, header, sizeof header) < 0 || sequence_header(&o, &pt->ps) < 0)
		return -1;
	for (i = pt->pic0; i < pt->pic0 + pt->npic; i++) {
		const struct pic *pc = &pl->pic[i];

		/* plan_build keeps both within FLV's limits. */
		if (pc->data + 5 > PLAN_TAG_MAX || pc->ms - base > UINT32_MAX) {
			errno = EFBIG;
			return -1;
		}
		if (tag_start(&o, pc->data, (uint32_t)(pc->ms - base), pc->key, 1) < 0 ||
		    plan_pic_nals(pc, buf, put_nal, &o) != 0 ||
		    tag_end(&o, pc->data) < 0)
			return -1;
	}
	return flush(&o);
}
