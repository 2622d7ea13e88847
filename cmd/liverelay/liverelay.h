/* liverelay: one source process, started when the first viewer comes and
 * stopped when the last has been gone a while, its output cut at decodable
 * boundaries and fanned out to WebSocket viewers (lib/fanout). Files, each
 * calling only the ones below it: liverelay.c (options, main loop) ->
 * config.c (the JSON file); liverelay.c -> server.c (viewers, HTTP, the
 * source's life) -> status.c (the status JSON), source.c (the process),
 * cut.c (the byte stream into messages). */
#ifndef LIVERELAY_H
#define LIVERELAY_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "fanout.h"

enum cut_format { CUT_FMP4, CUT_MPEGTS };

struct config {
	char *host;			/* default 0.0.0.0 */
	unsigned port;			/* default 8765 */
	char *path;			/* the viewers' path, default /live */
	double idle_timeout;		/* s after the last viewer left */
	double start_timeout;		/* s for the source's first bytes */
	double restart_backoff;		/* s before the first restart */
	double stop_grace;		/* s between SIGTERM and SIGKILL */
	size_t queue_bytes;		/* per viewer */
	enum cut_format format;
	char **source;			/* argv, NULL-terminated */
	int verbose;
};

/* config.c */
/* Set the defaults; no source. */
void config_defaults(struct config *c);
/* Read the JSON file at path into c. 0, or -1 with a one-line reason in
 * why ("FILE: key \"port\": must be an integer from 1 to 65535"). */
int config_load(struct config *c, const char *path, char *why, size_t cap);
/* "fmp4" or "mpegts" into *f; 0 or -1. */
int config_format(const char *name, enum cut_format *f);
void config_free(struct config *c);

/* cut.c: the source's bytes into messages at decodable boundaries. For
 * fragmented MP4: the init segment (ftyp, moov) as one INIT message, then
 * each fragment (moof, mdat and any box before them) as one message, KEY
 * when its video track's first sample is a sync sample. For MPEG-TS: whole
 * 188-byte packets, a new message at each random access point (KEY). */
#define CUT_MAX_BOX (64u << 20)	/* a box larger than this is an error */
struct cutter {
	enum cut_format format;
	unsigned char *buf;
	size_t len, cap;
	size_t scan;			/* boxes before it are parsed */
	int in_fragment;		/* a moof is in buf, its mdat not yet */
	int key;			/* that moof starts with a sync sample */
	uint32_t video_track;		/* from the moov, 0 if none */
	uint32_t trex_flags;		/* its default sample flags */
};
void cut_init(struct cutter *c, enum cut_format f);
/* Append bytes. 0, or -1 with errno ENOMEM. */
int cut_feed(struct cutter *c, const void *p, size_t n);
/* The next whole message, or NULL: then *why is NULL when more bytes are
 * needed, else says what is wrong with the stream (errno ENOMEM: "memory"). */
struct fanout_msg *cut_next(struct cutter *c, const char **why);
void cut_reset(struct cutter *c);
void cut_free(struct cutter *c);

/* source.c: the source process, started by a keeper process that leads
 * their own process group and kills all of it when the relay dies,
 * however it dies (SIGKILL too): nothing the source started outlives the
 * relay. The source's stdout is a pipe to the relay, stdin /dev/null. */
struct source {
	pid_t pid;			/* the source's, -1 when none */
	pid_t keeper;			/* its keeper's: the group, the child */
	int ctl;			/* the keeper's reports; its life line */
	int fd;				/* read end of its stdout, or -1 */
	int64_t started_us;
};
/* Start argv. 0, or -1 with errno (the exec's own errno when it failed). */
int source_start(struct source *s, char *const argv[]);
/* Signal its whole process group. */
void source_signal(const struct source *s, int sig);
/* Reap it if it has exited: 1 with *status, 0 while it runs, -1. */
int source_reap(struct source *s, int *status);
/* "exit status 1" or "signal 9". */
const char *source_how(int status, char *buf, size_t cap);

/* server.c */
enum relay_state {
	RELAY_IDLE,			/* no source, none wanted */
	RELAY_STARTING,			/* source started, no message yet */
	RELAY_RUNNING,			/* source gives messages */
	RELAY_BACKOFF,			/* source died, restart pending */
	RELAY_STOPPING,			/* signalled, not yet reaped */
};

struct viewer {				/* per-session data of a connection */
	struct viewer_q q;
	struct viewer *next, *prev;
	struct lws *wsi;
	uint64_t id;
	char peer[64];
	time_t since;
	int is_viewer;			/* an accepted WebSocket viewer */
	const char *close_why;		/* close with this once writable */
	int close_code;
	char *http_body;		/* an HTTP answer waiting to be sent */
	size_t http_len;
};

struct relay {
	const struct config *cfg;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct viewer *viewers;
	unsigned nviewers;
	uint64_t next_id;
	enum relay_state state;
	int shutting_down;
	struct source src;
	struct lws *src_wsi;		/* the source's stdout, adopted */
	int got_data;			/* the source gave a message */
	struct cutter cut;
	struct fanout_msg *init;	/* the latest init segment */
	double backoff;			/* s, the next restart's delay */
	unsigned restarts;
	uint64_t bytes_read, msgs_out, bytes_out;
	int64_t up_since;		/* when the source last started */
	time_t started_wall;
	lws_sorted_usec_list_t idle_sul, start_sul, restart_sul, kill_sul,
	    reap_sul, exit_sul;
};

extern const struct lws_protocols relay_protocols[];
/* Hooks the relay into its vhost; called once after creating it. */
void relay_attach(struct relay *r);
/* Stop the source and close every viewer: the relay is exiting. */
void relay_shutdown(struct relay *r);
/* Nothing left to wait for after relay_shutdown(). */
int relay_done(const struct relay *r);
/* Kill the source at once (the relay exits before it could be reaped). */
void relay_kill_source(struct relay *r);

/* page.c */
/* The player page served at /: Media Source Extensions on the viewers'
 * WebSocket. */
extern const char relay_page[];

/* status.c */
/* The status as JSON text (malloc'ed), or NULL. */
char *status_json(const struct relay *r);

#endif
