/* The current phone app's MP4 segments: one text message each,
 * {"type":"mp4_segment","segment_id":..,"data":<base64>,"size":..,
 * "qr_results":[..]} (camrec-records(5), SEGMENT). Everything in it is
 * the client's word: the JSON must parse, the fields must have their
 * types, the base64 must decode to exactly "size" bytes and those bytes
 * must have an MP4's box structure, or the message is refused whole.
 *
 * A segment is some 15 MiB of base64 inside a string, and a general JSON
 * parser spends a quarter of a second copying it character by character.
 * So the "data" string is cut out of the message first and the rest,
 * now small, goes to jansson; jansson then sees "data":"" where the phone
 * put it, which proves the cut was the top-level member. Anything less
 * plain (escapes other than \/, a "data" key nested before the real one)
 * takes the slow path over the whole text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "frameparse.h"
#include "mp4box.h"

static enum segment_result
bad(struct segment *s, uint16_t reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum segment_result
bad(struct segment *s, uint16_t reason, const char *fmt, ...)
{
	va_list ap;

	s->reason = reason;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof s->why, fmt, ap);
	va_end(ap);
	return SEGMENT_BAD;
}

/* Whether a text message is meant as a segment. Only those are parsed:
 * the status texts pass on to sessionwriter untouched. */
static int
looks_like_segment(const unsigned char *text, size_t len)
{
	return len > 0 && text[0] == '{' && memmem(text, len, "mp4_segment", 11) != NULL;
}

/* Where the plain "data":"..." string is: 0 with [*from, *to), or -1. The
 * base64 alphabet needs no escape, but some JSON writers escape '/'. */
static int
find_data(const unsigned char *text, size_t len, size_t *from, size_t *to)
{
	static const char key[] = "\"data\"";
	const unsigned char *k, *v, *q, *end = text + len;

	if ((k = memmem(text, len, key, sizeof key - 1)) == NULL)
		return -1;
	v = k + sizeof key - 1;
	while (v < end && strchr(" \t\r\n", *v) && *v)
		v++;
	if (v == end || *v++ != ':')
		return -1;
	while (v < end && strchr(" \t\r\n", *v) && *v)
		v++;
	if (v == end || *v++ != '"')
		return -1;
	for (q = v;; q++) {
		q = memchr(q, '"', len - (size_t)(q - text));
		if (q == NULL)
			return -1;
		if (q[-1] != '\\')
			break;
	}
	*from = (size_t)(v - text);
	*to = (size_t)(q - text);
	return 0;
}

/* The data string without its "\/" escapes, in s->b64; -1 when it holds
 * another escape (the slow path decides what that means). */
static int
unescape_data(const unsigned char *p, size_t len, struct segment *s,
    const unsigned char **out, size_t *out_len)
{
	const unsigned char *bs = memchr(p, '\\', len);
	size_t i, n;

	if (bs == NULL) {
		*out = p;
		*out_len = len;
		return 0;
	}
	if ((s->b64 = malloc(len)) == NULL)
		return -1;
	n = (size_t)(bs - p);
	memcpy(s->b64, p, n);
	for (i = n; i < len; i++) {
		if (p[i] == '\\') {
			if (i + 1 == len || p[i + 1] != '/')
				return -1;
			i++;
		}
		s->b64[n++] = p[i];
	}
	*out = s->b64;
	*out_len = n;
	return 0;
}

/* Parse the message with the data string cut out; 0 with s->json and
 * [*b64, *b64_len) set, or -1 for the slow path. */
static int
parse_fast(const unsigned char *text, size_t len, struct segment *s,
    const unsigned char **b64, size_t *b64_len)
{
	json_error_t jerr;
	json_t *data;
	size_t from, to;
	char *rest;

	if (find_data(text, len, &from, &to) < 0 ||
	    unescape_data(text + from, to - from, s, b64, b64_len) < 0)
		return -1;
	if ((rest = malloc(len - (to - from))) == NULL)
		return -1;
	memcpy(rest, text, from);
	memcpy(rest + from, text + to, len - to);
	s->json = json_loadb(rest, len - (to - from), JSON_REJECT_DUPLICATES, &jerr);
	free(rest);
	data = json_object_get(s->json, "data");
	if (!json_is_string(data) || json_string_length(data) != 0) {
		json_decref(s->json);
		s->json = NULL;
		return -1;
	}
	return 0;
}

enum segment_result
segment_parse(const unsigned char *text, size_t len, struct segment *s)
{
	json_error_t jerr;
	json_t *id, *data, *size, *qr, *type;
	const unsigned char *b64 = NULL;
	size_t mp4_len, at, b64_len = 0;
	const char *why;

	memset(s, 0, sizeof *s);
	if (!looks_like_segment(text, len))
		return SEGMENT_NONE;
	if (parse_fast(text, len, s, &b64, &b64_len) < 0) {
		free(s->b64);
		s->b64 = NULL;
		b64 = NULL;
		s->json = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES,
		    &jerr);
	}
	if (s->json == NULL)
		return bad(s, BADSEG_JSON, "not JSON: %s at byte %d", jerr.text,
		    jerr.position);
	if (!json_is_object(s->json))
		return bad(s, BADSEG_JSON, "not a JSON object");
	type = json_object_get(s->json, "type");
	if (!json_is_string(type) || strcmp(json_string_value(type), "mp4_segment") != 0)
		return SEGMENT_NONE;

	id = json_object_get(s->json, "segment_id");
	if (!json_is_string(id))
		return bad(s, BADSEG_FIELD, "segment_id missing or not a string");
	s->rec.id = json_string_value(id);
	s->rec.id_len = json_string_length(id);
	if (s->rec.id_len > SEGMENT_ID_MAX)
		s->rec.id_len = SEGMENT_ID_MAX;
	data = json_object_get(s->json, "data");
	if (!json_is_string(data))
		return bad(s, BADSEG_FIELD, "data missing or not a string");
	size = json_object_get(s->json, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return bad(s, BADSEG_FIELD, "size missing or not a whole number");
	s->rec.size = (uint64_t)json_integer_value(size);
	qr = json_object_get(s->json, "qr_results");
	if (qr != NULL && !json_is_array(qr) && !json_is_null(qr))
		return bad(s, BADSEG_FIELD, "qr_results not an array");

	if (b64 == NULL) {
		b64 = (const unsigned char *)json_string_value(data);
		b64_len = json_string_length(data);
	}
	if ((s->mp4 = malloc(base64_decoded_max(b64_len) + 1)) == NULL)
		return SEGMENT_NOMEM;
	if (base64_decode(b64, b64_len, s->mp4, &mp4_len, &at) < 0)
		return bad(s, BADSEG_BASE64, at == b64_len ? "data: base64 length %zu "
		    "is not a multiple of 4" : "data: not base64 at character %zu",
		    at == b64_len ? b64_len : at);
	if (mp4_len != s->rec.size)
		return bad(s, BADSEG_SIZE, "size %llu but data decodes to %zu bytes",
		    (unsigned long long)s->rec.size, mp4_len);
	if (mp4_check(s->mp4, mp4_len, &why, &at) < 0)
		return bad(s, BADSEG_NOTMP4, "data is not an MP4 file: %s at byte %zu",
		    why, at);
	s->rec.mp4 = s->mp4;
	s->rec.mp4_len = mp4_len;

	if (json_is_array(qr) && json_array_size(qr) > 0) {
		if ((s->qr = json_dumps(qr, JSON_COMPACT | JSON_ENSURE_ASCII |
		    JSON_REAL_PRECISION(15))) == NULL)
			return SEGMENT_NOMEM;
		s->rec.qr = s->qr;
		s->rec.qr_len = strlen(s->qr);
	} else {
		s->rec.qr = "[]";
		s->rec.qr_len = 2;
	}
	return SEGMENT_OK;
}

void
segment_free(struct segment *s)
{
	json_decref(s->json);
	free(s->b64);
	free(s->mp4);
	free(s->qr);
	memset(s, 0, sizeof *s);
}
