/* Live previews for the consoles on /dev. wsrecv holds each camera message
 * in memory once it is complete; here a copy of it, with a small preview
 * header, becomes one reference-counted message (lib/fanout) that every
 * console watching that camera queues, so a hundred viewers cost one copy.
 * Each (console, camera) pair has its own bounded queue: a console that
 * falls behind loses whole pictures up to that camera's next key frame,
 * and one that stays behind is closed. Ingest never waits for a viewer:
 * nothing here blocks, and a full queue only ever drops.
 *
 * Per camera the last codec config and the last key frame are kept, so a
 * console that starts watching gets a picture at once; it then skips to
 * the next key frame, because the frames between could not be decoded
 * without the ones it missed. */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "campath.h"
#include "fanout.h"
#include "h264.h"
#include "rec.h"
#include "util.h"
#include "wsrecv.h"

#define PHONE_HDR	16	/* timestamp, sequence, length */

/* The preview header is written in front of an image (into the record
 * header's room) or of an access unit (over the phone's header). */
_Static_assert(PREVIEW_HDR <= REC_HDR, "preview header in the record header's room");
_Static_assert(FANOUT_PRE >= LWS_PRE, "room for the WebSocket frame header");

/* A camera's preview state: made on its first message, freed when it goes. */
struct feed {
	int jpeg;			/* an ESP32 board: JPEG images */
	struct fanout_msg *config;	/* the last codec config (phones) */
	struct fanout_msg *key;		/* the last key frame or image */
	int64_t second;			/* the second being counted */
	unsigned frames, frames_last;
	uint64_t bytes, bytes_last;
};

/* One console watching one camera. */
struct watch {
	struct watch *next;
	uint64_t cam;
	int raw;			/* the old console: bare JPEG messages */
	struct viewer_q q;
};

static struct feed *
feed_get(struct conn *cam)
{
	struct feed *f = cam->feed;

	if (f == NULL) {
		if ((f = calloc(1, sizeof *f)) == NULL)
			err(1, "memory");
		f->jpeg = cam->path != NULL &&
		    campath_kind(cam->path, strlen(cam->path)) == CAMPATH_ESP;
		cam->feed = f;
	}
	return f;
}

static void
count(struct feed *f, size_t len, int64_t now)
{
	int64_t sec = now / 1000000;

	if (sec != f->second) {
		f->frames_last = sec == f->second + 1 ? f->frames : 0;
		f->bytes_last = sec == f->second + 1 ? f->bytes : 0;
		f->frames = 0;
		f->bytes = 0;
		f->second = sec;
	}
	f->frames++;
	f->bytes += len;
}

void
view_rate(struct conn *cam, int64_t now, double *fps, double *kbps)
{
	struct feed *f = cam->feed;

	*fps = *kbps = 0;
	if (f == NULL)
		return;
	count(f, 0, now);
	f->frames--;		/* count() counted a frame that was not */
	*fps = f->frames_last;
	*kbps = (double)f->bytes_last * 8 / 1000;
}

/* The preview message of data: the header is written into the
 * PREVIEW_HDR bytes before data, which the caller lends (and gets back as
 * they were), so that the one copy made is the shared message's. */
static struct fanout_msg *
preview_msg(struct conn *cam, int type, int flags, uint64_t t_us,
    unsigned char *data, size_t len)
{
	unsigned char saved[PREVIEW_HDR], *p = data - PREVIEW_HDR;
	struct fanout_msg *m;

	memcpy(saved, p, PREVIEW_HDR);
	p[0] = (unsigned char)type;
	p[1] = (unsigned char)flags;
	p[2] = p[3] = 0;
	be64_put(p + 4, cam->id);
	be64_put(p + 12, t_us);
	/* A codec config is never dropped and does not start a viewer: only
	 * a key frame does. */
	m = fanout_msg_new(p, PREVIEW_HDR + len, flags & PREVIEW_CONFIG ?
	    FANOUT_INIT : flags & PREVIEW_KEY ? FANOUT_KEY : 0);
	memcpy(p, saved, PREVIEW_HDR);
	if (m == NULL)
		err(1, "memory");
	return m;
}

static int
watching(const struct viewer *vw, uint64_t cam, int raw)
{
	const struct watch *w;

	for (w = vw->watches; w != NULL; w = w->next)
		if (w->cam == cam && w->raw == raw)
			return 1;
	return 0;
}

static void
behind(struct views *v, struct viewer *vw)
{
	static const char why[] = "viewer too slow";

	if (vw->behind)
		return;
	vw->behind = 1;
	v->behind++;
	conn_close(vw->c, 4000, why, sizeof why - 1);
}

static void
push(struct views *v, struct viewer *vw, struct watch *w, struct fanout_msg *m)
{
	switch (vq_push(&w->q, m)) {
	case VQ_OK:
		lws_callback_on_writable(vw->c->wsi);
		break;
	case VQ_SKIPPED:
		v->skipped++;
		break;
	case VQ_BEHIND:
		behind(v, vw);
		break;
	}
}

/* Hand m to every watch of cam of the given rawness. */
static void
deliver(struct views *v, uint64_t cam, int raw, struct fanout_msg *m)
{
	struct viewer *vw;
	struct watch *w;

	for (vw = v->viewers; vw != NULL; vw = vw->next) {
		if (vw->behind)
			continue;
		for (w = vw->watches; w != NULL; w = w->next)
			if (w->cam == cam && w->raw == raw)
				push(v, vw, w, m);
	}
}

static int
watched(const struct views *v, uint64_t cam, int raw)
{
	const struct viewer *vw;

	for (vw = v->viewers; vw != NULL; vw = vw->next)
		if (!vw->behind && watching(vw, cam, raw))
			return 1;
	return 0;
}

static int
jpeg_ok(const unsigned char *p, size_t len)
{
	return len >= 4 && p[0] == 0xff && p[1] == 0xd8 &&
	    p[len - 2] == 0xff && p[len - 1] == 0xd9;
}

/* A complete binary message from a camera, with REC_HDR free bytes before
 * it (conn.c reassembles so); msg is as it was when this returns. */
void
view_frame(struct views *v, struct conn *cam, unsigned char *msg,
    size_t len, int64_t now)
{
	struct feed *f = feed_get(cam);
	struct fanout_msg *m;
	unsigned char *au;
	size_t aulen;
	int kind, flags;

	count(f, len, now);
	if (f->jpeg) {
		if (!jpeg_ok(msg, len))
			return;
		m = preview_msg(cam, PREVIEW_JPEG, PREVIEW_KEY, (uint64_t)now, msg, len);
		fanout_msg_unref(f->key);
		f->key = m;
		deliver(v, cam->id, 0, m);
		if (watched(v, cam->id, 1)) {
			if ((m = fanout_msg_new(msg, len, FANOUT_KEY)) == NULL)
				err(1, "memory");
			deliver(v, cam->id, 1, m);
			fanout_msg_unref(m);
		}
		return;
	}
	if (len <= PHONE_HDR || be32_get(msg + 12) != len - PHONE_HDR)
		return;
	au = msg + PHONE_HDR;
	aulen = len - PHONE_HDR;
	kind = h264_classify(au, aulen);
	if (kind == FRAME_UNKNOWN)
		return;
	flags = kind == FRAME_CONFIG ? PREVIEW_CONFIG : kind == FRAME_KEY ?
	    PREVIEW_KEY : 0;
	if (flags == 0 && !watched(v, cam->id, 0))
		return;
	m = preview_msg(cam, PREVIEW_H264, flags, be64_get(msg) * 1000, au, aulen);
	deliver(v, cam->id, 0, m);
	if (kind == FRAME_CONFIG) {
		fanout_msg_unref(f->config);
		f->config = m;
	} else if (kind == FRAME_KEY) {
		fanout_msg_unref(f->key);
		f->key = m;
	} else
		fanout_msg_unref(m);
}

/* Start or stop watching cam; a new watch gets the config and key frame
 * kept, then waits for the next key frame. */
void
view_watch(struct views *v, struct viewer *vw, struct conn *cam, int raw, int on)
{
	struct watch **pw, *w;
	struct feed *f;

	for (pw = &vw->watches; (w = *pw) != NULL; pw = &w->next)
		if (w->cam == cam->id && w->raw == raw)
			break;
	if (!on) {
		if (w != NULL) {
			*pw = w->next;
			vq_free(&w->q);
			free(w);
		}
		return;
	}
	if (w != NULL)
		return;
	if ((w = calloc(1, sizeof *w)) == NULL)
		err(1, "memory");
	w->cam = cam->id;
	w->raw = raw;
	vq_init(&w->q, v->queue_max);
	w->next = vw->watches;
	vw->watches = w;
	if ((f = cam->feed) == NULL || raw)
		return;
	if (f->config != NULL)
		push(v, vw, w, f->config);
	if (f->key != NULL)
		push(v, vw, w, f->key);
	/* The frames since that key frame are gone: wait for the next one. */
	if (!f->jpeg)
		w->q.state = VQ_WAITING;
}

int
view_watches(const struct viewer *vw, uint64_t cam)
{
	return watching(vw, cam, 0) || watching(vw, cam, 1);
}

void
view_add(struct views *v, struct viewer *vw, struct conn *c)
{
	memset(vw, 0, sizeof *vw);
	vw->c = c;
	vw->next = v->viewers;
	if (v->viewers)
		v->viewers->prev = vw;
	v->viewers = vw;
	v->nviewers++;
}

void
view_remove(struct views *v, struct viewer *vw)
{
	struct watch *w;

	while ((w = vw->watches) != NULL) {
		vw->watches = w->next;
		vq_free(&w->q);
		free(w);
	}
	if (vw->prev)
		vw->prev->next = vw->next;
	else if (v->viewers == vw)
		v->viewers = vw->next;
	if (vw->next)
		vw->next->prev = vw->prev;
	vw->prev = vw->next = NULL;
	v->nviewers--;
}

/* A camera went: its watches end and its kept pictures are freed. */
void
view_camera_gone(struct views *v, struct conn *cam)
{
	struct viewer *vw;
	struct feed *f = cam->feed;

	for (vw = v->viewers; vw != NULL; vw = vw->next) {
		view_watch(v, vw, cam, 0, 0);
		view_watch(v, vw, cam, 1, 0);
	}
	if (f == NULL)
		return;
	fanout_msg_unref(f->config);
	fanout_msg_unref(f->key);
	free(f);
	cam->feed = NULL;
}

/* Write queued previews, one watch after the other, until the socket is
 * full. 0, or -1 to close the connection. */
int
view_writeable(struct viewer *vw)
{
	struct fanout_msg *m;
	struct watch *w;
	int more, n;

	do {
		more = 0;
		for (w = vw->watches; w != NULL; w = w->next) {
			if ((m = vq_peek(&w->q)) == NULL)
				continue;
			if (lws_send_pipe_choked(vw->c->wsi)) {
				lws_callback_on_writable(vw->c->wsi);
				return 0;
			}
			n = lws_write(vw->c->wsi, fanout_msg_sendbuf(m),
			    fanout_msg_len(m), LWS_WRITE_BINARY);
			if (n < (int)fanout_msg_len(m))
				return -1;
			vq_pop(&w->q);
			more |= vq_peek(&w->q) != NULL;
		}
	} while (more);
	return 0;
}

size_t
view_queued(const struct viewer *vw)
{
	const struct watch *w;
	size_t n = 0;

	for (w = vw->watches; w != NULL; w = w->next)
		n += vq_bytes(&w->q);
	return n;
}
