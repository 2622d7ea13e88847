#include <string.h>

#include "rec.h"
#include "util.h"

size_t
rec_open_pack(unsigned char *out, size_t cap, const struct rec_open *o)
{
	size_t len = REC_OPEN_FIXED + o->addr_len + o->path_len;

	if (len > cap || o->addr_len > 0xffff || o->path_len > 0xffff)
		return 0;
	be64_put(out, (uint64_t)o->wall_us);
	be16_put(out + 8, o->port);
	be16_put(out + 10, (uint16_t)o->addr_len);
	be16_put(out + 12, (uint16_t)o->path_len);
	be16_put(out + 14, 0);
	memcpy(out + REC_OPEN_FIXED, o->addr, o->addr_len);
	memcpy(out + REC_OPEN_FIXED + o->addr_len, o->path, o->path_len);
	return len;
}

int
rec_open_parse(const struct rec *r, struct rec_open *o)
{
	const unsigned char *b = r->body;

	if (r->type != REC_OPEN || r->len < REC_OPEN_FIXED)
		return -1;
	o->wall_us = (int64_t)be64_get(b);
	o->port = be16_get(b + 8);
	o->addr_len = be16_get(b + 10);
	o->path_len = be16_get(b + 12);
	if (REC_OPEN_FIXED + o->addr_len + o->path_len > r->len)
		return -1;
	o->addr = (const char *)b + REC_OPEN_FIXED;
	o->path = o->addr + o->addr_len;
	return 0;
}

void
rec_frame_pack(unsigned char out[REC_FRAME_FIXED], const struct rec_frame *f)
{
	be64_put(out, f->device_ms);
	be32_put(out + 8, f->seq);
	be32_put(out + 12, f->missing);
	out[16] = f->kind;
	out[17] = f->flags;
	be16_put(out + 18, 0);
}

int
rec_frame_parse(const struct rec *r, struct rec_frame *f)
{
	const unsigned char *b = r->body;

	if (r->type != REC_FRAME || r->len < REC_FRAME_FIXED)
		return -1;
	f->device_ms = be64_get(b);
	f->seq = be32_get(b + 8);
	f->missing = be32_get(b + 12);
	f->kind = b[16];
	f->flags = b[17];
	f->payload = b + REC_FRAME_FIXED;
	f->payload_len = r->len - REC_FRAME_FIXED;
	return 0;
}

void
rec_badframe_pack(unsigned char out[REC_BADFRAME_FIXED], const struct rec_badframe *b)
{
	be32_put(out, b->seq);
	be32_put(out + 4, b->msg_len);
	be16_put(out + 8, b->reason);
	be16_put(out + 10, 0);
}

int
rec_badframe_parse(const struct rec *r, struct rec_badframe *b)
{
	if (r->type != REC_BADFRAME || r->len < REC_BADFRAME_FIXED)
		return -1;
	b->seq = be32_get(r->body);
	b->msg_len = be32_get(r->body + 4);
	b->reason = be16_get(r->body + 8);
	b->text = (const char *)r->body + REC_BADFRAME_FIXED;
	b->text_len = r->len - REC_BADFRAME_FIXED;
	return 0;
}

size_t
rec_segment_pack_head(unsigned char *out, size_t cap, const struct rec_segment *s)
{
	size_t len = REC_SEGMENT_FIXED + s->id_len + s->qr_len;

	if (len > cap || s->id_len > 0xffff || s->qr_len > UINT32_MAX)
		return 0;
	be64_put(out, s->size);
	be16_put(out + 8, (uint16_t)s->id_len);
	be16_put(out + 10, 0);
	be32_put(out + 12, (uint32_t)s->qr_len);
	if (s->id_len > 0)
		memcpy(out + REC_SEGMENT_FIXED, s->id, s->id_len);
	if (s->qr_len > 0)
		memcpy(out + REC_SEGMENT_FIXED + s->id_len, s->qr, s->qr_len);
	return len;
}

int
rec_segment_parse(const struct rec *r, struct rec_segment *s)
{
	const unsigned char *b = r->body;

	if (r->type != REC_SEGMENT || r->len < REC_SEGMENT_FIXED)
		return -1;
	s->size = be64_get(b);
	s->id_len = be16_get(b + 8);
	s->qr_len = be32_get(b + 12);
	if (s->id_len > r->len - REC_SEGMENT_FIXED ||
	    s->qr_len > r->len - REC_SEGMENT_FIXED - s->id_len)
		return -1;
	s->id = (const char *)b + REC_SEGMENT_FIXED;
	s->qr = s->id + s->id_len;
	s->mp4 = (const unsigned char *)s->qr + s->qr_len;
	s->mp4_len = r->len - REC_SEGMENT_FIXED - s->id_len - s->qr_len;
	return 0;
}

size_t
rec_badsegment_pack_head(unsigned char *out, size_t cap, const struct rec_badsegment *b)
{
	size_t len = REC_BADSEGMENT_FIXED + b->id_len;

	if (len > cap || b->id_len > 0xffff)
		return 0;
	be32_put(out, b->msg_len);
	be16_put(out + 4, b->reason);
	be16_put(out + 6, (uint16_t)b->id_len);
	if (b->id_len > 0)
		memcpy(out + REC_BADSEGMENT_FIXED, b->id, b->id_len);
	return len;
}

int
rec_badsegment_parse(const struct rec *r, struct rec_badsegment *b)
{
	if (r->type != REC_BADSEGMENT || r->len < REC_BADSEGMENT_FIXED)
		return -1;
	b->msg_len = be32_get(r->body);
	b->reason = be16_get(r->body + 4);
	b->id_len = be16_get(r->body + 6);
	if (b->id_len > r->len - REC_BADSEGMENT_FIXED)
		return -1;
	b->id = (const char *)r->body + REC_BADSEGMENT_FIXED;
	b->text = b->id + b->id_len;
	b->text_len = r->len - REC_BADSEGMENT_FIXED - b->id_len;
	return 0;
}

void
rec_image_pack(unsigned char out[REC_IMAGE_FIXED], const struct rec_image *im)
{
	be32_put(out, im->number);
	be16_put(out + 4, im->width);
	be16_put(out + 6, im->height);
}

int
rec_image_parse(const struct rec *r, struct rec_image *im)
{
	if (r->type != REC_IMAGE || r->len < REC_IMAGE_FIXED)
		return -1;
	im->number = be32_get(r->body);
	im->width = be16_get(r->body + 4);
	im->height = be16_get(r->body + 6);
	im->jpeg = r->body + REC_IMAGE_FIXED;
	im->jpeg_len = r->len - REC_IMAGE_FIXED;
	return 0;
}

void
rec_badimage_pack(unsigned char out[REC_BADIMAGE_FIXED], const struct rec_badimage *b)
{
	be32_put(out, b->msg_len);
	be16_put(out + 4, b->reason);
	be16_put(out + 6, 0);
}

int
rec_badimage_parse(const struct rec *r, struct rec_badimage *b)
{
	if (r->type != REC_BADIMAGE || r->len < REC_BADIMAGE_FIXED)
		return -1;
	b->msg_len = be32_get(r->body);
	b->reason = be16_get(r->body + 4);
	b->text = (const char *)r->body + REC_BADIMAGE_FIXED;
	b->text_len = r->len - REC_BADIMAGE_FIXED;
	return 0;
}

int
rec_close_parse(const struct rec *r, uint16_t *code, const char **reason, size_t *reason_len)
{
	if (r->type != REC_CLOSE || r->len < 2)
		return -1;
	*code = be16_get(r->body);
	*reason = (const char *)r->body + 2;
	*reason_len = r->len - 2;
	return 0;
}

const char *
frame_kind_name(uint8_t kind)
{
	switch (kind) {
	case FRAME_CONFIG:
		return "config";
	case FRAME_KEY:
		return "key";
	case FRAME_DELTA:
		return "delta";
	case FRAME_JPEG:
		return "jpeg";
	default:
		return "unknown";
	}
}
