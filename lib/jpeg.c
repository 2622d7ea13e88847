#include "jpeg.h"
#include "rec.h"
#include "util.h"

/* The frame header's size: marker segments are walked from the SOI to the
 * first SOFn (C0-CF but C4 DHT, C8 JPG and CC DAC) or SOS; each segment
 * carries its own length, so this reads only the header, never the scan. */
static void
frame_size(const unsigned char *p, size_t len, struct jpeg_info *info)
{
	size_t pos = 2, seg;
	unsigned char m;

	while (pos + 4 <= len) {
		if (p[pos] != 0xff)
			return;
		m = p[pos + 1];
		if (m == 0xff) {	/* fill byte */
			pos++;
			continue;
		}
		if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {
			pos += 2;	/* markers without a length */
			continue;
		}
		if (m == 0xda || m == 0xd9)
			return;
		seg = be16_get(p + pos + 2);
		if (seg < 2)
			return;
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
			if (seg < 7 || pos + 2 + seg > len)
				return;
			info->height = be16_get(p + pos + 5);
			info->width = be16_get(p + pos + 7);
			return;
		}
		pos += 2 + seg;
	}
}

int
jpeg_check(const unsigned char *p, size_t len, struct jpeg_info *info)
{
	info->width = info->height = 0;
	if (len < 4)
		return BADIMAGE_SHORT;
	if (p[0] != 0xff || p[1] != 0xd8)
		return BADIMAGE_NOSOI;
	if (p[len - 2] != 0xff || p[len - 1] != 0xd9)
		return BADIMAGE_NOEOI;
	frame_size(p, len, info);
	return 0;
}
