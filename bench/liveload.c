/* liveload: the live relay benchmark's viewers. N WebSocket viewers on
 * loopback in one epoll loop with as little work per byte as a client can
 * do (frames are parsed in place, payload never copied), so the benchmark
 * measures the relay and not the viewers. S of them stall: after the
 * handshake they are never read again, with a small receive buffer.
 *
 * It expects bench/livesrc.py's fragments: a moof whose mfhd carries the
 * sequence number (message offset 20) and an mdat whose payload starts
 * with CLOCK_MONOTONIC microseconds at the source's write. For every
 * fragment received after the warm-up it records the latency from that
 * write to the last byte here, and per viewer the fragments that never
 * came (gaps in the sequence). Prints "key=value" result lines.
 *
 * With -P the viewers are consoles of wsrecv instead (its /dev?v=2, see
 * wsrecv(1)): each asks to watch every camera connected by then, and the
 * latency is taken from each H.264 preview's header, which carries the
 * phone's device time (CLOCK_REALTIME milliseconds, as bench/wsblast -r
 * stamps each picture with the time it was due), to the last byte here.
 * Config messages (device time 0) are not counted; there are no sequence
 * numbers, so messages per viewer are counted instead of gaps. */
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct viewer {
	int fd, stalled, upgraded, closed;
	char resp[1024];		/* the handshake answer */
	size_t resp_len;
	unsigned char fh[14];		/* the frame header being read */
	size_t fh_len;
	uint64_t plen, fpos;		/* this frame's payload, read of it */
	uint64_t pgot;			/* the message's payload read */
	int opcode;
	unsigned char head[24];		/* payload bytes 0..23: moof size, seq */
	unsigned char stamp[8];
	uint64_t stamp_at;		/* payload offset of the stamp */
	uint64_t bytes, msgs;		/* after the warm-up */
	uint32_t first_seq, last_seq;
};

static double *samples;
static size_t nsamples, cap_samples;
static int preview;			/* -P: wsrecv's consoles */

static int64_t
clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
now_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
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

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
sample(double ms)
{
	if (nsamples == cap_samples) {
		cap_samples = cap_samples ? cap_samples * 2 : 65536;
		if ((samples = realloc(samples, cap_samples * sizeof(*samples))) == NULL)
			err(1, NULL);
	}
	samples[nsamples++] = ms;
}

/* A preview: type (1: H.264), flags, 2 bytes, camera, device time in us. */
static void
preview_done(struct viewer *v, int measuring)
{
	uint64_t stamp = 0;
	int i;

	if (v->opcode != 2 || v->pgot < 20 || v->head[0] != 1 || !measuring)
		return;
	for (i = 12; i < 20; i++)
		stamp = stamp << 8 | v->head[i];
	if (stamp == 0)
		return;
	v->msgs++;
	v->bytes += v->plen;
	sample((double)(clock_us(CLOCK_REALTIME) - (int64_t)stamp) / 1000.0);
}

static void
message_done(struct viewer *v, int measuring)
{
	uint64_t stamp = 0;
	uint32_t seq;
	int i;

	if (preview) {
		preview_done(v, measuring);
		return;
	}
	if (v->opcode != 2 || v->plen < 24 || memcmp(v->head + 4, "moof", 4) != 0)
		return;
	if (!measuring)
		return;
	seq = be32(v->head + 20);
	if (v->msgs == 0)
		v->first_seq = seq;
	v->last_seq = seq;
	v->msgs++;
	v->bytes += v->plen;
	if (v->pgot < v->stamp_at + 8)
		return;
	for (i = 0; i < 8; i++)
		stamp = stamp << 8 | v->stamp[i];
	sample((double)(now_us() - (int64_t)stamp) / 1000.0);
}

/* Payload bytes p[0..n) at offset v->pgot: keep the few that matter. */
static void
payload(struct viewer *v, const unsigned char *p, size_t n)
{
	uint64_t off = v->pgot, k;

	for (k = off; k < 24 && k - off < n; k++) {
		v->head[k] = p[k - off];
		if (k == 3 && !preview)
			v->stamp_at = be32(v->head) + 8;
	}
	if (v->stamp_at >= 24)
		for (k = off > v->stamp_at ? off : v->stamp_at;
		    k < v->stamp_at + 8 && k - off < n; k++)
			v->stamp[k - v->stamp_at] = p[k - off];
	v->pgot += n;
}

static size_t
header_size(const struct viewer *v)
{
	int l = v->fh[1] & 0x7f;

	return 2 + (l == 126 ? 2 : l == 127 ? 8 : 0);
}

static void
start_frame(struct viewer *v)
{
	size_t i, need = header_size(v);

	v->plen = v->fh[1] & 0x7f;
	if (need > 2)
		for (v->plen = 0, i = 2; i < need; i++)
			v->plen = v->plen << 8 | v->fh[i];
	v->fpos = 0;
	if ((v->fh[0] & 0x0f) != 0) {	/* not a continuation */
		v->opcode = v->fh[0] & 0x0f;
		v->pgot = 0;
		v->stamp_at = 0;
	}
	if (v->opcode == 8)
		v->closed = 1;
}

/* Server frames (never masked) parsed in place. */
static void
frames(struct viewer *v, const unsigned char *p, size_t n, int measuring)
{
	while (n > 0) {
		if (v->fh_len < 2 || v->fh_len < header_size(v)) {
			v->fh[v->fh_len++] = *p++;
			n--;
			if (v->fh_len < 2 || v->fh_len < header_size(v))
				continue;
			start_frame(v);
		} else {
			uint64_t left = v->plen - v->fpos;
			size_t take = left < n ? (size_t)left : n;

			payload(v, p, take);
			v->fpos += take;
			p += take;
			n -= take;
		}
		if (v->fpos == v->plen) {
			if (v->fh[0] & 0x80)
				message_done(v, measuring);
			v->fh_len = 0;
		}
	}
}

static int
connect_to(int port, int stalled)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), small = 4096;

	if (fd < 0)
		err(1, "socket");
	if (stalled)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err(1, "connect to port %d", port);
	return fd;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double p)
{
	size_t i;

	if (nsamples == 0)
		return 0;
	i = (size_t)(p / 100 * (double)(nsamples - 1) + 0.5);
	return samples[i];
}

static void
usage(void)
{
	fprintf(stderr, "usage: liveload [-n viewers] [-s stalled] [-t seconds] "
	    "[-w warmup] [-p path] [-P] port\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *path = "/live";
	long n = 500, nstalled = 0, secs = 20, warm = 3;
	static unsigned char buf[1 << 16];
	/* {"type":"watch","ids":"all"} in a client frame, masked with 0. */
	static const char watch[] = "\x81\x9c\0\0\0\0"
	    "{\"type\":\"watch\",\"ids\":\"all\"}";
	struct epoll_event ev, evs[256];
	struct viewer *vs;
	struct rusage ru;
	int64_t start, measure_from, end;
	double kbps_min = 1e30, kbps_max = 0, cpu;
	uint64_t lost = 0, lossy = 0, keeping = 0, total = 0;
	uint64_t msgs_min = UINT64_MAX, msgs_max = 0;
	int ep, port, ch;
	long i;

	while ((ch = getopt(argc, argv, "n:s:t:w:p:P")) != -1) {
		switch (ch) {
		case 'n': n = number(optarg, 1, 20000); break;
		case 's': nstalled = number(optarg, 0, 20000); break;
		case 't': secs = number(optarg, 1, 3600); break;
		case 'w': warm = number(optarg, 0, 3600); break;
		case 'p': path = optarg; break;
		case 'P': preview = 1; path = "/dev?v=2"; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || nstalled > n)
		usage();
	port = (int)number(argv[0], 1, 65535);
	if ((vs = calloc((size_t)n, sizeof(*vs))) == NULL)
		err(1, NULL);
	if ((ep = epoll_create1(0)) < 0)
		err(1, "epoll");
	for (i = 0; i < n; i++) {
		char req[512];
		int len;

		vs[i].stalled = i < nstalled;
		vs[i].fd = connect_to(port, vs[i].stalled);
		len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: "
		    "127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		    "Sec-WebSocket-Version: 13\r\n\r\n", path, port);
		if (write(vs[i].fd, req, (size_t)len) != len)
			err(1, "handshake");
		fcntl(vs[i].fd, F_SETFL, fcntl(vs[i].fd, F_GETFL) | O_NONBLOCK);
		ev.events = EPOLLIN;
		ev.data.ptr = &vs[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, vs[i].fd, &ev) < 0)
			err(1, "epoll_ctl");
	}
	start = now_us();
	measure_from = start + warm * 1000000;
	end = measure_from + secs * 1000000;
	while (now_us() < end) {
		int k, m = epoll_wait(ep, evs, 256, 100);

		for (k = 0; k < m; k++) {
			struct viewer *v = evs[k].data.ptr;
			ssize_t got = read(v->fd, buf, sizeof(buf));
			size_t skip = 0;

			if (got <= 0) {
				if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
					v->closed = 1;
					epoll_ctl(ep, EPOLL_CTL_DEL, v->fd, NULL);
				}
				continue;
			}
			if (!v->upgraded) {
				char *e;
				size_t room = sizeof(v->resp) - 1 - v->resp_len;
				size_t c = (size_t)got < room ? (size_t)got : room;

				memcpy(v->resp + v->resp_len, buf, c);
				v->resp_len += c;
				v->resp[v->resp_len] = '\0';
				if ((e = strstr(v->resp, "\r\n\r\n")) == NULL)
					continue;
				if (strncmp(v->resp, "HTTP/1.1 101", 12) != 0)
					errx(1, "viewer %ld: handshake refused: %.40s",
					    (long)(v - vs), v->resp);
				v->upgraded = 1;
				skip = (size_t)(e + 4 - v->resp) - (v->resp_len - c);
				if (preview && write(v->fd, watch, sizeof watch - 1) !=
				    (ssize_t)sizeof watch - 1)
					err(1, "viewer %ld: watch", (long)(v - vs));
				if (v->stalled) {
					epoll_ctl(ep, EPOLL_CTL_DEL, v->fd, NULL);
					continue;
				}
			}
			frames(v, buf + skip, (size_t)got - skip,
			    now_us() >= measure_from);
		}
	}
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	for (i = 0; i < n; i++) {
		struct viewer *v = &vs[i];
		double kbps;
		uint64_t want;

		if (v->stalled)
			continue;
		kbps = (double)v->bytes * 8 / 1000 / (double)secs;
		kbps_min = kbps < kbps_min ? kbps : kbps_min;
		kbps_max = kbps > kbps_max ? kbps : kbps_max;
		msgs_min = v->msgs < msgs_min ? v->msgs : msgs_min;
		msgs_max = v->msgs > msgs_max ? v->msgs : msgs_max;
		want = v->msgs ? (uint64_t)(v->last_seq - v->first_seq) + 1 : 0;
		if (preview)
			want = v->msgs;
		total += v->msgs;
		if (v->msgs == 0 || want > v->msgs) {
			lossy++;
			lost += want > v->msgs ? want - v->msgs : 0;
		} else
			keeping++;
	}
	qsort(samples, nsamples, sizeof(*samples), cmp);
	printf("viewers=%ld stalled=%ld seconds=%ld\n", n, nstalled, secs);
	printf("latency_ms p50=%.2f p99=%.2f max=%.2f samples=%zu\n", pct(50),
	    pct(99), nsamples ? samples[nsamples - 1] : 0.0, nsamples);
	printf("reading_viewers kbps_min=%.0f kbps_max=%.0f fragments=%llu "
	    "complete=%llu with_gaps=%llu fragments_missing=%llu\n", kbps_min,
	    kbps_max, (unsigned long long)total, (unsigned long long)keeping,
	    (unsigned long long)lossy, (unsigned long long)lost);
	printf("messages_per_reading_viewer min=%llu max=%llu\n",
	    (unsigned long long)(n > nstalled ? msgs_min : 0),
	    (unsigned long long)msgs_max);
	printf("generator_cpu_percent=%.0f\n", 100 * cpu /
	    ((double)(now_us() - start) / 1e6));
	return 0;
}
