/* h264info: print what camrec's H.264 reader sees in an Annex-B file: the
 * first SPS, access-unit, picture and key-frame counts, NAL units by type,
 * or (-a) one line per access unit. It is the reference that tests and
 * users hold against ffprobe, so it reports the library's view, nothing
 * computed on its own. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h264.h"
#include "mapfile.h"
#include "stdopt.h"
#include "util.h"

struct counts {
	unsigned long long aus, pictures, keys, sps, pps;
	unsigned long long nal[32];
	unsigned long long noise;	/* zero runs, forbidden_zero_bit set */
	const unsigned char *buf;
	int list;
};

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: h264info [-a] file\n");
	exit(status);
}

static const char *
au_kind(const struct h264_au *au)
{
	if (au->is_key)
		return "key";
	if (au->has_picture)
		return "delta";
	if (au->has_sps || au->has_pps)
		return "config";
	return "unknown";
}

static int
on_au(const struct h264_au *au, void *arg)
{
	struct counts *c = arg;
	struct h264_nal nal;
	size_t pos = 0;

	c->aus++;
	c->pictures += au->has_picture != 0;
	c->keys += au->is_key != 0;
	if (c->list) {
		printf("%zu\t%zu\t%s\n", au->start, au->end - au->start, au_kind(au));
		return 0;
	}
	while (h264_next_nal(c->buf + au->start, au->end - au->start, &pos, &nal)) {
		if (nal.len == 0 || (nal.p[0] & 0x80))
			c->noise++;
		else
			c->nal[nal.type]++;
	}
	return 0;
}

static const char *
profile_name(int p, int constraints)
{
	switch (p) {
	case 66:
		return constraints & 0x40 ? "constrained-baseline" : "baseline";
	case 77:
		return "main";
	case 88:
		return "extended";
	case 100:
		return "high";
	case 110:
		return "high10";
	case 122:
		return "high422";
	case 244:
		return "high444";
	}
	return "other";
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		STD_LONGOPTS,
	};
	struct counts cnt;
	struct h264_sps sps;
	struct mapfile m;
	size_t sps_at;
	int c, t;

	memset(&cnt, 0, sizeof cnt);
	while ((c = getopt_long(argc, argv, "a", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			cnt.list = 1;
			break;
		default:
			return std_option(c, "h264info", usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage(stderr, 2);

	if (mapfile_open(argv[0], &m) < 0)
		err(errno == EISDIR || errno == EINVAL ? 3 : 1, "%s", argv[0]);
	if (h264_find_sps(m.p, m.len, &sps, &sps_at) < 0)
		errx(3, "%s: no SPS found", argv[0]);
	cnt.buf = m.p;
	h264_au_scan(m.p, m.len, on_au, &cnt);
	if (!cnt.list) {
		printf("file %s\n", argv[0]);
		printf("bytes %zu\n", m.len);
		printf("sps_offset %zu\n", sps_at);
		printf("sps_id %d\n", sps.sps_id);
		printf("profile %d %s\n", sps.profile_idc,
		    profile_name(sps.profile_idc, sps.constraint_flags));
		printf("level %d\n", sps.level_idc);
		printf("chroma_format %d\n", sps.chroma_format_idc);
		printf("bit_depth %d\n", sps.bit_depth_luma);
		printf("width %d\n", sps.width);
		printf("height %d\n", sps.height);
		printf("coded_size %dx%d\n", sps.coded_width, sps.coded_height);
		printf("crop %d %d %d %d\n", sps.crop_left, sps.crop_right,
		    sps.crop_top, sps.crop_bottom);
		printf("frame_mbs_only %d\n", sps.frame_mbs_only);
		printf("poc_type %d\n", sps.poc_type);
		printf("max_num_ref_frames %d\n", sps.max_num_ref_frames);
		printf("vui %d\n", sps.vui_present);
		if (sps.timing_info_present)
			printf("timing %u %u fixed %d fps %.6g\n", sps.num_units_in_tick,
			    sps.time_scale, sps.fixed_frame_rate, h264_sps_fps(&sps));
		else
			printf("timing none\n");
		printf("access_units %llu\n", cnt.aus);
		printf("pictures %llu\n", cnt.pictures);
		printf("key_frames %llu\n", cnt.keys);
		for (t = 0; t < 32; t++)
			if (cnt.nal[t])
				printf("nal %d %llu\n", t, cnt.nal[t]);
		if (cnt.noise)
			printf("noise %llu\n", cnt.noise);
	}
	mapfile_close(&m);
	if (stdout_close() < 0)
		err(1, "stdout");
	return 0;
}
