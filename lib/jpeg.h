/* The one check every ESP32 image passes: a whole JPEG file in one
 * message. The board sends nothing else to tell a good image from a
 * truncated one. */
#ifndef CAMREC_JPEG_H
#define CAMREC_JPEG_H

#include <stddef.h>
#include <stdint.h>

struct jpeg_info {
	uint16_t width, height;		/* of the first frame header; 0 when none */
};

/* jpeg.c */
/* 0 when p holds a JPEG from its SOI (FF D8) at the start to its EOI
 * (FF D9) at the end, else an enum badimage_reason from rec.h. The size
 * comes from the first SOFn marker segment before the scan, when there is
 * one. */
int jpeg_check(const unsigned char *p, size_t len, struct jpeg_info *info);

#endif
