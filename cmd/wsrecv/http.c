/* Plain HTTP on the cameras' port: the console page from --www and the
 * recordings folder, read-only, under /recordings/, with single byte
 * ranges so a browser can seek in stream.mp4. Every file is opened below
 * its root with openat2(RESOLVE_BENEATH): neither "..", nor an encoded
 * one, nor a symbolic link can lead out, and the kernel checks it at the
 * moment of opening. Names that begin with a dot (temporaries, the lock)
 * and anything but regular files are never served; there are no folder
 * listings. The list of recordings is made by reclist.c; /metrics, with
 * --metrics, by scrape.c. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "util.h"
#include "wsrecv.h"

#define HTTP_CHUNK	(64u << 10)

/* One response being sent; lives from the request to its last byte. */
struct http_req {
	int fd;			/* the file, or -1 */
	off_t pos, end;		/* bytes still to send: [pos, end) */
	char *body;		/* or a body made here */
	size_t body_len, body_pos;
	struct scrape *scrape;	/* or metrics(1) still to answer */
	int head;
};

int
http_root_open(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd;
}

/* Whether a decoded request path is one this server may look up: no
 * control characters, no empty, "." or ".." segment, none beginning with
 * a dot. */
static int
path_ok(const char *p, size_t len)
{
	size_t i, seg = 0;

	for (i = 0; i <= len; i++) {
		if (i == len || p[i] == '/') {
			if (i > seg && p[seg] == '.')
				return 0;
			seg = i + 1;
			continue;
		}
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')
			return 0;
	}
	return 1;
}

static const char *
content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".mp4", "video/mp4" },
		{ ".jpg", "image/jpeg" },
		{ ".png", "image/png" },
		{ ".svg", "image/svg+xml" },
		{ ".ico", "image/x-icon" },
		{ ".tsv", "text/plain; charset=utf-8" },
		{ ".log", "text/plain; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	size_t i, n = strlen(name), e;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		e = strlen(types[i].ext);
		if (n >= e && strcmp(name + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

/* Parse a Range header for one range of a file of size bytes: 1 and the
 * range, 0 when it is to be ignored (absent, several ranges, not bytes),
 * -1 when it cannot be satisfied. */
static int
range_parse(const char *h, off_t size, off_t *from, off_t *to)
{
	uint64_t a, b;
	const char *dash;
	char num[24];
	size_t n;

	if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return 0;
	h += 6;
	if ((dash = strchr(h, '-')) == NULL)
		return 0;
	n = (size_t)(dash - h);
	if (n >= sizeof num)
		return 0;
	memcpy(num, h, n);
	num[n] = '\0';
	if (n == 0) {		/* the last b bytes */
		if (parse_u64(dash + 1, 1, INT64_MAX, &b) < 0)
			return 0;
		if (size == 0)
			return -1;
		*from = (off_t)b >= size ? 0 : size - (off_t)b;
		*to = size;
		return 1;
	}
	if (parse_u64(num, 0, INT64_MAX, &a) < 0)
		return 0;
	if (dash[1] == '\0')
		b = (uint64_t)size;
	else if (parse_u64(dash + 1, 0, INT64_MAX, &b) < 0 || b < a)
		return 0;
	else
		b++;
	if ((off_t)a >= size)
		return -1;
	if ((off_t)b > size)
		b = (uint64_t)size;
	*from = (off_t)a;
	*to = (off_t)b;
	return 1;
}

static void
req_free(struct http_req **slot)
{
	struct http_req *r = *slot;

	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	scrape_cancel(r->scrape);
	free(r->body);
	free(r);
	*slot = NULL;
}

/* Headers, then the body from writeable callbacks. The page gets a
 * content security policy that allows no script but its own files. */
static int
respond(struct lws *wsi, struct http_req **slot, unsigned status,
    const char *type, off_t len, const char *range, int head)
{
	unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
	    *end = hdr + sizeof hdr - 1;
	static const char csp[] = "default-src 'self'; img-src 'self' blob: "
	    "data:; media-src 'self' blob:; connect-src 'self' ws: wss:; "
	    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

	if (lws_add_http_common_headers(wsi, status, type, (lws_filepos_t)len,
	    &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"accept-ranges:",
	    (const unsigned char *)"bytes", 5, &p, end) ||
	    lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"x-content-type-options:",
	    (const unsigned char *)"nosniff", 7, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
	    (const unsigned char *)"no-cache", 8, &p, end) ||
	    lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"content-security-policy:",
	    (const unsigned char *)csp, (int)strlen(csp), &p, end) ||
	    (range != NULL && lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"content-range:", (const unsigned char *)range,
	    (int)strlen(range), &p, end)) ||
	    lws_finalize_write_http_header(wsi, start, &p, end)) {
		req_free(slot);
		return -1;
	}
	if (head || len == 0) {
		req_free(slot);
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

static int
respond_text(struct lws *wsi, struct http_req **slot, unsigned status,
    const char *text, int head)
{
	struct http_req *r;

	req_free(slot);
	if ((r = calloc(1, sizeof *r)) == NULL || (r->body = strdup(text)) == NULL)
		err(1, "memory");
	r->fd = -1;
	r->body_len = strlen(text);
	*slot = r;
	return respond(wsi, slot, status, "text/plain; charset=utf-8",
	    (off_t)r->body_len, NULL, head);
}

/* A body made in memory (the list of recordings); takes body. */
static int
respond_body(struct lws *wsi, struct http_req **slot, const char *type,
    char *body, size_t len, int head)
{
	struct http_req *r;

	req_free(slot);
	if ((r = calloc(1, sizeof *r)) == NULL)
		err(1, "memory");
	r->fd = -1;
	r->body = body;
	r->body_len = len;
	*slot = r;
	return respond(wsi, slot, 200, type, (off_t)len, NULL, head);
}

static int
respond_file(struct lws *wsi, struct http_req **slot, int root, const char *rel,
    int head)
{
	char range_hdr[128], crange[96];
	struct http_req *r;
	struct stat st;
	off_t from, to;
	int fd, rr = 0;

	if ((fd = open_beneath(root, rel, O_RDONLY | O_NONBLOCK)) < 0) {
		if (errno == EXDEV || errno == ELOOP || errno == EACCES)
			return respond_text(wsi, slot, 403, "forbidden\n", head);
		return respond_text(wsi, slot, 404, "not found\n", head);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return respond_text(wsi, slot, 404, "not found\n", head);
	}
	from = 0;
	to = st.st_size;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_RANGE) > 0 &&
	    lws_hdr_copy(wsi, range_hdr, sizeof range_hdr, WSI_TOKEN_HTTP_RANGE) > 0)
		rr = range_parse(range_hdr, st.st_size, &from, &to);
	if (rr < 0) {
		close(fd);
		snprintf(crange, sizeof crange, "bytes */%lld", (long long)st.st_size);
		req_free(slot);
		if ((r = calloc(1, sizeof *r)) == NULL)
			err(1, "memory");
		r->fd = -1;
		*slot = r;
		return respond(wsi, slot, 416, "text/plain", 0, crange, head);
	}
	req_free(slot);
	if ((r = calloc(1, sizeof *r)) == NULL)
		err(1, "memory");
	r->fd = fd;
	r->pos = from;
	r->end = to;
	*slot = r;
	if (rr == 1)
		snprintf(crange, sizeof crange, "bytes %lld-%lld/%lld",
		    (long long)from, (long long)to - 1, (long long)st.st_size);
	return respond(wsi, slot, rr == 1 ? 206 : 200, content_type(rel),
	    to - from, rr == 1 ? crange : NULL, head);
}

/* /metrics: the headers wait for metrics(1)'s output (http_writeable). */
static int
metrics(struct lws *wsi, struct http_req **slot, struct http *h, int head)
{
	struct http_req *r;

	req_free(slot);
	if ((r = calloc(1, sizeof *r)) == NULL)
		err(1, "memory");
	r->fd = -1;
	r->head = head;
	if ((r->scrape = scrape_start(wsi, h->metrics, &h->scrapes)) == NULL) {
		free(r);
		return respond_text(wsi, slot, 503, "metrics unavailable\n", head);
	}
	*slot = r;
	return 0;
}

static int
metrics_answer(struct lws *wsi, struct http_req **slot)
{
	struct http_req *r = *slot;
	char *out;
	size_t len;
	int head = r->head, ok = scrape_result(r->scrape, &out, &len);

	if (ok < 0)
		return 0;	/* woken early: the output is not all there */
	scrape_cancel(r->scrape);
	r->scrape = NULL;
	if (ok == 0)
		return respond_text(wsi, slot, 503, "metrics failed\n", head);
	return respond_body(wsi, slot, "text/plain; version=0.0.4; charset=utf-8",
	    out, len, head);
}

/* LWS_CALLBACK_HTTP: uri is the decoded path of len bytes. */
int
http_request(struct http *h, struct lws *wsi, struct http_req **slot,
    const char *uri, size_t len)
{
	int head = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0;
	char *body;
	size_t blen;

	if (head && lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) <= 0)
		return respond_text(wsi, slot, 405, "only GET and HEAD\n", 0);
	/* A NUL byte decoded from %00 ends the C string early. */
	if (strlen(uri) != len || len == 0 || uri[0] != '/' ||
	    !path_ok(uri + 1, len - 1))
		return respond_text(wsi, slot, 400, "bad path\n", head);
	if (h->metrics != NULL && strcmp(uri, "/metrics") == 0)
		return metrics(wsi, slot, h, head);
	if (h->rec_fd >= 0 && strcmp(uri, "/api/recordings") == 0) {
		if ((body = reclist_json(h->rec_fd, &blen)) == NULL)
			return respond_text(wsi, slot, 500, "cannot list\n", head);
		return respond_body(wsi, slot, "application/json", body, blen, head);
	}
	if (h->rec_fd >= 0 && strncmp(uri, "/recordings/", 12) == 0 && len > 12)
		return respond_file(wsi, slot, h->rec_fd, uri + 12, head);
	if (h->www_fd >= 0)
		return respond_file(wsi, slot, h->www_fd,
		    len == 1 ? "index.html" : uri + 1, head);
	return respond_text(wsi, slot, 404, "not found\n", head);
}

/* LWS_CALLBACK_HTTP_WRITEABLE: the next piece of the body. */
int
http_writeable(struct lws *wsi, struct http_req **slot)
{
	static unsigned char buf[LWS_PRE + HTTP_CHUNK];
	struct http_req *r = *slot;
	size_t want;
	ssize_t n;
	int last;

	if (r == NULL)
		return 0;
	if (r->scrape != NULL)
		return metrics_answer(wsi, slot);
	if (r->fd >= 0) {
		want = r->end - r->pos > HTTP_CHUNK ? HTTP_CHUNK :
		    (size_t)(r->end - r->pos);
		n = pread(r->fd, buf + LWS_PRE, want, r->pos);
		if (n <= 0) {
			req_free(slot);
			return -1;	/* the file shrank: nothing sane to send */
		}
		r->pos += n;
		last = r->pos >= r->end;
	} else {
		want = r->body_len - r->body_pos;
		if (want > HTTP_CHUNK)
			want = HTTP_CHUNK;
		memcpy(buf + LWS_PRE, r->body + r->body_pos, want);
		n = (ssize_t)want;
		r->body_pos += want;
		last = r->body_pos >= r->body_len;
	}
	if (lws_write(wsi, buf + LWS_PRE, (size_t)n,
	    last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != n) {
		req_free(slot);
		return -1;
	}
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	req_free(slot);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

void
http_done(struct http_req **slot)
{
	req_free(slot);
}
