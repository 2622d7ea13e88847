/* The frame-rate estimators of fpsest, one per source of timing. Each
 * fills an estimate: ok with a rate, or a reason it was not believed. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fpsest.h"
#include "h264.h"
#include "mp4box.h"
#include "rec.h"
#include "util.h"

const char *source_name[NSOURCES] = {
	"device", "arrival", "vui", "folder", "duration", "default", "legacy",
	"segments",
};

static void
reject(struct estimate *e, const char *fmt, ...)
{
	va_list ap;

	e->tried = 1;
	e->ok = 0;
	e->fps = 0;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof e->reason, fmt, ap);
	va_end(ap);
}

static void
accept(struct estimate *e, double fps, const char *fmt, ...)
{
	va_list ap;

	e->tried = 1;
	e->ok = 1;
	e->fps = fps;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof e->reason, fmt, ap);
	va_end(ap);
}

static int
is_picture(const struct index_entry *x)
{
	return x->kind == FRAME_KEY || x->kind == FRAME_DELTA;
}

void
est_arrival(struct input *in, struct estimate *e)
{
	const struct index_entry *first = NULL, *prev = NULL;
	size_t i, n = 0;
	double span;

	if (!in->have_index) {
		reject(e, "no index");
		return;
	}
	for (i = 0; i < in->ix.n; i++) {
		const struct index_entry *x = &in->ix.e[i];
		if (!is_picture(x))
			continue;
		if (prev && x->arrival_us < prev->arrival_us) {
			reject(e, "arrival times go backwards at seq %u", x->seq);
			return;
		}
		if (!first)
			first = x;
		prev = x;
		n++;
	}
	if (n < 2) {
		reject(e, "%zu pictures in the index, need 2", n);
		return;
	}
	span = (double)(prev->arrival_us - first->arrival_us) / 1e6;
	if (span <= 0) {
		reject(e, "arrival times span 0 s");
		return;
	}
	accept(e, (double)(n - 1) / span, "%zu pictures over %.3f s of arrival time", n, span);
}

void
est_device(struct input *in, struct estimate *e, const struct estimate *arrival)
{
	const struct index_entry *first = NULL, *prev = NULL;
	size_t i, n = 0, zero = 0;
	double span, fps, ratio;

	if (!in->have_index) {
		reject(e, "no index");
		return;
	}
	for (i = 0; i < in->ix.n; i++) {
		const struct index_entry *x = &in->ix.e[i];
		if (!is_picture(x))
			continue;
		/* Time 0 is a config buffer's, never a picture's capture time. */
		if (x->device_ms == 0) {
			zero++;
			continue;
		}
		if (prev && x->device_ms < prev->device_ms) {
			reject(e, "device timestamps go backwards at seq %u", x->seq);
			return;
		}
		if (prev && x->device_ms - prev->device_ms > MAX_DEVICE_STEP_MS) {
			reject(e, "device timestamps jump %llu ms at seq %u (more than %d)",
			    (unsigned long long)(x->device_ms - prev->device_ms), x->seq,
			    MAX_DEVICE_STEP_MS);
			return;
		}
		if (!first)
			first = x;
		prev = x;
		n++;
	}
	if (n < 2) {
		reject(e, "%zu pictures with device timestamps, need 2", n);
		return;
	}
	span = (double)(prev->device_ms - first->device_ms) / 1e3;
	if (span <= 0) {
		reject(e, "device timestamps span 0 s");
		return;
	}
	fps = (double)(n - 1) / span;
	if (arrival->ok) {
		ratio = fps / arrival->fps;
		if (ratio > CROSS_CHECK_RATIO || ratio < 1 / CROSS_CHECK_RATIO) {
			reject(e, "device rate %.3f disagrees with arrival rate %.3f",
			    fps, arrival->fps);
			return;
		}
		if (ratio > 1 + CROSS_CHECK_NOTE || ratio < 1 - CROSS_CHECK_NOTE) {
			accept(e, fps, "%zu pictures over %.3f s of device time; "
			    "arrival times say %.3f", n, span, arrival->fps);
			return;
		}
	}
	accept(e, fps, "%zu pictures over %.3f s of device time%s", n, span,
	    zero ? " (pictures with time 0 left out)" : "");
}

int
stream_map(struct input *in)
{
	if (in->stream_mapped == 0)
		in->stream_mapped = in->stream_path &&
		    mapfile_open(in->stream_path, &in->stream) == 0 ? 1 : -1;
	return in->stream_mapped > 0 ? 0 : -1;
}

void
est_vui(struct input *in, struct estimate *e)
{
	struct h264_sps sps;
	size_t at;
	double fps;

	if (stream_map(in) < 0) {
		reject(e, in->stream_path ? "stream unreadable" : "no stream.h264");
		return;
	}
	if (h264_find_sps(in->stream.p, in->stream.len, &sps, &at) < 0) {
		reject(e, "no SPS found");
		return;
	}
	if (!sps.timing_info_present) {
		reject(e, "SPS at offset %zu has no VUI timing", at);
		return;
	}
	fps = h264_sps_fps(&sps);
	if (fps < MIN_RATE || fps > MAX_RATE) {
		reject(e, "VUI timing %u/%u gives implausible rate %.3f",
		    sps.time_scale, sps.num_units_in_tick, fps);
		return;
	}
	accept(e, fps, "SPS VUI time_scale %u / (2 * num_units_in_tick %u)",
	    sps.time_scale, sps.num_units_in_tick);
}

static int
count_picture(const struct h264_au *au, void *arg)
{
	long long *n = arg;

	*n += au->has_picture != 0;
	return 0;
}

/* Pictures in the index, or in the stream when there is no index. */
static long long
pictures(struct input *in)
{
	size_t i;

	if (in->pictures >= 0)
		return in->pictures;
	in->pictures = 0;
	if (in->have_index) {
		for (i = 0; i < in->ix.n; i++)
			in->pictures += is_picture(&in->ix.e[i]);
	} else if (stream_map(in) == 0) {
		h264_au_scan(in->stream.p, in->stream.len, count_picture, &in->pictures);
	}
	return in->pictures;
}

/* Capture start from a folder name <ip>_<port>_<YYYYmmdd>_<HHMMSS>[_N],
 * as local time; -1 when the name does not have that shape. */
static int
folder_start(const char *dir, time_t *start)
{
	const char *base = strrchr(dir, '/'), *s;
	size_t len, i, j;
	struct tm tm;
	int d[14];

	base = base ? base + 1 : dir;
	len = strlen(base);
	for (i = len; i-- > 0;) {
		s = base + i;
		if (*s != '_' || i == 0 || len - i < 16 || s[9] != '_')
			continue;
		for (j = 0; j < 14; j++) {
			char c = s[1 + j + (j >= 8)];
			if (c < '0' || c > '9')
				break;
			d[j] = c - '0';
		}
		if (j < 14)
			continue;
		if (len - i > 16) {	/* a collision suffix _2, _3, ... */
			if (s[16] != '_' || len - i == 17)
				continue;
			for (j = 17; j < len - i; j++)
				if (s[j] < '0' || s[j] > '9')
					break;
			if (j < len - i)
				continue;
		}
		memset(&tm, 0, sizeof tm);
		tm.tm_year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3] - 1900;
		tm.tm_mon = d[4] * 10 + d[5] - 1;
		tm.tm_mday = d[6] * 10 + d[7];
		tm.tm_hour = d[8] * 10 + d[9];
		tm.tm_min = d[10] * 10 + d[11];
		tm.tm_sec = d[12] * 10 + d[13];
		if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
		    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
			return -1;
		tm.tm_isdst = -1;
		if ((*start = mktime(&tm)) == (time_t)-1)
			return -1;
		return 0;
	}
	return -1;
}

void
est_clue(struct input *in, struct estimate *e)
{
	time_t start;
	double span, mtime;
	long long n;

	if (in->have_index) {
		reject(e, "not used with an index");
		return;
	}
	if (in->dir == NULL || folder_start(in->dir, &start) < 0) {
		reject(e, "folder name is not <ip>_<port>_<YYYYmmdd_HHMMSS>");
		return;
	}
	if (stream_map(in) < 0) {
		reject(e, "stream unreadable");
		return;
	}
	mtime = (double)in->stream.st.st_mtim.tv_sec + in->stream.st.st_mtim.tv_nsec / 1e9;
	span = mtime - (double)start;
	if (span < MIN_CLUE_SPAN || span > MAX_CLUE_SPAN) {
		reject(e, "stream.h264 last written %.3f s after the folder's start time "
		    "(need %.0f s to %.0f days)", span, MIN_CLUE_SPAN, MAX_CLUE_SPAN / 86400);
		return;
	}
	if ((n = pictures(in)) < 1) {
		reject(e, "no pictures in the stream");
		return;
	}
	if (n / span < MIN_RATE || n / span > MAX_RATE) {
		reject(e, "%lld pictures over %.3f s is implausible", n, span);
		return;
	}
	accept(e, n / span, "%lld pictures between the folder's start time and "
	    "the stream's last write, %.3f s", n, span);
}

void
est_duration(struct input *in, struct estimate *e)
{
	long long n;

	if (in->duration <= 0) {
		reject(e, "no --duration given");
		return;
	}
	if ((n = pictures(in)) < 1) {
		reject(e, "no pictures");
		return;
	}
	accept(e, n / in->duration, "%lld pictures over --duration %.3f s", n, in->duration);
}

/* The Python server's estimate, reproduced: it counted every binary
 * message it received (the config packet included) and took first and
 * last over all of them, arrival times first, device times (starting at
 * the config packet's 0) second. */
void
est_legacy(struct input *in, struct estimate *e)
{
	const struct index_entry *first, *last;
	size_t n = in->ix.n;
	double span;

	if (n == 0) {
		accept(e, DEFAULT_RATE, "empty index: the old server's default");
		return;
	}
	first = &in->ix.e[0];
	last = &in->ix.e[n - 1];
	span = (double)last->arrival_us / 1e6 - (double)first->arrival_us / 1e6;
	if (span > LEGACY_MIN_SPAN) {
		accept(e, n / span, "%zu messages over %.3f s of arrival time", n, span);
		return;
	}
	span = ((double)last->device_ms - (double)first->device_ms) / 1e3;
	if (span > 0) {
		accept(e, n / span, "arrival span %.3f s too short; %zu messages over "
		    "%.3f s of device time", (double)(last->arrival_us - first->arrival_us) / 1e6,
		    n, span);
		return;
	}
	accept(e, DEFAULT_RATE, "no usable span: the old server's default");
}

/* A current phone's session: each segment's MP4 header says how many
 * pictures it holds and for how long (MediaMuxer writes the phone's own
 * timestamps), so the rate is theirs, summed over the segments. */
void
est_segments(struct input *in, struct estimate *e)
{
	uint64_t total = 0, samples;
	double seconds = 0, s;
	size_t i, used = 0;
	struct mapfile m;
	char path[4096];

	for (i = 0; i < in->seg.n; i++) {
		if (pathcat(path, sizeof path, in->dir, in->seg.e[i].file) < 0 ||
		    mapfile_open(path, &m) < 0)
			continue;
		if (mp4_video_track(m.p, m.len, &samples, &s) == 0 && s > 0) {
			total += samples;
			seconds += s;
			used++;
		}
		mapfile_close(&m);
	}
	in->pictures = (long long)total;
	if (used == 0 || total == 0) {
		reject(e, "no readable video track in %zu segments", in->seg.n);
		return;
	}
	accept(e, (double)total / seconds, "%llu pictures over %.3f s in %zu of %zu "
	    "segments", (unsigned long long)total, seconds, used, in->seg.n);
}
