/* frameparse: frameparse.c reads the record stream and writes records;
 * segment.c, below it, decodes one segment message and calls nothing of
 * frameparse.c. */
#ifndef FRAMEPARSE_H
#define FRAMEPARSE_H

#include <stdarg.h>
#include <stddef.h>

#include <jansson.h>

#include "rec.h"

#define SEGMENT_ID_MAX 1024	/* longer ids are cut; no phone sends one */

enum segment_result {
	SEGMENT_NONE,		/* not a segment message: pass it on */
	SEGMENT_OK,		/* s->rec holds the segment */
	SEGMENT_BAD,		/* s->reason and s->why say what is wrong */
	SEGMENT_NOMEM,
};

struct segment {
	struct rec_segment rec;
	uint16_t reason;		/* enum badsegment_reason */
	char why[160];
	json_t *json;			/* the parsed message; rec.id points into it */
	unsigned char *b64;		/* data unescaped, when it had to be */
	unsigned char *mp4;
	char *qr;
};

/* segment.c */
enum segment_result segment_parse(const unsigned char *text, size_t len,
    struct segment *s);
void segment_free(struct segment *s);

#endif
