/* A bounded MSB-first bit reader for H.264 RBSP fields (Exp-Golomb and
 * fixed-width), and emulation-prevention removal. Reading past the end
 * never touches memory outside the buffer: it sets overrun and yields 0. */
#ifndef CAMREC_BITS_H
#define CAMREC_BITS_H

#include <stddef.h>
#include <stdint.h>

struct bits {
	const unsigned char *p;
	size_t nbits;		/* bits in the buffer */
	size_t pos;		/* next bit to read */
	int overrun;		/* a read went past the end */
};

/* bits.c */
void bits_init(struct bits *b, const unsigned char *p, size_t len);
/* Read n bits (0..32) as an unsigned number. */
uint32_t bits_u(struct bits *b, int n);
/* ue(v): values above 2^32 - 2 set overrun (they cannot be valid). */
uint32_t bits_ue(struct bits *b);
/* se(v) */
int32_t bits_se(struct bits *b);
void bits_skip(struct bits *b, size_t n);
/* Copy at most cap bytes of RBSP out of NAL payload src, dropping each
 * emulation_prevention_three_byte (00 00 03 -> 00 00); returns the bytes
 * written. Only the fields a caller parses need this, never a whole file. */
size_t bits_unescape(unsigned char *dst, size_t cap, const unsigned char *src, size_t len);

#endif
