#include <string.h>

#include "mp4box.h"
#include "util.h"

int
mp4_check(const unsigned char *p, size_t len, const char **why, size_t *at)
{
	size_t off = 0, hdr, size;
	int moov = 0;

	while (off < len) {
		*at = off;
		if (len - off < 8) {
			*why = "truncated box header";
			return -1;
		}
		size = be32_get(p + off);
		hdr = 8;
		if (size == 1) {		/* 64-bit largesize follows the type */
			uint64_t large;

			if (len - off < 16) {
				*why = "truncated box header";
				return -1;
			}
			large = be64_get(p + off + 8);
			hdr = 16;
			size = large > len - off ? len - off + 1 : (size_t)large;
		} else if (size == 0)		/* the box runs to the end */
			size = len - off;
		if (size < hdr) {
			*why = "box shorter than its header";
			return -1;
		}
		if (size > len - off) {
			*why = "box runs past the end";
			return -1;
		}
		if (off == 0 && memcmp(p + 4, "ftyp", 4) != 0) {
			*why = "does not start with an ftyp box";
			return -1;
		}
		if (memcmp(p + off + 4, "moov", 4) == 0)
			moov = 1;
		off += size;
	}
	*at = len;
	if (len == 0) {
		*why = "empty";
		return -1;
	}
	if (!moov) {
		*why = "no moov box";
		return -1;
	}
	return 0;
}
