/* Client text made safe for the operator's terminal. A device model or a
 * camera's message is whatever a client sent; printed raw, control
 * characters move the cursor or clear the screen, and bidi controls and
 * other invisible format characters reorder or hide what the operator
 * reads ("\u202e" turns "3gp.exe" into what looks like "exe.pg3"). Those
 * are shown as escapes, everything else as it came. This file calls no
 * other file of ctl. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* Unicode's format characters (category Cf, as of Unicode 15), and the
 * line and paragraph separators, which break lines like a newline. */
static const struct { uint32_t lo, hi; } invisible[] = {
	{ 0x00ad, 0x00ad }, { 0x0600, 0x0605 }, { 0x061c, 0x061c },
	{ 0x06dd, 0x06dd }, { 0x070f, 0x070f }, { 0x0890, 0x0891 },
	{ 0x08e2, 0x08e2 }, { 0x180e, 0x180e }, { 0x200b, 0x200f },
	{ 0x2028, 0x202e }, { 0x2060, 0x2064 }, { 0x2066, 0x206f },
	{ 0xfeff, 0xfeff }, { 0xfff9, 0xfffb }, { 0x110bd, 0x110bd },
	{ 0x110cd, 0x110cd }, { 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 },
	{ 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f },
};

/* The code point of the UTF-8 sequence at s, and its length in *len; 0
 * for a byte that does not start a valid sequence of two bytes or more. */
static uint32_t
utf8_at(const unsigned char *s, size_t *len)
{
	uint32_t cp, min;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* the NUL at the end too */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*len = n;
	return cp;
}

static int
is_invisible(uint32_t cp)
{
	size_t i;

	for (i = 0; i < sizeof(invisible) / sizeof(invisible[0]); i++)
		if (cp >= invisible[i].lo && cp <= invisible[i].hi)
			return 1;
	return 0;
}

void
escape_text(char *buf, size_t n, const char *s, size_t max)
{
	size_t len = strlen(buf), i, seq;
	uint32_t cp;
	char esc[12];

	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		esc[0] = (char)c;
		esc[1] = '\0';
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", c);
		else if (c >= 0xc2 && (cp = utf8_at((const unsigned char *)s + i,
		    &seq)) != 0 && ((cp >= 0x80 && cp <= 0x9f) ||
		    is_invisible(cp))) {
			/* C1 controls (U+0080..U+009F) move terminals too. */
			snprintf(esc, sizeof(esc), cp > 0xffff ? "\\U%08x" :
			    "\\u%04x", (unsigned)cp);
			i += seq - 1;
		}
		if (len + strlen(esc) + 4 >= n)
			break;
		strcpy(buf + len, esc);
		len += strlen(esc);
	}
	if (s[i] != '\0')
		strcpy(buf + len, "...");
}
