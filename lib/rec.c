/* Reading and writing the record stream. Readers refuse what they cannot
 * read (bad magic, unknown major version, truncation) rather than guess;
 * record types they do not know are handed on like any other. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "rec.h"
#include "util.h"

/* The fuzz build reads in small chunks (REC_READ_CHUNK=4096 in the
 * Makefile): the sliding and growing of the buffer are then reached by
 * small inputs, and a run costs no megabyte to allocate. */
#ifndef REC_READ_CHUNK
#define REC_READ_CHUNK (1u << 20)
#endif
#define READ_CHUNK  REC_READ_CHUNK
#define WRITE_BUF   (256u << 10)

static const char *type_names[] = {
	[REC_OPEN] = "open", [REC_CLOSE] = "close", [REC_TEXT] = "text",
	[REC_BINARY] = "binary", [REC_SENT] = "sent", [REC_FRAME] = "frame",
	[REC_BADFRAME] = "badframe", [REC_SEGMENT] = "segment",
	[REC_BADSEGMENT] = "badsegment", [REC_IMAGE] = "image",
	[REC_BADIMAGE] = "badimage",
};

const char *
rec_type_name(uint16_t type)
{
	if (type >= sizeof type_names / sizeof type_names[0])
		return NULL;
	return type_names[type];
}

void
rec_pack_stream_header(unsigned char out[REC_STREAM_HDR])
{
	memcpy(out, REC_MAGIC, 6);
	out[6] = REC_MAJOR;
	out[7] = REC_MINOR;
}

void
rec_pack_header(unsigned char out[REC_HDR], uint16_t type, uint16_t flags,
    uint32_t len, uint64_t conn, uint64_t t_us)
{
	be32_put(out, len);
	be16_put(out + 4, type);
	be16_put(out + 6, flags);
	be64_put(out + 8, conn);
	be64_put(out + 16, t_us);
}

/* Make at least need bytes available from r->start, reading as required.
 * 1 when they are there, 0 at end of input, -1 on a read error. */
static int
fill(struct rec_reader *r, size_t need)
{
	while (r->end - r->start < need) {
		ssize_t n;

		if (r->eof)
			return 0;
		if (r->cap - r->end < READ_CHUNK / 4) {
			/* Slide what is left to the front, growing for big
			 * records: doubling as their bytes arrive, never to
			 * more than the record needs, so that a corrupt header
			 * claiming a huge body costs no more memory than the
			 * bytes that really follow it. */
			size_t have = r->end - r->start;

			if (r->start > 0) {
				memmove(r->buf, r->buf + r->start, have);
				r->offset += r->start;
				r->start = 0;
				r->end = have;
			}
			if (r->cap - r->end < READ_CHUNK / 4) {
				size_t cap = r->cap ? 2 * r->cap : READ_CHUNK;
				unsigned char *p;

				if (cap > need + READ_CHUNK)
					cap = need + READ_CHUNK;
				if ((p = realloc(r->buf, cap)) == NULL)
					return -1;
				r->buf = p;
				r->cap = cap;
			}
		}
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			r->eof = 1;
		r->end += (size_t)n;
	}
	return 1;
}

int
rec_reader_open(struct rec_reader *r, int fd)
{
	int got;

	memset(r, 0, sizeof *r);
	r->fd = fd;
	got = fill(r, REC_STREAM_HDR);
	if (got < 0)
		return -1;
	if (r->end == 0) {
		r->error = "empty input, no stream header";
		return -1;
	}
	if (got == 0 || memcmp(r->buf, REC_MAGIC, 6) != 0) {
		r->error = "not a camrec record stream (bad magic)";
		return -1;
	}
	if (r->buf[6] != REC_MAJOR) {
		r->error = "unsupported record stream version";
		return -1;
	}
	r->start = REC_STREAM_HDR;
	r->opened = 1;
	return 0;
}

int
rec_reader_open_path(struct rec_reader *r, const char *path)
{
	int fd = 0;

	if (path != NULL && strcmp(path, "-") != 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		memset(r, 0, sizeof *r);
		r->fd = -1;
		return -1;
	}
	return rec_reader_open(r, fd);
}

int
rec_reader_why(const struct rec_reader *r, char *buf, size_t cap)
{
	if (r->error == NULL) {
		snprintf(buf, cap, "%s", strerror(errno));
		return 0;
	}
	if (r->opened)
		snprintf(buf, cap, "offset %llu: %s", (unsigned long long)r->rec_offset,
		    r->error);
	else
		snprintf(buf, cap, "%s", r->error);
	return 1;
}

int
rec_buffered(const struct rec_reader *r)
{
	size_t have = r->end - r->start;

	return have >= REC_HDR && have - REC_HDR >= be32_get(r->buf + r->start);
}

int
rec_read(struct rec_reader *r, struct rec *out)
{
	const unsigned char *h;
	uint32_t len;
	int got;

	r->error = NULL;
	r->rec_offset = r->offset + r->start;
	got = fill(r, REC_HDR);
	if (got < 0)
		return -1;
	if (got == 0) {
		if (r->end == r->start)
			return 0;
		r->error = "truncated record header";
		return -1;
	}
	len = be32_get(r->buf + r->start);
	if (len > REC_MAX_BODY) {
		r->error = "record length too large (corrupt stream)";
		return -1;
	}
	got = fill(r, REC_HDR + (size_t)len);
	if (got < 0)
		return -1;
	if (got == 0) {
		r->error = "truncated record body";
		return -1;
	}
	h = r->buf + r->start;
	out->len = len;
	out->type = be16_get(h + 4);
	out->flags = be16_get(h + 6);
	out->conn = be64_get(h + 8);
	out->t_us = be64_get(h + 16);
	out->body = h + REC_HDR;
	r->start += REC_HDR + (size_t)len;
	return 1;
}

void
rec_reader_close(struct rec_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

int
rec_writer_open(struct rec_writer *w, int fd)
{
	w->fd = fd;
	w->len = 0;
	w->cap = WRITE_BUF;
	w->buf = malloc(w->cap);
	if (w->buf == NULL)
		return -1;
	rec_pack_stream_header(w->buf);
	w->len = REC_STREAM_HDR;
	return 0;
}

int
rec_flush(struct rec_writer *w)
{
	if (w->len == 0)
		return 0;
	if (writeall(w->fd, w->buf, w->len) < 0)
		return -1;
	w->len = 0;
	return 0;
}

int
rec_put(struct rec_writer *w, uint16_t type, uint16_t flags, uint64_t conn,
    uint64_t t_us, const void *sub, size_t sub_len, const void *data, size_t data_len)
{
	size_t body = sub_len + data_len;
	unsigned char hdr[REC_HDR];
	struct iovec iov[3];
	ssize_t n;
	size_t total, done;
	int i;

	if (body > REC_MAX_BODY) {
		errno = EMSGSIZE;
		return -1;
	}
	rec_pack_header(hdr, type, flags, (uint32_t)body, conn, t_us);
	if (REC_HDR + body <= w->cap - w->len) {
		memcpy(w->buf + w->len, hdr, REC_HDR);
		if (sub_len)
			memcpy(w->buf + w->len + REC_HDR, sub, sub_len);
		if (data_len)
			memcpy(w->buf + w->len + REC_HDR + sub_len, data, data_len);
		w->len += REC_HDR + body;
		return 0;
	}
	/* Too big for what is left: flush, then write it straight out. */
	if (rec_flush(w) < 0)
		return -1;
	if (REC_HDR + body <= w->cap / 4)
		return rec_put(w, type, flags, conn, t_us, sub, sub_len, data, data_len);
	iov[0] = (struct iovec){ hdr, REC_HDR };
	iov[1] = (struct iovec){ (void *)sub, sub_len };
	iov[2] = (struct iovec){ (void *)data, data_len };
	total = REC_HDR + body;
	done = 0;
	while (done < total) {
		n = writev(w->fd, iov, 3);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
		for (i = 0; i < 3 && n > 0; i++) {
			size_t take = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + take;
			iov[i].iov_len -= take;
			n -= (ssize_t)take;
		}
	}
	return 0;
}

int
rec_copy(struct rec_writer *w, const struct rec *r)
{
	return rec_put(w, r->type, r->flags, r->conn, r->t_us, NULL, 0, r->body, r->len);
}

void
rec_writer_close(struct rec_writer *w)
{
	free(w->buf);
	w->buf = NULL;
}
