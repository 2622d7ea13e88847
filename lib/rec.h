/* The camrec record stream: the contract between wsrecv, frameparse,
 * sessionwriter and anything else in the pipeline. man/camrec-records.5
 * documents it byte by byte; keep the two in step. */
#ifndef CAMREC_REC_H
#define CAMREC_REC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define REC_MAGIC      "CAMREC"
#define REC_MAJOR      1
#define REC_MINOR      0
#define REC_STREAM_HDR 8	/* "CAMREC", major, minor */
#define REC_HDR        24	/* fixed record header */
#define REC_MAX_BODY   (1u << 30)	/* larger means a corrupt stream */

enum rec_type {
	REC_OPEN     = 1,	/* a connection was accepted */
	REC_CLOSE    = 2,	/* a connection ended */
	REC_TEXT     = 3,	/* a text message from a client */
	REC_BINARY   = 4,	/* a binary message from a client */
	REC_SENT     = 5,	/* wsrecv sent a message to a client */
	REC_FRAME    = 16,	/* frameparse: one parsed camera frame */
	REC_BADFRAME = 17,	/* frameparse: a binary message that is no frame */
	REC_SEGMENT  = 18,	/* frameparse: one MP4 segment from a phone */
	REC_BADSEGMENT = 19,	/* frameparse: a segment message that is no segment */
	REC_IMAGE    = 20,	/* frameparse: one JPEG image from an ESP32 board */
	REC_BADIMAGE = 21,	/* frameparse: an ESP32 message that is no JPEG */
};

/* REC_CLOSE header flags. */
#define REC_CLOSE_CLEAN     0x1	/* the peer sent a close frame */
#define REC_CLOSE_BY_SERVER 0x2	/* wsrecv decided to close */
/* REC_SENT header flags. */
#define REC_SENT_TEXT       0x1
#define REC_SENT_BINARY     0x2

enum frame_kind {
	FRAME_UNKNOWN = 0,	/* no parameter set and no picture in it */
	FRAME_CONFIG  = 1,	/* SPS/PPS (and maybe SEI), no picture */
	FRAME_KEY     = 2,	/* holds an IDR picture */
	FRAME_DELTA   = 3,	/* holds a non-IDR picture */
	FRAME_JPEG    = 4,	/* in an index only: an ESP32 board's JPEG image */
};
/* REC_FRAME body flags. */
#define FRAME_WRAPPED 0x1	/* the sequence wrapped past 2^32 - 1 */

enum badframe_reason {
	BADFRAME_SHORT    = 1,	/* shorter than the 16-byte header */
	BADFRAME_LENGTH   = 2,	/* length field disagrees with the message */
	BADFRAME_EMPTY    = 3,	/* length field is 0 */
};

struct rec {
	uint16_t type;
	uint16_t flags;
	uint32_t len;			/* body length */
	uint64_t conn;			/* connection id, unique per wsrecv run */
	uint64_t t_us;			/* monotonic arrival time, microseconds */
	const unsigned char *body;	/* valid until the next rec_read() */
};

struct rec_open {
	int64_t wall_us;		/* wall clock at accept, since the epoch */
	uint16_t port;
	const char *addr;		/* peer address, not NUL-terminated */
	size_t addr_len;
	const char *path;		/* request path, not NUL-terminated */
	size_t path_len;
};
#define REC_OPEN_FIXED 16

struct rec_frame {
	uint64_t device_ms;
	uint32_t seq;
	uint32_t missing;		/* frames lost just before this one */
	uint8_t kind;			/* enum frame_kind */
	uint8_t flags;			/* FRAME_WRAPPED */
	const unsigned char *payload;	/* H.264 Annex-B */
	size_t payload_len;
};
#define REC_FRAME_FIXED 20

struct rec_badframe {
	uint32_t seq;			/* 0 when the header was too short */
	uint32_t msg_len;		/* length of the offending message */
	uint16_t reason;		/* enum badframe_reason */
	const char *text;
	size_t text_len;
};
#define REC_BADFRAME_FIXED 12

/* An MP4 segment as the current phone app sends it (an "mp4_segment" text
 * message), decoded: its id (client text, unchecked), the size the phone
 * declared (equal to mp4_len, or it would be a BADSEGMENT), its QR results
 * as compact JSON, and the MP4 file's bytes. */
struct rec_segment {
	uint64_t size;
	const char *id;
	size_t id_len;
	const char *qr;
	size_t qr_len;
	const unsigned char *mp4;
	size_t mp4_len;
};
#define REC_SEGMENT_FIXED 16

enum badsegment_reason {
	BADSEG_JSON   = 1,	/* not a JSON object */
	BADSEG_FIELD  = 2,	/* a field missing or of the wrong type */
	BADSEG_BASE64 = 3,	/* data is not base64 */
	BADSEG_SIZE   = 4,	/* size disagrees with the decoded data */
	BADSEG_NOTMP4 = 5,	/* the data is not an MP4 file */
};

struct rec_badsegment {
	uint32_t msg_len;		/* length of the offending message */
	uint16_t reason;		/* enum badsegment_reason */
	const char *id;			/* segment id when there was one */
	size_t id_len;
	const char *text;		/* what was wrong */
	size_t text_len;
};
#define REC_BADSEGMENT_FIXED 8

/* A JPEG image from an ESP32 board, checked whole (SOI to EOI). */
struct rec_image {
	uint32_t number;		/* images on the connection, from 1 */
	uint16_t width, height;		/* from its frame header; 0 when unknown */
	const unsigned char *jpeg;
	size_t jpeg_len;
};
#define REC_IMAGE_FIXED 8

enum badimage_reason {
	BADIMAGE_SHORT = 1,	/* fewer than 4 bytes */
	BADIMAGE_NOSOI = 2,	/* does not start with FF D8 */
	BADIMAGE_NOEOI = 3,	/* does not end with FF D9 */
};

struct rec_badimage {
	uint32_t msg_len;		/* length of the offending message */
	uint16_t reason;		/* enum badimage_reason */
	const char *text;
	size_t text_len;
};
#define REC_BADIMAGE_FIXED 8

struct rec_reader {
	int fd;
	unsigned char *buf;
	size_t cap, start, end;
	uint64_t offset;		/* stream offset of buf[start] */
	uint64_t rec_offset;		/* stream offset of the last record read */
	int eof;
	int opened;			/* the stream header was read */
	const char *error;		/* why rec_read() failed, for the caller */
};

struct rec_writer {
	int fd;
	unsigned char *buf;
	size_t cap, len;
};

/* rec.c */
/* Open a reader on fd and check the stream header. 0, or -1 with
 * r->error set (or errno for I/O and memory errors, r->error NULL). */
int rec_reader_open(struct rec_reader *r, int fd);
/* The same on a file by name, standard input for NULL or "-"; errors as
 * above (errno from open(2) with r->error NULL). The caller closes r->fd. */
int rec_reader_open_path(struct rec_reader *r, const char *path);
/* Read one record: 1, 0 at a clean end of stream, -1 on error as above. */
int rec_read(struct rec_reader *r, struct rec *out);
/* Why the reader failed, as one line into buf: the stream's fault (with
 * the record's offset once past the header) or errno's. Returns 1 when the
 * stream is at fault (not a record stream, truncated, absurd), 0 when the
 * system is (call it before anything else changes errno). */
int rec_reader_why(const struct rec_reader *r, char *buf, size_t cap);
/* Whether a whole record is already buffered, so rec_read will not block. */
int rec_buffered(const struct rec_reader *r);
void rec_reader_close(struct rec_reader *r);

int rec_writer_open(struct rec_writer *w, int fd);	/* writes the stream header */
/* Append a record whose body is sub (a fixed part) followed by data. */
int rec_put(struct rec_writer *w, uint16_t type, uint16_t flags, uint64_t conn,
    uint64_t t_us, const void *sub, size_t sub_len, const void *data, size_t data_len);
/* Copy a record unchanged. */
int rec_copy(struct rec_writer *w, const struct rec *r);
int rec_flush(struct rec_writer *w);
void rec_writer_close(struct rec_writer *w);	/* frees; does not flush */

void rec_pack_stream_header(unsigned char out[REC_STREAM_HDR]);
void rec_pack_header(unsigned char out[REC_HDR], uint16_t type, uint16_t flags,
    uint32_t len, uint64_t conn, uint64_t t_us);
const char *rec_type_name(uint16_t type);	/* NULL when unknown */

/* rec_body.c: the bodies of the record types. parse returns 0, or -1 when
 * the body is too short or inconsistent for its type. */
/* Encode the whole OPEN body (fixed part, address, path) into out; returns
 * its length, or 0 when cap is too small. */
size_t rec_open_pack(unsigned char *out, size_t cap, const struct rec_open *o);
int rec_open_parse(const struct rec *r, struct rec_open *o);
void rec_frame_pack(unsigned char out[REC_FRAME_FIXED], const struct rec_frame *f);
int rec_frame_parse(const struct rec *r, struct rec_frame *f);
void rec_badframe_pack(unsigned char out[REC_BADFRAME_FIXED], const struct rec_badframe *b);
int rec_badframe_parse(const struct rec *r, struct rec_badframe *b);
/* SEGMENT: the fixed part, id and QR results into out (cap bytes); returns
 * its length, or 0 when it does not fit. The MP4 bytes follow it. */
size_t rec_segment_pack_head(unsigned char *out, size_t cap, const struct rec_segment *s);
int rec_segment_parse(const struct rec *r, struct rec_segment *s);
/* BADSEGMENT: the fixed part and the id into out; the text follows it. */
size_t rec_badsegment_pack_head(unsigned char *out, size_t cap,
    const struct rec_badsegment *b);
int rec_badsegment_parse(const struct rec *r, struct rec_badsegment *b);
void rec_image_pack(unsigned char out[REC_IMAGE_FIXED], const struct rec_image *im);
int rec_image_parse(const struct rec *r, struct rec_image *im);
void rec_badimage_pack(unsigned char out[REC_BADIMAGE_FIXED], const struct rec_badimage *b);
int rec_badimage_parse(const struct rec *r, struct rec_badimage *b);
/* CLOSE: u16 code then the reason text. */
int rec_close_parse(const struct rec *r, uint16_t *code, const char **reason, size_t *reason_len);
const char *frame_kind_name(uint8_t kind);

#endif
