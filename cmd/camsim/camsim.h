/* camsim internals: one process, one lws event loop, N simulated cameras.
 *
 * Layers, every call pointing down: camsim.c (options, main loop, summary)
 * owns the one struct sim and calls cam.c, media.c and cmd.c; cam.c (the
 * connections and the stream state machine) calls cmd.c to read a command
 * and acts on the order it returns; cmd.c (parsing the servers' commands)
 * and media.c (loading the clip or the images) call only lib/. There is no
 * global state: each camera points to its struct sim, and lws hands it
 * back as the context's user data where no camera is known. */
#ifndef CAMSIM_H
#define CAMSIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libwebsockets.h>

#define HDR_LEN 16		/* u64 device ms, u32 seq, u32 length */
#define TEXT_QUEUE 8		/* status messages waiting for a writable socket */
#define TEXT_MAX 512
#define CMD_MAX 4096		/* longest command message we accept */

/* One media unit to send: an access unit of the clip or a JPEG image. */
struct unit {
	size_t off, len;
};

/* The clip or the JPEG set, shared read-only by every camera. */
struct media {
	unsigned char *buf;
	size_t len;
	size_t config_len;	/* H.264: SPS/PPS at the start of buf, 0 for JPEG */
	struct unit *units;
	size_t nunits, max_unit;
};

enum vanish_how { VANISH_SILENCE, VANISH_RESET };

/* Everything the options decide; read-only once the loop runs. */
struct config {
	const char *host, *path, *model;
	int port, ncams, esp, fast, autostart, retry, verbose, stats;
	double fps, max_fps, duration, jitter_ms, drop_p, vanish_after;
	uint64_t frames_limit, drop_every, malformed_every, early, burst, seed;
	uint32_t seq_start;
	unsigned bitrate, aspect_w, aspect_h;	/* aspect 0 = not given */
	enum vanish_how vanish_how;
	const char *esp_res;
	unsigned esp_quality;
	const char *sent_log;	/* --sent-log FILE, or NULL */
};

enum cam_state {
	CAM_IDLE,		/* not connected (or waiting to retry) */
	CAM_CONNECTING,
	CAM_READY,		/* connected, waiting for a start command */
	CAM_STREAMING,
	CAM_CLOSING,		/* sending what is queued, then a close frame */
	CAM_VANISHED,		/* fault injection: silent, never sends again */
	CAM_DONE,		/* finished for good */
};

struct sim;

/* Lifetime: the whole run; the wsi inside changes with each connection. */
struct cam {
	struct sim *sim;	/* the run it belongs to */
	int index;
	struct lws *wsi;
	enum cam_state state;
	char model[64];
	uint64_t rng;
	uint64_t device_base_ms;	/* sensor clock at process start */
	uint32_t seq;
	/* stream parameters of the current capture */
	double fps;
	unsigned bitrate, aspect_w, aspect_h;
	char esp_res[16];
	unsigned esp_quality;
	/* stream progress */
	int config_pending;	/* the config packet is still to be sent */
	uint64_t early_left;	/* binary messages to send before capture_started */
	size_t next_unit;
	uint64_t frames_sent;	/* pictures in this capture */
	uint64_t msgs_sent;	/* binary messages on this connection */
	lws_usec_t started_us, next_due_us;
	/* captured frames waiting to go out: their device timestamps */
	uint64_t *held;
	size_t nheld, held_cap;
	int flushing;		/* --burst: sending the held frames back to back */
	/* text messages waiting to go out */
	char *texts[TEXT_QUEUE];
	size_t ntexts;
	int text_after_early;	/* texts[0] waits until early_left is 0 */
	/* receive reassembly */
	char rx[CMD_MAX + 1];
	size_t rx_len;
	int rx_too_long;
	lws_sorted_usec_list_t sul_frame, sul_retry, sul_vanish;
	int failed;		/* lost or refused, not by our own choice */
};

struct sim {
	struct config cf;
	struct media media;
	struct cam *cams;
	struct lws_context *ctx;
	unsigned char *scratch;	/* LWS_PRE + HDR_LEN + largest unit */
	int stopping;
	FILE *sent;		/* --sent-log: a line per binary message sent */
	/* totals for the summary */
	uint64_t frames, bytes;
	lws_usec_t first_start_us, last_end_us;
	/* camsim.c's main loop */
	lws_sorted_usec_list_t sul_wake;
	lws_usec_t stop_deadline;
	int loop_done;
};

/* media.c: -1 with errno, or -2 with *why for bad content. */
int media_load_clip(struct media *m, const char *path, const char **why);
/* On failure the file that failed is left in failed (size n). */
int media_load_jpegs(struct media *m, char **paths, int npaths, char *failed,
    size_t n, const char **why);
void media_free(struct media *m);

/* cmd.c */
struct start_cmd {
	int is_start, is_stop, has_payload;
	double fps;
	double bitrate;
	int aspect_w, aspect_h;
};
/* Parse one Android JSON command; -1 when it is not a JSON object. */
int cmd_parse_json(const char *s, size_t len, struct start_cmd *c);
int esp_res_valid(const char *name);
void json_escape(char *out, size_t outsz, const char *in, size_t inlen);

/* What a command asks of a camera, in this order: end the capture if
 * one runs, start one, send the reply. cmd.c decides; cam.c does it. */
struct order {
	const char *stop;	/* why, or NULL: no stop */
	int start;
	double fps;
	unsigned bitrate, aspect_w, aspect_h;
	char esp_res[16];	/* ESP boards: "" leaves them as they are */
	unsigned esp_quality;
	char reply[TEXT_MAX];	/* "": none */
};
/* An ESP board's plain-text command (line is modified), for camera c. */
void esp_command(const struct config *cf, const struct cam *c, char *line,
    struct order *o);
/* An Android app's JSON command, for camera c. */
void android_command(const struct cam *c, const char *msg, size_t len,
    struct order *o);

/* cam.c */
extern const struct lws_protocols cam_protocols[];
void cam_connect(struct cam *c);
void cam_stop(struct cam *c, const char *why, int close_after);
void cam_vanish_now(struct cam *c);

#endif
