/* sessionrecover: repair session folders left "recording" by a crash of
 * sessionwriter (kill -9, power loss), before the recorder starts again.
 * sessionwriter writes payload bytes before their index line and syncs the
 * stream before the index, so after a crash the stream may hold a torn
 * payload past the last index entry, or (on power loss) the index may name
 * bytes that never reached the disk. Both are cut back to the last frame
 * that is whole on disk; nothing before it is touched.
 * A session of MP4 segments (a current phone's) loses its temporaries and
 * the lines of segments.tsv whose file is missing or of another size.
 * An ESP32 board's session (stream.mjpeg and index.tsv) is repaired like
 * one of frames. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "index.h"
#include "rec.h"
#include "segindex.h"
#include "utf8.h"
#include "stdopt.h"
#include "util.h"

/* sessionwriter's temporaries of a segment being stored. */
#define SEGMENT_TMP_NAME ".segment.tmp"
#define QR_TMP_NAME      ".qr.tmp"

static int verbose;

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: sessionrecover [-v] session_dir ...\n");
	exit(status);
}

static int
write_index(const char *dir, const struct index *ix, size_t n)
{
	size_t cap = strlen(INDEX_HEADER) + n * INDEX_LINE_MAX + 1, len, i;
	char *buf = malloc(cap);
	int rv;

	if (buf == NULL)
		return -1;
	len = strlen(INDEX_HEADER);
	memcpy(buf, INDEX_HEADER, len);
	for (i = 0; i < n; i++)
		len += index_format(buf + len, &ix->e[i]);
	rv = replace_file(dir, INDEX_NAME, buf, len, 1);
	free(buf);
	return rv;
}

static void
set_int(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

/* Recount what session.json says about the frames from the index. */
static void
recount(json_t *o, const struct index *ix, size_t n, uint64_t bytes)
{
	uint64_t frames = 0, config = 0, gaps = 0, missing = 0;
	const struct index_entry *prev = NULL;
	size_t i;
	int first = 1;

	for (i = 0; i < n; i++) {
		const struct index_entry *e = &ix->e[i];

		if (e->kind == FRAME_CONFIG) {
			config++;
			continue;
		}
		if (e->kind == FRAME_JPEG) {
			frames++;	/* an ESP32 image: no device time */
			continue;
		}
		frames++;
		if (first)
			set_int(o, "first_device_ms", e->device_ms);
		first = 0;
		set_int(o, "last_device_ms", e->device_ms);
		if (prev != NULL) {
			uint32_t step = e->seq - prev->seq;
			if (step > 1 && step <= 0x80000000u) {
				gaps++;
				missing += step - 1;
			}
		}
		prev = e;
	}
	if (first) {
		json_object_set_new(o, "first_device_ms", json_null());
		json_object_set_new(o, "last_device_ms", json_null());
	}
	set_int(o, "frames", frames);
	set_int(o, "config_packets", config);
	set_int(o, "bytes", bytes);
	set_int(o, "gaps", gaps);
	set_int(o, "missing_frames", missing);
}

/* session.json of dir, or NULL (3 in *rv, after a message) when there is
 * none to read. */
static json_t *
load_json(const char *dir, int *rv)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *o;

	if (pathcat(path, sizeof path, dir, "session.json") < 0) {
		warnx("%s: %s", dir, strerror(ENAMETOOLONG));
		*rv = 1;
		return NULL;
	}
	memset(&jerr, 0, sizeof jerr);
	if ((o = json_load_file(path, 0, &jerr)) == NULL || !json_is_object(o)) {
		warnx("%s: not a session folder (session.json: %s)", dir,
		    access(path, F_OK) < 0 ? strerror(errno) :
		    o != NULL ? "not a JSON object" : jerr.text);
		json_decref(o);
		*rv = 3;
		return NULL;
	}
	if (json_string_value(json_object_get(o, "state")) == NULL) {
		warnx("%s: not a session folder (session.json has no state)", dir);
		json_decref(o);
		*rv = 3;
		return NULL;
	}
	return o;
}

/* Whether a session is one to recover; a message with -v when not. */
static int
is_recording(const char *dir, json_t *o)
{
	const char *state = json_string_value(json_object_get(o, "state"));

	if (strcmp(state, "recording") == 0)
		return 1;
	if (verbose)
		warnx("%s: state %s, left untouched", dir, state);
	return 0;
}

/* Mark session.json recovered, and say so. 0, or -1 after a message. */
static int
finish(const char *dir, json_t *o)
{
	char *text, *line;
	size_t len;

	json_object_set_new(o, "state", json_string("recovered"));
	json_object_set_new(o, "ended_by", json_string("recovered"));
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		warnx("%s/session.json: out of memory", dir);
		return -1;
	}
	len = strlen(text);
	/* json_dumps leaves room for nothing: add the newline by hand. */
	if ((line = malloc(len + 2)) == NULL) {
		free(text);
		warnx("%s/session.json: out of memory", dir);
		return -1;
	}
	memcpy(line, text, len);
	line[len] = '\n';
	free(text);
	if (replace_file(dir, "session.json", line, len + 1, 1) < 0) {
		warn("%s/session.json", dir);
		free(line);
		return -1;
	}
	free(line);
	if (printf("recovered %s\n", dir) < 0 || fflush(stdout) == EOF)
		err(1, "stdout");
	return 0;
}

/* Take the lock a live writer holds on dir/name: the descriptor, or -1
 * with *rv 4 (locked) or 1 (after a message). */
static int
lock_file(const char *dir, const char *name, int *rv)
{
	char path[PATH_MAX];
	int fd;

	pathcat(path, sizeof path, dir, name);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		warn("%s", path);
		*rv = 1;
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		*rv = errno == EWOULDBLOCK ? 4 : 1;
		if (*rv == 4)
			warnx("%s: being written by a live process, left untouched", dir);
		else
			warn("%s: lock", path);
		close(fd);
		return -1;
	}
	return fd;
}

static json_t *load_json(const char *dir, int *rv);
static int is_recording(const char *dir, json_t *o);

/* The id of a segments.tsv line as the phone sent it, for session.json. */
static json_t *
id_json(const char *escaped)
{
	char *id = strdup(escaped);
	size_t len;
	json_t *j;

	if (id == NULL)
		return json_null();
	len = segindex_unescape(id);
	if (len > 256)
		len = 256;
	id[len] = '\0';
	utf8_fix(id, len);
	j = json_stringn(id, strlen(id));
	free(id);
	return j != NULL ? j : json_null();
}

/* A session of segments: the temporaries go, and segments.tsv keeps the
 * whole lines whose file is there with its size. */
static int
recover_segments(const char *dir, json_t *o)
{
	char path[PATH_MAX], *buf = NULL, *out = NULL, *p, *nl, *copy;
	struct segindex_entry e;
	struct stat st;
	const char *why;
	size_t len = 0, outlen, lines = 0, kept = 0;
	uint64_t bytes = 0;
	json_t *first = NULL, *last = NULL;
	int fd, rv = 1;
	ssize_t n;

	json_decref(o);
	if ((fd = lock_file(dir, SEGINDEX_NAME, &rv)) < 0)
		return rv;
	if ((o = load_json(dir, &rv)) == NULL || !is_recording(dir, o)) {
		rv = o == NULL ? rv : 0;
		goto out;
	}
	rv = 1;
	pathcat(path, sizeof path, dir, SEGMENT_TMP_NAME);
	unlink(path);
	pathcat(path, sizeof path, dir, QR_TMP_NAME);
	unlink(path);
	pathcat(path, sizeof path, dir, SEGINDEX_NAME);
	if (fstat(fd, &st) < 0 || (buf = malloc((size_t)st.st_size + 1)) == NULL ||
	    (out = malloc((size_t)st.st_size + 1)) == NULL) {
		warn("%s", path);
		goto out;
	}
	while (len < (size_t)st.st_size && (n = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	outlen = strlen(SEGINDEX_HEADER);
	if (len < outlen || memcmp(buf, SEGINDEX_HEADER, outlen) != 0) {
		warnx("%s: not a list of segments", path);
		rv = 3;
		goto out;
	}
	memcpy(out, buf, outlen);
	/* Only whole lines: one without its newline was cut by the crash. */
	for (p = buf + outlen; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		char file[PATH_MAX];
		size_t linelen = (size_t)(nl - p) + 1;

		lines++;
		if ((copy = strndup(p, linelen)) == NULL)
			err(1, NULL);
		if (segindex_parse_line(copy, &e, &why) < 0 ||
		    pathcat(file, sizeof file, dir, e.file) < 0 ||
		    stat(file, &st) < 0 || !S_ISREG(st.st_mode) ||
		    (uint64_t)st.st_size != e.size) {
			if (verbose)
				warnx("%s: line %zu dropped", path, lines + 1);
			free(copy);
			continue;
		}
		memcpy(out + outlen, p, linelen);
		outlen += linelen;
		kept++;
		bytes += e.size;
		if (first == NULL)
			first = id_json(e.id);
		json_decref(last);
		last = id_json(e.id);
		free(copy);
	}
	if (outlen != len && replace_file(dir, SEGINDEX_NAME, out, outlen, 1) < 0) {
		warn("%s", path);
		goto out;
	}
	set_int(o, "segments", kept);
	set_int(o, "bytes", bytes);
	json_object_set_new(o, "first_segment_id", first ? first : json_null());
	json_object_set_new(o, "last_segment_id", last ? json_incref(last) : json_null());
	first = NULL;
	if (finish(dir, o) < 0)
		goto out;
	if (verbose)
		warnx("%s: kept %zu of %zu segments, %llu bytes", dir, kept, lines,
		    (unsigned long long)bytes);
	rv = 0;
out:
	json_decref(first);
	json_decref(last);
	json_decref(o);
	free(buf);
	free(out);
	close(fd);
	return rv;
}

/* 0 recovered or left alone, 1 system error, 3 not a session folder, 4
 * being written by a live process. */
static int
recover(const char *dir)
{
	char path[PATH_MAX];
	struct index ix;
	struct stat st;
	const char *stream = "stream.h264", *kind;
	json_t *o;
	size_t bad_line, keep;
	uint64_t end = 0;
	int fd, rv = 1;

	if ((o = load_json(dir, &rv)) == NULL)
		return rv;
	if (!is_recording(dir, o)) {
		json_decref(o);
		return 0;
	}
	if (json_is_string(json_object_get(o, "kind")) &&
	    strcmp(json_string_value(json_object_get(o, "kind")), "segments") == 0)
		return recover_segments(dir, o);
	/* An ESP32 board's images are one file and an index like frames. */
	if ((kind = json_string_value(json_object_get(o, "kind"))) != NULL &&
	    strcmp(kind, "images") == 0)
		stream = "stream.mjpeg";
	/* sessionwriter holds an exclusive flock(2) on the stream for as
	 * long as it writes the session; holding it here in turn keeps any
	 * other recovery out. What session.json said before the lock was
	 * taken may have changed since. */
	pathcat(path, sizeof path, dir, stream);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
		warn("%s", path);
		json_decref(o);
		return 1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rv = errno == EWOULDBLOCK ? 4 : 1;
		if (rv == 4)
			warnx("%s: being written by a live process, left untouched", dir);
		else
			warn("%s: lock", path);
		close(fd);
		json_decref(o);
		return rv;
	}
	json_decref(o);
	if ((o = load_json(dir, &rv)) == NULL || !is_recording(dir, o)) {
		rv = o == NULL ? rv : 0;
		close(fd);
		json_decref(o);
		return rv;
	}
	rv = 1;
	pathcat(path, sizeof path, dir, INDEX_NAME);
	if (index_load_prefix(path, &ix, &bad_line) < 0) {
		if (errno == EINVAL)
			warnx("%s: line %zu: not an index", path, bad_line);
		else
			warn("%s: not a session folder", path);
		close(fd);
		json_decref(o);
		return 3;
	}
	/* A damaged line ends what can be trusted: keep what comes before. */
	if (bad_line > 0)
		warnx("%s: line %zu: malformed index line, it and the lines after it dropped",
		    path, bad_line);
	pathcat(path, sizeof path, dir, stream);
	if (fstat(fd, &st) < 0) {
		warn("%s", path);
		goto out;
	}
	/* Keep the entries whose bytes are all on disk, in one unbroken run. */
	for (keep = 0; keep < ix.n; keep++) {
		const struct index_entry *e = &ix.e[keep];
		if (e->offset != end || e->offset + e->size > (uint64_t)st.st_size)
			break;
		end = e->offset + e->size;
	}
	if ((uint64_t)st.st_size > end && (ftruncate(fd, (off_t)end) < 0 || fsync(fd) < 0)) {
		warn("%s", path);
		goto out;
	}
	if ((keep < ix.n || ix.torn_tail || bad_line > 0) && write_index(dir, &ix, keep) < 0) {
		warn("%s/%s", dir, INDEX_NAME);
		goto out;
	}
	recount(o, &ix, keep, end);
	if (finish(dir, o) < 0)
		goto out;
	if (verbose)
		warnx("%s: kept %zu of %zu index entries, %llu bytes", dir, keep,
		    ix.n, (unsigned long long)end);
	rv = 0;
out:
	close(fd);
	index_free(&ix);
	json_decref(o);
	return rv;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		STD_LONGOPTS,
	};
	int ch, i, r, rv = 0;

	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'v':
			verbose = 1;
			break;
		default:
			return std_option(ch, "sessionrecover", usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage(stderr, 2);
	for (i = 0; i < argc; i++) {
		r = recover(argv[i]);
		/* Bad data (3) outranks a failure to write (1), which
		 * outranks a live session left alone (4). */
		if (r == 3 || (r == 1 && rv != 3) || (r == 4 && rv == 0))
			rv = r;
	}
	if (stdout_close() < 0)
		err(1, "stdout");
	return rv;
}
