/* Annex-B start-code scanning. memchr finds the candidate zero bytes, so a
 * scan runs close to memory speed. */
#include <string.h>

#include "h264.h"
#include "rec.h"

/* Offset of the next 00 00 01 at or after from, or len. */
static size_t
find_start(const unsigned char *buf, size_t len, size_t from)
{
	while (from + 3 <= len) {
		const unsigned char *z = memchr(buf + from, 0, len - from - 2);
		size_t i;

		if (z == NULL)
			return len;
		i = (size_t)(z - buf);
		if (buf[i + 1] == 0 && buf[i + 2] == 1)
			return i;
		from = i + 1;
	}
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
