/* Sequence parameter set parsing (H.264 7.3.2.1.1 and the VUI of E.1.1 up
 * to its timing fields). Every value that sizes or indexes anything is
 * range-checked, so a hostile SPS yields -1, never a wild number. */
#include <string.h>

#include "bits.h"
#include "h264.h"

/* An SPS with every scaling list present stays far below this. */
#define SPS_RBSP_MAX 4096

static int
high_profile(int p)
{
	switch (p) {
	case 100: case 110: case 122: case 244: case 44: case 83: case 86:
	case 118: case 128: case 138: case 139: case 134: case 135:
		return 1;
	}
	return 0;
}

static void
skip_scaling_list(struct bits *b, int size)
{
	int last = 8, next = 8, j;

	for (j = 0; j < size && !b->overrun; j++) {
		if (next != 0) {
			int32_t delta = bits_se(b);
			if (delta < -128 || delta > 127) {
				b->overrun = 1;
				return;
			}
			next = (last + delta + 256) % 256;
		}
		last = next == 0 ? last : next;
	}
}

static int
parse_vui(struct bits *b, struct h264_sps *s)
{
	if (bits_u(b, 1)) {		/* aspect_ratio_info_present_flag */
		if (bits_u(b, 8) == 255) {	/* Extended_SAR */
			s->sar_width = (int)bits_u(b, 16);
			s->sar_height = (int)bits_u(b, 16);
		}
	}
	if (bits_u(b, 1))		/* overscan_info_present_flag */
		bits_skip(b, 1);
	if (bits_u(b, 1)) {		/* video_signal_type_present_flag */
		bits_skip(b, 4);
		if (bits_u(b, 1))	/* colour_description_present_flag */
			bits_skip(b, 24);
	}
	if (bits_u(b, 1)) {		/* chroma_loc_info_present_flag */
		bits_ue(b);
		bits_ue(b);
	}
	if (b->overrun)
		return -1;
	s->timing_info_present = (int)bits_u(b, 1);
	if (s->timing_info_present) {
		s->num_units_in_tick = bits_u(b, 32);
		s->time_scale = bits_u(b, 32);
		s->fixed_frame_rate = (int)bits_u(b, 1);
	}
	return b->overrun ? -1 : 0;
}

int
h264_sps_parse(const unsigned char *nal, size_t len, struct h264_sps *s)
{
	unsigned char rbsp[SPS_RBSP_MAX];
	struct bits b;
	uint32_t v, w_mbs, h_map, crop[4];
	int sub_w = 1, sub_h = 1, chroma_array_type, cu_x, cu_y, i;

	memset(s, 0, sizeof *s);
	if (len < 2 || (nal[0] & 0x1f) != NAL_SPS || (nal[0] & 0x80))
		return -1;
	bits_init(&b, rbsp, bits_unescape(rbsp, sizeof rbsp, nal + 1, len - 1));
	s->profile_idc = (int)bits_u(&b, 8);
	s->constraint_flags = (int)bits_u(&b, 8);
	s->level_idc = (int)bits_u(&b, 8);
	if ((v = bits_ue(&b)) > 31)
		return -1;
	s->sps_id = (int)v;
	s->chroma_format_idc = 1;
	s->bit_depth_luma = s->bit_depth_chroma = 8;
	if (high_profile(s->profile_idc)) {
		if ((v = bits_ue(&b)) > 3)
			return -1;
		s->chroma_format_idc = (int)v;
		if (v == 3)
			s->separate_colour_plane = (int)bits_u(&b, 1);
		if ((v = bits_ue(&b)) > 6)
			return -1;
		s->bit_depth_luma = 8 + (int)v;
		if ((v = bits_ue(&b)) > 6)
			return -1;
		s->bit_depth_chroma = 8 + (int)v;
		bits_skip(&b, 1);	/* qpprime_y_zero_transform_bypass_flag */
		if (bits_u(&b, 1)) {	/* seq_scaling_matrix_present_flag */
			int lists = s->chroma_format_idc != 3 ? 8 : 12;
			for (i = 0; i < lists && !b.overrun; i++)
				if (bits_u(&b, 1))
					skip_scaling_list(&b, i < 6 ? 16 : 64);
		}
	}
	if ((v = bits_ue(&b)) > 12)
		return -1;
	s->log2_max_frame_num = 4 + (int)v;
	if ((v = bits_ue(&b)) > 2)
		return -1;
	s->poc_type = (int)v;
	if (s->poc_type == 0) {
		if ((v = bits_ue(&b)) > 12)
			return -1;
		s->log2_max_poc_lsb = 4 + (int)v;
	} else if (s->poc_type == 1) {
		bits_skip(&b, 1);	/* delta_pic_order_always_zero_flag */
		bits_se(&b);		/* offset_for_non_ref_pic */
		bits_se(&b);		/* offset_for_top_to_bottom_field */
		if ((v = bits_ue(&b)) > 255)
			return -1;
		while (v-- > 0 && !b.overrun)
			bits_se(&b);
	}
	if ((v = bits_ue(&b)) > 16)
		return -1;
	s->max_num_ref_frames = (int)v;
	bits_skip(&b, 1);		/* gaps_in_frame_num_value_allowed_flag */
	w_mbs = bits_ue(&b) + 1;
	h_map = bits_ue(&b) + 1;
	s->frame_mbs_only = (int)bits_u(&b, 1);
	if (!s->frame_mbs_only)
		s->mb_adaptive_frame_field = (int)bits_u(&b, 1);
	bits_skip(&b, 1);		/* direct_8x8_inference_flag */
	memset(crop, 0, sizeof crop);
	if (bits_u(&b, 1))
		for (i = 0; i < 4; i++)
			crop[i] = bits_ue(&b);
	s->vui_present = (int)bits_u(&b, 1);
	if (b.overrun)
		return -1;
	/* 16384 luma samples a side is beyond every level of the standard. */
	if (w_mbs > 1024 || h_map > 1024)
		return -1;
	s->coded_width = (int)w_mbs * 16;
	s->coded_height = (int)h_map * 16 * (2 - s->frame_mbs_only);

	chroma_array_type = s->separate_colour_plane ? 0 : s->chroma_format_idc;
	if (s->chroma_format_idc == 1)
		sub_w = sub_h = 2;
	else if (s->chroma_format_idc == 2)
		sub_w = 2;
	cu_x = chroma_array_type == 0 ? 1 : sub_w;
	cu_y = (chroma_array_type == 0 ? 1 : sub_h) * (2 - s->frame_mbs_only);
	for (i = 0; i < 4; i++)
		if (crop[i] > 16384)
			return -1;
	s->crop_left = (int)crop[0] * cu_x;
	s->crop_right = (int)crop[1] * cu_x;
	s->crop_top = (int)crop[2] * cu_y;
	s->crop_bottom = (int)crop[3] * cu_y;
	s->width = s->coded_width - s->crop_left - s->crop_right;
	s->height = s->coded_height - s->crop_top - s->crop_bottom;
	if (s->width <= 0 || s->height <= 0)
		return -1;
	if (s->vui_present && parse_vui(&b, s) < 0) {
		/* Truncated before the timing fields: keep the SPS, no timing. */
		s->timing_info_present = 0;
		s->num_units_in_tick = s->time_scale = 0;
		s->fixed_frame_rate = 0;
	}
	return 0;
}

double
h264_sps_fps(const struct h264_sps *s)
{
	if (!s->timing_info_present || s->num_units_in_tick == 0 || s->time_scale == 0)
		return 0;
	return (double)s->time_scale / (2.0 * s->num_units_in_tick);
}

int
h264_find_sps(const unsigned char *buf, size_t len, struct h264_sps *sps, size_t *offset)
{
	struct h264_nal nal;
	size_t pos = 0;

	while (h264_next_nal(buf, len, &pos, &nal))
		if (nal.len > 0 && nal.type == NAL_SPS &&
		    h264_sps_parse(nal.p, nal.len, sps) == 0) {
			*offset = nal.start;
			return 0;
		}
	return -1;
}

/* The first ue(v) after the NAL header; -1 if unreadable. 16 bytes hold
 * the longest ue(v) with emulation-prevention bytes in it. */
static long
first_ue(const unsigned char *nal, size_t len)
{
	unsigned char rbsp[16];
	struct bits b;
	uint32_t v;

	if (len < 2)
		return -1;
	bits_init(&b, rbsp, bits_unescape(rbsp, sizeof rbsp, nal + 1, len - 1));
	v = bits_ue(&b);
	return b.overrun ? -1 : (long)v;
}

long
h264_slice_first_mb(const unsigned char *nal, size_t len)
{
	return first_ue(nal, len);
}

int
h264_pps_id(const unsigned char *nal, size_t len)
{
	long id = first_ue(nal, len);

	return id > 255 ? -1 : (int)id;
}
