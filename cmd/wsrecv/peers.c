/* The sockets wsrecv has accepted, counted in all and per peer address, so
 * that one client (or a crowd of them) cannot take every descriptor. An
 * IPv6 peer is counted by its /64, the block one host is usually given. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "wsrecv.h"

struct peer {
	uint64_t key;
	size_t count;
};

static uint64_t
addr_key(const struct sockaddr *sa)
{
	const unsigned char *a;
	uint64_t key = 0;
	int i;

	if (sa->sa_family == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
		return 1ull << 32 | (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 |
		    (uint64_t)a[2] << 8 | a[3];
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	/* A v4 client on a dual-stack socket is still a v4 client. */
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a))
		return 1ull << 32 | (uint64_t)a[12] << 24 | (uint64_t)a[13] << 16 |
		    (uint64_t)a[14] << 8 | a[15];
	for (i = 0; i < 8; i++)
		key = key << 8 | a[i];
	return key;
}

int
peers_loopback(const struct sockaddr *sa)
{
	return addr_key(sa) >> 24 == (1ull << 8 | 127) ||
	    (sa->sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(
	    &((const struct sockaddr_in6 *)sa)->sin6_addr));
}

size_t
peers_count(const struct peers *p, const struct sockaddr *sa)
{
	const struct peer *pe = connmap_get(&p->by_addr, addr_key(sa));

	return pe ? pe->count : 0;
}

int
peers_add(struct peers *p, const void *sock, const struct sockaddr *sa)
{
	uint64_t key = addr_key(sa);
	struct peer *pe;

	if ((pe = connmap_get(&p->by_addr, key)) == NULL) {
		if ((pe = calloc(1, sizeof *pe)) == NULL)
			return -1;
		pe->key = key;
		if (connmap_put(&p->by_addr, key, pe) < 0) {
			free(pe);
			return -1;
		}
	}
	if (connmap_put(&p->by_sock, (uintptr_t)sock, pe) < 0) {
		if (pe->count == 0)
			free(connmap_del(&p->by_addr, key));
		return -1;
	}
	pe->count++;
	p->sockets++;
	return 0;
}

void
peers_del(struct peers *p, const void *sock)
{
	struct peer *pe;

	if ((pe = connmap_del(&p->by_sock, (uintptr_t)sock)) == NULL)
		return;
	p->sockets--;
	if (--pe->count == 0)
		free(connmap_del(&p->by_addr, pe->key));
}

void
peers_free(struct peers *p)
{
	size_t i;

	for (i = 0; i < p->by_addr.cap; i++)
		free(p->by_addr.slot[i].val);
	connmap_free(&p->by_addr);
	connmap_free(&p->by_sock);
	p->sockets = 0;
}
