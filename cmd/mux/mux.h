/* mux: the plan (which pictures go into which MP4 part, with which
 * parameter sets) and the FLV stream that carries it to ffmpeg. */
#ifndef MUX_H
#define MUX_H

#include <stddef.h>
#include <stdint.h>

#include "index.h"

struct ps {				/* one SPS or PPS NAL unit */
	const unsigned char *p;
	size_t len;
};

struct psset {
	struct ps sps[32];		/* by seq_parameter_set_id */
	struct ps pps[256];		/* by pic_parameter_set_id */
};

struct nalref {
	const unsigned char *p;
	size_t len;
};

struct pic {
	uint64_t ms;			/* device time, made strictly increasing */
	uint32_t seq;
	int key;
	size_t nal0, nnal;		/* its NAL units in plan.nal */
};

struct part {
	struct psset ps;
	size_t pic0, npic;
	int width, height;		/* of its first SPS; 0 when unparsable */
};

struct plan {
	struct pic *pic;
	size_t npic, piccap;
	struct nalref *nal;
	size_t nnal, nalcap;
	struct part *part;
	size_t npart;
	/* What was left out or changed, for warnings. */
	size_t no_params;		/* pictures before any SPS/PPS */
	size_t lead_delta;		/* non-key pictures opening a part */
	size_t empty;			/* key/delta entries without a slice */
	size_t ts_fixed;		/* device times moved to keep order */
	size_t truncated;		/* index entries past the end of the file */
	size_t first_truncated;		/* 1-based index entry, if any */
};

/* plan.c */
/* Walk the index over the mapped stream. 0, or -1 with errno (ENOMEM). */
int plan_build(struct plan *pl, const struct index *ix, const unsigned char *buf, size_t len);
void plan_free(struct plan *pl);
/* The frame interval given to the last picture: the median spacing. */
uint64_t plan_last_interval(const struct plan *pl, const struct part *pt);

/* flv.c */
/* Write one part as an FLV stream to fd. 0, or -1 with errno (EPIPE when
 * ffmpeg went away). */
int flv_write_part(int fd, const struct plan *pl, const struct part *pt);

#endif
