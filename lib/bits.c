/* Bounded bit reading; see bits.h. Every read checks the remaining bits
 * first, so hostile or truncated NAL units only ever set overrun. */
#include "bits.h"

void
bits_init(struct bits *b, const unsigned char *p, size_t len)
{
	b->p = p;
	b->nbits = len > SIZE_MAX / 8 ? SIZE_MAX / 8 * 8 : len * 8;
	b->pos = 0;
	b->overrun = 0;
}

uint32_t
bits_u(struct bits *b, int n)
{
	uint32_t v = 0;

	if (n <= 0)
		return 0;
	if (b->overrun || n > 32 || b->nbits - b->pos < (size_t)n) {
		b->overrun = 1;
		b->pos = b->nbits;
		return 0;
	}
	while (n-- > 0) {
		v = v << 1 | ((b->p[b->pos >> 3] >> (7 - (b->pos & 7))) & 1);
		b->pos++;
	}
	return v;
}

uint32_t
bits_ue(struct bits *b)
{
	int zeros = 0;
	uint32_t rest;

	while (!b->overrun && bits_u(b, 1) == 0) {
		if (++zeros > 31) {
			b->overrun = 1;
			return 0;
		}
	}
	if (b->overrun)
		return 0;
	if (zeros == 0)
		return 0;
	rest = bits_u(b, zeros);
	/* 2^zeros - 1 + rest; with 31 zeros this stays below 2^32 - 1. */
	return (uint32_t)((1ull << zeros) - 1 + rest);
}

int32_t
bits_se(struct bits *b)
{
	uint32_t k = bits_ue(b);

	if (k & 1)
		return (int32_t)((k >> 1) + 1);
	return -(int32_t)(k >> 1);
}

void
bits_skip(struct bits *b, size_t n)
{
	if (b->overrun || b->nbits - b->pos < n) {
		b->overrun = 1;
		b->pos = b->nbits;
		return;
	}
	b->pos += n;
}

size_t
bits_unescape(unsigned char *dst, size_t cap, const unsigned char *src, size_t len)
{
	size_t i, o = 0;
	int zeros = 0;

	for (i = 0; i < len && o < cap; i++) {
		if (zeros >= 2 && src[i] == 3) {
			zeros = 0;
			continue;
		}
		zeros = src[i] == 0 ? zeros + 1 : 0;
		dst[o++] = src[i];
	}
	return o;
}
