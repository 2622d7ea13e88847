/* wsrecv's control FIFO: whatever bytes come down it are cut into lines
 * and each line parsed (text/binary/close, targets, base64, close codes).
 * ctl.c is compiled in whole so its static parser runs as wsrecv runs it;
 * the connection layer below it is replaced by one connection (id 1,
 * path /android-cam) whose send and close only read what they are given,
 * so ASan sees any message that points outside the line. */
#include "../cmd/wsrecv/ctl.c"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct conn one = { .id = 1, .path = (char *)"/android-cam" };
static volatile unsigned char sink;

static void
touch(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		sink ^= b[i];
}

struct conn *
conn_find(struct conn *list, uint64_t id)
{
	return list != NULL && id == list->id ? list : NULL;
}

void
conn_close(struct conn *c, uint16_t code, const char *reason, size_t reason_len)
{
	(void)c;
	if (code < 1000 || code > 4999 || reason_len > CLOSE_REASON_MAX)
		abort();
	touch(reason, reason_len);
}

int
conn_send(struct conn *c, int binary, const void *msg, size_t len)
{
	(void)c;
	(void)binary;
	touch(msg, len);
	return 0;
}

int
out_record(uint16_t type, uint16_t flags, uint64_t conn, uint64_t t_us,
    const void *a, size_t alen, const void *b, size_t blen)
{
	(void)type;
	(void)flags;
	(void)conn;
	(void)t_us;
	touch(a, alen);
	touch(b, blen);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server server;
	struct ctl ctl;

	memset(&server, 0, sizeof server);
	server.conns = &one;
	memset(&ctl, 0, sizeof ctl);
	ctl.server = &server;
	ctl.path = "fuzz";
	/* A line too long for wsrecv is not worth the fuzzer's time. */
	if (size > 65536 || (ctl.buf = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(ctl.buf, data, size);
	ctl.len = ctl.cap = size;
	ctl_lines(&ctl);
	free(ctl.buf);
	return 0;
}
