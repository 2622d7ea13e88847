/* H.264 Annex-B reading shared by frameparse, fpsest, mux and h264info. */
#ifndef CAMREC_H264_H
#define CAMREC_H264_H

#include <stddef.h>
#include <stdint.h>

enum h264_nal_type {
	NAL_SLICE = 1, NAL_IDR = 5, NAL_SEI = 6, NAL_SPS = 7, NAL_PPS = 8, NAL_AUD = 9,
};

struct h264_nal {
	const unsigned char *p;	/* first byte after the start code (the NAL header) */
	size_t len;		/* up to the next start code, trailing zeros dropped */
	size_t start;		/* offset of the start code in the buffer */
	int type;		/* nal_unit_type, 0..31 */
};

/* h264.c */
/* Find the next NAL unit at or after *pos; 1 and *pos advanced past it, or 0
 * when there is none. Never reads outside [buf, buf + len). */
int h264_next_nal(const unsigned char *buf, size_t len, size_t *pos, struct h264_nal *nal);
/* What one access unit holds: enum frame_kind of rec.h. */
int h264_classify(const unsigned char *buf, size_t len);

#endif
