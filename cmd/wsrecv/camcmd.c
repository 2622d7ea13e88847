/* The commands a console gives, checked before anything is sent and
 * turned into what each kind of camera understands: JSON for a phone,
 * plain text for an ESP32 board (protocol.md sections 1 and 2). A typo is
 * refused, never replaced by a default: an ESP32 board takes an unknown
 * resolution for UXGA. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boardcmd.h"
#include "util.h"
#include "wsrecv.h"

static int
fail(char *err, size_t n, const char *what, const char *word)
{
	char shown[40];
	size_t i;

	/* The word is the client's: only printable ASCII of it is shown. */
	for (i = 0; word[i] && i < sizeof shown - 1; i++)
		shown[i] = word[i] > 0x20 && word[i] < 0x7f ? word[i] : '?';
	shown[i] = '\0';
	snprintf(err, n, "%s \"%s\"", what, shown);
	return -1;
}

int
camcmd_check(struct camcmd *c, char *err, size_t n)
{
	struct boardcmd b;

	if (boardcmd_start(&b, c->res, c->quality, err, n) < 0)
		return -1;
	c->res = b.res;
	if (c->has_ratio && (c->ratio_w < 1 || c->ratio_w > 100 ||
	    c->ratio_h < 1 || c->ratio_h > 100)) {
		snprintf(err, n, "aspect ratio: want W:H from 1 to 100 each");
		return -1;
	}
	if (c->bitrate < 1 || c->bitrate > 100) {
		snprintf(err, n, "bitrate %ld: want 1 to 100 Mbit/s", c->bitrate);
		return -1;
	}
	if (c->fps < 0 || c->fps > 120) {
		snprintf(err, n, "fps %ld: want 0 (unlimited) to 120", c->fps);
		return -1;
	}
	if (c->segment != 0 && (c->segment < 1 || c->segment > 3600)) {
		snprintf(err, n, "segment %ld s: want 1 to 3600", c->segment);
		return -1;
	}
	return 0;
}

static int
number(const char *w, long min, long max, long *v)
{
	uint64_t u;

	if (parse_u64(w, (uint64_t)min, (uint64_t)max, &u) < 0)
		return -1;
	*v = (long)u;
	return 0;
}

void
camcmd_init(struct camcmd *c, enum camcmd_verb verb)
{
	memset(c, 0, sizeof *c);
	c->verb = verb;
	c->bitrate = 4;
	c->fps = 10;
}

/* The console's command line: "start [RES] [QUALITY]" for the boards,
 * "start W:H [MBIT [FPS]]" for the phones, a bare "start", "stop" and
 * "status". line is changed. */
int
camcmd_parse(char *line, struct camcmd *c, char *err, size_t n)
{
	char *w[5], *save, *p;
	struct boardcmd b;
	size_t nw = 0;

	for (p = strtok_r(line, " \t\r\n", &save); p != NULL;
	    p = strtok_r(NULL, " \t\r\n", &save)) {
		if (nw == sizeof w / sizeof w[0])
			return fail(err, n, "too many words after", w[0]);
		w[nw++] = p;
	}
	if (nw == 0) {
		snprintf(err, n, "empty command");
		return -1;
	}
	if (strcmp(w[0], "stop") == 0 || strcmp(w[0], "status") == 0) {
		if (nw > 1)
			return fail(err, n, "nothing may follow", w[0]);
		camcmd_init(c, w[0][1] == 't' && w[0][2] == 'o' ? CAMCMD_STOP :
		    CAMCMD_STATUS);
		return 0;
	}
	if (strcmp(w[0], "start") != 0)
		return fail(err, n, "unknown command (start, stop, status)", w[0]);
	camcmd_init(c, CAMCMD_START);
	c->to = CAMCMD_ALL;
	if (nw == 1)
		return 0;
	if ((p = strchr(w[1], ':')) != NULL) {
		/* The phones' grammar. */
		*p = '\0';
		c->to = CAMCMD_PHONES;
		c->has_ratio = 1;
		if (number(w[1], 1, 100, &c->ratio_w) < 0 ||
		    number(p + 1, 1, 100, &c->ratio_h) < 0) {
			*p = ':';
			return fail(err, n, "bad aspect ratio (want W:H)", w[1]);
		}
		if (nw > 2 && number(w[2], 1, 100, &c->bitrate) < 0)
			return fail(err, n, "bad bitrate (Mbit/s, 1 to 100)", w[2]);
		if (nw > 3 && number(w[3], 0, 120, &c->fps) < 0)
			return fail(err, n, "bad fps (0 to 120)", w[3]);
		if (nw > 4)
			return fail(err, n, "too many words from", w[4]);
		return camcmd_check(c, err, n);
	}
	c->to = CAMCMD_BOARDS;
	if (boardcmd_start_words(&b, w + 1, nw - 1, err, n) < 0)
		return -1;
	c->res = b.res;
	c->quality = b.quality;
	return 0;
}

/* The message for one camera, in buf; its length, or 0 when the command
 * is not for this kind of camera. */
size_t
camcmd_message(const struct camcmd *c, int board, char *buf, size_t n)
{
	struct boardcmd b;
	int len = 0;

	if (board && c->to == CAMCMD_PHONES)
		return 0;
	if (!board && (c->to == CAMCMD_BOARDS || c->verb == CAMCMD_STATUS))
		return 0;
	if (board) {
		b.verb = c->verb == CAMCMD_STOP ? BOARDCMD_STOP :
		    c->verb == CAMCMD_STATUS ? BOARDCMD_STATUS : BOARDCMD_START;
		b.res = c->res;
		b.quality = (unsigned)c->quality;
		return boardcmd_text(&b, buf, n);
	}
	if (c->verb == CAMCMD_STOP)
		len = snprintf(buf, n, "{\"command\":\"stop_capture\"}");
	else {
		len = snprintf(buf, n, "{\"command\":\"start_capture\",\"payload\":"
		    "{\"format\":\"h264\",\"bitrate\":%ld,\"fps\":%ld", c->bitrate,
		    c->fps);
		if (c->segment != 0)
			len += snprintf(buf + len, n - (size_t)len,
			    ",\"segmentDuration\":%ld", c->segment);
		if (c->has_ratio)
			len += snprintf(buf + len, n - (size_t)len,
			    ",\"aspectRatio\":{\"width\":%ld,\"height\":%ld}",
			    c->ratio_w, c->ratio_h);
		len += snprintf(buf + len, n - (size_t)len, "}}");
	}
	return len > 0 && (size_t)len < n ? (size_t)len : 0;
}

const char *
camcmd_name(const struct camcmd *c)
{
	return c->verb == CAMCMD_START ? "start" : c->verb == CAMCMD_STOP ?
	    "stop" : "status";
}
