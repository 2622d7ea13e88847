/* The H.264 reader: NAL scan, classification, parameter sets, slice
 * headers and access units, as sessionwriter, fpsest and mux use them on
 * what cameras send. */
#include "fuzz.h"
#include "h264.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
count(const struct h264_au *au, void *arg)
{
	size_t *n = arg;

	if (au->start > au->end)
		abort();
	(*n)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h264_params hp;
	struct h264_sps sps;
	struct h264_nal nal;
	size_t pos = 0, off, aus = 0;

	while (h264_next_nal(data, size, &pos, &nal) == 1) {
		(void)h264_sps_parse(nal.p, nal.len, &sps);
		(void)h264_slice_first_mb(nal.p, nal.len);
		(void)h264_pps_id(nal.p, nal.len);
	}
	(void)h264_classify(data, size);
	h264_find_params(data, size, &hp);
	if (hp.sps != NULL)
		(void)h264_sps_parse(hp.sps, hp.sps_len, &sps);
	if (h264_find_sps(data, size, &sps, &off) == 0)
		(void)h264_sps_fps(&sps);
	(void)h264_au_scan(data, size, count, &aus);
	return 0;
}
