/* wsrecv: the WebSocket server at the head of the camrec pipeline.
 *
 *	wsrecv -c ctl.fifo | frameparse | sessionwriter -d recordings
 *
 * It accepts any number of camera connections and turns everything they
 * say into the record stream (camrec-records(5)) on stdout: who connected,
 * each complete message, how each connection ended. It understands nothing
 * of what the cameras send; that is the business of the filters behind it,
 * so wsrecv can stay small and keep up. Commands for the cameras come in
 * through a FIFO, so any shell script can drive them. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "rec.h"
#include "util.h"
#include "wsrecv.h"

#define DEFAULT_PORT	50001
#define DEFAULT_MAX_MSG	(16u << 20)
#define DEFAULT_IDLE	30
#define FD_CAP		(1u << 20)	/* lws sizes its tables by the fd limit */
#define SHUTDOWN_SECS	3

struct wsrecv W;
static volatile sig_atomic_t got_signal;

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: wsrecv [-v] [-H host] [-p port] [-c fifo] [-m bytes] "
	    "[-i seconds] [--lines]\n");
	exit(status);
}

int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
on_signal(int sig)
{
	(void)sig;
	got_signal = 1;
	if (W.ctx)
		lws_cancel_service(W.ctx);
}

static uint64_t
number(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (parse_u64(s, min, max, &v) < 0) {
		warnx("%s: %s: want a number from %llu to %llu", opt, s,
		    (unsigned long long)min, (unsigned long long)max);
		usage(stderr, 2);
	}
	return v;
}

/* Thousands of cameras need thousands of descriptors. */
static rlim_t
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > FD_CAP)
		rl.rlim_cur = FD_CAP;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur;
}

static void
shutdown_all(void)
{
	int64_t deadline = now_us() + SHUTDOWN_SECS * 1000000LL;
	struct lws_context *ctx = W.ctx;
	struct conn *c;

	W.stopping = 1;
	if (W.paused)
		conn_pause_all(0);	/* the peers' close frames must be read */
	for (c = W.conns; c != NULL; c = c->next)
		conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "going away", 10);
	while (W.nconns > 0 && now_us() < deadline && !out_failed()) {
		if (lws_service(ctx, 0) < 0)
			break;
		out_pump();
	}
	/* Whatever is left gets its CLOSE record from here. A signal from
	 * now on must not touch the context being destroyed. */
	W.ctx = NULL;
	lws_context_destroy(ctx);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "max-message", required_argument, NULL, 'm' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "lines", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct lws_context_creation_info info;
	static lws_retry_bo_t retry;
	struct sigaction sa;
	const char *host = "0.0.0.0", *fifo = NULL;
	unsigned port = DEFAULT_PORT;
	rlim_t fds;
	int c;

	W.max_message = DEFAULT_MAX_MSG;
	W.idle_s = DEFAULT_IDLE;
	while ((c = getopt_long(argc, argv, "vH:p:c:m:i:", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			W.verbose = 1;
			break;
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = (unsigned)number("-p", optarg, 1, 65535);
			break;
		case 'c':
			fifo = optarg;
			break;
		case 'm':
			/* frameparse turns a message into a record 4 bytes
			 * longer (its header is 20 bytes to the camera's 16). */
			W.max_message = number("--max-message", optarg, 1,
			    REC_MAX_BODY - (REC_FRAME_FIXED - 16));
			break;
		case 'i':
			W.idle_s = (unsigned)number("--idle-timeout", optarg, 0, 86400);
			break;
		case 'L':
			W.lines = 1;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'V':
			return print_version("wsrecv") < 0;
		default:
			usage(stderr, 2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 0)
		usage(stderr, 2);
	if (*host == '\0')
		errx(2, "-H: empty host");

	fds = raise_fd_limit();
	lws_set_log_level(W.verbose ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_USER : LLL_ERR,
	    NULL);
	if (W.verbose)
		fprintf(stderr, "wsrecv: descriptor limit %llu\n", (unsigned long long)fds);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	/* An IPv4 address means an IPv4 socket: peers are then plain v4. */
	if (strchr(host, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.fd_limit_per_thread = (unsigned)fds;
	info.pt_serv_buf_size = 16 * 1024;
	if ((W.ctx = lws_create_context(&info)) == NULL)
		errx(1, "cannot create the libwebsockets context");

	/* wsrecv pings and hangs up on silent peers itself (conn_sweep),
	 * because only it knows when a connection was not read on purpose
	 * (stdout backpressure); keep lws's own validity checks out of it. */
	retry.secs_since_valid_ping = 65534;
	retry.secs_since_valid_hangup = 65535;
	{
		static struct lws_protocols protocols[4];

		protocols[0] = conn_protocol;
		protocols[1] = ctl_protocol;
		protocols[2] = out_protocol;
		info.protocols = protocols;
	}
	info.port = (int)port;
	info.iface = host;
	info.vhost_name = "wsrecv";
	info.retry_and_idle_policy = &retry;
	info.options |= LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	if ((W.vh = lws_create_vhost(W.ctx, &info)) == NULL)
		errx(1, "cannot listen on %s port %u", host, port);

	if (out_init(STDOUT_FILENO) < 0)
		err(1, "stdout");
	if (fifo && ctl_open(fifo) < 0)
		err(1, "control fifo %s", fifo);
	if (W.idle_s)
		lws_sul_schedule(W.ctx, 0, &W.sweep, conn_sweep, LWS_US_PER_SEC);

	while (!got_signal) {
		if (lws_service(W.ctx, 0) < 0)
			break;
		out_pump();
		if (out_failed()) {
			errno = out_failed();
			err(1, "stdout");
		}
	}
	shutdown_all();
	if (out_finish() < 0)
		err(1, "stdout");
	return 0;
}
