/* Base64 decoding for the MP4 segments phones send as JSON text. */
#ifndef CAMREC_BASE64_H
#define CAMREC_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* base64.c */
/* Room that decoding len characters needs at the most. */
size_t base64_decoded_max(size_t len);
/* Decode in[0..len) (standard alphabet, '=' padding, nothing else) into
 * out, which has base64_decoded_max(len) bytes. 0 with *out_len set, or
 * -1 with errno EINVAL and *bad_at the offset of the first bad character
 * (len when the length is not a multiple of 4). */
int base64_decode(const unsigned char *in, size_t len, unsigned char *out,
    size_t *out_len, size_t *bad_at);

#endif
