/* Annex-B start-code scanning, at close to memory speed. */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "h264.h"
#include "rec.h"

/* Offset of the next 00 00 01 at or after from, or len. With SSE2 it
 * compares 16 positions at a time against the whole pattern: coded slice
 * data has a zero byte every ~100 bytes, too often for memchr to run at
 * its full speed between hits. */
static size_t
find_start(const unsigned char *buf, size_t len, size_t from)
{
	size_t i = from;
#ifdef __SSE2__
	const __m128i zero = _mm_setzero_si128(), one = _mm_set1_epi8(1);

	/* Each step reads buf[i .. i + 17]. */
	while (len >= 18 && i <= len - 18) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(buf + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(buf + i + 1));
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(buf + i + 2));
		int hits = _mm_movemask_epi8(_mm_and_si128(_mm_and_si128(
		    _mm_cmpeq_epi8(a, zero), _mm_cmpeq_epi8(b, zero)),
		    _mm_cmpeq_epi8(c, one)));

		if (hits)
			return i + (size_t)__builtin_ctz((unsigned)hits);
		i += 16;
	}
#endif
	for (; i + 3 <= len; i++)
		if (buf[i] == 0 && buf[i + 1] == 0 && buf[i + 2] == 1)
			return i;
	return len;
}

int
h264_next_nal(const unsigned char *buf, size_t len, size_t *pos, struct h264_nal *nal)
{
	size_t sc = find_start(buf, len, *pos), begin, end;

	if (sc >= len)
		return 0;
	begin = sc + 3;
	if (begin >= len) {
		*pos = len;
		return 0;
	}
	end = find_start(buf, len, begin);
	*pos = end;
	/* A 4-byte start code's leading zero, and trailing_zero_8bits, belong
	 * to no NAL unit. */
	while (end > begin && buf[end - 1] == 0)
		end--;
	nal->start = sc > 0 && buf[sc - 1] == 0 ? sc - 1 : sc;
	nal->p = buf + begin;
	nal->len = end - begin;
	nal->type = buf[begin] & 0x1f;
	return 1;
}

int
h264_classify(const unsigned char *buf, size_t len)
{
	struct h264_nal nal;
	size_t pos = 0;
	int config = 0, delta = 0;

	while (h264_next_nal(buf, len, &pos, &nal)) {
		if (nal.len == 0)
			continue;
		switch (nal.type) {
		case NAL_IDR:
			return FRAME_KEY;
		case NAL_SLICE:
		case 2: /* slice data partition A */
			delta = 1;
			break;
		case NAL_SPS:
		case NAL_PPS:
			config = 1;
			break;
		}
	}
	if (delta)
		return FRAME_DELTA;
	return config ? FRAME_CONFIG : FRAME_UNKNOWN;
}

void
h264_find_params(const unsigned char *buf, size_t len, struct h264_params *hp)
{
	struct h264_nal nal;
	size_t pos = 0;

	memset(hp, 0, sizeof *hp);
	while (!(hp->sps && hp->has_pps && hp->has_picture) &&
	    h264_next_nal(buf, len, &pos, &nal)) {
		if (nal.len == 0)
			continue;
		if (nal.type == NAL_SPS && hp->sps == NULL) {
			hp->sps = nal.p;
			hp->sps_len = nal.len;
		} else if (nal.type == NAL_PPS)
			hp->has_pps = 1;
		else if (nal.type >= 1 && nal.type <= 5)
			hp->has_picture = 1;
	}
}
