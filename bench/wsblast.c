/* wsblast: the ingest benchmark's load generator. N simulated phones on
 * loopback, each sending the clip as fast as the receiver takes it, with as
 * little work per frame as a WebSocket client can do, so that the benchmark
 * measures the receiver and not the generator (camsim, built on
 * libwebsockets, tops out near the pipeline's own speed on two cores).
 *
 * Every access unit is masked once at start with one fixed masking key: a
 * frame's payload begins at message offset 16, a multiple of 4, so the
 * masked bytes are the same in every message that carries that unit. Per
 * frame only the WebSocket header and the phone's 16-byte header (device
 * time, sequence number, length; see camrec-records(5)) are written and
 * masked; the unit goes out by reference in a writev of many frames.
 * Non-blocking sockets, one epoll loop per thread.
 *
 * Each phone says what the app says (ready, capabilities, capture_started),
 * sends the clip's parameter sets once and then its pictures over and over,
 * and ends with capture_stopped and a close frame. The run's time lasts
 * until every receiver has answered the close, that is until it has read
 * everything. Prints a "barrier:" line when every phone is connected and
 * at the end "frames=N bytes=N seconds=S start_mono=T" like camsim --stats
 * (bytes: binary messages, headers included), then barrier=N connect_s=S
 * burst_s=S, and with -r fps=F max_late_ms=MS.
 *
 * All connections are opened and upgraded first, and none says a word
 * until the last is: then all start at the same instant (a barrier), as
 * phones do when the operator types `start`, each with its parameter sets
 * and the clip's first key frame. With -r FPS each phone then sends one
 * picture every 1/FPS s, stamped with the time it was due, and all phones
 * stay in step (the worst case for the receiver); a phone the receiver
 * does not read keeps its pictures and sends them late, as the app does.
 * max_late_ms says how late the latest picture was handed to the kernel,
 * burst_s when the last phone had written its first key frame whole.
 *
 * With -s FILE each phone is a current-app phone instead: after
 * capture_started it sends the text message in FILE (an mp4_segment, see
 * bench/segments.sh) over and over, masked once at start like the units;
 * frames= then counts segments, bytes= their text and burst_s is when the
 * last phone had written its first segment whole. Segments are not paced
 * (the app sends one when its recorder has cut it, megabytes at once), so
 * -r and -s are refused together. -c COUNT ends each phone after COUNT
 * messages (the parameter sets count as one) in either mode. */
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BATCH      32		/* frames per writev */
#define HDR_MAX    (14 + 16)	/* WebSocket client header + phone header */
#define CLOSE_SECS 180		/* how long to wait for the receivers' close */

static const unsigned char mask_key[4] = { 0x37, 0xfa, 0x21, 0x3d };

struct unit {
	const unsigned char *masked;	/* the unit, masked from message offset 16 */
	size_t len;
};

struct conn {
	int fd, done;
	uint32_t seq;		/* next message's sequence number: 1 is the config */
	long sent;		/* messages queued */
	double burst_at;	/* when config and first key frame (or the first
				 * segment) were written */
	size_t next;		/* next picture, 1 .. nunits - 1 */
	int state;		/* 0 streaming, 1 stop queued, 2 close sent */
	struct iovec iov[2 * BATCH + 2];
	int niov, cur;
	unsigned char hdr[BATCH][HDR_MAX];
	unsigned char *extra;	/* masked text/close frames, sent before or after */
};

struct worker {
	pthread_t tid;
	struct conn *conns;
	int nconns;
	unsigned long long frames, bytes;
	double max_late, burst_at;
};

static struct unit *units;	/* units[0]: the parameter sets */
static size_t nunits;
static double seconds = 10;
static double start_mono, stop_at;
static double fps;		/* 0: as fast as the receiver reads */
static double start_wall_ms;	/* device time of the first picture */
static struct unit segment;	/* -s: the masked text message */
static long count;		/* -c: messages per phone, 0 for no limit */
static const char *host = "127.0.0.1", *path = "/android-cam";
static int port;

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: wsblast [-n connections] [-t seconds] [-T threads] "
	    "[-r fps] [-c count] [-p path] port clip\n"
	    "       wsblast -s segment.json [-n connections] [-t seconds] [-T threads] "
	    "[-c count] [-p path] port\n");
	exit(status);
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long
number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		errx(2, "%s: not a number from %ld to %ld", s, lo, hi);
	return v;
}

static void *
slurp(const char *file, size_t *len)
{
	FILE *f = fopen(file, "rb");
	unsigned char *p;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0)
		err(1, "%s", file);
	rewind(f);
	if ((p = malloc(n + 1)) == NULL)
		err(1, NULL);
	if (fread(p, 1, n, f) != (size_t)n)
		err(1, "%s", file);
	fclose(f);
	*len = (size_t)n;
	return p;
}

/* Next start code (00 00 01) at or after i, or len. */
static size_t
start_code(const unsigned char *p, size_t len, size_t i)
{
	for (; i + 3 <= len; i++)
		if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1)
			return i;
	return len;
}

/* Cut the clip as camsim does: the leading SPS/PPS are the config packet,
 * the rest is cut where an access unit starts (AUD, or SEI/SPS/PPS or a
 * slice with first_mb_in_slice 0 after a picture). */
static void
load_clip(const char *file)
{
	size_t len, i, cut = 0, cap = 1024, nal_start;
	unsigned char *p = slurp(file, &len), *m;
	int vcl = 0, config = 1, t;

	if ((units = malloc(cap * sizeof *units)) == NULL || (m = malloc(len)) == NULL)
		err(1, NULL);
	for (i = start_code(p, len, 0); i < len; i = start_code(p, len, i + 3)) {
		if (i + 4 > len)
			break;
		nal_start = i > 0 && p[i - 1] == 0 ? i - 1 : i;
		t = p[i + 3] & 0x1f;
		if ((config && t != 7 && t != 8 && nal_start > 0) ||
		    (!config && (t == 9 || (vcl && (t == 6 || t == 7 || t == 8 ||
		    ((t == 1 || t == 5) && i + 4 < len && (p[i + 4] & 0x80))))))) {
			if (nunits == cap && (units = realloc(units,
			    (cap *= 2) * sizeof *units)) == NULL)
				err(1, NULL);
			units[nunits].masked = m + cut;
			units[nunits++].len = nal_start - cut;
			cut = nal_start;
			vcl = 0;
		}
		if (t != 7 && t != 8)
			config = 0;
		vcl |= t == 1 || t == 5;
	}
	if (nunits == cap && (units = realloc(units, (cap + 1) * sizeof *units)) == NULL)
		err(1, NULL);
	units[nunits].masked = m + cut;
	units[nunits++].len = len - cut;
	if (nunits < 2 || (p[start_code(p, len, 0) + 3] & 0x1f) != 7)
		errx(1, "%s: not a clip with SPS/PPS first and pictures after", file);
	for (i = 0; i < nunits; i++) {
		size_t off = units[i].masked - m, k;

		for (k = 0; k < units[i].len; k++)
			m[off + k] = p[off + k] ^ mask_key[k & 3];
	}
	free(p);
}

/* -s: the whole text message, masked from offset 0. */
static void
load_segment(const char *file)
{
	unsigned char *p = slurp(file, &segment.len);
	size_t k;

	for (k = 0; k < segment.len; k++)
		p[k] ^= mask_key[k & 3];
	segment.masked = p;
}

/* A masked client frame header for a message of len bytes; returns its size. */
static size_t
ws_header(unsigned char *h, int opcode, uint64_t len)
{
	size_t n;

	h[0] = 0x80 | opcode;
	if (len < 126) {
		h[1] = 0x80 | len;
		n = 2;
	} else if (len < 65536) {
		h[1] = 0x80 | 126;
		h[2] = len >> 8;
		h[3] = len;
		n = 4;
	} else {
		h[1] = 0x80 | 127;
		for (n = 0; n < 8; n++)
			h[2 + n] = len >> (56 - 8 * n);
		n = 10;
	}
	memcpy(h + n, mask_key, 4);
	return n + 4;
}

/* Append a whole masked message (text or close) to a growing buffer. */
static size_t
ws_message(unsigned char **buf, size_t used, int opcode, const void *msg, size_t len)
{
	unsigned char *b = realloc(*buf, used + HDR_MAX + len);
	size_t n, k;

	if (b == NULL)
		err(1, NULL);
	n = ws_header(b + used, opcode, len);
	for (k = 0; k < len; k++)
		b[used + n + k] = ((const unsigned char *)msg)[k] ^ mask_key[k & 3];
	*buf = b;
	return used + n + len;
}

static void
be_put(unsigned char *p, uint64_t v, int n)
{
	while (n-- > 0) {
		p[n] = v;
		v >>= 8;
	}
}

/* Messages due by time t when paced: the config and the first picture at
 * the start, then one picture every 1/fps s until the stop. */
static uint32_t
due(double t)
{
	if (t > stop_at)
		t = stop_at;
	return 2 + (uint32_t)((t - start_mono) * fps + 1e-9);
}

/* The next max frames of c into its iovecs (fewer if -c ends it first): its
 * header built and masked here, its payload the shared masked unit or
 * segment. */
static void
fill(struct worker *w, struct conn *c, int max, uint64_t device_ms)
{
	int k;

	c->niov = c->cur = 0;
	for (k = 0; k < max && (count == 0 || c->sent < count); k++) {
		size_t u = c->seq == 1 ? 0 : c->next, n, j;
		unsigned char *h = c->hdr[k];

		c->sent++;
		if (segment.masked != NULL) {
			c->iov[c->niov].iov_base = h;
			c->iov[c->niov++].iov_len = ws_header(h, 1, segment.len);
			c->iov[c->niov].iov_base = (void *)segment.masked;
			c->iov[c->niov++].iov_len = segment.len;
			w->frames++;
			w->bytes += segment.len;
			break;	/* one at a time: a segment is megabytes */
		}
		if (fps > 0)	/* the time the picture was due */
			device_ms = (uint64_t)(start_wall_ms + (c->seq - 2) * 1000.0 / fps);
		n = ws_header(h, 2, 16 + units[u].len);
		be_put(h + n, u == 0 ? 0 : device_ms, 8);
		be_put(h + n + 8, c->seq++, 4);
		be_put(h + n + 12, units[u].len, 4);
		for (j = 0; j < 16; j++)
			h[n + j] ^= mask_key[j & 3];
		c->iov[c->niov].iov_base = h;
		c->iov[c->niov++].iov_len = n + 16;
		c->iov[c->niov].iov_base = (void *)units[u].masked;
		c->iov[c->niov++].iov_len = units[u].len;
		if (u != 0 && ++c->next == nunits)
			c->next = 1;
		w->frames++;
		w->bytes += 16 + units[u].len;
	}
}

/* Queue the end of the capture: capture_stopped, then a close frame. */
static void
queue_stop(struct conn *c)
{
	static const char stopped[] =
	    "{\"status\":\"capture_stopped\",\"message\":\"Streaming stopped\"}";
	static const unsigned char code[2] = { 0x03, 0xe8 };	/* 1000 */
	size_t n;

	free(c->extra);
	c->extra = NULL;
	n = ws_message(&c->extra, 0, 1, stopped, sizeof stopped - 1);
	n = ws_message(&c->extra, n, 8, code, 2);
	c->iov[0].iov_base = c->extra;
	c->iov[0].iov_len = n;
	c->niov = 1;
	c->cur = 0;
	c->state = 1;
}

/* Write what c has queued; 0 when the socket is full or c is done. */
static int
pump(struct worker *w, struct conn *c)
{
	ssize_t n;

	for (;;) {
		if (c->cur == c->niov) {
			if (c->state == 1) {
				c->state = 2;
				return 0;
			}
			if (c->state == 2)
				return 0;
			if (c->burst_at == 0 && c->sent >= (segment.masked != NULL ? 1 : 2)) {
				c->burst_at = mono();
				if (c->burst_at > w->burst_at)
					w->burst_at = c->burst_at;
			}
			if (count > 0 && c->sent >= count) {
				queue_stop(c);
			} else if (fps > 0) {
				double now = mono();
				uint32_t owed = due(now) - (c->seq - 1);
				double late;

				if (owed == 0 && now < stop_at)
					return 0;	/* until the next tick */
				if (owed == 0) {
					queue_stop(c);
				} else {
					late = now - (start_mono + (c->seq - 2) / fps);
					if (c->seq > 1 && late > w->max_late)
						w->max_late = late;
					fill(w, c, owed > BATCH ? BATCH : (int)owed, 0);
				}
			} else if (mono() >= stop_at) {
				queue_stop(c);
			} else {
				struct timespec ts;

				clock_gettime(CLOCK_REALTIME, &ts);
				fill(w, c, BATCH, (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
			}
		}
		n = writev(c->fd, c->iov + c->cur, c->niov - c->cur > 1024 ? 1024 :
		    c->niov - c->cur);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			err(1, "connection %d: write", c->fd);
		while (n > 0 && c->cur < c->niov) {
			struct iovec *v = &c->iov[c->cur];

			if ((size_t)n >= v->iov_len) {
				n -= v->iov_len;
				c->cur++;
			} else {
				v->iov_base = (char *)v->iov_base + n;
				v->iov_len -= n;
				n = 0;
			}
		}
	}
}

/* Connect and upgrade, blocking; then queue the app's first messages. */
static void
open_conn(struct conn *c, int index)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	char req[512], resp[1024], caps[256];
	size_t got = 0, n;
	ssize_t r;
	int one = 1;
	static const char ready[] =
	    "{\"status\":\"ready\",\"message\":\"Client is ready to stream\"}";
	static const char started[] = "{\"status\":\"capture_started\",\"message\":"
	    "\"Streaming H.264 at 16:9 aspect ratio, 4MB bitrate (max fps)\"}";

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		errx(2, "%s: not an IPv4 address", host);
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		err(1, "socket");
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		err(1, "connection %d: %s:%d", index, host, port);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	n = (size_t)snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", path, host, port);
	if (write(c->fd, req, n) != (ssize_t)n)
		err(1, "connection %d: write", index);
	while (got < sizeof resp - 1 && (resp[got] = 0, strstr(resp, "\r\n\r\n")) == NULL) {
		if ((r = read(c->fd, resp + got, sizeof resp - 1 - got)) <= 0)
			errx(1, "connection %d: no handshake reply", index);
		got += (size_t)r;
		resp[got] = 0;
	}
	if (strncmp(resp, "HTTP/1.1 101", 12) != 0)
		errx(1, "connection %d: handshake refused: %.40s", index, resp);
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0)
		err(1, "fcntl");
	snprintf(caps, sizeof caps, "{\"type\":\"capabilities\",\"deviceModel\":"
	    "\"wsblast %d\",\"sdkInt\":34,\"resolutions\":[]}", index);
	n = ws_message(&c->extra, 0, 1, ready, sizeof ready - 1);
	n = ws_message(&c->extra, n, 1, caps, strlen(caps));
	n = ws_message(&c->extra, n, 1, started, sizeof started - 1);
	c->iov[0].iov_base = c->extra;
	c->iov[0].iov_len = n;
	c->niov = 1;
	c->cur = 0;
	c->seq = 1;
	c->next = 1;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev, evs[256];
	char sink[4096];
	int ep, i, k, left = w->nconns;
	uint32_t tick = 0, t;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		err(1, "epoll_create1");
	for (i = 0; i < w->nconns; i++) {
		ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
		ev.data.ptr = &w->conns[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, w->conns[i].fd, &ev) < 0)
			err(1, "epoll_ctl");
	}
	while (left > 0) {
		double now = mono(), until = stop_at;
		int timeout;

		if (fps > 0 && now < stop_at)	/* the next picture's time */
			until = start_mono + (due(now) - 1) / fps;
		if (until > stop_at)
			until = stop_at;
		timeout = now < until ? (int)((until - now) * 1000) + 1 : 100;

		if ((k = epoll_wait(ep, evs, 256, timeout)) < 0 && errno != EINTR)
			err(1, "epoll_wait");
		if (mono() > stop_at + CLOSE_SECS)
			errx(1, "%d connections not closed by the receiver after %d s",
			    left, CLOSE_SECS);
		for (i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r;

			if (c->done)
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				while ((r = read(c->fd, sink, sizeof sink)) > 0)
					;
				if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
					if (c->state != 2)
						errx(1, "connection %d: closed by the receiver "
						    "before the end", (int)(c - w->conns));
					c->done = 1;
					close(c->fd);
					left--;
					continue;
				}
			}
			if (evs[i].events & EPOLLOUT)
				pump(w, c);
		}
		/* Paced: every phone with nothing left to write gets its next
		 * picture at its time; the others when their socket drains. */
		if (fps > 0 && (t = due(mono())) != tick) {
			tick = t;
			for (i = 0; i < w->nconns; i++)
				if (!w->conns[i].done && w->conns[i].state == 0 &&
				    w->conns[i].cur == w->conns[i].niov)
					pump(w, &w->conns[i]);
		}
		/* Connections whose socket never fills still need their stop. */
		if (mono() >= stop_at)
			for (i = 0; i < w->nconns; i++)
				if (!w->conns[i].done && w->conns[i].state == 0)
					pump(w, &w->conns[i]);
	}
	close(ep);
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct worker *workers;
	struct conn *conns;
	double end, opened, max_late = 0, burst_at = 0;
	struct timespec ts;
	int opt, n = 100, nthreads = 1, i;
	unsigned long long frames = 0, bytes = 0;
	const char *segfile = NULL;

	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		usage(stdout, 0);
	while ((opt = getopt(argc, argv, "n:t:T:r:p:s:c:")) != -1) {
		switch (opt) {
		case 'n':
			n = (int)number(optarg, 1, 100000);
			break;
		case 't':
			seconds = (double)number(optarg, 1, 86400);
			break;
		case 'T':
			nthreads = (int)number(optarg, 1, 64);
			break;
		case 'r':
			fps = (double)number(optarg, 1, 1000);
			break;
		case 'p':
			path = optarg;
			break;
		case 's':
			segfile = optarg;
			break;
		case 'c':
			count = number(optarg, 1, 1000000000);
			break;
		default:
			usage(stderr, 2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != (segfile != NULL ? 1 : 2))
		usage(stderr, 2);
	if (segfile != NULL && fps > 0)
		errx(2, "-r with -s: segments are sent as the receiver reads them, "
		    "not paced; use -r with a clip or -s without -r");
	port = (int)number(argv[0], 1, 65535);
	if (nthreads > n)
		nthreads = n;
	if (segfile != NULL)
		load_segment(segfile);
	else
		load_clip(argv[1]);
	if ((conns = calloc(n, sizeof *conns)) == NULL ||
	    (workers = calloc(nthreads, sizeof *workers)) == NULL)
		err(1, NULL);
	opened = mono();
	for (i = 0; i < n; i++)
		open_conn(&conns[i], i);
	/* The barrier: nothing was sent on any connection until now. */
	start_mono = mono();
	stop_at = start_mono + seconds;
	clock_gettime(CLOCK_REALTIME, &ts);
	start_wall_ms = (double)ts.tv_sec * 1000 + ts.tv_nsec / 1e6;
	printf("barrier: %d connections opened and upgraded in %.2f s, silent until "
	    "all were; all start now, at the same instant\n", n, start_mono - opened);
	fflush(stdout);
	for (i = 0; i < nthreads; i++) {
		workers[i].conns = conns + (size_t)n * i / nthreads;
		workers[i].nconns = n * (i + 1) / nthreads - n * i / nthreads;
		if (pthread_create(&workers[i].tid, NULL, run, &workers[i]) != 0)
			errx(1, "cannot start a thread");
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(workers[i].tid, NULL);
		frames += workers[i].frames;
		bytes += workers[i].bytes;
		if (workers[i].max_late > max_late)
			max_late = workers[i].max_late;
		if (workers[i].burst_at > burst_at)
			burst_at = workers[i].burst_at;
	}
	end = mono();
	printf("frames=%llu bytes=%llu seconds=%.3f start_mono=%.6f barrier=%d "
	    "connect_s=%.2f burst_s=%.3f", frames, bytes, end - start_mono, start_mono,
	    n, start_mono - opened, burst_at - start_mono);
	if (fps > 0)
		printf(" fps=%g max_late_ms=%.1f", fps, max_late * 1000);
	printf("\n");
	return fclose(stdout) == 0 ? 0 : 1;
}
