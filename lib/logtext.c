#include <stdio.h>

#include "logtext.h"

size_t
logtext_escape(char *out, size_t cap, const void *in, size_t len)
{
	const unsigned char *s = in;
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\') {
			if (o + 2 >= cap)
				break;
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (s[i] < 0x20 || s[i] > 0x7e) {
			if (o + 4 >= cap)
				break;
			snprintf(out + o, 5, "\\x%02x", s[i]);
			o += 4;
		} else {
			if (o + 1 >= cap)
				break;
			out[o++] = (char)s[i];
		}
	}
	out[o] = '\0';
	return i;
}
