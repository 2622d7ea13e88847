/* The commands a server sends to the cameras, and the answers. The Android app
 * parses JSON and ignores what it does not know; lejp (part of
 * libwebsockets) is enough for the handful of fields it looks at. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boardcmd.h"
#include "camsim.h"
#include "util.h"

struct parse_state {
	struct start_cmd *c;
	char command[32];
	int objects;		/* top-level value was an object */
};

static signed char
cmd_cb(struct lejp_ctx *ctx, char reason)
{
	struct parse_state *ps = ctx->user;
	struct start_cmd *c = ps->c;
	double v;

	if (reason == LEJPCB_OBJECT_START) {
		if (ctx->path[0] == '\0')
			ps->objects = 1;
		else if (strcmp(ctx->path, "payload") == 0)
			c->has_payload = 1;
		return 0;
	}
	if (!(reason & LEJP_FLAG_CB_IS_VALUE))
		return 0;
	if (strcmp(ctx->path, "command") == 0 && reason == LEJPCB_VAL_STR_END) {
		snprintf(ps->command, sizeof(ps->command), "%.31s", ctx->buf);
		return 0;
	}
	if (reason != LEJPCB_VAL_NUM_INT && reason != LEJPCB_VAL_NUM_FLOAT)
		return 0;
	v = strtod(ctx->buf, NULL);
	if (strcmp(ctx->path, "payload.fps") == 0)
		c->fps = v;
	else if (strcmp(ctx->path, "payload.bitrate") == 0)
		c->bitrate = v;
	else if (strcmp(ctx->path, "payload.aspectRatio.width") == 0)
		c->aspect_w = (int)v;
	else if (strcmp(ctx->path, "payload.aspectRatio.height") == 0)
		c->aspect_h = (int)v;
	return 0;
}

int
cmd_parse_json(const char *s, size_t len, struct start_cmd *c)
{
	static const char *const paths[] = { "command" };
	struct parse_state ps;
	struct lejp_ctx ctx;
	int r;

	memset(c, 0, sizeof(*c));
	c->bitrate = -1;
	memset(&ps, 0, sizeof(ps));
	ps.c = c;
	while (len > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n')) {
		s++;
		len--;
	}
	lejp_construct(&ctx, cmd_cb, &ps, paths, 1);
	r = lejp_parse(&ctx, (const unsigned char *)s, (int)len);
	lejp_destruct(&ctx);
	if (r < 0 || !ps.objects)
		return -1;
	c->is_start = strcmp(ps.command, "start_capture") == 0;
	c->is_stop = strcmp(ps.command, "stop_capture") == 0;
	return 0;
}

/* The board's sketch compares names as written, so only the canonical
 * spelling is a size to it. */
int
esp_res_valid(const char *name)
{
	const char *canon = boardcmd_size(name);

	return canon != NULL && strcmp(canon, name) == 0;
}

/* JSON string body (no quotes) of arbitrary bytes, cut to fit outsz;
 * plain ASCII out. */
void
json_escape(char *out, size_t outsz, const char *in, size_t inlen)
{
	size_t o = 0, i;

	for (i = 0; i < inlen && o + 7 < outsz; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			/* Bytes of a cut UTF-8 sequence would make the reply
			 * invalid text, so everything outside ASCII goes. */
			o += (size_t)snprintf(out + o, outsz - o, "\\u%04x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
}

static void
reply(struct order *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->reply, sizeof(o->reply), fmt, ap);
	va_end(ap);
}

/* The ESP32 sketch's plain-text commands; RES and QUALITY as in protocol 2. */
void
esp_command(const struct config *cf, const struct cam *c, char *line,
    struct order *o)
{
	char *word[4], *save = NULL, *t;
	const char *res = cf->esp_res;
	uint64_t q = cf->esp_quality;
	int n = 0, i;

	memset(o, 0, sizeof(*o));
	for (t = strtok_r(line, " \t\r\n", &save); t != NULL && n < 4;
	    t = strtok_r(NULL, " \t\r\n", &save))
		word[n++] = t;
	if (n == 0) {
		reply(o, "ERROR: empty command");
		return;
	}
	if (strcmp(word[0], "stop") == 0 && n == 1) {
		if (c->state != CAM_STREAMING) {
			reply(o, "ACK: not streaming");
			return;
		}
		o->stop = "stop";
		reply(o, "ACK: streaming stopped");
		return;
	}
	if (strcmp(word[0], "status") == 0 && n == 1) {
		if (c->state == CAM_STREAMING)
			reply(o, "STATUS: streaming %s quality %u, %llu images sent",
			    c->esp_res, c->esp_quality, (unsigned long long)c->frames_sent);
		else
			reply(o, "STATUS: idle");
		return;
	}
	if (strcmp(word[0], "start") != 0 || n > 3) {
		reply(o, "ERROR: unknown command");
		return;
	}
	for (i = 1; i < n; i++) {
		if (word[i][0] >= '0' && word[i][0] <= '9' && i == n - 1) {
			if (parse_u64(word[i], 1, 63, &q) < 0) {
				reply(o, "ERROR: quality must be 1-63");
				return;
			}
		} else if (i == 1 && esp_res_valid(word[i])) {
			res = word[i];
		} else {
			reply(o, "ERROR: unknown frame size");
			return;
		}
	}
	snprintf(o->esp_res, sizeof(o->esp_res), "%s", res);
	o->esp_quality = (unsigned)q;
	if (c->state == CAM_STREAMING)
		o->stop = "restart";
	o->start = 1;
	o->fps = cf->fps;
	reply(o, "ACK: streaming started %s quality %u", o->esp_res, o->esp_quality);
}

void
android_command(const struct cam *c, const char *msg, size_t len,
    struct order *o)
{
	struct start_cmd cmd;
	char esc[300];

	memset(o, 0, sizeof(*o));
	if (cmd_parse_json(msg, len, &cmd) < 0) {
		json_escape(esc, sizeof(esc), msg, len);
		reply(o, "{\"status\":\"error\",\"message\":\"Invalid command received: %s\"}",
		    esc);
		return;
	}
	if (cmd.is_start && cmd.has_payload) {
		double br = cmd.bitrate < 0 ? 4 : cmd.bitrate;
		int aspect = cmd.aspect_w > 0 && cmd.aspect_h > 0;

		o->start = 1;
		o->fps = cmd.fps;
		o->bitrate = br > 1000 ? 1000 : (unsigned)br;
		o->aspect_w = aspect ? (unsigned)cmd.aspect_w : 0;
		o->aspect_h = aspect ? (unsigned)cmd.aspect_h : 0;
	} else if (cmd.is_stop && c->state == CAM_STREAMING) {
		o->stop = "Streaming stopped by server";
	}
}
