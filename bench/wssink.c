/* wssink: the benchmark's ceilings. A minimal WebSocket endpoint on the same
 * library and buffer sizes as wsrecv: it takes every message and throws it
 * away (the discard ceiling), or with -w writes every chunk the library
 * hands it, as it comes, into one file per connection (the floor: the
 * least a recorder must do). The ingest benchmark sets the pipeline against
 * both. With -s it also fdatasyncs each file at most once a SECONDS, as
 * sessionwriter does by default. It needs no start command: the load
 * generators stream on their own. -b sets the read buffer (wsrecv's
 * pt_serv_buf_size, 16 KiB). Prints "bytes=N messages=N" on SIGTERM. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct session {		/* one per connection, lives as long as it */
	int fd;
	lws_usec_t synced;
};

static volatile sig_atomic_t interrupted;
static unsigned long long total_bytes, total_messages, connections;
static const char *dir;
static lws_usec_t sync_us;
static int serv_buf = 16 * 1024;	/* as wsrecv's pt_serv_buf_size */

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct session *s = user;
	char name[4096];
	ssize_t n;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		s->fd = -1;
		if (dir == NULL)
			break;
		snprintf(name, sizeof name, "%s/%llu", dir, ++connections);
		if ((s->fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
			err(1, "%s", name);
		s->synced = lws_now_usecs();
		break;
	case LWS_CALLBACK_RECEIVE:
		total_bytes += len;
		if (lws_is_final_fragment(wsi))
			total_messages++;
		if (s->fd < 0)
			break;
		while (len > 0) {
			if ((n = write(s->fd, in, len)) < 0 && errno == EINTR)
				continue;
			if (n < 0)
				err(1, "write");
			in = (char *)in + n;
			len -= (size_t)n;
		}
		if (sync_us > 0 && lws_now_usecs() - s->synced >= sync_us) {
			if (fdatasync(s->fd) < 0)
				err(1, "fdatasync");
			s->synced = lws_now_usecs();
		}
		break;
	case LWS_CALLBACK_CLOSED:
		if (s->fd >= 0 && ((sync_us > 0 && fdatasync(s->fd) < 0) || close(s->fd) < 0))
			err(1, "close");
		s->fd = -1;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	/* The same buffer sizes as wsrecv, so only the work differs. */
	{ "sink", callback, sizeof(struct session), 16384, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: wssink [-b bytes] [-w dir [-s seconds]] port\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct lws_context_creation_info info;
	struct lws_context *context;
	int opt;

	while ((opt = getopt(argc, argv, "b:w:s:")) != -1) {
		switch (opt) {
		case 'b':
			serv_buf = atoi(optarg);
			break;
		case 'w':
			dir = optarg;
			break;
		case 's':
			sync_us = (lws_usec_t)(atof(optarg) * 1e6);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = atoi(argv[0]);
	info.protocols = protocols;
	info.pt_serv_buf_size = serv_buf;
	info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
	context = lws_create_context(&info);
	if (context == NULL)
		return 1;
	while (!interrupted && lws_service(context, 0) >= 0)
		;
	lws_context_destroy(context);
	printf("bytes=%llu messages=%llu\n", total_bytes, total_messages);
	return 0;
}
