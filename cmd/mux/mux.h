/* mux: the plan (which pictures go into which MP4 part, with which
 * parameter sets) and the FLV stream that carries it to ffmpeg. */
#ifndef MUX_H
#define MUX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "index.h"

struct ps {				/* one SPS or PPS NAL unit */
	const unsigned char *p;
	size_t len;
};

struct psset {
	struct ps sps[32];		/* by seq_parameter_set_id */
	struct ps pps[256];		/* by pic_parameter_set_id */
};

/* A picture is its index entry's bytes less the parameter sets; its NAL
 * units are found again when it is written, so the plan costs the same
 * however many NAL units a (hostile) picture holds. */
struct pic {
	uint64_t ms;			/* device time, made strictly increasing */
	uint64_t offset;		/* its index entry in stream.h264 */
	uint32_t size;
	uint32_t seq;
	uint32_t data;			/* FLV payload: 4 + length per NAL unit */
	int key;
};

struct part {
	struct psset ps;
	size_t pic0, npic;
	int width, height;		/* of its first SPS; 0 when unparsable */
};

struct plan {
	struct pic *pic;
	size_t npic, piccap;
	struct part *part;
	size_t npart;
	/* What was left out or changed, for warnings. */
	size_t no_params;		/* pictures before any SPS/PPS */
	size_t lead_delta;		/* non-key pictures opening a part */
	size_t empty;			/* key/delta entries without a slice */
	size_t ts_fixed;		/* device times moved to keep order */
	size_t truncated;		/* index entries past the end of the file */
	size_t first_truncated;		/* 1-based index entry, if any */
	size_t too_large;		/* pictures over what an FLV tag carries */
	size_t after_large;		/* pictures left out until the next key frame */
	size_t parts_dropped;		/* pictures past the last part allowed */
	uint32_t first_part_dropped;	/* seq of the first of them */
};

/* plan.c */
#define PLAN_TAG_MAX 0xffffff		/* FLV DataSize is 24 bits */
/* Walk the index over the mapped stream, making at most max_parts parts.
 * 0, or -1 with errno (ENOMEM). */
int plan_build(struct plan *pl, const struct index *ix, const unsigned char *buf,
    size_t len, size_t max_parts);
/* Call fn for each NAL unit of pc that goes into the MP4; stops at the
 * first nonzero return and returns it. */
int plan_pic_nals(const struct pic *pc, const unsigned char *buf,
    int (*fn)(const unsigned char *p, size_t len, void *arg), void *arg);
void plan_free(struct plan *pl);
/* The frame interval given to the last picture: the median spacing. */
uint64_t plan_last_interval(const struct plan *pl, const struct part *pt);

/* concat.c */
/* Append s to an ffconcat list inside its single quotes. */
void concat_quote(FILE *f, const char *s);
/* The ffconcat list of the MP4 files segments.tsv at tsv names, in folder
 * dir; malloc'd text with *nfiles set, or NULL with errno, and for a bad
 * line errno EINVAL, *bad_line (1-based) and *why. */
char *concat_list(const char *dir, const char *tsv, size_t *nfiles, size_t *bad_line,
    const char **why);

/* images.c */
struct images_plan {
	size_t n;			/* images in the list */
	size_t skipped;			/* entries that are no whole JPEG in the file */
	size_t ts_fixed;		/* arrival times moved to keep 1 ms apart */
	unsigned width, height;		/* of the first image */
	uint64_t first_us;		/* its arrival time */
	uint64_t last_ms;		/* the last image's duration: the median spacing */
	uint64_t duration_ms;
};
/* The ffconcat list that shows each JPEG image of the index in the file
 * abs_in (mapped at buf, len bytes; an absolute path) until the next
 * arrived: malloc'd text, or NULL with errno (ENOMEM), or NULL with
 * ip->n 0 when no entry is a whole image. */
char *images_list(const char *abs_in, const struct index *ix, const unsigned char *buf,
    size_t len, struct images_plan *ip);

/* flv.c */
/* Write one part as an FLV stream to fd. 0, or -1 with errno (EPIPE when
 * ffmpeg went away). */
int flv_write_part(int fd, const struct plan *pl, const struct part *pt,
    const unsigned char *buf);

#endif
