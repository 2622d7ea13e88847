/* The record-stream reader and every record body parser: what frameparse,
 * sessionwriter and recdump read from a pipe or a replayed file. */
#include "fuzz.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_reader r;
	struct rec rec;
	struct rec_open o;
	struct rec_frame f;
	struct rec_badframe b;
	struct rec_segment s;
	struct rec_badsegment bs;
	const char *reason;
	size_t reason_len;
	uint16_t code;
	char why[256];
	int fd;

	if ((fd = fuzz_memfd(data, size)) < 0)
		return 0;
	if (rec_reader_open(&r, fd) == 0) {
		while (rec_read(&r, &rec) == 1) {
			/* Every parser on every record: each must check the
			 * body it is given, whatever the type says. */
			(void)rec_type_name(rec.type);
			(void)rec_open_parse(&rec, &o);
			(void)rec_frame_parse(&rec, &f);
			(void)rec_badframe_parse(&rec, &b);
			(void)rec_segment_parse(&rec, &s);
			(void)rec_badsegment_parse(&rec, &bs);
			(void)rec_close_parse(&rec, &code, &reason, &reason_len);
		}
		(void)rec_reader_why(&r, why, sizeof why);
	}
	/* A reader that failed to open has its buffer too. */
	rec_reader_close(&r);
	close(fd);
	return 0;
}
