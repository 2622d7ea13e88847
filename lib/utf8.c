#include "utf8.h"

/* Length of the valid sequence at s (1 to 4), or 0 when it is not one:
 * bad lead byte, missing continuation, overlong form, surrogate, or a
 * code point past U+10FFFF. */
static size_t
sequence(const unsigned char *s, size_t left)
{
	unsigned long cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t
utf8_fix(char *s, size_t len)
{
	unsigned char *p = (unsigned char *)s;
	size_t i = 0, fixed = 0, n;

	while (i < len) {
		if (p[i] == '\0' || (n = sequence(p + i, len - i)) == 0) {
			p[i++] = '?';
			fixed++;
		} else
			i += n;
	}
	return fixed;
}
