/* fpsest: the frame rate of one recording, as a bare number for
 * `mux -r "$(fpsest DIR)"`. It runs after sessionwriter has closed a
 * session (or over old recordings that only have stream.h264). Device
 * timestamps of pictures are the camera's own clock and the best source;
 * arrival times cross-check them and stand in when they are nonsense;
 * without an index only the bitstream (VUI timing) and the folder's name
 * and mtime are left. --legacy reproduces the old server's number so old
 * and new recordings can be compared. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fpsest.h"
#include "h264.h"
#include "stdopt.h"
#include "util.h"

#define CLAMP_MIN 1.0
#define CLAMP_MAX 60.0

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: fpsest [-v] [--json] [--legacy] [--no-clamp] "
	    "[--duration seconds] session_dir | index.tsv | file.h264 | segments.tsv\n");
	exit(status);
}

static char *
join(const char *dir, const char *name)
{
	char *s;

	if (asprintf(&s, "%s/%s", dir, name) < 0)
		err(1, NULL);
	return s;
}

static int
is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* An index is named *.tsv or starts with the index header. */
static int
looks_like_index(const char *path)
{
	size_t n = strlen(path);
	char head[16];
	FILE *f;

	if (n >= 4 && strcmp(path + n - 4, ".tsv") == 0)
		return 1;
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	n = fread(head, 1, sizeof head, f);
	fclose(f);
	return n == sizeof head && memcmp(head, "#camrec-index 1\t", 16) == 0;
}

static char *
dir_of(const char *path)
{
	char *copy, *d;

	if ((copy = strdup(path)) == NULL)
		err(1, NULL);
	if ((d = strdup(dirname(copy))) == NULL)
		err(1, NULL);
	free(copy);
	return d;
}

static void
resolve(struct input *in, const char *arg)
{
	struct stat st;
	char *p;

	in->arg = arg;
	if (stat(arg, &st) < 0)
		err(1, "%s", arg);
	if (S_ISDIR(st.st_mode)) {
		if ((in->dir = realpath(arg, NULL)) == NULL)
			err(1, "%s", arg);
		p = join(arg, INDEX_NAME);
		if (is_regular(p))
			in->index_path = p;
		else
			free(p);
		p = join(arg, "stream.h264");
		if (is_regular(p))
			in->stream_path = p;
		else
			free(p);
		p = join(arg, SEGINDEX_NAME);
		if (!in->index_path && !in->stream_path && is_regular(p))
			in->segments_path = p;
		else
			free(p);
		if (!in->index_path && !in->stream_path && !in->segments_path)
			errx(3, "%s: neither %s, stream.h264 nor %s in it", arg,
			    INDEX_NAME, SEGINDEX_NAME);
		return;
	}
	if ((p = realpath(arg, NULL)) == NULL)
		err(1, "%s", arg);
	in->dir = dir_of(p);
	free(p);
	if (strcmp(strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg, SEGINDEX_NAME) == 0) {
		if ((in->segments_path = strdup(arg)) == NULL)
			err(1, NULL);
	} else if (looks_like_index(arg)) {
		if ((in->index_path = strdup(arg)) == NULL)
			err(1, NULL);
		p = join(in->dir, "stream.h264");
		if (is_regular(p))
			in->stream_path = p;
		else
			free(p);
	} else if ((in->stream_path = strdup(arg)) == NULL) {
		err(1, NULL);
	}
}

static void
load_index(struct input *in)
{
	size_t bad_line;

	if (index_load(in->index_path, &in->ix, &bad_line) < 0) {
		if (errno == EINVAL && bad_line > 0)
			errx(3, "%s: line %zu: not an index line", in->index_path, bad_line);
		err(1, "%s", in->index_path);
	}
	in->have_index = 1;
}

static void
load_segments(struct input *in)
{
	const char *why;
	size_t bad_line;

	if (segindex_load(in->segments_path, &in->seg, &bad_line, &why) < 0) {
		if (errno == EINVAL && bad_line > 0)
			errx(3, "%s: line %zu: %s", in->segments_path, bad_line, why);
		err(1, "%s", in->segments_path);
	}
}

/* Without an index the stream is the only evidence: it must be H.264. */
static void
check_stream(struct input *in)
{
	struct h264_sps sps;
	size_t at;

	if (stream_map(in) < 0) {
		if (errno == EISDIR || errno == EINVAL)
			errx(3, "%s: not a regular file", in->stream_path);
		err(1, "%s", in->stream_path);
	}
	if (h264_find_sps(in->stream.p, in->stream.len, &sps, &at) < 0)
		errx(3, "%s: no SPS found", in->stream_path);
}

/* %.3f without trailing zeros: 29.97, 30, 7.5. */
static void
format_rate(char *buf, size_t size, double fps)
{
	char *dot, *end;

	snprintf(buf, size, "%.3f", fps);
	if ((dot = strchr(buf, '.')) == NULL)
		return;
	end = buf + strlen(buf);
	while (end > dot + 1 && end[-1] == '0')
		*--end = '\0';
	if (end == dot + 1)
		*dot = '\0';
}

static double
round3(double x)
{
	return round(x * 1000) / 1000;
}

static json_t *
rate_json(const struct estimate *e)
{
	return e->ok ? json_real(round3(e->fps)) : json_null();
}

static void
print_json(const struct input *in, const struct estimate *est, const int *order,
    int norder, int chosen, double raw, double fps)
{
	json_t *root, *list, *o;
	char *s;
	int i;

	root = json_object();
	list = json_array();
	for (i = 0; i < norder; i++) {
		const struct estimate *e = &est[order[i]];
		o = json_object();
		json_object_set_new(o, "source", json_string(source_name[order[i]]));
		json_object_set_new(o, "fps", rate_json(e));
		json_object_set_new(o, "reason", e->tried ? json_string(e->reason) :
		    json_string("not tried"));
		json_array_append_new(list, o);
	}
	json_object_set_new(root, "input", json_string(in->arg));
	json_object_set_new(root, "index", in->index_path ?
	    json_string(in->index_path) : json_null());
	json_object_set_new(root, "stream", in->stream_path ?
	    json_string(in->stream_path) : json_null());
	if (in->segments_path)
		json_object_set_new(root, "segments", json_string(in->segments_path));
	json_object_set_new(root, "estimates", list);
	o = json_object();
	json_object_set_new(o, "source", json_string(source_name[chosen]));
	json_object_set_new(o, "fps", json_real(round3(fps)));
	json_object_set_new(o, "unclamped", json_real(round3(raw)));
	json_object_set_new(o, "clamped", json_boolean(raw != fps));
	json_object_set_new(root, "chosen", o);
	s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
	if (s == NULL)
		errx(1, "cannot format json");
	puts(s);
	free(s);
	json_decref(root);
}

int
main(int argc, char *argv[])
{
	enum { OPT_JSON = 256, OPT_LEGACY, OPT_NO_CLAMP, OPT_DURATION };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "legacy", no_argument, NULL, OPT_LEGACY },
		{ "no-clamp", no_argument, NULL, OPT_NO_CLAMP },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "verbose", no_argument, NULL, 'v' },
		STD_LONGOPTS,
	};
	struct estimate est[NSOURCES];
	struct input in;
	int order[NSOURCES], norder = 0, verbose = 0, json = 0, legacy = 0, clamp = 1;
	int c, i, all, chosen = SRC_DEFAULT;
	double fps, raw;
	char text[64];

	memset(&in, 0, sizeof in);
	memset(est, 0, sizeof est);
	in.pictures = -1;
	while ((c = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = 1;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_LEGACY:
			legacy = 1;
			break;
		case OPT_NO_CLAMP:
			clamp = 0;
			break;
		case OPT_DURATION:
			if (parse_double(optarg, 0.001, 1e9, &in.duration) < 0)
				errx(2, "--duration %s: not a number of seconds "
				    "(0.001 to 1e9)", optarg);
			break;
		default:
			return std_option(c, "fpsest", usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage(stderr, 2);

	resolve(&in, argv[0]);
	if (legacy && !in.index_path)
		errx(2, "%s: --legacy needs an index (%s), there is none", argv[0], INDEX_NAME);
	if (in.index_path)
		load_index(&in);
	else if (in.segments_path)
		load_segments(&in);
	else
		check_stream(&in);

	/* JSON reports every estimate; otherwise stop at the first good one. */
	all = json;
	if (legacy) {
		order[norder++] = SRC_LEGACY;
		est_legacy(&in, &est[SRC_LEGACY]);
	} else if (in.segments_path) {
		order[norder++] = SRC_SEGMENTS;
		est_segments(&in, &est[SRC_SEGMENTS]);
		order[norder++] = SRC_DURATION;
		order[norder++] = SRC_DEFAULT;
	} else {
		if (in.have_index) {
			order[norder++] = SRC_ARRIVAL;
			order[norder++] = SRC_DEVICE;
			est_arrival(&in, &est[SRC_ARRIVAL]);
			est_device(&in, &est[SRC_DEVICE], &est[SRC_ARRIVAL]);
			/* Device time first: list it first too. */
			order[0] = SRC_DEVICE;
			order[1] = SRC_ARRIVAL;
		}
		order[norder++] = SRC_VUI;
		order[norder++] = SRC_CLUE;
		order[norder++] = SRC_DURATION;
		order[norder++] = SRC_DEFAULT;
	}
	chosen = -1;
	for (i = 0; i < norder; i++) {
		int s = order[i];
		struct estimate *e = &est[s];

		if (chosen >= 0 && !all)
			break;
		if (!e->tried) {
			switch (s) {
			case SRC_VUI:
				est_vui(&in, e);
				break;
			case SRC_CLUE:
				est_clue(&in, e);
				break;
			case SRC_DURATION:
				est_duration(&in, e);
				break;
			case SRC_DEFAULT:
				e->tried = e->ok = 1;
				e->fps = DEFAULT_RATE;
				snprintf(e->reason, sizeof e->reason, "the fallback when nothing else is usable");
				break;
			}
		}
		if (chosen < 0 && e->ok)
			chosen = s;
		if (verbose && chosen != s)
			warnx("%s: %s%s", source_name[s],
			    e->ok ? "not needed: " : "rejected: ", e->reason);
		else if (verbose)
			warnx("%s: used: %s", source_name[s], e->reason);
	}
	raw = fps = est[chosen].fps;
	if (clamp && fps < CLAMP_MIN)
		fps = CLAMP_MIN;
	if (clamp && fps > CLAMP_MAX)
		fps = CLAMP_MAX;
	if (verbose && fps != raw)
		warnx("%.3f clamped to %.0f", raw, fps);

	if (json) {
		print_json(&in, est, order, norder, chosen, raw, fps);
	} else {
		format_rate(text, sizeof text, fps);
		puts(text);
	}
	if (in.stream_mapped > 0)
		mapfile_close(&in.stream);
	index_free(&in.ix);
	segindex_free(&in.seg);
	free(in.segments_path);
	free(in.index_path);
	free(in.stream_path);
	free(in.dir);
	if (stdout_close() < 0)
		err(1, "stdout");
	return 0;
}
