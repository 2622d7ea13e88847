/* liverelay: a live stream for WebSocket viewers from a source process
 * started on demand (liverelay.h has the design). Settings come from the
 * defaults, then the config file, then the options, each overriding the
 * one before; the source command is an argv array from the file or the
 * operands, never a string for a shell. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liverelay.h"
#include "util.h"

#define MAX_VIEWERS 4096
#define EXIT_GRACE_US (2 * LWS_US_PER_SEC)	/* beyond the stop grace */

static volatile sig_atomic_t got_signal;
static struct lws_context *signal_ctx;

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: liverelay [-v] [-c config] [-H host] [-p port] "
	    "[-P path] [-i idle]\n"
	    "                 [-s start] [-b backoff] [-g grace] [-q bytes] "
	    "[-f format]\n"
	    "                 [-- source [arg ...]]\n");
	exit(status);
}

static void
on_signal(int sig)
{
	got_signal = sig;
	if (signal_ctx)
		lws_cancel_service(signal_ctx);
}

static double
seconds_opt(int opt, const char *s)
{
	double d;

	if (parse_double(s, 0, 86400, &d) < 0)
		errx(2, "-%c %s: must be a number of seconds from 0 to 86400",
		    opt, s);
	return d;
}

/* The options given, applied over the config file once it is read. */
struct overrides {
	const char *opt[128];
};

static void
apply(struct config *c, const struct overrides *o, char **source)
{
	uint64_t n;
	int i;

	for (i = 0; i < 128; i++) {
		const char *s = o->opt[i];

		if (s == NULL)
			continue;
		switch (i) {
		case 'H':
			if (*s == '\0')
				errx(2, "-H: empty host");
			free(c->host);
			if ((c->host = strdup(s)) == NULL)
				err(1, NULL);
			break;
		case 'p':
			if (parse_u64(s, 1, 65535, &n) < 0)
				errx(2, "-p %s: must be a port from 1 to 65535", s);
			c->port = (unsigned)n;
			break;
		case 'P':
			if (*s != '/')
				errx(2, "-P %s: must start with /", s);
			free(c->path);
			if ((c->path = strdup(s)) == NULL)
				err(1, NULL);
			break;
		case 'i':
			c->idle_timeout = seconds_opt(i, s);
			break;
		case 's':
			c->start_timeout = seconds_opt(i, s);
			break;
		case 'b':
			c->restart_backoff = seconds_opt(i, s);
			break;
		case 'g':
			c->stop_grace = seconds_opt(i, s);
			break;
		case 'q':
			if (parse_u64(s, 65536, 1u << 30, &n) < 0)
				errx(2, "-q %s: must be a number of bytes from "
				    "65536 to 1073741824", s);
			c->queue_bytes = (size_t)n;
			break;
		case 'f':
			if (config_format(s, &c->format) < 0)
				errx(2, "-f %s: must be fmp4 or mpegts", s);
			break;
		}
	}
	if (source && source[0]) {
		size_t k, argc = 0;

		if (c->source)
			for (k = 0; c->source[k]; k++)
				free(c->source[k]);
		free(c->source);
		while (source[argc])
			argc++;
		if ((c->source = calloc(argc + 1, sizeof(char *))) == NULL)
			err(1, NULL);
		for (k = 0; k < argc; k++)
			if ((c->source[k] = strdup(source[k])) == NULL)
				err(1, NULL);
	}
}

/* Where the status of a relay with these settings is read, for
 * camlive.sh status: a wildcard address is reached on loopback. */
static int
print_status_url(const struct config *c)
{
	const char *host = c->host;
	int v6 = strchr(host, ':') != NULL;

	if (strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		host = "::1";
	return printf("http://%s%s%s:%u/status\n", v6 ? "[" : "", host,
	    v6 ? "]" : "", c->port) < 0 ? -1 : 0;
}

static struct lws_vhost *
listen_on(struct lws_context **ctx, struct relay *r)
{
	struct lws_context_creation_info info;
	const struct config *c = r->cfg;
	struct lws_vhost *vh;

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (strchr(c->host, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.user = r;
	info.fd_limit_per_thread = MAX_VIEWERS + 64;
	if ((*ctx = lws_create_context(&info)) == NULL)
		errx(1, "cannot create the libwebsockets context");
	r->ctx = *ctx;
	info.protocols = relay_protocols;
	info.port = (int)c->port;
	info.iface = c->host;
	info.vhost_name = "liverelay";
	info.options |= LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	if ((vh = lws_create_vhost(*ctx, &info)) == NULL)
		errx(1, "cannot listen on %s port %u", c->host, c->port);
	return vh;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct overrides o;
	struct config cfg;
	struct relay r;
	struct lws_context *ctx;
	struct sigaction sa;
	const char *file = NULL;
	char why[512];
	int64_t deadline = 0;
	int ch, verbose = 0, url_only = 0;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "uvc:H:p:P:i:s:b:g:q:f:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'u':
			url_only = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'c':
			file = optarg;
			break;
		case 'H': case 'p': case 'P': case 'i': case 's': case 'b':
		case 'g': case 'q': case 'f':
			o.opt[ch] = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'V':
			return print_version("liverelay") < 0 || stdout_close() < 0;
		default:
			usage(stderr, 2);
		}
	}
	argc -= optind;
	argv += optind;

	config_defaults(&cfg);
	if (cfg.host == NULL || cfg.path == NULL)
		err(1, NULL);
	if (file && config_load(&cfg, file, why, sizeof(why)) < 0)
		errx(2, "%s", why);
	apply(&cfg, &o, argv);
	cfg.verbose = verbose;
	if (cfg.source == NULL)
		errx(2, "no source: give \"source\" in the config file or the "
		    "command after --");
	if (url_only) {
		ch = print_status_url(&cfg) < 0 || stdout_close() < 0;
		config_free(&cfg);
		return ch;
	}

	/* A reader of stderr that went away must not kill the relay (and
	 * lws ignores SIGPIPE only once its context exists). */
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(verbose ? LLL_ERR | LLL_WARN | LLL_NOTICE : LLL_ERR,
	    NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	memset(&r, 0, sizeof(r));
	r.cfg = &cfg;
	fdlimit_raise(MAX_VIEWERS + 128);
	r.vh = listen_on(&ctx, &r);
	signal_ctx = ctx;
	relay_attach(&r);
	if (verbose)
		warnx("listening on %s port %u, viewers at %s", cfg.host, cfg.port,
		    cfg.path);

	for (;;) {
		if (got_signal && !r.shutting_down) {
			relay_shutdown(&r);
			deadline = mono_us() + (int64_t)(cfg.stop_grace *
			    LWS_US_PER_SEC) + EXIT_GRACE_US;
		}
		if (r.shutting_down && (relay_done(&r) || mono_us() > deadline))
			break;
		if (lws_service(ctx, 0) < 0)
			break;
	}
	relay_kill_source(&r);
	signal_ctx = NULL;
	lws_context_destroy(ctx);
	config_free(&cfg);
	return 0;
}
