/* camsim internals: one process, one lws event loop, N simulated cameras. */
#ifndef CAMSIM_H
#define CAMSIM_H

#include <stddef.h>
#include <stdint.h>

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

/* Lifetime: the whole run; the wsi inside changes with each connection. */
struct cam {
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
	/* totals for the summary */
	uint64_t frames, bytes;
	lws_usec_t first_start_us, last_end_us;
};

extern struct sim sim;

/* media.c: -1 with errno, or -2 with *why for bad content. */
extern char media_failed_path[4096];
int media_load_clip(struct media *m, const char *path, const char **why);
int media_load_jpegs(struct media *m, char **paths, int npaths, const char **why);

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

void esp_command(struct cam *c, char *line);
void android_command(struct cam *c, const char *msg, size_t len);

/* cam.c */
void queue_text(struct cam *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
extern const struct lws_protocols cam_protocols[];
void cam_connect(struct cam *c);
void cam_start(struct cam *c, double fps, unsigned bitrate, unsigned aw, unsigned ah);
void cam_stop(struct cam *c, const char *why, int close_after);
void cam_vanish_now(struct cam *c);
uint64_t cam_rand(struct cam *c);

#endif
