/* The operator's command grammar and the messages it turns into. Every
 * value is checked here, so nothing the operator mistyped reaches a camera:
 * the old server replaced bad values by defaults and started cameras with
 * settings nobody asked for. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boardcmd.h"
#include "ctl.h"
#include "util.h"

#define MAX_WORDS 64
#define RATIO_MAX 100
#define BITRATE_MAX 100
#define FPS_MAX 120
#define DURATION_MAX (24 * 3600.0)

#define START_USAGE "start [W:H] [BITRATE] [FPS] [segments DURATION] [for DURATION] [@TARGET...]"
#define SEGMENT_MIN 1.0		/* the app cuts no shorter segment */
#define SEGMENT_MAX 3600.0
#define ESP_USAGE "esp start [RES] [QUALITY] [for DURATION] | esp stop | esp status"

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;

	if (parse_u64(s, min, max, &v) < 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* N, N.N followed by s, m or h. A bare number is refused: "for 30" could
 * mean seconds or minutes, and guessing wrong records for an hour. */
static int
parse_duration(const char *s, double *out)
{
	char num[32];
	size_t len = strlen(s), i;
	double mult, v;
	int dot = 0;

	if (len < 2 || len >= sizeof(num))
		return -1;
	switch (s[len - 1]) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	default: return -1;
	}
	for (i = 0; i < len - 1; i++) {
		if (s[i] == '.' && !dot && i > 0)
			dot = 1;
		else if (!isdigit((unsigned char)s[i]))
			return -1;
	}
	if (s[len - 2] == '.')
		return -1;
	memcpy(num, s, len - 1);
	num[len - 1] = '\0';
	if (parse_double(num, 0, DURATION_MAX, &v) < 0)
		return -1;
	v *= mult;
	if (v <= 0 || v > DURATION_MAX)
		return -1;
	*out = v;
	return 0;
}

static int
is_addr_char(int ch)
{
	return isxdigit(ch) || ch == '.' || ch == ':';
}

/* @ID, @ADDRESS, @ADDRESS:PORT, @[V6ADDRESS] or @[V6ADDRESS]:PORT. */
static int
parse_target(const char *s, struct ctl_target *t)
{
	const char *a = s + 1, *end, *colon;
	size_t alen, i;

	memset(t, 0, sizeof(*t));
	if (strlen(s) >= sizeof(t->text))
		return -1;
	strcpy(t->text, s);
	if (*a >= '0' && *a <= '9' && strspn(a, "0123456789") == strlen(a))
		return parse_u64(a, 0, UINT64_MAX, &t->id);
	t->is_peer = 1;
	if (*a == '[') {
		a++;
		if ((end = strchr(a, ']')) == NULL)
			return -1;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strchr(a, ':');
		/* More than one colon: an IPv6 address without a port. */
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;
		end = colon != NULL ? colon : a + strlen(a);
	}
	alen = (size_t)(end - a);
	if (alen == 0 || alen >= sizeof(t->addr))
		return -1;
	memcpy(t->addr, a, alen);
	t->addr[alen] = '\0';
	/* IPv4 is digits and dots; IPv6 has colons and hex digits. */
	for (i = 0; i < alen; i++)
		if (!is_addr_char((unsigned char)a[i]) ||
		    (strchr(t->addr, ':') == NULL && isalpha((unsigned char)a[i])))
			return -1;
	if (colon != NULL && parse_uint(colon + 1, 1, 65535, &t->port) < 0)
		return -1;
	return 0;
}

static int
parse_ratio(const char *s, unsigned *w, unsigned *h)
{
	char buf[16];
	const char *colon = strchr(s, ':');
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - s)) >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (parse_uint(buf, 1, RATIO_MAX, w) < 0)
		return -1;
	return parse_uint(colon + 1, 1, RATIO_MAX, h);
}

/* "16x9" or "16/9": someone meant an aspect ratio. */
static int
looks_like_ratio(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n > 0 && (s[n] == 'x' || s[n] == 'X' || s[n] == '/') &&
	    s[n + 1] != '\0' && strspn(s + n + 1, "0123456789") == strlen(s + n + 1);
}

static int
parse_start(char **w, int nw, struct ctl_cmd *c, char *err, size_t errlen)
{
	double frac;
	int i = 0;

	if (i < nw && strchr(w[i], ':') != NULL) {
		if (parse_ratio(w[i], &c->ratio_w, &c->ratio_h) < 0)
			return fail(err, errlen, "bad aspect ratio \"%s\": expected "
			    "W:H, whole numbers from 1 to %d (e.g. 16:9)", w[i], RATIO_MAX);
		c->has_ratio = c->has_settings = 1;
		i++;
	}
	if (i < nw) {
		if (strchr(w[i], ':') != NULL)
			return fail(err, errlen, "aspect ratio \"%s\" must come first: "
			    "%s", w[i], START_USAGE);
		if (i == 0 && looks_like_ratio(w[i]))
			return fail(err, errlen, "bad aspect ratio \"%s\": expected "
			    "W:H, whole numbers from 1 to %d (e.g. 16:9)", w[i], RATIO_MAX);
		if (parse_uint(w[i], 1, BITRATE_MAX, &c->bitrate) < 0 &&
		    parse_double(w[i], 1, BITRATE_MAX, &frac) == 0)
			return fail(err, errlen, "bad bitrate \"%s\": the phone app "
			    "reads whole Mbit/s and would use %d; give a whole number "
			    "from 1 to %d", w[i], (int)frac, BITRATE_MAX);
		if (parse_uint(w[i], 1, BITRATE_MAX, &c->bitrate) < 0)
			return fail(err, errlen, "bad bitrate \"%s\": expected a whole "
			    "number of Mbit/s from 1 to %d", w[i], BITRATE_MAX);
		c->has_settings = 1;
		i++;
	}
	if (i < nw) {
		if (strchr(w[i], ':') != NULL)
			return fail(err, errlen, "aspect ratio \"%s\" must come first: "
			    "%s", w[i], START_USAGE);
		if (parse_uint(w[i], 0, FPS_MAX, &c->fps) < 0)
			return fail(err, errlen, "bad frame rate \"%s\": expected a "
			    "whole number of frames per second from 0 to %d "
			    "(0 = unlimited)", w[i], FPS_MAX);
		i++;
	}
	if (i < nw)
		return fail(err, errlen, "too many arguments for start at \"%s\": "
		    "%s", w[i], START_USAGE);
	return 0;
}

static int
parse_esp(char **w, int nw, struct ctl_cmd *c, char *err, size_t errlen)
{
	struct boardcmd b;

	if (nw == 0)
		return fail(err, errlen, "esp needs a command: %s", ESP_USAGE);
	if (strcmp(w[0], "stop") == 0)
		c->verb = VERB_ESP_STOP;
	else if (strcmp(w[0], "status") == 0)
		c->verb = VERB_ESP_STATUS;
	else if (strcmp(w[0], "start") == 0)
		c->verb = VERB_ESP_START;
	else
		return fail(err, errlen, "unknown esp command \"%s\": %s", w[0],
		    ESP_USAGE);
	if (c->verb != VERB_ESP_START) {
		if (nw > 1)
			return fail(err, errlen, "too many arguments for esp %s at "
			    "\"%s\"", w[0], w[1]);
		return 0;
	}
	if (boardcmd_start_words(&b, w + 1, (size_t)nw - 1, err, errlen) < 0)
		return -1;
	c->esp_res = b.res;
	c->esp_quality = b.quality;
	return 0;
}

int
cmd_parse(char *line, struct ctl_cmd *c, char *err, size_t errlen)
{
	char *words[MAX_WORDS], *tok, *save;
	int nw = 0, has_for = 0, has_segment = 0;

	memset(c, 0, sizeof(*c));
	c->bitrate = 4;
	c->fps = 10;
	for (tok = strtok_r(line, " \t\r\n", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (nw == 0 && c->ntargets == 0 && tok[0] == '#')
			return 1;
		if (tok[0] == '@') {
			if (c->ntargets == CTL_MAX_TARGETS)
				return fail(err, errlen, "too many targets (at most %d)",
				    CTL_MAX_TARGETS);
			if (parse_target(tok, &c->targets[c->ntargets]) < 0)
				return fail(err, errlen, "bad target \"%s\": expected "
				    "@ID, @ADDRESS or @ADDRESS:PORT", tok);
			c->ntargets++;
		} else if (strcmp(tok, "for") == 0 && nw > 0) {
			if (has_for++)
				return fail(err, errlen, "\"for\" given twice");
			tok = strtok_r(NULL, " \t\r\n", &save);
			if (tok == NULL || parse_duration(tok, &c->duration) < 0)
				return fail(err, errlen, "bad duration \"%s\": expected a "
				    "number with unit s, m or h (e.g. 30s, 2m, 1h), more "
				    "than 0 and at most 24h", tok ? tok : "");
			snprintf(c->duration_text, sizeof(c->duration_text), "%s", tok);
		} else if (strcmp(tok, "segments") == 0 && nw > 0) {
			if (has_segment++)
				return fail(err, errlen, "\"segments\" given twice");
			tok = strtok_r(NULL, " \t\r\n", &save);
			if (tok == NULL || parse_duration(tok, &c->segment) < 0 ||
			    c->segment < SEGMENT_MIN || c->segment > SEGMENT_MAX)
				return fail(err, errlen, "bad segment length \"%s\": "
				    "expected a number with unit s, m or h (e.g. 10s, 1m), "
				    "from 1s to 1h", tok ? tok : "");
			c->has_settings = 1;
		} else {
			if (nw == MAX_WORDS)
				return fail(err, errlen, "too many words");
			words[nw++] = tok;
		}
	}
	if (nw == 0) {
		if (c->ntargets > 0)
			return fail(err, errlen, "a target needs a command; try help");
		return 1;
	}
	if (strcmp(words[0], "start") == 0) {
		c->verb = VERB_START;
		if (parse_start(words + 1, nw - 1, c, err, errlen) < 0)
			return -1;
	} else if (strcmp(words[0], "esp") == 0) {
		if (parse_esp(words + 1, nw - 1, c, err, errlen) < 0)
			return -1;
	} else {
		if (strcmp(words[0], "stop") == 0)
			c->verb = VERB_STOP;
		else if (strcmp(words[0], "list") == 0 ||
		    strcmp(words[0], "status") == 0)
			c->verb = VERB_LIST;
		else if (strcmp(words[0], "help") == 0)
			c->verb = VERB_HELP;
		else if (strcmp(words[0], "quit") == 0 ||
		    strcmp(words[0], "exit") == 0)
			c->verb = VERB_QUIT;
		else
			return fail(err, errlen, "unknown command \"%s\"; try help",
			    words[0]);
		if (nw > 1)
			return fail(err, errlen, "too many arguments for %s at \"%s\"",
			    words[0], words[1]);
	}
	if (has_segment && c->verb != VERB_START)
		return fail(err, errlen, "\"segments DURATION\" only follows start "
		    "(Android cameras)");
	if (has_for && c->verb != VERB_START && c->verb != VERB_ESP_START)
		return fail(err, errlen, "\"for DURATION\" only follows start or "
		    "esp start");
	if (c->ntargets > 0 && (c->verb == VERB_HELP || c->verb == VERB_QUIT))
		return fail(err, errlen, "%s takes no target", words[0]);
	return 0;
}

void
cmd_stop_for(const struct ctl_cmd *start, struct ctl_cmd *stop)
{
	*stop = *start;
	stop->verb = start->verb == VERB_ESP_START ? VERB_ESP_STOP : VERB_STOP;
	stop->duration = 0;
	stop->has_settings = 0;
}

char *
cmd_android_message(const struct ctl_cmd *c)
{
	json_t *msg, *payload;
	char *s;

	switch (c->verb) {
	case VERB_START:
		payload = json_pack("{s:s, s:i, s:i}", "format", "h264",
		    "bitrate", (int)c->bitrate, "fps", (int)c->fps);
		/* Phones on the current app cut MP4 segments this long; the
		 * earlier app ignores the key. */
		if (payload != NULL && c->segment > 0)
			json_object_set_new(payload, "segmentDuration",
			    json_real(c->segment));
		if (payload != NULL && c->has_ratio)
			json_object_set_new(payload, "aspectRatio",
			    json_pack("{s:i, s:i}", "width", (int)c->ratio_w,
			    "height", (int)c->ratio_h));
		msg = json_pack("{s:s, s:o}", "command", "start_capture",
		    "payload", payload);
		break;
	case VERB_STOP:
		msg = json_pack("{s:s}", "command", "stop_capture");
		break;
	default:
		return NULL;
	}
	if (msg == NULL)
		return NULL;
	s = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(msg);
	return s;
}

char *
cmd_esp_message(const struct ctl_cmd *c)
{
	struct boardcmd b = { BOARDCMD_START, NULL, 0 };
	char buf[64];

	switch (c->verb) {
	case VERB_START:
		break;
	case VERB_STOP:
	case VERB_ESP_STOP:
		b.verb = BOARDCMD_STOP;
		break;
	case VERB_ESP_STATUS:
		b.verb = BOARDCMD_STATUS;
		break;
	case VERB_ESP_START:
		b.res = c->esp_res;
		b.quality = c->esp_quality;
		break;
	default:
		return NULL;
	}
	if (boardcmd_text(&b, buf, sizeof buf) == 0)
		return NULL;
	return strdup(buf);
}

const char *
cmd_name(const struct ctl_cmd *c)
{
	static const char *const names[] = {
		[VERB_START] = "start", [VERB_STOP] = "stop",
		[VERB_ESP_START] = "esp start", [VERB_ESP_STOP] = "esp stop",
		[VERB_ESP_STATUS] = "esp status", [VERB_LIST] = "list",
		[VERB_HELP] = "help", [VERB_QUIT] = "quit",
	};

	return names[c->verb];
}

void
cmd_help(void)
{
	fputs(
	    "commands (TARGET: @ID, @ADDRESS or @ADDRESS:PORT; default all cameras):\n"
	    "  start [W:H] [BITRATE] [FPS] [segments DURATION] [for DURATION] [@TARGET...]\n"
	    "      W:H aspect ratio 1..100 each (only sent when given),\n"
	    "      BITRATE whole Mbit/s 1..100 (default 4), FPS 0..120 (default 10,\n"
	    "      0 = unlimited); segments: MP4 segment length of phones on the\n"
	    "      current app, 1s..1h (default theirs, 1m); ESP boards get plain \"start\".\n"
	    "      DURATION: N or N.N with s, m or h (30s, 2m, 1h); stop follows.\n"
	    "  stop [@TARGET...]\n"
	    "  esp start [RES] [QUALITY] [for DURATION] [@TARGET...]\n"
	    "      RES: QQVGA QCIF HQVGA 240X240 QVGA CIF HVGA VGA SVGA XGA HD\n"
	    "      SXGA UXGA FHD P_HD P_3MP QXGA; QUALITY 1..63 (lower is better)\n"
	    "  esp stop [@TARGET...]\n"
	    "  esp status [@TARGET...]\n"
	    "  list [@TARGET...]   (alias status) connected cameras\n"
	    "  help\n"
	    "  quit\n", stdout);
}
