/* The top-level box structure of an MP4 file (ISO/IEC 14496-12 4.2), enough
 * to tell an MP4 from anything else before it is stored as one. */
#ifndef CAMREC_MP4BOX_H
#define CAMREC_MP4BOX_H

#include <stddef.h>
#include <stdint.h>

/* mp4box.c */
/* Check that p[0..len) is a sequence of boxes that tiles it exactly, opens
 * with ftyp and holds a moov. 0, or -1 with *why saying what is wrong and
 * *at the offset where. */
int mp4_check(const unsigned char *p, size_t len, const char **why, size_t *at);

/* The first video track of an MP4 (moov/trak with a 'vide' handler): its
 * sample count (stsz) and its media duration in seconds (mdhd). 0, or -1
 * when the file has no such track or its boxes are inconsistent. */
int mp4_video_track(const unsigned char *p, size_t len, uint64_t *samples,
    double *seconds);

#endif
