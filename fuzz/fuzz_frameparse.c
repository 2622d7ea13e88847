/* frameparse's handling of a camera's messages: the 16-byte frame header
 * of an Android binary message (device time, sequence, length), a board's
 * JPEG, and a phone's text (segments, status), as frameparse.c does them.
 * The file is compiled in whole (its main renamed) so its static handlers
 * run as they do in frameparse; the records they write go to /dev/null.
 * The first byte picks the handler and, for frames, the sequence number
 * the connection had before; each input is a fresh connection. */
#define main frameparse_main
#include "../cmd/frameparse/frameparse.c"
#undef main

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct conn c;
	struct rec r;
	unsigned char *body;

	if (!ready) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd < 0 || rec_writer_open(&wr, fd) < 0)
			abort();
		ready = 1;
	}
	if (size == 0 || (body = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(body, data + 1, size - 1);
	memset(&c, 0, sizeof c);
	c.id = 1;
	r = (struct rec){ REC_BINARY, 0, (uint32_t)(size - 1), 1, 0, body };
	switch (data[0] % 4) {
	case 0:
		c.android = 1;
		on_binary(&c, &r);
		break;
	case 1:		/* after a frame whose number is in the top bits */
		c.android = 1;
		c.have_seq = 1;
		c.last_seq = (uint32_t)data[0] << 24;
		on_binary(&c, &r);
		break;
	case 2:
		c.esp = 1;
		on_image(&c, &r);
		break;
	case 3:
		c.android = 1;
		r.type = REC_TEXT;
		on_text(&c, &r);
		break;
	}
	put_or_die(rec_flush(&wr));
	free(body);
	return 0;
}
