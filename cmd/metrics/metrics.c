/* metrics: the recorder's numbers for Prometheus.
 *
 *	metrics --once -R /run/camrec
 *	metrics -d recordings -R /run/camrec
 *
 * The exposition is built from what the recorder leaves on disk
 * (collect.c), so it shares no state with the programs that record and
 * cannot slow them down. With --once it is printed and metrics exits:
 * that is how wsrecv answers GET /metrics on the cameras' port, one run
 * per scrape. Without, metrics is an HTTP server of its own, which
 * camrec.sh starts when the settings give the metrics a port of their
 * own, 127.0.0.1 unless told otherwise. */
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "metrics.h"
#include "stdopt.h"
#include "util.h"

#define DEFAULT_PORT 50002
#define CHUNK (16 * 1024)	/* body bytes per write */
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static volatile sig_atomic_t got_signal;
static struct lws_context *signal_ctx;

/* One HTTP transaction: the response being sent. */
struct pss {
	struct text body;
	size_t sent;
};

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: metrics [-v] [--once [--json]] [-H host] [-p port] "
	    "[-d dir] [-R rundir]\n"
	    "               [-s status]\n");
	exit(status);
}

static void
on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
	if (signal_ctx)
		lws_cancel_service(signal_ctx);
}

static int
send_headers(struct lws *wsi, unsigned status, const char *type, size_t len)
{
	unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start,
	    *end = buf + sizeof buf - 1;

	if (lws_add_http_common_headers(wsi, status, type, (lws_filepos_t)len, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	return 0;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	const struct sources *src;
	struct pss *pss = user;
	unsigned char buf[LWS_PRE + CHUNK];
	size_t n;
	int final;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		memset(&pss->body, 0, sizeof pss->body);
		pss->sent = 0;
		src = lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));
		if (strcmp(in, "/metrics") != 0) {
			if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL))
				return -1;
			return lws_http_transaction_completed(wsi) ? -1 : 0;
		}
		collect(src, &pss->body);
		if (pss->body.failed) {
			text_free(&pss->body);
			lws_return_http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, NULL);
			return -1;
		}
		if (send_headers(wsi, HTTP_STATUS_OK, CONTENT_TYPE, pss->body.len) < 0)
			return -1;
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (pss == NULL || pss->body.p == NULL)
			break;
		n = pss->body.len - pss->sent;
		if (n > CHUNK)
			n = CHUNK;
		final = pss->sent + n == pss->body.len;
		memcpy(buf + LWS_PRE, pss->body.p + pss->sent, n);
		if (lws_write(wsi, buf + LWS_PRE, n,
		    final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
			return -1;
		pss->sent += n;
		if (!final) {
			lws_callback_on_writable(wsi);
			return 0;
		}
		text_free(&pss->body);
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		/* Also for a connection that never asked anything. */
		if (pss != NULL)
			text_free(&pss->body);
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int
print_once(const char *recordings, const char *status, const char *rundir,
    int as_json)
{
	struct sources src = { recordings, status, rundir };
	struct text body = { 0 };
	char *json = NULL;

	collect(&src, &body);
	if (body.failed || (as_json && (json = json_from_text(&body)) == NULL))
		errx(1, "memory");
	if ((json != NULL ? writeall(STDOUT_FILENO, json, strlen(json)) < 0 ||
	    writeall(STDOUT_FILENO, "\n", 1) < 0 :
	    writeall(STDOUT_FILENO, body.p, body.len) < 0))
		err(1, "stdout");
	free(json);
	text_free(&body);
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "http", callback, sizeof(struct pss), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		STD_LONGOPTS,
	};
	struct lws_context_creation_info info;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct sources *src;
	struct sigaction sa;
	const char *host = "127.0.0.1", *recordings = NULL, *rundir = NULL,
	    *status = NULL;
	char *status_path = NULL;
	uint64_t port = DEFAULT_PORT;
	int c, verbose = 0, once = 0, as_json = 0;

	while ((c = getopt_long(argc, argv, "vH:p:d:R:s:", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = 1;
			break;
		case 'H':
			host = optarg;
			break;
		case 'p':
			if (parse_u64(optarg, 1, 65535, &port) < 0)
				errx(2, "-p %s: want a port from 1 to 65535", optarg);
			break;
		case 'd':
			recordings = optarg;
			break;
		case 'R':
			rundir = optarg;
			break;
		case 's':
			status = optarg;
			break;
		case 'o':
			once = 1;
			break;
		case 'j':
			as_json = 1;
			break;
		default:
			return std_option(c, "metrics", usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 0)
		usage(stderr, 2);
	if (*host == '\0')
		errx(2, "-H: empty host");
	if (as_json && !once)
		errx(2, "--json goes with --once");
	if (status == NULL && rundir != NULL) {
		if (asprintf(&status_path, "%s/status.json", rundir) < 0)
			errx(1, "memory");
		status = status_path;
	}

	/* Without -R or -d, the folder of a recorder run by hand. */
	if (recordings == NULL && rundir == NULL)
		recordings = "recordings";
	if (once) {
		c = print_once(recordings, status, rundir, as_json);
		free(status_path);
		return c;
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/* Our own line says what failed; lws says more with -v. */
	lws_set_log_level(verbose ? LLL_ERR | LLL_WARN | LLL_NOTICE : 0, NULL);
	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (strchr(host, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	/* A scraper or two, not thousands of cameras. */
	info.fd_limit_per_thread = 64;
	if ((ctx = lws_create_context(&info)) == NULL)
		errx(1, "cannot create the libwebsockets context");
	signal_ctx = ctx;
	info.protocols = protocols;
	info.port = (int)port;
	info.iface = host;
	info.vhost_name = "metrics";
	info.options |= LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	if ((vh = lws_create_vhost(ctx, &info)) == NULL)
		errx(1, "cannot listen on %s port %llu", host, (unsigned long long)port);
	if ((src = lws_protocol_vh_priv_zalloc(vh, &protocols[0], sizeof *src)) == NULL)
		errx(1, "memory");
	src->recordings = recordings;
	src->status = status;
	src->rundir = rundir;
	if (verbose)
		fprintf(stderr, "metrics: http://%s:%llu/metrics\n", host,
		    (unsigned long long)port);

	while (!got_signal)
		if (lws_service(ctx, 0) < 0)
			break;
	signal_ctx = NULL;
	lws_context_destroy(ctx);
	free(status_path);
	return 0;
}
