/* One simulated camera: the connection callback and the stream state
 * machine. Everything runs in the lws event loop; timers (lws_sul) pace
 * the frames and WRITEABLE callbacks send them, one message per callback
 * as lws requires. */
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>

#include "camsim.h"
#include "sha256.h"
#include "util.h"

static uint64_t
cam_rand(struct cam *c)
{
	/* xorshift64*: small, seeded, reproducible across runs */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 0x2545F4914F6CDD1DULL;
}

static double
cam_rand01(struct cam *c)
{
	return (double)(cam_rand(c) >> 11) / (double)(1ULL << 53);
}

static void
vlog(struct cam *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->sim->cf.verbose)
		return;
	fprintf(stderr, "camsim: camera %d: ", c->index);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t
device_ms(struct cam *c)
{
	return c->device_base_ms + (uint64_t)(lws_now_usecs() / 1000);
}

static void
want_write(struct cam *c)
{
	if (c->wsi != NULL)
		lws_callback_on_writable(c->wsi);
}

static void queue_text(struct cam *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
queue_text(struct cam *c, const char *fmt, ...)
{
	char buf[TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (c->ntexts == TEXT_QUEUE) {
		warnx("camera %d: too many unsent status messages, dropping one", c->index);
		return;
	}
	if ((c->texts[c->ntexts] = strdup(buf)) == NULL)
		err(1, "strdup");
	c->ntexts++;
	want_write(c);
}

static void
clear_texts(struct cam *c)
{
	while (c->ntexts > 0)
		free(c->texts[--c->ntexts]);
}

static void
frame_tick(lws_sorted_usec_list_t *sul)
{
	struct cam *c = lws_container_of(sul, struct cam, sul_frame);
	lws_usec_t now = lws_now_usecs(), interval, delay;
	double j = c->sim->cf.jitter_ms;

	if (c->state != CAM_STREAMING)
		return;
	/* A camera whose frames cannot go out drops them, like the app. */
	if (c->nheld < c->held_cap)
		c->held[c->nheld++] = device_ms(c);
	if (c->sim->cf.burst > 0 && c->nheld >= c->sim->cf.burst)
		c->flushing = 1;
	if (c->sim->cf.burst == 0 || c->flushing)
		want_write(c);

	interval = (lws_usec_t)(1e6 / c->fps);
	c->next_due_us += interval;
	if (c->next_due_us < now - interval)
		c->next_due_us = now;
	delay = c->next_due_us - now;
	if (j > 0)
		delay += (lws_usec_t)((cam_rand01(c) * 2 - 1) * j * 1000);
	if (delay < 1)
		delay = 1;
	lws_sul_schedule(c->sim->ctx, 0, &c->sul_frame, frame_tick, delay);
}

static void
cam_start(struct cam *c, double fps, unsigned bitrate, unsigned aw, unsigned ah)
{
	const struct config *cf = &c->sim->cf;
	char fpsdesc[32];

	if (c->state == CAM_STREAMING)
		cam_stop(c, "Streaming restarted", 0);
	if (c->state != CAM_READY)
		return;
	c->bitrate = bitrate;
	c->aspect_w = aw;
	c->aspect_h = ah;
	c->fps = fps <= 0 || fps > cf->max_fps ? cf->max_fps : fps;
	c->state = CAM_STREAMING;
	c->config_pending = !cf->esp;
	c->early_left = cf->esp ? 0 : cf->early;
	c->next_unit = 0;
	c->frames_sent = 0;
	c->nheld = 0;
	c->flushing = 0;
	c->started_us = c->next_due_us = lws_now_usecs();
	if (c->sim->first_start_us == 0)
		c->sim->first_start_us = c->started_us;
	if (fps > 0)
		snprintf(fpsdesc, sizeof(fpsdesc), "%gfps", fps);
	else
		snprintf(fpsdesc, sizeof(fpsdesc), "max fps");
	if (!cf->esp && c->early_left == 0)
		queue_text(c, "{\"status\":\"capture_started\",\"message\":\"Streaming "
		    "H.264 at %u:%u aspect ratio, %uMB bitrate (%s) [rotated on Android]\"}",
		    aw ? aw : 4, aw ? ah : 3, bitrate, fpsdesc);
	vlog(c, "capture started at %g fps", c->fps);
	if (!cf->fast)
		lws_sul_schedule(c->sim->ctx, 0, &c->sul_frame, frame_tick, 1);
	want_write(c);
}

/* End the capture (with the status message the app sends), and with
 * close_after also the connection. */
void
cam_stop(struct cam *c, const char *why, int close_after)
{
	if (c->state == CAM_STREAMING) {
		lws_sul_schedule(c->sim->ctx, 0, &c->sul_frame, frame_tick,
		    LWS_SET_TIMER_USEC_CANCEL);
		c->nheld = 0;
		c->early_left = 0;
		c->config_pending = 0;
		if (!c->sim->cf.esp)
			queue_text(c, "{\"status\":\"capture_stopped\",\"message\":\"%s\"}", why);
		c->sim->last_end_us = lws_now_usecs();
		vlog(c, "capture stopped: %s", why);
		c->state = CAM_READY;
	}
	if (close_after && c->state == CAM_READY) {
		c->state = CAM_CLOSING;
		want_write(c);
	} else if (close_after && c->state == CAM_CONNECTING && c->wsi != NULL) {
		c->state = CAM_DONE;
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	} else if (close_after && c->state == CAM_IDLE) {
		lws_sul_schedule(c->sim->ctx, 0, &c->sul_retry, NULL, LWS_SET_TIMER_USEC_CANCEL);
		c->state = CAM_DONE;
	}
}

/* A reset: connect(AF_UNSPEC) drops a TCP connection with RST and no FIN,
 * so the server sees no close frame and no orderly shutdown. */
static void
reset_socket(struct cam *c)
{
	struct sockaddr sa;
	int fd;

	if (c->wsi == NULL)
		return;
	fd = lws_get_socket_fd(c->wsi);
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNSPEC;
	if (fd >= 0)
		(void)connect(fd, &sa, sizeof(sa));
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* Like a phone losing Wi-Fi: no more bytes in either direction. */
void
cam_vanish_now(struct cam *c)
{
	if (c->wsi != NULL && c->state == CAM_VANISHED && c->sim->stopping) {
		/* Silent until now; at exit it must still leave no close frame. */
		reset_socket(c);
		return;
	}
	if (c->wsi == NULL || c->state == CAM_DONE || c->state == CAM_VANISHED)
		return;
	if (c->state == CAM_STREAMING)
		c->sim->last_end_us = lws_now_usecs();
	lws_sul_schedule(c->sim->ctx, 0, &c->sul_frame, frame_tick, LWS_SET_TIMER_USEC_CANCEL);
	clear_texts(c);
	c->state = CAM_VANISHED;
	vlog(c, "vanishing (%s)", c->sim->cf.vanish_how == VANISH_RESET ? "reset" : "silence");
	if (c->sim->cf.vanish_how == VANISH_RESET || c->sim->stopping)
		reset_socket(c);
	else
		lws_rx_flow_control(c->wsi, 0);
}

static void
vanish_tick(lws_sorted_usec_list_t *sul)
{
	cam_vanish_now(lws_container_of(sul, struct cam, sul_vanish));
}

static void
retry_tick(lws_sorted_usec_list_t *sul)
{
	struct cam *c = lws_container_of(sul, struct cam, sul_retry);

	if (!c->sim->stopping && c->state == CAM_IDLE)
		cam_connect(c);
}

static void
conn_lost(struct cam *c, const char *what)
{
	c->wsi = NULL;
	lws_sul_schedule(c->sim->ctx, 0, &c->sul_frame, frame_tick, LWS_SET_TIMER_USEC_CANCEL);
	lws_sul_schedule(c->sim->ctx, 0, &c->sul_vanish, vanish_tick, LWS_SET_TIMER_USEC_CANCEL);
	clear_texts(c);
	if (c->state == CAM_STREAMING)
		c->sim->last_end_us = lws_now_usecs();
	if (c->state == CAM_CLOSING || c->state == CAM_VANISHED || c->state == CAM_DONE) {
		c->state = CAM_DONE;
		return;
	}
	if (c->sim->cf.retry && !c->sim->stopping) {
		warnx("camera %d: ws://%s:%d%s: %s; retrying in 1 s", c->index,
		    c->sim->cf.host, c->sim->cf.port, c->sim->cf.path, what);
		c->state = CAM_IDLE;
		lws_sul_schedule(c->sim->ctx, 0, &c->sul_retry, retry_tick, LWS_US_PER_SEC);
		return;
	}
	warnx("camera %d: ws://%s:%d%s: %s", c->index, c->sim->cf.host, c->sim->cf.port,
	    c->sim->cf.path, what);
	c->failed = 1;
	c->state = CAM_DONE;
}

void
cam_connect(struct cam *c)
{
	struct lws_client_connect_info i;

	memset(&i, 0, sizeof(i));
	i.context = c->sim->ctx;
	i.address = c->sim->cf.host;
	i.port = c->sim->cf.port;
	i.path = c->sim->cf.path;
	i.host = c->sim->cf.host;
	i.origin = c->sim->cf.host;
	i.local_protocol_name = cam_protocols[0].name;
	i.userdata = c;
	i.pwsi = &c->wsi;
	c->state = CAM_CONNECTING;
	c->rx_len = 0;
	c->rx_too_long = 0;
	if (lws_client_connect_via_info(&i) == NULL && c->state == CAM_CONNECTING)
		conn_lost(c, "cannot connect");
}

/* A whole command: cmd.c reads it, and the order it gives is done here. */
static void
received(struct cam *c, const void *in, size_t len, int binary, int first, int final)
{
	struct order o;

	if (first) {
		c->rx_len = 0;
		c->rx_too_long = 0;
	}
	if (c->rx_len + len > CMD_MAX)
		c->rx_too_long = 1;
	else {
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
	}
	if (!final || binary)
		return;
	c->rx[c->rx_len] = '\0';
	if (c->state != CAM_READY && c->state != CAM_STREAMING)
		return;
	vlog(c, "command: %.*s", (int)c->rx_len, c->rx);
	if (c->sim->cf.esp) {
		if (c->rx_too_long) {
			queue_text(c, "ERROR: command too long");
			return;
		}
		esp_command(&c->sim->cf, c, c->rx, &o);
	} else {
		android_command(c, c->rx, c->rx_too_long ? 0 : c->rx_len, &o);
	}
	if (o.stop != NULL && c->state == CAM_STREAMING)
		cam_stop(c, o.stop, 0);
	if (o.esp_res[0] != '\0') {
		snprintf(c->esp_res, sizeof(c->esp_res), "%s", o.esp_res);
		c->esp_quality = o.esp_quality;
	}
	if (o.start)
		cam_start(c, o.fps, o.bitrate, o.aspect_w, o.aspect_h);
	if (o.reply[0] != '\0')
		queue_text(c, "%s", o.reply);
}

/* --sent-log: what went out, for a test to compare with what was recorded:
 * the local port (the recorder's folder names carry it), the sequence
 * number (the message number on the connection for a board), device ms,
 * payload length, its SHA-256, and the wall clock in us. */
static void
log_sent(struct cam *c, uint64_t ts, uint32_t seq, const unsigned char *p, size_t len)
{
	struct sockaddr_in6 sa;
	socklen_t salen = sizeof(sa);
	struct timeval tv;
	char h[65];
	unsigned port = 0;

	sha256_hex(p, len, h);
	if (getsockname(lws_get_socket_fd(c->wsi), (struct sockaddr *)&sa, &salen) == 0)
		port = ntohs(sa.sin6_port);	/* same place in sockaddr_in */
	gettimeofday(&tv, NULL);
	fprintf(c->sim->sent, "%u\t%u\t%llu\t%zu\t%s\t%lld\n", port, seq,
	    (unsigned long long)ts, len, h,
	    (long long)tv.tv_sec * 1000000 + tv.tv_usec);
}

static int
send_unit(struct cam *c, uint64_t ts, const unsigned char *p, size_t len)
{
	const struct config *cf = &c->sim->cf;
	unsigned char *m = c->sim->scratch + LWS_PRE;
	size_t hdr = cf->esp ? 0 : HDR_LEN;
	uint32_t claimed = (uint32_t)len, seq = cf->esp ? (uint32_t)c->msgs_sent + 1 : c->seq;

	c->msgs_sent++;
	if (!cf->esp) {
		if (cf->malformed_every > 0 && c->msgs_sent % cf->malformed_every == 0)
			claimed += 1000;
		be64_put(m, ts);
		be32_put(m + 8, c->seq++);
		be32_put(m + 12, claimed);
	}
	memcpy(m + hdr, p, len);
	if (lws_write(c->wsi, m, hdr + len, LWS_WRITE_BINARY) < (int)(hdr + len)) {
		warnx("camera %d: write failed", c->index);
		return -1;
	}
	if (c->sim->sent != NULL)
		log_sent(c, ts, seq, p, len);
	c->sim->frames++;
	c->sim->bytes += hdr + len;
	return 0;
}

/* The next picture of the clip (or image of the set), with the faults
 * asked for: --drop skips it along with its sequence number. */
static int
send_picture(struct cam *c, uint64_t ts)
{
	const struct config *cf = &c->sim->cf;
	const struct unit *u;

	while (!cf->esp && ((cf->drop_every > 0 && (c->seq - cf->seq_start) %
	    cf->drop_every == 0) || (cf->drop_p > 0 && cam_rand01(c) < cf->drop_p))) {
		c->seq++;
		c->next_unit = (c->next_unit + 1) % c->sim->media.nunits;
	}
	u = &c->sim->media.units[c->next_unit];
	c->next_unit = (c->next_unit + 1) % c->sim->media.nunits;
	if (send_unit(c, ts, c->sim->media.buf + u->off, u->len) < 0)
		return -1;
	c->frames_sent++;
	if (cf->frames_limit > 0 && c->frames_sent >= cf->frames_limit)
		cam_stop(c, "Frame limit reached", 1);
	return 0;
}

static int
writeable(struct cam *c)
{
	const struct config *cf = &c->sim->cf;
	size_t len;
	int r;

	if (c->state == CAM_VANISHED)
		return 0;
	if (c->ntexts > 0) {
		len = strlen(c->texts[0]);
		memcpy(c->sim->scratch + LWS_PRE, c->texts[0], len);
		free(c->texts[0]);
		memmove(c->texts, c->texts + 1, --c->ntexts * sizeof(c->texts[0]));
		if (lws_write(c->wsi, c->sim->scratch + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len)
			return -1;
		want_write(c);
		return 0;
	}
	if (c->state == CAM_CLOSING) {
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}
	if (c->state != CAM_STREAMING)
		return 0;
	if (c->config_pending) {
		c->config_pending = 0;
		r = send_unit(c, 0, c->sim->media.buf, c->sim->media.config_len);
	} else if (c->early_left > 0) {
		r = send_picture(c, device_ms(c));
		if (--c->early_left == 0 && c->state == CAM_STREAMING)
			queue_text(c, "{\"status\":\"capture_started\",\"message\":\"Streaming "
			    "H.264 at %u:%u aspect ratio, %uMB bitrate (%gfps) [rotated on Android]\"}",
			    c->aspect_w ? c->aspect_w : 4, c->aspect_w ? c->aspect_h : 3,
			    c->bitrate, c->fps);
	} else if (cf->fast) {
		r = send_picture(c, device_ms(c));
	} else if (c->nheld > 0 && (cf->burst == 0 || c->flushing)) {
		uint64_t ts = c->held[0];

		memmove(c->held, c->held + 1, --c->nheld * sizeof(c->held[0]));
		if (c->nheld == 0)
			c->flushing = 0;
		r = send_picture(c, ts);
	} else {
		return 0;
	}
	if (r < 0)
		return -1;
	if (c->state == CAM_STREAMING && (c->config_pending || c->early_left > 0 ||
	    cf->fast || (c->nheld > 0 && (cf->burst == 0 || c->flushing))))
		want_write(c);
	return 0;
}

static int
callback_cam(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct cam *c = user;
	struct sim *sim;
	char what[160];
	int k;

	/* Callbacks about no particular connection carry no user pointer;
	 * the run is the context's user data. */
	if (c == NULL && wsi != NULL &&
	    (sim = lws_context_user(lws_get_context(wsi))) != NULL)
		for (k = 0; c == NULL && k < sim->cf.ncams; k++)
			if (sim->cams[k].wsi == wsi)
				c = &sim->cams[k];
	if (c == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->wsi = wsi;
		c->state = CAM_READY;
		vlog(c, "connected");
		if (!c->sim->cf.esp) {
			queue_text(c, "{\"status\":\"ready\",\"message\":\"Client is ready to stream\"}");
			queue_text(c, "{\"type\":\"capabilities\",\"deviceModel\":\"%s\",\"sdkInt\":34,"
			    "\"resolutions\":[{\"width\":4000,\"height\":3000,\"format\":\"YUV_420_888\","
			    "\"lensFacing\":\"back\"},{\"width\":1920,\"height\":1080,\"format\":"
			    "\"YUV_420_888\",\"lensFacing\":\"back\"},{\"width\":1280,\"height\":720,"
			    "\"format\":\"YUV_420_888\",\"lensFacing\":\"back\"},{\"width\":640,"
			    "\"height\":480,\"format\":\"YUV_420_888\",\"lensFacing\":\"back\"}],"
			    "\"imageAnalysisResolution\":{\"width\":1920,\"height\":1080}}", c->model);
		}
		if (c->sim->cf.vanish_after > 0)
			lws_sul_schedule(c->sim->ctx, 0, &c->sul_vanish, vanish_tick,
			    (lws_usec_t)(c->sim->cf.vanish_after * 1e6));
		if (c->sim->stopping)
			cam_stop(c, "Streaming stopped", 1);
		else if (c->sim->cf.autostart) {
			snprintf(c->esp_res, sizeof(c->esp_res), "%s", c->sim->cf.esp_res);
			c->esp_quality = c->sim->cf.esp_quality;
			cam_start(c, c->sim->cf.fps, c->sim->cf.bitrate, c->sim->cf.aspect_w, c->sim->cf.aspect_h);
		}
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		received(c, in, len, lws_frame_is_binary(wsi), lws_is_first_fragment(wsi),
		    lws_is_final_fragment(wsi));
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return writeable(c);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		snprintf(what, sizeof(what), "%s", in ? (const char *)in : "connection failed");
		conn_lost(c, what);
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2) {
			const unsigned char *p = in;

			vlog(c, "server sent close %u", (unsigned)p[0] << 8 | p[1]);
		}
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		conn_lost(c, "connection closed by server");
		break;
	default:
		break;
	}
	return 0;
}

const struct lws_protocols cam_protocols[] = {
	{ "camsim", callback_cam, 0, CMD_MAX, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};
