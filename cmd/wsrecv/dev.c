/* The consoles on /dev (with --www). Two kinds share the path:
 *
 *	the old console   plain text both ways: its command lines go to the
 *	                  cameras, it gets every board message as text and
 *	                  every ESP32 image as a bare binary JPEG, and log
 *	                  lines of its own;
 *	the page (web/)   connects to /dev?v=2 and speaks JSON (wsrecv(1)
 *	                  lists the messages): the camera list once a
 *	                  second, the cameras' messages and answers, previews
 *	                  with a small header (view.c).
 *
 * A third kind, on /live/ID, only watches camera ID: it gets the same
 * preview messages as the page, nothing else, and says nothing; it is
 * closed when the camera goes. (liverelay's viewers, one path, one
 * stream.) It is no console for the others: no list, no log lines.
 *
 * Consoles are no cameras: they make no records and ctl does not see
 * them. What they send to cameras goes the way of ctl's commands, as
 * messages queued on the camera's connection and SENT records. Which
 * camera confirmed is decided here from its next message: a phone's
 * capture_started or capture_stopped status, a board's ACK or ERROR. */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "campath.h"
#include "rec.h"
#include "util.h"
#include "wsrecv.h"

#define ANSWER_US	(5 * 1000000LL)	/* then "no answer" */
#define MAX_PENDING	256
#define TEXT_BACKLOG	(1u << 20)	/* a console this far behind is closed */
#define CONSOLE_CMD_MAX	4096

/* One console; lives from its open to its close. */
struct console {
	struct console *prev, *next;
	struct conn *c;
	int v2;				/* the page: JSON */
	uint64_t live;			/* a live viewer of this camera */
	struct viewer view;
};

struct pending {
	uint64_t cam;
	enum camcmd_verb verb;
	int64_t deadline;
};

/* The consoles' state, made by dev_init() for the server's lifetime. */
struct dev {
	struct server *s;
	struct views *views;
	struct console *consoles;
	struct console *lives;		/* live viewers, on /live/ID */
	const char *status_path;
	json_t *status;			/* cameras by conn id, from the file */
	struct pending pend[MAX_PENDING];
	size_t npend;
	lws_sorted_usec_list_t tick;
};

static int
is_board(const struct conn *cam)
{
	return cam->path != NULL &&
	    campath_kind(cam->path, strlen(cam->path)) == CAMPATH_ESP;
}

/* Text to one console, closing it when it stopped reading. */
static void
say(struct console *k, const char *text, size_t len)
{
	static const char why[] = "console too slow";

	if (k->c->server_closed || k->c->peer_closed)
		return;
	if (k->c->sq_bytes > TEXT_BACKLOG) {
		conn_close(k->c, 4000, why, sizeof why - 1);
		return;
	}
	conn_send(k->c, 0, text, len);
}

static void
say_json(struct dev *d, json_t *o, int old_too, const char *old_text)
{
	struct console *k;
	char *s = json_dumps(o, JSON_COMPACT);

	if (s == NULL)
		err(1, "memory");
	for (k = d->consoles; k != NULL; k = k->next)
		if (k->v2)
			say(k, s, strlen(s));
		else if (old_too)
			say(k, old_text, strlen(old_text));
	free(s);
	json_decref(o);
}

/* A line for every console: the page gets it as a log message. */
static void
log_all(struct dev *d, uint64_t cam, const char *text)
{
	say_json(d, json_pack("{s:s,s:I,s:s}", "type", "log", "id",
	    (json_int_t)cam, "text", text), 1, text);
}

static json_t *
camera_json(struct dev *d, struct conn *cam, int64_t now)
{
	json_t *o, *st = NULL;
	char id[24];
	double fps, kbps;

	view_rate(cam, now, &fps, &kbps);
	snprintf(id, sizeof id, "%llu", (unsigned long long)cam->id);
	if (d->status != NULL)
		st = json_object_get(d->status, id);
	o = json_pack("{s:I,s:s,s:s,s:i,s:s,s:f,s:f}",
	    "id", (json_int_t)cam->id,
	    "kind", is_board(cam) ? "esp32" : "phone",
	    "peer", cam->addr, "port", (int)cam->port,
	    "path", cam->path ? cam->path : "",
	    "fps", fps, "kbps", kbps);
	if (o == NULL)
		err(1, "memory");
	/* What only sessionwriter knows, from its status file. */
	json_object_set(o, "device_model", st && json_object_get(st, "device_model") ?
	    json_object_get(st, "device_model") : json_null());
	json_object_set(o, "recording", st && json_object_get(st, "recording") ?
	    json_object_get(st, "recording") : json_null());
	json_object_set(o, "session", st && json_object_get(st, "session") ?
	    json_object_get(st, "session") : json_null());
	return o;
}

/* Reload the status file; a missing or broken one only means less to say. */
static void
status_reload(struct dev *d)
{
	json_t *root, *cams, *cam, *by = json_object();
	json_error_t e;
	char id[24];
	size_t i;

	if (d->status_path == NULL ||
	    (root = json_load_file(d->status_path, 0, &e)) == NULL) {
		json_decref(d->status);
		d->status = by;
		return;
	}
	cams = json_object_get(root, "cameras");
	json_array_foreach(cams, i, cam) {
		json_t *conn = json_object_get(cam, "conn");

		if (!json_is_integer(conn))
			continue;
		snprintf(id, sizeof id, "%lld", (long long)json_integer_value(conn));
		json_object_set(by, id, cam);
	}
	json_decref(root);
	json_decref(d->status);
	d->status = by;
}

static void
send_cameras(struct dev *d, struct console *only)
{
	json_t *arr = json_array(), *o;
	int64_t now = mono_us();
	struct console *k;
	struct conn *cam;
	char *s;

	for (cam = d->s->conns; cam != NULL; cam = cam->next)
		json_array_append_new(arr, camera_json(d, cam, now));
	o = json_pack("{s:s,s:o}", "type", "cameras", "cameras", arr);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		err(1, "memory");
	json_decref(o);
	for (k = d->consoles; k != NULL; k = k->next)
		if (k->v2 && (only == NULL || only == k))
			say(k, s, strlen(s));
	free(s);
}

static void
answer(struct dev *d, uint64_t cam, enum camcmd_verb verb, const char *result,
    const char *text)
{
	static const char *verbs[] = { "start", "stop", "status" };
	char line[512];

	snprintf(line, sizeof line, "camera %llu: %s: %s",
	    (unsigned long long)cam, verbs[verb], result);
	say_json(d, json_pack("{s:s,s:I,s:s,s:s,s:s?}", "type", "answer",
	    "id", (json_int_t)cam, "command", verbs[verb], "result", result,
	    "text", text), 0, line);
}

static void
tick(lws_sorted_usec_list_t *sul)
{
	struct dev *d = lws_container_of(sul, struct dev, tick);
	int64_t now = mono_us();
	size_t i, j;

	for (i = j = 0; i < d->npend; i++) {
		if (d->pend[i].deadline <= now)
			answer(d, d->pend[i].cam, d->pend[i].verb, "no answer", NULL);
		else
			d->pend[j++] = d->pend[i];
	}
	d->npend = j;
	if (d->consoles != NULL) {
		status_reload(d);
		send_cameras(d, NULL);
	}
	lws_sul_schedule(d->s->ctx, 0, &d->tick, tick, LWS_US_PER_SEC);
}

struct dev *
dev_init(struct server *s, struct views *views, const char *status_path)
{
	struct dev *d;

	if ((d = calloc(1, sizeof *d)) == NULL)
		err(1, "memory");
	d->s = s;
	d->views = views;
	d->status_path = status_path;
	lws_sul_schedule(s->ctx, 0, &d->tick, tick, LWS_US_PER_SEC);
	return d;
}

/* After the context is destroyed, which ends the timer with it. */
void
dev_free(struct dev *d)
{
	if (d == NULL)
		return;
	json_decref(d->status);
	free(d);
}

static void
watch_boards(struct dev *d, struct console *k)
{
	struct conn *cam;

	for (cam = d->s->conns; cam != NULL; cam = cam->next)
		if (is_board(cam))
			view_watch(d->views, &k->view, cam, 1, 1);
}

/* The camera of a live viewer's path, /live/ID (a query ignored), or
 * NULL. */
static struct conn *
live_camera(struct dev *d, const char *path)
{
	const char *p = path + sizeof "/live/" - 1;
	struct conn *cam;
	uint64_t id = 0;

	if (strncmp(path, "/live/", sizeof "/live/" - 1) != 0 ||
	    *p < '1' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (id > (UINT64_MAX - 9) / 10)
			return NULL;
		id = id * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0' && *p != '?')
		return NULL;
	for (cam = d->s->conns; cam != NULL; cam = cam->next)
		if (cam->id == id && !cam->finished)
			return cam;
	return NULL;
}

static void
live_open(struct dev *d, struct console *k)
{
	static const char none[] = "no such camera";
	struct conn *cam = live_camera(d, k->c->path);

	k->next = d->lives;
	if (d->lives)
		d->lives->prev = k;
	d->lives = k;
	if (cam == NULL) {
		conn_close(k->c, 4004, none, sizeof none - 1);
		return;
	}
	k->live = cam->id;
	view_watch(d->views, &k->view, cam, 0, 1);
}

void
dev_open(struct dev *d, struct conn *c)
{
	struct console *k;
	const char *q = strchr(c->path, '?');

	if ((k = calloc(1, sizeof *k)) == NULL)
		err(1, "memory");
	k->c = c;
	c->console = k;
	view_add(d->views, &k->view, c);
	if (campath_kind(c->path, strlen(c->path)) == CAMPATH_LIVE) {
		live_open(d, k);
		return;
	}
	k->v2 = q != NULL && strstr(q, "v=2") != NULL;
	k->next = d->consoles;
	if (d->consoles)
		d->consoles->prev = k;
	d->consoles = k;
	if (k->v2) {
		static const char hello[] = "{\"type\":\"hello\",\"server\":\"wsrecv\"}";

		say(k, hello, sizeof hello - 1);
		status_reload(d);
		send_cameras(d, k);
	} else
		watch_boards(d, k);
}

void
dev_close(struct dev *d, struct conn *c)
{
	struct console *k = c->console;

	if (k == NULL)
		return;
	view_remove(d->views, &k->view);
	if (k->prev)
		k->prev->next = k->next;
	else if (d->lives == k)
		d->lives = k->next;
	else
		d->consoles = k->next;
	if (k->next)
		k->next->prev = k->prev;
	c->console = NULL;
	free(k);
}

int
dev_writeable(struct conn *c)
{
	if (conn_writeable(c) < 0)
		return -1;
	if (c->console == NULL || c->close_pending)
		return 0;
	return view_writeable(&c->console->view);
}

/* Send to one camera the way ctl's commands go: queued, and recorded. */
static int
to_camera(struct dev *d, struct conn *cam, const char *msg, size_t len)
{
	if (conn_send(cam, 0, msg, len) < 0)
		return -1;
	if (!d->s->lines && out_record(REC_SENT, REC_SENT_TEXT, cam->id,
	    (uint64_t)mono_us(), NULL, 0, msg, len) < 0)
		err(1, "memory");
	return 0;
}

static int
targeted(json_t *ids, uint64_t id)
{
	size_t i;
	json_t *v;

	if (ids == NULL || json_is_string(ids))
		return 1;	/* absent or "all" */
	json_array_foreach(ids, i, v)
		if (json_is_integer(v) && (uint64_t)json_integer_value(v) == id)
			return 1;
	return 0;
}

/* Send c to the cameras in ids (NULL: all); tell the consoles. */
static void
command(struct dev *d, struct console *k, const struct camcmd *c, json_t *ids)
{
	json_t *sent = json_array();
	char msg[512], line[128];
	struct conn *cam;
	size_t len, n = 0;

	for (cam = d->s->conns; cam != NULL; cam = cam->next) {
		if (cam->server_closed || cam->peer_closed || !targeted(ids, cam->id))
			continue;
		if ((len = camcmd_message(c, is_board(cam), msg, sizeof msg)) == 0)
			continue;
		if (to_camera(d, cam, msg, len) < 0)
			continue;
		n++;
		json_array_append_new(sent, json_integer((json_int_t)cam->id));
		if (d->npend < MAX_PENDING)
			d->pend[d->npend++] = (struct pending){ cam->id, c->verb,
			    mono_us() + ANSWER_US };
	}
	snprintf(line, sizeof line, "%s sent to %zu camera%s", camcmd_name(c), n,
	    n == 1 ? "" : "s");
	if (k->v2) {
		json_t *o = json_pack("{s:s,s:s,s:o}", "type", "sent", "command",
		    camcmd_name(c), "ids", sent);
		char *s = json_dumps(o, JSON_COMPACT);

		if (s == NULL)
			err(1, "memory");
		say(k, s, strlen(s));
		free(s);
		json_decref(o);
	} else {
		json_decref(sent);
		say(k, line, strlen(line));
	}
}

static void
refuse(struct console *k, const char *why)
{
	char line[300];

	if (k->v2) {
		json_t *o = json_pack("{s:s,s:s}", "type", "refused", "error", why);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

		if (s == NULL)
			err(1, "memory");
		say(k, s, strlen(s));
		free(s);
		json_decref(o);
		return;
	}
	snprintf(line, sizeof line, "error: %s; nothing sent", why);
	say(k, line, strlen(line));
}

static long
opt_long(json_t *o, const char *key, long dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long)json_integer_value(v) :
	    json_is_real(v) ? -1 : dflt;
}

/* A JSON message of the page. */
static void
page_message(struct dev *d, struct console *k, const char *text, size_t len)
{
	const char *type, *s;
	char err[256], line[CONSOLE_CMD_MAX + 1];
	json_error_t e;
	struct camcmd c;
	struct conn *cam;
	json_t *o, *ids, *v;

	if ((o = json_loadb(text, len, 0, &e)) == NULL ||
	    (type = json_string_value(json_object_get(o, "type"))) == NULL) {
		refuse(k, "not a console message");
		json_decref(o);
		return;
	}
	ids = json_object_get(o, "ids");
	if (ids != NULL && !json_is_array(ids) && !(json_is_string(ids) &&
	    strcmp(json_string_value(ids), "all") == 0)) {
		refuse(k, "ids: want a list of camera ids or \"all\"");
	} else if (strcmp(type, "watch") == 0) {
		for (cam = d->s->conns; cam != NULL; cam = cam->next)
			view_watch(d->views, &k->view, cam, 0,
			    ids != NULL && targeted(ids, cam->id));
	} else if (strcmp(type, "command") == 0) {
		s = json_string_value(json_object_get(o, "text"));
		if (s == NULL || strlen(s) > CONSOLE_CMD_MAX)
			refuse(k, "command: want a text");
		else {
			strcpy(line, s);
			if (camcmd_parse(line, &c, err, sizeof err) < 0)
				refuse(k, err);
			else
				command(d, k, &c, ids);
		}
	} else if (strcmp(type, "start") == 0 || strcmp(type, "stop") == 0 ||
	    strcmp(type, "status") == 0) {
		camcmd_init(&c, type[2] == 'a' && type[3] == 'r' ? CAMCMD_START :
		    type[2] == 'o' ? CAMCMD_STOP : CAMCMD_STATUS);
		c.to = CAMCMD_ALL;
		if (c.verb == CAMCMD_START) {
			c.bitrate = opt_long(o, "bitrate", 4);
			c.fps = opt_long(o, "fps", 10);
			c.segment = opt_long(o, "segment", 0);
			c.quality = opt_long(o, "quality", 0);
			c.res = json_string_value(json_object_get(o, "res"));
			if ((v = json_object_get(o, "ratio")) != NULL &&
			    !json_is_null(v)) {
				s = json_string_value(v);
				c.has_ratio = 1;
				c.ratio_w = c.ratio_h = 0;
				if (s != NULL)
					sscanf(s, "%3ld:%3ld", &c.ratio_w, &c.ratio_h);
			}
		}
		if (camcmd_check(&c, err, sizeof err) < 0)
			refuse(k, err);
		else
			command(d, k, &c, ids);
	} else
		refuse(k, "unknown message type");
	json_decref(o);
}

/* A complete message from a console. */
void
dev_receive(struct dev *d, struct conn *c, const unsigned char *msg, size_t len,
    int binary)
{
	struct console *k = c->console;
	char line[CONSOLE_CMD_MAX + 1], err[256];
	struct camcmd cmd;

	if (k == NULL || binary || campath_kind(c->path, strlen(c->path)) ==
	    CAMPATH_LIVE)
		return;
	if (k->v2) {
		page_message(d, k, (const char *)msg, len);
		return;
	}
	if (len > CONSOLE_CMD_MAX || memchr(msg, '\0', len) != NULL) {
		refuse(k, "command too long or not text");
		return;
	}
	memcpy(line, msg, len);
	line[len] = '\0';
	if (camcmd_parse(line, &cmd, err, sizeof err) < 0)
		refuse(k, err);
	else
		command(d, k, &cmd, NULL);
}

/* Whether a camera's text answers what it was sent: 1 confirmed, -1 an
 * error, 0 neither. */
static int
verdict(struct conn *cam, enum camcmd_verb verb, const char *text, size_t len)
{
	json_error_t e;
	const char *st;
	json_t *o;
	int r = 0;

	if (is_board(cam)) {
		if (len >= 6 && memcmp(text, "ERROR:", 6) == 0)
			return -1;
		if (len >= 4 && memcmp(text, "ACK:", 4) == 0)
			return 1;
		return verb == CAMCMD_STATUS && len >= 7 &&
		    memcmp(text, "STATUS:", 7) == 0;
	}
	if ((o = json_loadb(text, len, 0, &e)) == NULL)
		return 0;
	if ((st = json_string_value(json_object_get(o, "status"))) != NULL) {
		if (strcmp(st, "error") == 0)
			r = -1;
		else if ((verb == CAMCMD_START && strcmp(st, "capture_started") == 0) ||
		    (verb == CAMCMD_STOP && strcmp(st, "capture_stopped") == 0))
			r = 1;
	}
	json_decref(o);
	return r;
}

/* A complete text message from a camera. */
void
dev_camera_text(struct dev *d, struct conn *cam, const char *text, size_t len)
{
	char *s;
	size_t i;
	int r;

	if (d->consoles == NULL && d->npend == 0)
		return;
	/* Shown as text by the page; never more than a screenful. */
	if (len > 4096)
		len = 4096;
	if ((s = malloc(len + 1)) == NULL)
		err(1, "memory");
	memcpy(s, text, len);
	s[len] = '\0';
	for (i = 0; i < d->npend; i++) {
		if (d->pend[i].cam != cam->id)
			continue;
		if ((r = verdict(cam, d->pend[i].verb, text, len)) == 0)
			break;
		answer(d, cam->id, d->pend[i].verb, r > 0 ? "confirmed" : "error", s);
		memmove(&d->pend[i], &d->pend[i + 1], (d->npend - i - 1) * sizeof d->pend[0]);
		d->npend--;
		break;
	}
	if (d->consoles != NULL) {
		json_t *o = json_pack("{s:s,s:I,s:s%}", "type", "log", "id",
		    (json_int_t)cam->id, "text", s, len);

		/* Text that is not UTF-8 cannot be a JSON string. */
		if (o != NULL)
			say_json(d, o, 1, s);
	}
	free(s);
}

void
dev_camera_open(struct dev *d, struct conn *cam)
{
	struct console *k;
	char line[160];

	snprintf(line, sizeof line, "camera %llu connected: %s %s port %u",
	    (unsigned long long)cam->id, is_board(cam) ? "ESP32" : "phone",
	    cam->addr, cam->port);
	log_all(d, cam->id, line);
	if (is_board(cam))
		for (k = d->consoles; k != NULL; k = k->next)
			if (!k->v2)
				view_watch(d->views, &k->view, cam, 1, 1);
	send_cameras(d, NULL);
}

void
dev_camera_close(struct dev *d, struct conn *cam)
{
	static const char gone[] = "camera disconnected";
	struct console *k;
	char line[160];
	size_t i, j;

	for (k = d->lives; k != NULL; k = k->next)
		if (k->live == cam->id)
			conn_close(k->c, LWS_CLOSE_STATUS_GOINGAWAY, gone,
			    sizeof gone - 1);
	for (i = j = 0; i < d->npend; i++)
		if (d->pend[i].cam != cam->id)
			d->pend[j++] = d->pend[i];
		else
			answer(d, cam->id, d->pend[i].verb, "no answer", "disconnected");
	d->npend = j;
	snprintf(line, sizeof line, "camera %llu disconnected",
	    (unsigned long long)cam->id);
	log_all(d, cam->id, line);
}
