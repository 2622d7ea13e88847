/* frameparse: turn the Android camera's messages into FRAME records, and
 * the current app's MP4 segment texts into SEGMENT records. It sits between
 * wsrecv and sessionwriter so that the 16-byte frame header and the segment
 * JSON are read in exactly one place and sequence gaps are counted once. A
 * malformed message is the client's problem, not the pipeline's: it becomes
 * a BADFRAME or BADSEGMENT record and a rate-limited warning, and the
 * stream goes on. An ESP32 board's binary messages are checked to be whole
 * JPEG images and become IMAGE or BADIMAGE records the same way.
 * Everything it does not understand passes through untouched. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campath.h"
#include "connmap.h"
#include "frameparse.h"
#include "h264.h"
#include "jpeg.h"
#include "rec.h"
#include "stdopt.h"
#include "util.h"

#define FRAME_HDR     16
#define WARN_PER_CONN 10	/* stderr lines per connection before going quiet */

struct conn {
	uint64_t id;
	int android, esp;
	uint32_t images;		/* good images so far, ESP boards */
	int have_seq;
	uint32_t last_seq;
	unsigned long long bad;		/* malformed messages seen */
	struct conn *prev, *next;	/* all connections, for the summary at end */
};

static struct connmap conns;
static struct conn *conn_list;
static struct rec_writer wr;

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: frameparse [file]\n");
	exit(status);
}

static void
conn_forget(struct conn *c)
{
	if (c->bad > WARN_PER_CONN)
		warnx("conn %llu: %llu malformed frames in all, %llu not shown",
		    (unsigned long long)c->id, c->bad, c->bad - WARN_PER_CONN);
	connmap_del(&conns, c->id);
	if (c->prev)
		c->prev->next = c->next;
	else
		conn_list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void
put_or_die(int rv)
{
	if (rv < 0)
		err(1, "stdout");
}

static void
on_open(const struct rec *r)
{
	struct rec_open o;
	struct conn *c;

	if ((c = connmap_get(&conns, r->conn)) != NULL)
		conn_forget(c);	/* a reused id: start afresh */
	if ((c = calloc(1, sizeof *c)) == NULL)
		err(1, NULL);
	c->id = r->conn;
	if (rec_open_parse(r, &o) == 0) {
		c->android = campath_kind(o.path, o.path_len) == CAMPATH_ANDROID;
		c->esp = campath_kind(o.path, o.path_len) == CAMPATH_ESP;
	}
	if (connmap_put(&conns, c->id, c) < 0)
		err(1, NULL);
	c->next = conn_list;
	if (conn_list)
		conn_list->prev = c;
	conn_list = c;
}

static void
bad_frame(struct conn *c, const struct rec *r, uint16_t reason, uint32_t seq,
    const char *text)
{
	struct rec_badframe b = { seq, r->len, reason, text, strlen(text) };
	unsigned char fixed[REC_BADFRAME_FIXED];

	rec_badframe_pack(fixed, &b);
	put_or_die(rec_put(&wr, REC_BADFRAME, 0, r->conn, r->t_us, fixed,
	    sizeof fixed, b.text, b.text_len));
	if (++c->bad <= WARN_PER_CONN) {
		if (reason == BADFRAME_SHORT)
			warnx("conn %llu: %s", (unsigned long long)c->id, text);
		else
			warnx("conn %llu seq %u: %s", (unsigned long long)c->id, seq, text);
	}
}

static void
on_binary(struct conn *c, const struct rec *r)
{
	unsigned char fixed[REC_FRAME_FIXED];
	struct rec_frame f;
	char text[128];
	uint32_t len, step;

	if (r->len < FRAME_HDR) {
		snprintf(text, sizeof text, "message of %u bytes is shorter than "
		    "the %d-byte frame header", r->len, FRAME_HDR);
		bad_frame(c, r, BADFRAME_SHORT, 0, text);
		return;
	}
	f.device_ms = be64_get(r->body);
	f.seq = be32_get(r->body + 8);
	len = be32_get(r->body + 12);
	if (len != r->len - FRAME_HDR) {
		snprintf(text, sizeof text, "length field %u but message has %u "
		    "bytes (%u after the header)", len, r->len, r->len - FRAME_HDR);
		bad_frame(c, r, BADFRAME_LENGTH, f.seq, text);
		return;
	}
	if (len == 0) {
		bad_frame(c, r, BADFRAME_EMPTY, f.seq, "length field is 0");
		return;
	}
	/* Sequence numbers count up by one modulo 2^32; a step backwards
	 * (more than half the range) is a restarted counter, not a loss. */
	f.missing = 0;
	f.flags = 0;
	if (c->have_seq) {
		step = f.seq - c->last_seq;
		if (step >= 1 && step <= 0x80000000u) {
			f.missing = step - 1;
			if (f.seq < c->last_seq)
				f.flags |= FRAME_WRAPPED;
		}
	}
	c->have_seq = 1;
	c->last_seq = f.seq;
	f.payload = r->body + FRAME_HDR;
	f.payload_len = len;
	f.kind = (uint8_t)h264_classify(f.payload, f.payload_len);
	rec_frame_pack(fixed, &f);
	put_or_die(rec_put(&wr, REC_FRAME, 0, r->conn, r->t_us, fixed,
	    sizeof fixed, f.payload, f.payload_len));
}

/* A binary message of an ESP32 board: one whole JPEG becomes an IMAGE
 * record, anything else a BADIMAGE record; nothing of it is passed on. */
static void
on_image(struct conn *c, const struct rec *r)
{
	static const char *const why[] = {
		[BADIMAGE_SHORT] = "too short for a JPEG",
		[BADIMAGE_NOSOI] = "does not start with a JPEG SOI (FF D8)",
		[BADIMAGE_NOEOI] = "does not end with a JPEG EOI (FF D9): cut short?",
	};
	unsigned char fixed[REC_IMAGE_FIXED > REC_BADIMAGE_FIXED ?
	    REC_IMAGE_FIXED : REC_BADIMAGE_FIXED];
	struct rec_badimage b;
	struct rec_image im;
	struct jpeg_info info;
	char text[128];
	int reason;

	if ((reason = jpeg_check(r->body, r->len, &info)) == 0) {
		im.number = ++c->images;
		im.width = info.width;
		im.height = info.height;
		rec_image_pack(fixed, &im);
		put_or_die(rec_put(&wr, REC_IMAGE, 0, r->conn, r->t_us, fixed,
		    REC_IMAGE_FIXED, r->body, r->len));
		return;
	}
	snprintf(text, sizeof text, "image of %u bytes %s", r->len, why[reason]);
	b.msg_len = r->len;
	b.reason = (uint16_t)reason;
	rec_badimage_pack(fixed, &b);
	put_or_die(rec_put(&wr, REC_BADIMAGE, 0, r->conn, r->t_us, fixed,
	    REC_BADIMAGE_FIXED, text, strlen(text)));
	if (++c->bad <= WARN_PER_CONN)
		warnx("conn %llu: %s", (unsigned long long)c->id, text);
}

/* A segment id for stderr: printable ASCII, the rest as \xHH, cut short. */
static const char *
shown_id(const char *id, size_t len, char *buf, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 8 < cap; i++) {
		unsigned char ch = (unsigned char)id[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			buf[n++] = (char)ch;
		else
			n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", ch);
	}
	if (i < len)
		n += (size_t)snprintf(buf + n, cap - n, "...");
	buf[n] = '\0';
	return buf;
}

/* A text message: a segment from a current phone becomes a SEGMENT
 * record, a broken one a BADSEGMENT record; any other text goes on. */
static void
on_text(struct conn *c, const struct rec *r)
{
	unsigned char head[REC_SEGMENT_FIXED + SEGMENT_ID_MAX + 64];
	struct rec_badsegment b;
	struct segment s;
	unsigned char *big = NULL;
	char shown[96];
	size_t n;

	switch (segment_parse(r->body, r->len, &s)) {
	case SEGMENT_NONE:
		put_or_die(rec_copy(&wr, r));
		break;
	case SEGMENT_NOMEM:
		errno = ENOMEM;
		err(1, "conn %llu: segment of %u bytes", (unsigned long long)c->id, r->len);
	case SEGMENT_OK:
		n = rec_segment_pack_head(head, sizeof head, &s.rec);
		if (n == 0) {
			/* QR results too long for the stack. */
			n = REC_SEGMENT_FIXED + s.rec.id_len + s.rec.qr_len;
			if ((big = malloc(n)) == NULL)
				err(1, NULL);
			rec_segment_pack_head(big, n, &s.rec);
		}
		put_or_die(rec_put(&wr, REC_SEGMENT, 0, r->conn, r->t_us,
		    big ? big : head, n, s.rec.mp4, s.rec.mp4_len));
		free(big);
		break;
	case SEGMENT_BAD:
		b.msg_len = r->len;
		b.reason = s.reason;
		b.id = s.rec.id;
		b.id_len = s.rec.id_len;
		n = rec_badsegment_pack_head(head, sizeof head, &b);
		put_or_die(rec_put(&wr, REC_BADSEGMENT, 0, r->conn, r->t_us, head, n,
		    s.why, strlen(s.why)));
		if (++c->bad <= WARN_PER_CONN)
			warnx("conn %llu segment %s: %s", (unsigned long long)c->id,
			    s.rec.id ? shown_id(s.rec.id, s.rec.id_len, shown, sizeof shown) :
			    "(no id)", s.why);
		break;
	}
	segment_free(&s);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		STD_LONGOPTS,
	};
	struct rec_reader rd;
	struct conn *c;
	struct rec r;
	const char *name = "stdin";
	char why[256];
	int ch, got;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		default:
			return std_option(ch, "frameparse", usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage(stderr, 2);
	if (argc == 1 && strcmp(argv[0], "-") != 0)
		name = argv[0];

	if (rec_reader_open_path(&rd, argc == 1 ? argv[0] : NULL) < 0)
		errx(rec_reader_why(&rd, why, sizeof why) ? 3 : 1, "%s: %s", name, why);
	/* Both pipes of the pipeline pass through here; a failure only
	 * costs speed. */
	pipe_grow(rd.fd, PIPE_GROW);
	pipe_grow(STDOUT_FILENO, PIPE_GROW);
	if (rec_writer_open(&wr, 1) < 0)
		err(1, NULL);
	for (;;) {
		if (!rec_buffered(&rd))
			put_or_die(rec_flush(&wr));
		if ((got = rec_read(&rd, &r)) <= 0)
			break;
		switch (r.type) {
		case REC_OPEN:
			on_open(&r);
			put_or_die(rec_copy(&wr, &r));
			break;
		case REC_BINARY:
			c = connmap_get(&conns, r.conn);
			if (c != NULL && c->android)
				on_binary(c, &r);
			else if (c != NULL && c->esp)
				on_image(c, &r);
			else
				put_or_die(rec_copy(&wr, &r));
			break;
		case REC_TEXT:
			c = connmap_get(&conns, r.conn);
			if (c != NULL && c->android)
				on_text(c, &r);
			else
				put_or_die(rec_copy(&wr, &r));
			break;
		case REC_CLOSE:
			put_or_die(rec_copy(&wr, &r));
			if ((c = connmap_get(&conns, r.conn)) != NULL)
				conn_forget(c);
			break;
		default:
			put_or_die(rec_copy(&wr, &r));
		}
	}
	put_or_die(rec_flush(&wr));
	while (conn_list)
		conn_forget(conn_list);
	if (got < 0)
		errx(rec_reader_why(&rd, why, sizeof why) ? 3 : 1, "%s: %s", name, why);
	rec_reader_close(&rd);
	rec_writer_close(&wr);
	connmap_free(&conns);
	if (close(1) < 0)
		err(1, "stdout");
	return 0;
}
