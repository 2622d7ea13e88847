/* Reading sessionwriter's status file: which cameras are connected, what
 * kind they are and what they last said. Everything in it that came from a
 * client (model, path, messages) is escaped before it reaches a terminal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "campath.h"
#include "ctl.h"

static const char *
str_or_null(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int64_t
us_or_none(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static enum cam_kind
kind_of(const char *kind, const char *path)
{
	if (kind == NULL) {
		switch (campath_kind(path, strlen(path))) {
		case CAMPATH_ANDROID: return KIND_ANDROID;
		case CAMPATH_ESP: return KIND_ESP;
		case CAMPATH_DEV: return KIND_DEV;
		case CAMPATH_LIVE: return KIND_LIVE;
		}
	}
	if (strcmp(kind, "android") == 0)
		return KIND_ANDROID;
	if (strcmp(kind, "esp") == 0)
		return KIND_ESP;
	if (strcmp(kind, "dev") == 0)
		return KIND_DEV;
	if (strcmp(kind, "live") == 0)
		return KIND_LIVE;
	return KIND_OTHER;
}

static const char *
kind_name(enum cam_kind k)
{
	static const char *const names[] = { "android", "esp", "dev", "live", "?" };

	return names[k];
}

int
status_load(const char *path, struct status *st, char *err, size_t errlen)
{
	json_error_t je;
	json_t *cams, *o, *v;
	const char *fmt;
	FILE *f;
	size_t i;

	memset(st, 0, sizeof(*st));
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	st->root = json_loadf(f, 0, &je);
	fclose(f);
	if (st->root == NULL) {
		snprintf(err, errlen, "line %d: %s", je.line, je.text);
		return -2;
	}
	fmt = str_or_null(st->root, "format");
	cams = json_object_get(st->root, "cameras");
	if (fmt == NULL || strcmp(fmt, "camrec-status 1") != 0 ||
	    !json_is_array(cams)) {
		snprintf(err, errlen, "not a camrec-status 1 document");
		goto bad;
	}
	if ((st->cams = calloc(json_array_size(cams) + 1, sizeof(*st->cams))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto bad;
	}
	json_array_foreach(cams, i, o) {
		struct cam *c = &st->cams[i];

		v = json_object_get(o, "conn");
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			snprintf(err, errlen, "camera %zu has no connection id", i);
			goto bad;
		}
		c->conn = (uint64_t)json_integer_value(v);
		c->peer = str_or_null(o, "peer");
		if (c->peer == NULL)
			c->peer = "?";
		c->port = (unsigned)json_integer_value(json_object_get(o, "port"));
		c->path = str_or_null(o, "path");
		if (c->path == NULL)
			c->path = "/";
		c->kind = kind_of(str_or_null(o, "kind"), c->path);
		c->kind_name = kind_name(c->kind);
		c->model = str_or_null(o, "device_model");
		c->recording = json_is_true(json_object_get(o, "recording"));
		c->session = str_or_null(o, "session");
		c->fps = json_number_value(json_object_get(o, "fps"));
		c->kbps = json_number_value(json_object_get(o, "kbps"));
		c->last_text = str_or_null(o, "last_text");
		c->last_text_us = us_or_none(o, "last_text_us");
		c->last_status = str_or_null(o, "last_status");
		c->last_status_us = us_or_none(o, "last_status_us");
		st->ncams++;
	}
	return 0;
bad:
	status_free(st);
	return -2;
}

void
status_free(struct status *st)
{
	free(st->cams);
	json_decref(st->root);
	memset(st, 0, sizeof(*st));
}

const struct cam *
status_find(const struct status *st, uint64_t conn)
{
	size_t i;

	for (i = 0; i < st->ncams; i++)
		if (st->cams[i].conn == conn)
			return &st->cams[i];
	return NULL;
}

int
target_matches(const struct ctl_target *t, const struct cam *cam)
{
	if (!t->is_peer)
		return cam->conn == t->id;
	if (t->port != 0 && t->port != cam->port)
		return 0;
	/* A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d. */
	return strcasecmp(cam->peer, t->addr) == 0 ||
	    (strncasecmp(cam->peer, "::ffff:", 7) == 0 &&
	    strcasecmp(cam->peer + 7, t->addr) == 0);
}

static void
peer_text(char *buf, size_t n, const struct cam *c)
{
	char addr[80] = "";

	escape_text(addr, sizeof(addr), c->peer, 64);
	snprintf(buf, n, strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, c->port);
}

void
list_cameras(const struct status *st, const struct ctl_cmd *cmd)
{
	char peer[96], path[64], model[128], session[256];
	size_t i, j, shown = 0;

	for (i = 0; i < st->ncams; i++) {
		const struct cam *c = &st->cams[i];

		for (j = 0; j < cmd->ntargets; j++)
			if (target_matches(&cmd->targets[j], c))
				break;
		if (cmd->ntargets > 0 && j == cmd->ntargets)
			continue;
		if (shown++ == 0)
			printf("%-5s %-22s %-14s %-7s %-3s %6s %8s  %-40s %s\n", "ID",
			    "PEER", "PATH", "KIND", "REC", "FPS", "KBPS", "SESSION",
			    "MODEL");
		peer_text(peer, sizeof(peer), c);
		path[0] = model[0] = session[0] = '\0';
		escape_text(path, sizeof(path), c->path, 40);
		escape_text(model, sizeof(model), c->model ? c->model : "-", 60);
		escape_text(session, sizeof(session), c->session ? c->session : "-",
		    200);
		printf("%-5llu %-22s %-14s %-7s %-3s %6.1f %8.1f  %-40s %s\n",
		    (unsigned long long)c->conn, peer, path, c->kind_name,
		    c->recording ? "yes" : "no", c->fps, c->kbps, session, model);
	}
	if (shown == 0)
		printf(cmd->ntargets > 0 ? "no camera matches\n" :
		    "no cameras connected\n");
}
