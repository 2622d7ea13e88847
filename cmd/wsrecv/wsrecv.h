/* State shared by the parts of wsrecv: the connections (conn.c), the
 * output queue on stdout (out.c) and the control FIFO (ctl.c). */
#ifndef WSRECV_H
#define WSRECV_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#define CLOSE_REASON_MAX 123	/* a close frame carries at most 125 bytes */

/* One message waiting to be written to a client, LWS_PRE bytes of
 * headroom in front of the payload for lws to build the frame header. */
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
	int64_t last_rx_us;		/* last frame or pong from the peer */
	int64_t last_ping_us;
	int ping_due;			/* send a ping when writable */
	int opened;			/* OPEN record written */
	int finished;			/* CLOSE record written */
	int rx_paused;			/* reading stopped for stdout backpressure */

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
};

/* The vhost of the whole process; one instance. */
struct wsrecv {
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
	lws_sorted_usec_list_t sweep;	/* once a second: idle connections */
};

extern struct wsrecv W;

int64_t now_us(void);

/* conn.c */
extern const struct lws_protocols conn_protocol;
void conn_close(struct conn *c, uint16_t code, const char *reason, size_t reason_len);
int conn_send(struct conn *c, int binary, const void *msg, size_t len);
void conn_pause_all(int pause);
void conn_sweep(lws_sorted_usec_list_t *sul);
struct conn *conn_find(uint64_t id);

/* out.c */
extern const struct lws_protocols out_protocol;
int out_init(int fd);
int out_record(uint16_t type, uint16_t flags, uint64_t conn, uint64_t t_us,
    const void *a, size_t alen, const void *b, size_t blen);
int out_record_owned(unsigned char *buf, size_t body_len, uint16_t type,
    uint16_t flags, uint64_t conn, uint64_t t_us);
int out_line(const void *text, size_t len);
void out_pump(void);
int out_failed(void);		/* errno of a failed write, or 0 */
int out_finish(void);		/* blocking flush at exit: 0 or -1 with errno */

/* ctl.c */
extern const struct lws_protocols ctl_protocol;
int ctl_open(const char *path);
void ctl_exec(char *line, size_t len);

#endif
