/* The ESP32 board's command grammar, checked before anything is sent. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "boardcmd.h"
#include "util.h"

/* Frame size names of the esp32-camera driver, in its order. */
static const char *const sizes[] = {
	"QQVGA", "QCIF", "HQVGA", "240X240", "QVGA", "CIF", "HVGA", "VGA",
	"SVGA", "XGA", "HD", "SXGA", "UXGA", "FHD", "P_HD", "P_3MP", "QXGA",
};

const char *
boardcmd_size(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		if (strcasecmp(name, sizes[i]) == 0)
			return sizes[i];
	return NULL;
}

/* The word may come from a client: only printable ASCII of it is shown. */
static int
fail(char *err, size_t errlen, const char *before, const char *word,
    const char *after)
{
	char shown[40];
	size_t i;

	for (i = 0; word[i] != '\0' && i < sizeof shown - 1; i++)
		shown[i] = word[i] > 0x20 && word[i] < 0x7f ? word[i] : '?';
	shown[i] = '\0';
	snprintf(err, errlen, "%s \"%s\"%s", before, shown, after);
	return -1;
}

#define BAD_SIZE "bad ESP frame size"
#define SIZE_WANT ": expected one of " BOARDCMD_SIZES
#define BAD_QUALITY "bad ESP quality"
#define QUALITY_WANT ": expected a whole number from 1 to 63 (lower is better)"

int
boardcmd_start(struct boardcmd *c, const char *res, long quality, char *err,
    size_t errlen)
{
	char num[24];

	memset(c, 0, sizeof *c);
	c->verb = BOARDCMD_START;
	if (res != NULL && (c->res = boardcmd_size(res)) == NULL)
		return fail(err, errlen, BAD_SIZE, res, SIZE_WANT);
	if (quality < 0 || quality > BOARDCMD_QUALITY_MAX) {
		snprintf(num, sizeof num, "%ld", quality);
		return fail(err, errlen, BAD_QUALITY, num, QUALITY_WANT);
	}
	c->quality = (unsigned)quality;
	return 0;
}

int
boardcmd_start_words(struct boardcmd *c, char *const *w, size_t nw, char *err,
    size_t errlen)
{
	uint64_t q;
	size_t i = 0;

	memset(c, 0, sizeof *c);
	c->verb = BOARDCMD_START;
	/* 240X240 starts with a digit: a size is whatever is in the list. */
	if (i < nw && (c->res = boardcmd_size(w[i])) != NULL)
		i++;
	else if (i < nw && (w[i][0] < '0' || w[i][0] > '9'))
		return fail(err, errlen, BAD_SIZE, w[i], SIZE_WANT);
	if (i < nw) {
		if (parse_u64(w[i], 1, BOARDCMD_QUALITY_MAX, &q) < 0)
			return fail(err, errlen, BAD_QUALITY, w[i], QUALITY_WANT);
		c->quality = (unsigned)q;
		i++;
	}
	if (i < nw)
		return fail(err, errlen, "too many arguments for start at", w[i],
		    "");
	return 0;
}

size_t
boardcmd_text(const struct boardcmd *c, char *buf, size_t n)
{
	int len;

	if (c->verb == BOARDCMD_STOP)
		len = snprintf(buf, n, "stop");
	else if (c->verb == BOARDCMD_STATUS)
		len = snprintf(buf, n, "status");
	else
		len = snprintf(buf, n, "start%s%s", c->res != NULL ? " " : "",
		    c->res != NULL ? c->res : "");
	if (len > 0 && (size_t)len < n && c->verb == BOARDCMD_START &&
	    c->quality != 0)
		len += snprintf(buf + len, n - (size_t)len, " %u", c->quality);
	return len > 0 && (size_t)len < n ? (size_t)len : 0;
}
