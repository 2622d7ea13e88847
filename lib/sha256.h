/* SHA-256 (FIPS 180-4), for the checksums in segments.tsv. */
#ifndef CAMREC_SHA256_H
#define CAMREC_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;			/* bytes hashed so far */
	unsigned char buf[64];
	size_t nbuf;
};

/* sha256.c */
void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *p, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[32]);
/* The digest of p[0..len) as 64 lower-case hex digits and a NUL. */
void sha256_hex(const void *p, size_t len, char out[65]);

#endif
