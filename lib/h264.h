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
/* What a decoder needs before it can show a picture. */
struct h264_params {
	const unsigned char *sps;	/* the first SPS NAL unit, or NULL */
	size_t sps_len;
	int has_pps;
	int has_picture;		/* a slice NAL unit (types 1..5) */
};
/* Scan buf until an SPS, a PPS and a picture have all been seen, or to
 * its end. */
void h264_find_params(const unsigned char *buf, size_t len, struct h264_params *hp);

/* h264_sps.c */
/* A sequence parameter set, the fields camrec needs (7.3.2.1.1, E.1.1). */
struct h264_sps {
	int profile_idc, level_idc, sps_id;
	int constraint_flags;		/* constraint_set0..5 flags, set0 = 0x80 */
	int chroma_format_idc;		/* 0 mono, 1 4:2:0, 2 4:2:2, 3 4:4:4 */
	int separate_colour_plane;
	int bit_depth_luma, bit_depth_chroma;	/* 8.. */
	int log2_max_frame_num;		/* 4..16 */
	int poc_type;			/* 0..2 */
	int log2_max_poc_lsb;		/* poc_type 0 only */
	int max_num_ref_frames;
	int frame_mbs_only, mb_adaptive_frame_field;
	int coded_width, coded_height;	/* in luma samples, before cropping */
	int crop_left, crop_right, crop_top, crop_bottom;	/* in luma samples */
	int width, height;		/* after cropping */
	int vui_present;
	int sar_width, sar_height;	/* 0 when not given */
	int timing_info_present;
	uint32_t num_units_in_tick, time_scale;
	int fixed_frame_rate;
};
/* Parse an SPS NAL unit; nal points at the NAL header byte. Emulation-
 * prevention bytes are removed internally. 0, or -1 when it is no SPS or
 * is malformed or truncated (*sps is then unspecified). The VUI is read
 * up to its timing fields only; a VUI cut short before them counts as a
 * VUI without timing. */
int h264_sps_parse(const unsigned char *nal, size_t len, struct h264_sps *sps);
/* Frame rate the VUI timing claims, time_scale / (2 * num_units_in_tick);
 * 0 when the SPS has no usable timing. */
double h264_sps_fps(const struct h264_sps *sps);
/* Find the first SPS in buf that parses; 0 and *sps, *offset (of its start
 * code) set, or -1 when none does. Stops at the first good one. */
int h264_find_sps(const unsigned char *buf, size_t len, struct h264_sps *sps, size_t *offset);
/* first_mb_in_slice of a slice NAL unit (types 1, 2, 5); -1 if unreadable. */
long h264_slice_first_mb(const unsigned char *nal, size_t len);
/* pic_parameter_set_id of a PPS NAL unit; -1 if unreadable. */
int h264_pps_id(const unsigned char *nal, size_t len);

/* h264_au.c */
/* One access unit (7.4.1.2.3) found by h264_au_scan. [start, end) runs from
 * its first NAL unit's start code to the next access unit's first start
 * code (or the end of the buffer), so consecutive units tile the stream
 * after the first start code and bytes between NAL units stay with the
 * unit before them. */
struct h264_au {
	size_t start, end;
	int has_picture;	/* holds a slice of a primary coded picture */
	int is_key;		/* holds an IDR slice */
	int has_sps, has_pps;
	int nals;		/* NAL units in it */
};
/* Split a whole buffer into access units and call fn for each, in order.
 * A new unit starts at an access unit delimiter, at an SPS, PPS, SEI or
 * NAL type 14..18 that follows a picture's slices, and at a slice with
 * first_mb_in_slice 0 when the current unit already holds a slice (so
 * the slices of a multi-slice picture stay together). NAL units with the
 * forbidden_zero_bit set are counted but otherwise ignored. Bytes before
 * the first start code belong to no unit. fn returns 0 to go on; any other
 * value stops the scan and is returned. 0 when the whole buffer was
 * scanned. Only slice headers' first bytes are read beyond the NAL
 * headers, so a scan runs near memchr speed. */
int h264_au_scan(const unsigned char *buf, size_t len,
    int (*fn)(const struct h264_au *, void *), void *arg);

#endif
