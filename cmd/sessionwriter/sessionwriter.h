/* sessionwriter's files, in layers: calls go down only.
 *   sessionwriter.c  main: reads the record stream, decides when sessions
 *                    start and end; owns all state (struct writer)
 *   jpeg.c           when an ESP32 board's sessions start and end, for
 *                    sessionwriter.c; calls session.c and images.c
 *   images.c         the newest images of the boards in DIR/images
 *   session.c        the session folders; its state in struct sessions
 *   status.c         the --status file; its state in struct status
 *   segment.c        one MP4 segment's files, for session.c
 *   jsontext.c       json_text, for session.c and status.c
 *   events.c         -v: a line for each session opened and ended
 * No file reads another's globals: what a lower file needs is passed in. */
#ifndef SESSIONWRITER_H
#define SESSIONWRITER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "rec.h"

/* New sessions per connection: at most SESSION_BURST in any SESSION_WINDOW_US
 * of stream time, so a flood of capture_started cannot stall the writer. */
#define SESSION_BURST     5
#define SESSION_WINDOW_US 10000000

/* After a write error, the wait before the next try, doubling from the one
 * to the other. */
#define BACKOFF_MIN_US 1000000
#define BACKOFF_MAX_US 32000000

#define RATE_SLOTS   32		/* 100 ms slots; fps/kbps use the last 30 */
#define RATE_SLOT_US 100000

/* Counts per 100 ms of arrival time, for the status file. */
struct rate {
	uint64_t slot[RATE_SLOTS];	/* which 100 ms period, + 1; 0 = unused */
	uint32_t frames[RATE_SLOTS];
	uint64_t bytes[RATE_SLOTS];
};


/* A frame that arrived while its connection had no open session. */
struct held {
	struct rec_frame f;		/* f.payload unused: see off */
	uint64_t t_us;
	size_t off;			/* payload offset in hold_data */
};

struct unwritten;

/* What session.c keeps across sessions; sessionwriter.c owns it. */
/* What sessionwriter did since it started, for metrics(1): the status
 * file carries them. */
struct session_counts {
	uint64_t opened, closed, failed;	/* sessions */
	uint64_t frames, bytes;		/* payloads written, all sessions */
};

struct sessions {
	const char *root;		/* -d DIR */
	struct session_counts counts;
	int verbose;			/* -v: a line for each session event */
	int sync;			/* -s 0 turns every fsync off */
	int write_failed;		/* some session failed to write */
	struct session *dirty_first;	/* written since the last sync */
	struct unwritten *unwritten_first;	/* session.json kept out by a full disk */
};

/* What status.c keeps between writes of the status file. */
struct status {
	char *path, *tmp;		/* NULL: no --status */
	char *recordings;		/* -d DIR made absolute, or NULL */
	const struct session_counts *counts;
	uint64_t last_write_t_us;
	int written, pending, warned;
};

enum session_kind {
	SESSION_FRAMES = 0,		/* stream.h264 and index.tsv */
	SESSION_SEGMENTS = 1,		/* MP4 files and segments.tsv */
	SESSION_IMAGES = 2,		/* stream.mjpeg and index.tsv */
};
#define IMAGES_STREAM "stream.mjpeg"

/* --images: the newest images of every board, also as single files. */
#define IMAGES_DIR  "images"
#define IMAGES_TMP  ".frame.tmp"
struct images {
	char *dir;			/* DIR/images, or NULL: off */
	size_t keep;			/* how many at most */
	char **name;			/* a ring of file names, oldest at first */
	size_t first, n;
	uint64_t seq;			/* of the newest file */
	int warned;
};

/* The board's answer to the last command wsrecv sent it ends or begins a
 * capture. */
enum esp_sent {
	ESP_SENT_NONE = 0,
	ESP_SENT_START,
	ESP_SENT_STOP,
};

/* Temporaries of a segment being stored, in the session folder. */
#define SEGMENT_TMP ".segment.tmp"
#define QR_TMP      ".qr.tmp"
#define SEGMENT_NAME_CAP 80		/* a name: 64 bytes, "_" and a suffix */
#define SEGMENT_ID_KEEP 256		/* bytes of an id kept for session.json */
/* Index lines wait in a session's buffer of this size and are written
 * together: before each sync (each second with -s 0), when it is full and
 * when the session ends; always after the payloads they name. One write of
 * many lines instead of one a frame. */
#define INDEX_BATCH 4096

/* What the lines in index.tsv cover, for going back to it when the
 * lines still in the buffer cannot be written. */
struct index_mark {
	uint64_t offset, frames, config_packets, first_ms, last_ms;
	int have_ms;
};

/* The last segment name used in a session, so a repeated id costs one link. */
struct segment_names {
	char base[SEGMENT_NAME_CAP];
	int suffix;
};

struct session {
	struct sessions *ss;
	struct conn *conn;
	char *dir;			/* DIR/<name>, as printed */
	int stream_fd, index_fd;	/* stream_fd holds an exclusive flock(2) */
	int lock_fd;			/* the lock while the session ends */
	uint64_t offset;		/* bytes of stream.h264 with an index line */
	uint64_t index_bytes;		/* bytes of index.tsv in whole lines */
	struct index_mark written;	/* what those lines cover */
	size_t lines_len;		/* index lines waiting in lines[] */
	char lines[INDEX_BATCH];
	uint64_t opened_t_us;
	const char *started_by;		/* "capture_started" or "frames" */
	char *capture_message;		/* NULL when none */
	int64_t started_wall_us;
	uint64_t frames, config_packets, gaps, missing_frames, bad_frames;
	uint64_t first_ms, last_ms;
	int have_ms;
	int have_config;		/* SPS/PPS written before any picture */
	int seen_picture;
	int have_real;			/* a payload of this session (not injected) written */
	int config_injected;

	/* A session of MP4 segments: stream_fd and index_fd are -1. */
	int kind;			/* enum session_kind */
	int dir_fd, tsv_fd;		/* tsv_fd holds an exclusive flock(2) */
	uint64_t tsv_bytes;		/* bytes of segments.tsv in whole lines */
	uint64_t segments, segment_bytes, bad_segments;
	unsigned width, height;		/* of the first image, ESP boards */
	char *first_id, *last_id;	/* UTF-8, at most SEGMENT_ID_KEEP bytes */
	struct segment_names names;
	struct session *dirty_prev, *dirty_next;
	int dirty;			/* written since the last sync */
};

/* One per open connection, from OPEN to CLOSE. */
struct conn {
	uint64_t id;
	int kind;			/* enum campath_kind */
	char *addr, *path;		/* from OPEN, NUL-terminated copies */
	uint16_t port;
	int64_t open_wall_us;		/* as the OPEN record says: unchecked */
	int wall_warned;
	uint64_t open_t_us;
	char *device_model;		/* from the capabilities message */
	struct session *s;		/* the open session, or NULL */
	int stopped;			/* after capture_stopped: drop frames */
	int stopping;			/* s waits for late segments after capture_stopped */
	uint64_t stop_t_us;		/* ... which came then */
	int discard;			/* after a write error: drop frames */
	uint64_t retry_at_us;		/* ... until a key frame from then on */
	uint64_t backoff_us;
	char *resume_message;		/* capture_message of the failed session */

	/* Session opens, for the SESSION_BURST bound. */
	uint64_t opened_us[SESSION_BURST];	/* a ring, by nopened */
	uint64_t nopened;
	int start_pending;		/* a capture_started over the bound waits */
	char *pending_message;		/* its message, or NULL */
	int bound_warned;

	/* The last folder name used, so a taken name costs one mkdir. */
	char name_base[128];
	int name_suffix;

	/* The newest codec config, to put at the head of a session lacking it. */
	unsigned char *config;
	size_t config_len, config_cap;
	uint32_t config_seq;
	uint64_t config_t_us;

	/* Frames held until capture_started (status races frames). */
	struct held *held;
	size_t nheld, held_cap;
	unsigned char *hold_data;
	size_t hold_len, hold_cap;

	/* ESP32 boards. */
	int esp_sent;			/* enum esp_sent, until the board answers */
	int esp_started;		/* it acknowledged a start; no image yet */
	char *esp_ack;			/* that ACK's text, for capture_message */
	uint64_t last_image_t_us;

	uint64_t frames_written, bytes_written;	/* into its sessions */
	struct rate rate;
	uint64_t rate_since_us;		/* start of the current run of frames */
	uint64_t rate_last_us;
	char *last_text, *last_status;
	uint64_t last_text_us, last_status_us;
	int have_text, have_status;
	struct conn *prev, *next;	/* every connection, in order of OPEN */
};

/* session.c */
/* kind: enum session_kind. */
int session_open(struct sessions *ss, struct conn *c, uint64_t t_us,
    const char *started_by, const char *capture_message, int kind);
/* Write one payload and its index line; on a write error the session is
 * failed (and c->s is NULL afterwards, c->discard set until c->retry_at_us). */
void session_frame(struct conn *c, const struct rec_frame *f, uint64_t t_us);
void session_end(struct conn *c, uint64_t t_us, const char *ended_by);
/* Store one segment in the open session (a frame session with nothing in it
 * yet becomes a segment session); on a write error as session_frame. */
void session_segment(struct conn *c, const struct rec_segment *sg, uint64_t t_us);
/* Write the session.json of failed sessions that found no room; last: say
 * which still cannot be written. */
void session_retry_json(struct sessions *ss, int last);
/* Write the waiting index lines of every session written to since the
 * last call, and fdatasync them unless syncs are off. now_us: the newest
 * arrival time, for a session that fails. */
void session_sync_all(struct sessions *ss, uint64_t now_us);
int session_any_dirty(const struct sessions *ss);

/* Store one ESP32 image in the open session (of images); on a write error
 * as session_frame. */
void session_image(struct conn *c, const struct rec_image *im, uint64_t t_us);
/* The wall clock at arrival time t_us on the connection. */
int64_t session_wall(struct conn *c, uint64_t t_us);

/* jpeg.c: an ESP32 board's records. Each returns 1 when a session began
 * or ended (the status file wants rewriting), else 0. */
/* An image: into the open session, or the first of a new one (which a gap
 * of more than idle_us ends first); into images too. */
int esp_image(struct sessions *ss, struct images *im, struct conn *c,
    const struct rec *r, uint64_t idle_us);
/* A command wsrecv sent, and the board's text: ACK to a stop ends the
 * session, ACK to a start ends it so the next image begins another. */
void esp_sent(struct conn *c, const struct rec *r);
int esp_text(struct conn *c, const struct rec *r);
/* End the session when no image came for more than idle_us by now_us. */
int esp_idle(struct conn *c, uint64_t now_us, uint64_t idle_us);

/* images.c */
/* Turn --images on: DIR/images made, the files an earlier run left there
 * counted (the oldest beyond keep removed). 0, or -1 with errno. */
int images_open(struct images *im, const char *root, size_t keep);
/* Add one image named by wall_us; the oldest beyond keep goes. Failures
 * warn once and are otherwise ignored: recording matters more. */
void images_add(struct images *im, const unsigned char *jpeg, size_t len, int64_t wall_us);
void images_close(struct images *im);

/* status.c; first is the list of connections, now_us the newest arrival time. */
/* root: the recordings folder, named in the file (absolute) for metrics;
 * counts: shown with every write. */
int status_open(struct status *st, const char *path, const char *root,
    const struct session_counts *counts);
void status_rate(struct conn *c, uint64_t t_us, size_t bytes);
/* Rewrite the status file now (force) or when a second of stream time passed. */
void status_update(struct status *st, const struct conn *first, uint64_t now_us, int force);
/* Whether a change waits to be written, and writing it now. */
int status_pending(const struct status *st);
void status_flush(struct status *st, const struct conn *first, uint64_t now_us);

/* segment.c */
/* Store sg's MP4 and QR results in the folder open as dir_fd under a name
 * made from its id (name: SEGMENT_NAME_CAP bytes), fsync'd first when sync.
 * 0, or -1 with errno and *what, leaving no file of it behind. */
int segment_store(int dir_fd, int sync, const struct rec_segment *sg,
    struct segment_names *names, char *name, const char **what);
/* Remove a stored segment's two files again. */
void segment_unstore(int dir_fd, const char *name);

/* events.c */
void event_opened(const struct conn *c, const char *dir, const char *started_by);
void event_closed(const struct conn *c, const char *dir, const char *ended_by,
    uint64_t frames, uint64_t bytes);

/* jsontext.c */
/* A JSON string of s[0..len); bytes that are not UTF-8 (or NUL) become '?'. */
json_t *json_text(const char *s, size_t len);

#endif
