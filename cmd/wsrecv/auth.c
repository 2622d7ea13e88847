/* Access control of wsrecv: the token every client must present, when one
 * is set, before it is served anything (WebSocket or HTTP). A phone can
 * put it only in the URL (?token=...); other clients may send it as
 * "Authorization: Bearer ...". A refused client gets 401 and nothing else;
 * each address is logged at most once a minute, and all of them together
 * at most AUTH_LOG_MAX lines a minute, so a scan cannot flood the log. The
 * token is never logged; conn.c takes it out of the recorded path. */
#include <err.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "secret.h"
#include "util.h"
#include "wsrecv.h"

#define MINUTE_US	(60 * 1000000LL)
#define AUTH_LOG_MAX	20	/* refusal lines a minute, all addresses */

int
auth_load(struct auth *a, const char *path)
{
	const char *why;

	memset(a, 0, sizeof *a);
	if (secret_load(path, a->token, &a->len, &why) < 0) {
		if (why != NULL)
			warnx("token file %s: the first line is not a token: %s",
			    path, why);
		else
			warn("token file %s", path);
		return -1;
	}
	a->on = 1;
	return 0;
}

/* The token the client gave, into buf: from the query, else from an
 * Authorization header of the Bearer scheme. Its length, or -1. */
static int
given_token(struct lws *wsi, char *buf, size_t cap)
{
	char hdr[SECRET_MAX + 64];
	const char *val;
	size_t vlen;
	int n = -1;

	/* lws takes "token=" as a prefix of one parameter, and fails on
	 * one that does not fit: no longer token can be right anyway. */
	if ((val = lws_get_urlarg_by_name(wsi, "token=", buf, (int)cap)) != NULL) {
		vlen = strlen(val);
		memmove(buf, val, vlen + 1);
		return (int)vlen;
	}
	n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n <= 0 || (size_t)n >= sizeof hdr ||
	    lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
		return -1;
	n = -1;
	if (strncasecmp(hdr, "Bearer ", 7) == 0) {
		val = hdr + 7 + strspn(hdr + 7, " ");
		vlen = strcspn(val, " \t");
		if (vlen < cap) {
			memcpy(buf, val, vlen);
			buf[vlen] = '\0';
			n = (int)vlen;
		}
	}
	explicit_bzero(hdr, sizeof hdr);
	return n;
}

int
auth_ok(const struct auth *a, struct lws *wsi)
{
	char given[SECRET_MAX + 16];	/* lws puts "token=" in front */
	int n, ok;

	if (!a->on)
		return 1;
	if ((n = given_token(wsi, given, sizeof given)) < 0)
		return 0;
	ok = secret_equal(given, (size_t)n, a->token, a->len);
	explicit_bzero(given, sizeof given);
	return ok;
}

/* The whole answer, HTTP/1.1 whatever the request said (WebSocket clients
 * insist on it); lws_return_http_status would add a page and answer an
 * upgrade request as HTTP/1.0. */
int
auth_refuse(struct auth *a, struct lws *wsi)
{
	static const char answer[] = "HTTP/1.1 401 Unauthorized\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	unsigned char buf[LWS_PRE + sizeof answer];
	char addr[INET6_ADDRSTRLEN + 8];
	unsigned held;
	int due;

	if (lws_get_peer_simple(wsi, addr, sizeof addr) == NULL)
		snprintf(addr, sizeof addr, "unknown");
	due = ratelog_due(&a->log, addr, mono_us(), MINUTE_US, AUTH_LOG_MAX, &held);
	if (held)
		warnx("%u more refused clients in the last minute "
		    "(wrong or missing token)", held);
	if (due)
		warnx("%s: refused: wrong or missing token", addr);
	memcpy(buf + LWS_PRE, answer, sizeof answer - 1);
	return lws_write(wsi, buf + LWS_PRE, sizeof answer - 1,
	    LWS_WRITE_HTTP_HEADERS) < 0 ? -1 : 0;
}
