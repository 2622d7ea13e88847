/* wssink: the benchmark's ceiling. A minimal WebSocket endpoint on the same
 * library as wsrecv that takes every message and throws it away, so the
 * ingest benchmark can say how close the real pipeline comes to what the
 * load generator and the WebSocket layer alone can do on this machine.
 * It answers start_capture-free: camsim --autostart streams without a
 * command. Prints "bytes=N messages=N" on SIGTERM. */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static volatile sig_atomic_t interrupted;
static unsigned long long total_bytes, total_messages;

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)user;
	(void)in;
	if (reason == LWS_CALLBACK_RECEIVE) {
		total_bytes += len;
		if (lws_is_final_fragment(wsi))
			total_messages++;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	/* The same buffer sizes as wsrecv, so only the work differs. */
	{ "sink", callback, 0, 16384, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

int
main(int argc, char *argv[])
{
	struct lws_context_creation_info info;
	struct lws_context *context;

	if (argc != 2) {
		fprintf(stderr, "usage: wssink port\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = atoi(argv[1]);
	info.protocols = protocols;
	info.pt_serv_buf_size = 16 * 1024;
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
