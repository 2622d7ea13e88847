/* livefan: the live relay benchmark's ceiling. A WebSocket fan-out with
 * nothing else to do: it makes bench/livesrc.py's fragments itself (25 a
 * second, 4 Mbit/s, stamped with the monotonic clock when sent) and writes
 * each to every connected viewer with one write(), no source process, no
 * cutting, no queue: a viewer still busy with the previous fragment skips
 * this one, and one that holds a fragment for 2 s is cut. bench/liveload
 * against it shows what the viewers themselves can take, so the relay's
 * figures are the relay's. Serves only liveload: every handshake gets the
 * answer to liveload's fixed key (RFC 6455's example). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FPS 25
#define FRAG (4000000 / 8 / FPS)
#define RING 64				/* fragments kept for slow writes */
#define MAXC 20000

struct conn {
	int fd, upgraded;
	char req[2048];
	size_t req_len;
	long frag;			/* the fragment being written, or -1 */
	size_t off;
};

static unsigned char ring[RING][FRAG + 16];
static size_t ring_len[RING];

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Fragment seq as livesrc.py writes it, in a server frame. */
static void
make(long seq)
{
	unsigned char *f = ring[seq % RING], *m = f + 4;
	int64_t t = now_us();
	int i;

	memset(f, 0, FRAG + 16);
	f[0] = 0x82;
	f[1] = 126;
	f[2] = FRAG >> 8;
	f[3] = FRAG & 0xff;
	put32(m, 68);
	memcpy(m + 4, "moof", 4);
	put32(m + 8, 16);
	memcpy(m + 12, "mfhd", 4);
	put32(m + 20, (uint32_t)seq + 1);
	put32(m + 24, 44);
	memcpy(m + 28, "traf", 4);
	put32(m + 32, 16);
	memcpy(m + 36, "tfhd", 4);
	put32(m + 44, 1);
	put32(m + 48, 20);
	memcpy(m + 52, "trun", 4);
	put32(m + 56, 4);
	put32(m + 60, 1);
	put32(m + 64, seq % FPS ? 0x01010000 : 0x02000000);
	put32(m + 68, FRAG - 68);
	memcpy(m + 72, "mdat", 4);
	for (i = 0; i < 8; i++)
		m[76 + i] = (unsigned char)((uint64_t)t >> (56 - 8 * i));
	ring_len[seq % RING] = FRAG + 4;
}

static void
drop(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

static void
push(int ep, struct conn *c, long newest)
{
	ssize_t n;

	while (c->frag >= 0) {
		if (newest - c->frag >= RING - 8) {
			drop(ep, c);
			return;
		}
		n = write(c->fd, ring[c->frag % RING] + c->off,
		    ring_len[c->frag % RING] - c->off);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				drop(ep, c);
			return;
		}
		c->off += (size_t)n;
		if (c->off == ring_len[c->frag % RING])
			c->frag = -1;
	}
}

int
main(int argc, char *argv[])
{
	static const char answer[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
	static struct conn conns[MAXC];
	struct epoll_event ev, evs[256];
	struct sockaddr_in sa;
	int64_t next;
	long seq = -1;
	int ls, ep, i, one = 1;

	if (argc != 2)
		errx(2, "usage: livefan port");
	signal(SIGPIPE, SIG_IGN);
	if ((ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		err(1, "socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1024) < 0)
		err(1, "port %s", argv[1]);
	if ((ep = epoll_create1(0)) < 0)
		err(1, "epoll");
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (i = 0; i < MAXC; i++)
		conns[i].fd = -1;
	next = now_us();
	for (;;) {
		int64_t wait = (next - now_us()) / 1000;
		int k, m = epoll_wait(ep, evs, 256, wait > 0 ? (int)wait : 0);

		for (k = 0; k < m; k++) {
			struct conn *c = evs[k].data.ptr;
			ssize_t n;

			if (c == NULL) {
				int fd;

				while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					for (i = 0; i < MAXC && conns[i].fd >= 0; i++)
						;
					if (i == MAXC) {
						close(fd);
						continue;
					}
					memset(&conns[i], 0, sizeof(conns[i]));
					conns[i].fd = fd;
					conns[i].frag = -1;
					ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
					ev.data.ptr = &conns[i];
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if (c->fd < 0)
				continue;
			if (!c->upgraded) {
				n = read(c->fd, c->req + c->req_len,
				    sizeof(c->req) - 1 - c->req_len);
				if (n <= 0) {
					if (n == 0 || errno != EAGAIN)
						drop(ep, c);
					continue;
				}
				c->req_len += (size_t)n;
				c->req[c->req_len] = '\0';
				if (strstr(c->req, "\r\n\r\n") == NULL)
					continue;
				if (write(c->fd, answer, sizeof(answer) - 1) !=
				    (ssize_t)sizeof(answer) - 1)
					drop(ep, c);
				else
					c->upgraded = 1;
				continue;
			}
			if (evs[k].events & EPOLLOUT)
				push(ep, c, seq);
		}
		if (now_us() < next)
			continue;
		make(++seq);
		next += 1000000 / FPS;
		for (i = 0; i < MAXC; i++) {
			struct conn *c = &conns[i];

			if (c->fd < 0 || !c->upgraded)
				continue;
			if (c->frag < 0) {
				c->frag = seq;
				c->off = 0;
			}
			push(ep, c, seq);
		}
	}
}
