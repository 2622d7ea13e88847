/* recdump: print a camrec record stream one line per record, for people.
 * It sits anywhere in a pipeline (or reads a saved stream) and shows what
 * the binary stream carries without the payloads. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rec.h"
#include "stdopt.h"
#include "util.h"

#define TEXT_MAX 200

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: recdump [-a] [file]\n");
	exit(status);
}

/* Print text with anything unprintable escaped, at most max bytes. */
static void
print_text(const char *s, size_t len, size_t max)
{
	size_t i;

	putchar('"');
	for (i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
	if (len > max)
		printf("...(%zu bytes)", len);
}

static void
print_record(const struct rec *r, int all_text)
{
	const char *name = rec_type_name(r->type);
	size_t max = all_text ? (size_t)-1 : TEXT_MAX;
	struct rec_open o;
	struct rec_frame f;
	struct rec_badframe b;
	struct rec_segment sg;
	struct rec_badsegment bs;
	struct rec_image im;
	struct rec_badimage bi;
	const char *reason;
	size_t reason_len;
	uint16_t code;

	printf("%llu.%06llu conn=%llu ", (unsigned long long)(r->t_us / 1000000),
	    (unsigned long long)(r->t_us % 1000000), (unsigned long long)r->conn);
	if (name == NULL) {
		printf("type=%u len=%u\n", r->type, r->len);
		return;
	}
	printf("%s ", name);
	switch (r->type) {
	case REC_OPEN:
		if (rec_open_parse(r, &o) < 0)
			break;
		printf("peer=%.*s port=%u path=", (int)o.addr_len, o.addr, o.port);
		print_text(o.path, o.path_len, max);
		printf(" wall=%lld.%06lld\n", (long long)(o.wall_us / 1000000),
		    (long long)(o.wall_us % 1000000));
		return;
	case REC_CLOSE:
		if (rec_close_parse(r, &code, &reason, &reason_len) < 0)
			break;
		printf("code=%u clean=%d by_server=%d reason=", code,
		    !!(r->flags & REC_CLOSE_CLEAN), !!(r->flags & REC_CLOSE_BY_SERVER));
		print_text(reason, reason_len, max);
		putchar('\n');
		return;
	case REC_TEXT:
	case REC_SENT:
		if (r->type == REC_SENT && (r->flags & REC_SENT_BINARY)) {
			printf("binary len=%u\n", r->len);
			return;
		}
		print_text((const char *)r->body, r->len, max);
		putchar('\n');
		return;
	case REC_FRAME:
		if (rec_frame_parse(r, &f) < 0)
			break;
		printf("seq=%u device_ms=%llu kind=%s len=%zu", f.seq,
		    (unsigned long long)f.device_ms, frame_kind_name(f.kind), f.payload_len);
		if (f.missing)
			printf(" missing=%u", f.missing);
		if (f.flags & FRAME_WRAPPED)
			printf(" wrapped");
		putchar('\n');
		return;
	case REC_BADFRAME:
		if (rec_badframe_parse(r, &b) < 0)
			break;
		printf("seq=%u len=%u reason=", b.seq, b.msg_len);
		print_text(b.text, b.text_len, max);
		putchar('\n');
		return;
	case REC_SEGMENT:
		if (rec_segment_parse(r, &sg) < 0)
			break;
		printf("id=");
		print_text(sg.id, sg.id_len, max);
		printf(" size=%llu mp4=%zu qr=", (unsigned long long)sg.size, sg.mp4_len);
		print_text(sg.qr, sg.qr_len, max);
		putchar('\n');
		return;
	case REC_BADSEGMENT:
		if (rec_badsegment_parse(r, &bs) < 0)
			break;
		printf("id=");
		print_text(bs.id, bs.id_len, max);
		printf(" len=%u reason=", bs.msg_len);
		print_text(bs.text, bs.text_len, max);
		putchar('\n');
		return;
	case REC_IMAGE:
		if (rec_image_parse(r, &im) < 0)
			break;
		printf("number=%u size=%ux%u len=%zu\n", im.number, im.width,
		    im.height, im.jpeg_len);
		return;
	case REC_BADIMAGE:
		if (rec_badimage_parse(r, &bi) < 0)
			break;
		printf("len=%u reason=", bi.msg_len);
		print_text(bi.text, bi.text_len, max);
		putchar('\n');
		return;
	default:
		printf("len=%u\n", r->len);
		return;
	}
	printf("malformed body len=%u\n", r->len);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		STD_LONGOPTS,
	};
	struct rec_reader rd;
	struct rec r;
	const char *name = "stdin";
	char why[256];
	int all_text = 0, c, got;

	while ((c = getopt_long(argc, argv, "a", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all_text = 1;
			break;
		default:
			return std_option(c, "recdump", usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage(stderr, 2);
	if (argc == 1 && strcmp(argv[0], "-") != 0)
		name = argv[0];

	if (rec_reader_open_path(&rd, argc == 1 ? argv[0] : NULL) < 0)
		errx(rec_reader_why(&rd, why, sizeof why) ? 3 : 1, "%s: %s", name, why);
	while ((got = rec_read(&rd, &r)) > 0)
		print_record(&r, all_text);
	if (got < 0)
		errx(rec_reader_why(&rd, why, sizeof why) ? 3 : 1, "%s: %s", name, why);
	rec_reader_close(&rd);
	if (stdout_close() < 0)
		err(1, "stdout");
	return 0;
}
