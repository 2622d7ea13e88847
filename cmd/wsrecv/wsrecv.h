/* The parts of wsrecv, in layers; every call points down:
 *
 *	wsrecv.c  main, options, the server state and the callback of the
 *	          WebSocket protocol: it turns what a connection reports into
 *	          records and acts on the output queue's backlog
 *	ctl.c     the control FIFO: commands applied to connections
 *	budget.c  the memory budget: which connections are read
 *	conn.c    one connection: reassembly, send queue, close, pings
 *	out.c     the output queue on stdout
 *	peers.c   the accepted sockets, counted in all and per address
 *	dev.c     the consoles on /dev: their commands, the cameras' answers
 *	camcmd.c  a console's command checked and made into a camera's message
 *	view.c    live previews: each camera's frames fanned out to consoles
 *	http.c    plain HTTP: the page and the recordings folder
 *	reclist.c the list of recordings, from their session.json
 *	auth.c    the token a client must present, and refusing it
 *	gate.c    sockets dropped before a handshake, lws's log, in moderation
 *	scrape.c  GET /metrics: metrics(1) run once, its output read
 *	counters.c what was received, written for metrics(1) once a second
 *
 * wsrecv.c calls ctl.c, budget.c, dev.c, view.c, http.c, conn.c, out.c,
 * peers.c, auth.c and gate.c; ctl.c and budget.c call conn.c and out.c;
 * dev.c calls camcmd.c, view.c, conn.c and out.c; view.c calls conn.c;
 * http.c calls reclist.c and scrape.c; counters.c and scrape.c call no
 * other part; conn.c, out.c, peers.c, camcmd.c, reclist.c,
 * auth.c and gate.c call no other part. The server state is main()'s, the
 * user data of the lws context shared by its vhosts (plain and TLS); each
 * connection is its per-session data, as in the libwebsockets minimal
 * examples. */
#ifndef WSRECV_H
#define WSRECV_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "connmap.h"
#include "ratelog.h"
#include "secret.h"

#define WS_PROTOCOL	"camrec"
#define ESP_PROTOCOL	"arduino"	/* what arduinoWebSockets asks for */
#define CTL_PROTOCOL	"camrec-ctl"
#define OUT_PROTOCOL	"camrec-stdout"
#define SCRAPE_PROTOCOL	"camrec-scrape"

#define CLOSE_REASON_MAX 123	/* a close frame carries at most 125 bytes */

/* The close reasons wsrecv gives itself. */
#define REASON_GOING_AWAY	"going away"
#define REASON_IDLE		"idle timeout"
#define REASON_LOST		"no close frame"
#define REASON_STALLED		"unfinished message held too long"

/* One message waiting to be written to a client, LWS_PRE bytes of
 * headroom in front of the payload for lws to build the frame header. */
struct http_req;
struct feed;
struct console;

struct sendmsg {
	struct sendmsg *next;
	size_t len;
	int binary;
	unsigned char buf[];
};

/* One WebSocket connection: lws allocates and zeroes it as the per-session
 * data of the ws protocol; it lives from ESTABLISHED to WSI_DESTROY. */
struct conn {
	struct conn *prev, *next;
	struct lws *wsi;
	uint64_t id;
	char *path;
	char addr[INET6_ADDRSTRLEN + 8];
	uint16_t port;
	int64_t last_rx_us;		/* last frame or pong from the peer */
	int64_t last_ping_us;
	int ping_due;			/* send a ping when writable */
	int opened;			/* OPEN record written */
	int finished;			/* CLOSE record written */
	int holds;			/* why reading is stopped: HOLD_* bits */

	unsigned char *rx;		/* message being reassembled, REC_HDR headroom */
	size_t rx_len, rx_cap;
	int in_msg, rx_binary;

	struct sendmsg *sq_head, *sq_tail;
	size_t sq_bytes;

	int peer_closed;		/* the peer sent a close frame */
	int server_closed;		/* wsrecv decided to close */
	int close_pending;		/* send the close frame when writable */
	uint16_t close_code;
	char close_reason[CLOSE_REASON_MAX + 1];
	size_t close_reason_len;

	struct http_req *http;		/* a plain HTTP request being answered */
	struct feed *feed;		/* a camera's preview state (view.c) */
	struct console *console;	/* a console on /dev (dev.c) */
};

/* Why a connection is not read. */
#define HOLD_STDOUT	1		/* the output queue is backed up */
#define HOLD_BUDGET	2		/* the memory budget is spent */

/* The accepted sockets (WebSocket or not yet), by peer address. */
struct peers {
	struct connmap by_addr;		/* address key -> its count */
	struct connmap by_sock;		/* lws wsi -> its address's count */
	size_t sockets;
};

/* The roots served over plain HTTP: open folders, or -1. */
struct http {
	int www_fd;			/* --www: the page */
	int rec_fd;			/* --recordings */
	const char *metrics;		/* --metrics: the run folder, or NULL */
	unsigned scrapes;		/* metrics(1) children running now */
};

/* What was received since the start, for --counters (counters.c). */
struct counters {
	char *dir, *name;		/* the file; NULL: no --counters */
	uint64_t conns[4];		/* by kind: android, esp, dev, live */
	uint64_t messages, bytes;
	int held_on[2];			/* reading stopped for stdout, budget */
	int64_t held_since[2], held_us[2];
	size_t queued, reassembly;	/* as last written */
	int64_t written_us;
	int changed, warned;
};

struct watch;
/* A console as a viewer of previews (view.c); embedded in its state. */
struct viewer {
	struct viewer *prev, *next;
	struct conn *c;
	struct watch *watches;		/* one per camera watched */
	int behind;			/* being closed: it could not keep up */
};

/* Every viewer; part of the server. */
struct views {
	struct viewer *viewers;
	size_t nviewers;
	size_t queue_max;		/* bytes per viewer and camera */
	unsigned long skipped, behind;	/* messages dropped, viewers closed */
};

struct dev;

/* Access control (--token-file), and which refusals were logged lately. */
struct auth {
	int on;
	char token[SECRET_MAX + 1];
	size_t len;
	struct ratelog log;
};

/* Sockets not yet through the handshake, and lws's log lines. */
struct gate {
	int verbose;
	unsigned handshake_s;
	uint64_t dropped;		/* since the last line about them */
	int64_t dropped_logged_us;
	uint64_t lws_suppressed;
	int64_t lws_logged_us;
};

/* The server: main()'s, the user data of the lws context, shared by its
 * vhosts (plain and TLS). */
#define LISTEN_MAX	2
struct server {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	int verbose;
	int lines;			/* --lines: text messages as lines, no records */
	uint64_t max_message;
	unsigned idle_s;
	uint64_t next_id;
	struct conn *conns;
	size_t nconns;
	int paused;			/* every connection's reading is stopped */
	int stopping;			/* shutting down: closing everything */
	lws_sorted_usec_list_t sweep;	/* idle connections, about once a second */

	size_t max_sockets;		/* --max-connections */
	size_t max_per_addr;		/* --max-per-address */
	int cap_loopback;		/* ... given: loopback peers too */
	struct peers peers;
	struct lws *listen_wsi[LISTEN_MAX];	/* known once something connected */
	int accept_paused;		/* listen socket not polled: at the cap */
	int64_t cap_logged_us;		/* last "at connection cap" */
	struct ratelog addr_cap_log;	/* "at the per-address cap", by address */
	int64_t subproto_logged_us;	/* last "unknown subprotocol" */

	uint64_t rx_budget;		/* --rx-budget: reassembly + output queue */
	size_t rx_used;			/* reassembly buffers of every connection */
	size_t rx_large;		/* ... of those with large unfinished messages */
	int rx_full;			/* all held until down to 3/4 of the budget */
	int rx_large_over;		/* large messages over half the budget */
	struct conn *rx_owner;		/* may go over the budget to finish */
	size_t rx_waiting;		/* connections held for budget */
	int64_t budget_logged_us;
	int64_t trimmed_us;		/* last malloc_trim */
	size_t peak_used;		/* most held since then */
	size_t max_used;		/* most held ever, for -v */

	struct http http;
	struct views views;
	struct dev *dev;		/* consoles on /dev, with --www */
	struct auth *auth;		/* --token-file */
	struct gate gate;
	struct counters counters;
};

/* How a connection ended, for its CLOSE record. */
struct conn_end {
	uint16_t code;
	int clean, by_server;
	const char *reason;
	size_t reason_len;
};

enum conn_rx {
	CONN_RX_PARTIAL,		/* more fragments to come, or ignored */
	CONN_RX_MESSAGE,		/* a message is complete: conn_take() */
	CONN_RX_TOO_BIG,		/* over the limit: close the connection */
};

/* conn.c */
void conn_start(struct conn *c, struct lws *wsi, uint64_t id, int64_t now);
void conn_link(struct conn **list, struct conn *c);
void conn_unlink(struct conn **list, struct conn *c);
struct conn *conn_find(struct conn *list, uint64_t id);
void conn_hold(struct conn *c, int why, int on, int64_t now);
void conn_close(struct conn *c, uint16_t code, const char *reason, size_t reason_len);
void conn_check_idle(struct conn *c, int64_t now, int64_t limit,
    int64_t held_limit);
int conn_send(struct conn *c, int binary, const void *msg, size_t len);
int conn_writeable(struct conn *c);
enum conn_rx conn_receive(struct conn *c, const void *in, size_t len,
    uint64_t max_message, size_t room, int64_t now);
unsigned char *conn_take(struct conn *c);
void conn_peer_close(struct conn *c, const unsigned char *in, size_t len);
void conn_finish(struct conn *c, struct conn_end *e);

/* out.c */
int out_init(int fd, int lines);
void out_attach(struct lws_context *ctx, struct lws_vhost *vh);
void out_detach(void);
int out_record(uint16_t type, uint16_t flags, uint64_t conn, uint64_t t_us,
    const void *a, size_t alen, const void *b, size_t blen);
int out_record_owned(unsigned char *buf, size_t body_len, uint16_t type,
    uint16_t flags, uint64_t conn, uint64_t t_us);
int out_line(const void *text, size_t len);
void out_pump(void);
int out_backlogged(void);	/* above the high mark, not yet below the low */
size_t out_queued(void);	/* bytes waiting */
int out_failed(void);		/* errno of a failed write, or 0 */
int out_finish(void);		/* blocking flush at exit: 0 or -1 with errno */
int out_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len);

/* peers.c */
int peers_loopback(const struct sockaddr *sa);
size_t peers_count(const struct peers *p, const struct sockaddr *sa);
int peers_add(struct peers *p, const void *sock, const struct sockaddr *sa);
void peers_del(struct peers *p, const void *sock);
void peers_free(struct peers *p);

/* auth.c */
int auth_load(struct auth *a, const char *path);
int auth_ok(const struct auth *a, struct lws *wsi);	/* 1: let it in */
int auth_refuse(struct auth *a, struct lws *wsi);	/* 401, logged */

/* gate.c */
void gate_log(struct gate *g, int levels);	/* lws's log through the gate */
void gate_accepted(struct gate *g, struct lws *wsi);
void gate_passed(struct lws *wsi);		/* a complete request came */
void gate_released(struct gate *g, struct lws *wsi);

/* budget.c */
size_t budget_room(const struct server *s, const struct conn *c);
void budget_charge(struct server *s, const struct conn *c);
void budget_uncharge(struct server *s, const struct conn *c);
int budget_update(struct server *s, struct conn *c, int64_t now);
void budget_done(struct server *s, struct conn *c, int gone);

/* ctl.c */
int ctl_open(struct server *s, const char *path);
int ctl_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len);

/* A preview message: this header, then an H.264 access unit (Annex B)
 * or a JPEG image. */
#define PREVIEW_HDR	20	/* type, flags, 2 zero bytes, camera, time us */
#define PREVIEW_H264	1
#define PREVIEW_JPEG	2
#define PREVIEW_KEY	1	/* flags: a key frame, or an image */
#define PREVIEW_CONFIG	2	/* flags: SPS and PPS, no picture */

/* view.c */
void view_frame(struct views *v, struct conn *cam, unsigned char *msg,
    size_t len, int64_t now);
void view_rate(struct conn *cam, int64_t now, double *fps, double *kbps);
void view_watch(struct views *v, struct viewer *vw, struct conn *cam, int raw,
    int on);
int view_watches(const struct viewer *vw, uint64_t cam);
void view_add(struct views *v, struct viewer *vw, struct conn *c);
void view_remove(struct views *v, struct viewer *vw);
void view_camera_gone(struct views *v, struct conn *cam);
int view_writeable(struct viewer *vw);
size_t view_queued(const struct viewer *vw);

/* camcmd.c */
enum camcmd_verb { CAMCMD_START, CAMCMD_STOP, CAMCMD_STATUS };
enum camcmd_to { CAMCMD_ALL, CAMCMD_PHONES, CAMCMD_BOARDS };
struct camcmd {
	enum camcmd_verb verb;
	enum camcmd_to to;
	const char *res;		/* ESP32 frame size, or NULL */
	long quality;			/* ESP32 JPEG quality, 0: not given */
	int has_ratio;
	long ratio_w, ratio_h, bitrate, fps, segment;	/* phones */
};
void camcmd_init(struct camcmd *c, enum camcmd_verb verb);
int camcmd_check(struct camcmd *c, char *err, size_t n);
int camcmd_parse(char *line, struct camcmd *c, char *err, size_t n);
size_t camcmd_message(const struct camcmd *c, int board, char *buf, size_t n);
const char *camcmd_name(const struct camcmd *c);

/* dev.c */
struct dev *dev_init(struct server *s, struct views *views, const char *status_path);
void dev_free(struct dev *d);
void dev_open(struct dev *d, struct conn *c);
void dev_close(struct dev *d, struct conn *c);
int dev_writeable(struct conn *c);
void dev_receive(struct dev *d, struct conn *c, const unsigned char *msg,
    size_t len, int binary);
void dev_camera_text(struct dev *d, struct conn *cam, const char *text, size_t len);
void dev_camera_open(struct dev *d, struct conn *cam);
void dev_camera_close(struct dev *d, struct conn *cam);

/* http.c */
int http_root_open(const char *dir);
int http_request(struct http *h, struct lws *wsi, struct http_req **slot,
    const char *uri, size_t len);
int http_writeable(struct lws *wsi, struct http_req **slot);
void http_done(struct http_req **slot);

/* scrape.c: a scrape answers http once scrape_result() says 0 or 1. */
struct scrape;
/* NULL when metrics cannot run, or when SCRAPES_MAX already run (each
 * counted in *running until its child is reaped). */
struct scrape *scrape_start(struct lws *http, const char *rundir,
    unsigned *running);
/* -1: not yet; 0: it failed; 1: *out (the caller's to free) of *len bytes. */
int scrape_result(struct scrape *sc, char **out, size_t *len);
void scrape_cancel(struct scrape *sc);	/* the request is gone */
int scrape_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len);

/* counters.c */
int counters_open(struct counters *k, const char *path);
void counters_close(struct counters *k);
void counters_conn(struct counters *k, const char *path);
void counters_message(struct counters *k, size_t len);
/* Account the time reading was held, and write the file when due. */
void counters_tick(struct counters *k, int64_t now, int stdout_held,
    int budget_held, size_t queued, size_t reassembly, int force);

/* reclist.c */
char *reclist_json(int rootfd, size_t *len);

#endif
