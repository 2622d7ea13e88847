/* An ESP32 board's session as a playlist for ffmpeg's concat demuxer:
 * every image of stream.mjpeg is one entry, read in place through the
 * subfile protocol (no image is copied out), shown until the next one
 * arrived. The board sends no time of its own, so the arrival times of
 * index.tsv are the clock; the last image gets the median spacing. Each
 * entry is read at a 1 ms time base, the concat demuxer's default of
 * 1/25 s would move every image to a 40 ms grid. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpeg.h"
#include "mux.h"
#include "rec.h"

static int
by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

char *
images_list(const char *abs_in, const struct index *ix, const unsigned char *buf,
    size_t len, struct images_plan *ip)
{
	uint64_t *ms, prev = 0, *gaps;
	char *list = NULL;
	size_t listlen = 0, i, n = 0, *pick;
	FILE *out;

	memset(ip, 0, sizeof *ip);
	ms = calloc(ix->n + 1, sizeof *ms);
	gaps = calloc(ix->n + 1, sizeof *gaps);
	pick = calloc(ix->n + 1, sizeof *pick);
	if (ms == NULL || gaps == NULL || pick == NULL) {
		free(ms);
		free(gaps);
		free(pick);
		return NULL;
	}
	/* The images that are whole in the file, in order, each on its own
	 * millisecond at least. */
	for (i = 0; i < ix->n; i++) {
		const struct index_entry *e = &ix->e[i];
		struct jpeg_info info;
		uint64_t t;

		if (e->kind != FRAME_JPEG || e->offset > len || e->size > len - e->offset ||
		    jpeg_check(buf + e->offset, e->size, &info) != 0) {
			ip->skipped++;
			continue;
		}
		if (n == 0) {
			ip->width = info.width;
			ip->height = info.height;
			ip->first_us = e->arrival_us;
		}
		t = e->arrival_us >= ip->first_us ? (e->arrival_us - ip->first_us + 500) / 1000 : 0;
		if (n > 0 && t <= prev) {
			t = prev + 1;
			ip->ts_fixed++;
		}
		ms[n] = prev = t;
		pick[n++] = i;
	}
	ip->n = n;
	if (n == 0) {
		free(ms);
		free(gaps);
		free(pick);
		return NULL;
	}
	for (i = 0; i + 1 < n; i++)
		gaps[i] = ms[i + 1] - ms[i];
	if (n > 1) {
		qsort(gaps, n - 1, sizeof *gaps, by_value);
		ip->last_ms = gaps[(n - 1) / 2];
	} else
		ip->last_ms = 100;	/* one image: a tenth of a second */
	if ((out = open_memstream(&list, &listlen)) == NULL) {
		free(ms);
		free(gaps);
		free(pick);
		return NULL;
	}
	fputs("ffconcat version 1.0\n", out);
	for (i = 0; i < n; i++) {
		const struct index_entry *e = &ix->e[pick[i]];

		fprintf(out, "file 'subfile,,start,%" PRIu64 ",end,%" PRIu64 ",,:file:",
		    e->offset, e->offset + e->size);
		concat_quote(out, abs_in);
		fprintf(out, "'\noption framerate 1000\nduration %" PRIu64 ".%03" PRIu64 "\n",
		    (i + 1 < n ? ms[i + 1] - ms[i] : ip->last_ms) / 1000,
		    (i + 1 < n ? ms[i + 1] - ms[i] : ip->last_ms) % 1000);
	}
	ip->duration_ms = ms[n - 1] + ip->last_ms;
	free(ms);
	free(gaps);
	free(pick);
	if (fclose(out) != 0) {
		free(list);
		return NULL;
	}
	return list;
}
