/* Access-unit splitting (H.264 7.4.1.2.3). Only NAL headers and the
 * first_mb_in_slice of slices are read, so the cost is the start-code
 * scan. first_mb_in_slice 0 marks a new picture; that misses arbitrary
 * slice order (baseline ASO) and redundant pictures, which no camera
 * camrec records sends. */
#include "h264.h"

static int
is_vcl(int type)
{
	return type == NAL_SLICE || type == 2 || type == NAL_IDR;
}

/* NAL types that, after a picture's slices, begin the next access unit. */
static int
starts_au_after_vcl(int type)
{
	return type == NAL_SEI || type == NAL_SPS || type == NAL_PPS ||
	    type == NAL_AUD || (type >= 14 && type <= 18);
}

int
h264_au_scan(const unsigned char *buf, size_t len,
    int (*fn)(const struct h264_au *, void *), void *arg)
{
	struct h264_au au = { 0 };
	struct h264_nal nal;
	size_t pos = 0;
	int open = 0, has_vcl = 0, r, split;

	while (h264_next_nal(buf, len, &pos, &nal)) {
		int type = nal.type;

		if (nal.len == 0 || (nal.p[0] & 0x80)) {
			/* Not a NAL unit (zero run or forbidden bit): noise. */
			if (open)
				au.nals++;
			continue;
		}
		split = 0;
		if (open) {
			if (type == NAL_AUD)
				split = 1;
			else if (has_vcl && starts_au_after_vcl(type))
				split = 1;
			else if (has_vcl && is_vcl(type) &&
			    h264_slice_first_mb(nal.p, nal.len) == 0)
				split = 1;
		}
		if (split) {
			au.end = nal.start;
			if ((r = fn(&au, arg)) != 0)
				return r;
			open = 0;
		}
		if (!open) {
			au = (struct h264_au){ .start = nal.start };
			open = 1;
			has_vcl = 0;
		}
		au.nals++;
		if (is_vcl(type)) {
			has_vcl = 1;
			au.has_picture = 1;
			if (type == NAL_IDR)
				au.is_key = 1;
		} else if (type == NAL_SPS) {
			au.has_sps = 1;
		} else if (type == NAL_PPS) {
			au.has_pps = 1;
		}
	}
	if (open) {
		au.end = len;
		return fn(&au, arg);
	}
	return 0;
}
