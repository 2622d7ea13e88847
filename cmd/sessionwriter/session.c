/* The session folder: stream.h264, index.tsv and session.json (see
 * camrec-session(5)), or for a phone sending MP4 segments the segments
 * (segment.c) and segments.tsv, or for an ESP32 board stream.mjpeg (its
 * JPEG images one after another) and index.tsv. Payload bytes go out with plain write() before their
 * index line, so whatever survives a crash, the index never points past the
 * stream. Nothing here reads a clock: names and times come from the record
 * stream, so a replay writes the same folders byte for byte. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "h264.h"
#include "index.h"
#include "segindex.h"
#include "sessionwriter.h"
#include "sha256.h"
#include "utf8.h"
#include "util.h"

#define MAX_SUFFIX 100000
/* Wall clocks are held to 1970-01-01 .. 9999-12-31 (UTC). */
#define WALL_MIN_US 0
#define WALL_MAX_US INT64_C(253402300799999999)

/* Local time, or UTC should the zone fail; never left unset. */
static void
local_tm(time_t sec, struct tm *tm)
{
	if (localtime_r(&sec, tm) != NULL || gmtime_r(&sec, tm) != NULL)
		return;
	memset(tm, 0, sizeof *tm);
	tm->tm_year = 70;
	tm->tm_mday = 1;
}

static void
split_us(int64_t wall_us, time_t *sec, long *us)
{
	*sec = (time_t)(wall_us / 1000000);
	*us = (long)(wall_us % 1000000);
	if (*us < 0) {
		*us += 1000000;
		(*sec)--;
	}
}

/* ISO 8601 local time with microseconds and a +hh:mm offset. */
static void
iso_time(char *buf, size_t cap, int64_t wall_us)
{
	char date[64], zone[16];
	struct tm tm;
	time_t sec;
	long us;
	int n;

	split_us(wall_us, &sec, &us);
	local_tm(sec, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof zone, "%z", &tm);
	if (strlen(zone) == 5)
		n = snprintf(buf, cap, "%s.%06ld%.3s:%s", date, us, zone, zone + 3);
	else
		n = snprintf(buf, cap, "%s.%06ld%s", date, us, zone);
	if (n < 0 || (size_t)n >= cap)
		buf[0] = '\0';
}

/* The file of a session's payloads, by its kind. */
static const char *
stream_name(int kind)
{
	return kind == SESSION_IMAGES ? IMAGES_STREAM : "stream.h264";
}

static int64_t
clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The wall clock at arrival time t_us: the OPEN record's wall clock plus
 * the arrival time since then. A damaged stream can say anything, so both
 * are held to bounds first (the sum cannot overflow) and the result to
 * WALL_MIN_US..WALL_MAX_US, with one warning per connection. */
int64_t
session_wall(struct conn *c, uint64_t t_us)
{
	uint64_t since = t_us >= c->open_t_us ? t_us - c->open_t_us : c->open_t_us - t_us;
	int64_t wall;

	if (since > (uint64_t)WALL_MAX_US)
		since = (uint64_t)WALL_MAX_US;
	wall = clamp(c->open_wall_us, -WALL_MAX_US, WALL_MAX_US);
	wall += t_us >= c->open_t_us ? (int64_t)since : -(int64_t)since;
	if (wall < WALL_MIN_US || wall > WALL_MAX_US) {
		if (!c->wall_warned)
			warnx("conn %llu: wall clock out of range, held to years 1970-9999",
			    (unsigned long long)c->id);
		c->wall_warned = 1;
		wall = clamp(wall, WALL_MIN_US, WALL_MAX_US);
	}
	return wall;
}

static int
sync_dir(const struct sessions *ss, const char *path)
{
	int fd, rv;

	if (!ss->sync)
		return 0;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rv = fsync(fd);
	close(fd);
	return rv;
}

/* session.json is replaced whole, so a reader (or a crash) sees the old or
 * the new version, never a mix. text ends in its newline. */
static int
store_json(const struct sessions *ss, const char *dir, const char *text)
{
	return replace_file(dir, "session.json", text, strlen(text), ss->sync);
}

/* The session.json a session has now, as text (malloc'd), or NULL. */
static char *
render_json(struct conn *c, struct session *s, const char *state,
    int64_t ended_wall_us, const char *ended_by, const char *error)
{
	char when[64];
	json_t *o = json_object(), *peer = json_object();
	char *text, *line;

	if (o == NULL || peer == NULL) {
		json_decref(o);
		json_decref(peer);
		errno = ENOMEM;
		return NULL;
	}
	json_object_set_new(o, "format", json_string("camrec-session 1"));
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "kind", json_string(s->kind == SESSION_SEGMENTS ?
	    "segments" : s->kind == SESSION_IMAGES ? "images" : "frames"));
	json_object_set_new(o, "connection", json_integer((json_int_t)c->id));
	json_object_set_new(peer, "address", json_text(c->addr, strlen(c->addr)));
	json_object_set_new(peer, "port", json_integer(c->port));
	json_object_set_new(o, "peer", peer);
	json_object_set_new(o, "path", json_text(c->path, strlen(c->path)));
	json_object_set_new(o, "device_model", c->device_model ?
	    json_string(c->device_model) : json_null());
	json_object_set_new(o, "capture_message", s->capture_message ?
	    json_string(s->capture_message) : json_null());
	json_object_set_new(o, "started_by", json_string(s->started_by));
	json_object_set_new(o, "started_wall_us", json_integer(s->started_wall_us));
	iso_time(when, sizeof when, s->started_wall_us);
	json_object_set_new(o, "started", json_string(when));
	if (ended_by != NULL) {
		iso_time(when, sizeof when, ended_wall_us);
		json_object_set_new(o, "ended_wall_us", json_integer(ended_wall_us));
		json_object_set_new(o, "ended", json_string(when));
		json_object_set_new(o, "ended_by", json_string(ended_by));
	} else {
		json_object_set_new(o, "ended_wall_us", json_null());
		json_object_set_new(o, "ended", json_null());
		json_object_set_new(o, "ended_by", json_null());
	}
	json_object_set_new(o, "frames", json_integer((json_int_t)s->frames));
	json_object_set_new(o, "config_packets", json_integer((json_int_t)s->config_packets));
	json_object_set_new(o, "bytes", json_integer((json_int_t)(s->kind == SESSION_SEGMENTS ?
	    s->segment_bytes : s->offset)));
	json_object_set_new(o, "first_device_ms", s->have_ms ?
	    json_integer((json_int_t)s->first_ms) : json_null());
	json_object_set_new(o, "last_device_ms", s->have_ms ?
	    json_integer((json_int_t)s->last_ms) : json_null());
	json_object_set_new(o, "gaps", json_integer((json_int_t)s->gaps));
	json_object_set_new(o, "missing_frames", json_integer((json_int_t)s->missing_frames));
	json_object_set_new(o, "bad_frames", json_integer((json_int_t)s->bad_frames));
	json_object_set_new(o, "config_injected", json_boolean(s->config_injected));
	if (s->kind == SESSION_SEGMENTS) {
		json_object_set_new(o, "segments", json_integer((json_int_t)s->segments));
		json_object_set_new(o, "bad_segments", json_integer((json_int_t)s->bad_segments));
		json_object_set_new(o, "first_segment_id", s->first_id ?
		    json_text(s->first_id, strlen(s->first_id)) : json_null());
		json_object_set_new(o, "last_segment_id", s->last_id ?
		    json_text(s->last_id, strlen(s->last_id)) : json_null());
	}
	if (s->kind == SESSION_IMAGES) {
		json_object_set_new(o, "width", json_integer(s->width));
		json_object_set_new(o, "height", json_integer(s->height));
	}
	json_object_set_new(o, "error", error ? json_string(error) : json_null());
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	/* json_dumps leaves no room for the file's last newline. */
	if (text == NULL || (line = realloc(text, strlen(text) + 2)) == NULL) {
		free(text);
		errno = ENOMEM;
		return NULL;
	}
	strcat(line, "\n");
	return line;
}

static int
write_json(struct conn *c, struct session *s, const char *state,
    int64_t ended_wall_us, const char *ended_by, const char *error)
{
	char *text = render_json(c, s, state, ended_wall_us, ended_by, error);
	int rv, saved;

	if (text == NULL)
		return -1;
	rv = store_json(s->ss, s->dir, text);
	saved = errno;
	free(text);
	errno = saved;
	return rv;
}

/* The session.json of a failed session that a full disk kept out: written
 * before the next session opens, and at the end. */
struct unwritten {
	char *dir, *text;
	struct unwritten *next;
};

void
session_retry_json(struct sessions *ss, int last)
{
	struct unwritten **p = &ss->unwritten_first, *u;

	while ((u = *p) != NULL) {
		if (store_json(ss, u->dir, u->text) < 0) {
			if (last)
				warn("%s/session.json", u->dir);
			p = &u->next;
			continue;
		}
		*p = u->next;
		free(u->dir);
		free(u->text);
		free(u);
	}
}

static void
dirty_remove(struct session *s)
{
	if (!s->dirty)
		return;
	if (s->dirty_prev)
		s->dirty_prev->dirty_next = s->dirty_next;
	else
		s->ss->dirty_first = s->dirty_next;
	if (s->dirty_next)
		s->dirty_next->dirty_prev = s->dirty_prev;
	s->dirty = 0;
	s->dirty_prev = s->dirty_next = NULL;
}

static void
session_free(struct session *s)
{
	dirty_remove(s);
	if (s->stream_fd >= 0)
		close(s->stream_fd);
	if (s->index_fd >= 0)
		close(s->index_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->tsv_fd >= 0)
		close(s->tsv_fd);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	free(s->first_id);
	free(s->last_id);
	free(s->capture_message);
	free(s->dir);
	free(s);
}

static void
print_line(const char *what, const char *dir)
{
	static int warned;

	if ((printf("%s %s\n", what, dir) < 0 || fflush(stdout) == EOF) && !warned) {
		/* Recording goes on whoever reads (or stopped reading) stdout. */
		warn("stdout");
		warned = 1;
	}
}

/* The folder name: <address>_<port>_<YYYYmmdd_HHMMSS>, the address with
 * anything but [0-9A-Za-z.] made '-', so no peer can name a path. */
static void
base_name(char *buf, size_t cap, const struct conn *c, int64_t wall_us)
{
	char addr[64], date[32];
	struct tm tm;
	time_t sec;
	long us;
	size_t i;

	for (i = 0; c->addr[i] != '\0' && i < sizeof addr - 1; i++) {
		char ch = c->addr[i];
		addr[i] = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || ch == '.' ? ch : '-';
	}
	addr[i] = '\0';
	if (i == 0 || strspn(addr, ".") == i)
		snprintf(addr, sizeof addr, "unknown");
	split_us(wall_us, &sec, &us);
	local_tm(sec, &tm);
	strftime(date, sizeof date, "%Y%m%d_%H%M%S", &tm);
	snprintf(buf, cap, "%s_%u_%s", addr, (unsigned)c->port, date);
}

/* Take away a folder session_open made, with what it put there. Its files
 * are closed before they are unlinked: on NFS, or FUSE without hard_remove,
 * an open file unlinked becomes a hidden one (.nfsXXXX, .fuse_hidden*) that
 * keeps the folder from being removed. session.json goes first, so the
 * folder never looks like a session while its lock is released. */
static void
remove_folder(struct session *s)
{
	static const char *const names[] = { "session.json", ".session.json.tmp",
	    "stream.h264", IMAGES_STREAM, INDEX_NAME, SEGINDEX_NAME, SEGMENT_TMP, QR_TMP };
	int *fds[] = { &s->stream_fd, &s->index_fd, &s->lock_fd, &s->tsv_fd };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (i == 2)
			for (size_t k = 0; k < sizeof fds / sizeof fds[0]; k++)
				if (*fds[k] >= 0) {
					close(*fds[k]);
					*fds[k] = -1;
				}
		if (pathcat(path, sizeof path, s->dir, names[i]) == 0)
			unlink(path);
	}
	if (rmdir(s->dir) < 0)
		warn("%s", s->dir);
}

/* After a failure the connection's frames are dropped until a key frame at
 * c->retry_at_us or later. The wait doubles with every failure, from
 * BACKOFF_MIN_US to BACKOFF_MAX_US, and starts again from the minimum after
 * a session that lived longer than the maximum. */
static void
retry_later(struct conn *c, uint64_t t_us, uint64_t lived_us)
{
	if (c->backoff_us == 0 || lived_us >= BACKOFF_MAX_US)
		c->backoff_us = BACKOFF_MIN_US;
	else if ((c->backoff_us *= 2) > BACKOFF_MAX_US)
		c->backoff_us = BACKOFF_MAX_US;
	c->retry_at_us = t_us + c->backoff_us;
	c->discard = 1;
}

/* Make the open session one of segments: segments.tsv made and locked
 * before stream.h264 and index.tsv (empty) go, so the folder is never
 * without a locked file while it says recording. */
static int
segment_files(struct session *s, const char **what)
{
	*what = s->dir;
	if (s->dir_fd < 0 &&
	    (s->dir_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	*what = SEGINDEX_NAME;
	if ((s->tsv_fd = openat(s->dir_fd, SEGINDEX_NAME,
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0 ||
	    flock(s->tsv_fd, LOCK_EX | LOCK_NB) < 0 ||
	    writeall(s->tsv_fd, SEGINDEX_HEADER, strlen(SEGINDEX_HEADER)) < 0)
		return -1;
	s->tsv_bytes = strlen(SEGINDEX_HEADER);
	s->kind = SESSION_SEGMENTS;
	return 0;
}

int
session_open(struct sessions *ss, struct conn *c, uint64_t t_us,
    const char *started_by, const char *capture_message, int kind)
{
	const char *what;
	char base[128], dir[PATH_MAX], path[PATH_MAX];
	struct session *s;
	int n;

	session_retry_json(ss, 0);
	if ((s = calloc(1, sizeof *s)) == NULL)
		err(1, NULL);
	s->ss = ss;
	s->stream_fd = s->index_fd = s->lock_fd = s->dir_fd = s->tsv_fd = -1;
	s->conn = c;
	s->started_by = started_by;
	s->started_wall_us = session_wall(c, t_us);
	if (capture_message && (s->capture_message = strdup(capture_message)) == NULL)
		err(1, NULL);
	base_name(base, sizeof base, c, s->started_wall_us);
	/* Never reuse a folder: mkdir is the test, EEXIST the next suffix.
	 * The search goes on from the suffix this connection used last, so
	 * sessions in one second cost one mkdir each, not one per folder. */
	n = strcmp(base, c->name_base) == 0 ? c->name_suffix + 1 : 1;
	for (; n <= MAX_SUFFIX; n++) {
		int len;

		if (n == 1)
			len = snprintf(dir, sizeof dir, "%s/%s", ss->root, base);
		else
			len = snprintf(dir, sizeof dir, "%s/%s_%d", ss->root, base, n);
		if (len < 0 || (size_t)len >= sizeof dir - 32) {
			warnx("%s: path too long", ss->root);
			goto fail;
		}
		if (mkdir(dir, 0755) == 0)
			break;
		if (errno != EEXIST) {
			warn("conn %llu: %s", (unsigned long long)c->id, dir);
			goto fail;
		}
	}
	if (n > MAX_SUFFIX) {
		warnx("conn %llu: %s: too many folders of that name",
		    (unsigned long long)c->id, dir);
		goto fail;
	}
	snprintf(c->name_base, sizeof c->name_base, "%s", base);
	c->name_suffix = n;
	if ((s->dir = strdup(dir)) == NULL)
		err(1, NULL);
	if (kind == SESSION_SEGMENTS) {
		if (segment_files(s, &what) < 0) {
			warn("%s/%s", dir, what);
			goto fail;
		}
		goto json;
	}
	s->kind = kind;
	if (pathcat(path, sizeof path, dir, stream_name(kind)) < 0) {
		warnx("%s: path too long", dir);
		goto fail;
	}
	/* The lock tells sessionrecover that a live process writes here. */
	if ((s->stream_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0 ||
	    flock(s->stream_fd, LOCK_EX | LOCK_NB) < 0) {
		warn("%s", path);
		goto fail;
	}
	if (pathcat(path, sizeof path, dir, INDEX_NAME) < 0)
		goto fail;
	if ((s->index_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0 ||
	    writeall(s->index_fd, INDEX_HEADER, strlen(INDEX_HEADER)) < 0) {
		warn("%s", path);
		goto fail;
	}
	s->index_bytes = strlen(INDEX_HEADER);
json:
	if (write_json(c, s, "recording", 0, NULL, NULL) < 0) {
		warn("%s/session.json", dir);
		goto fail;
	}
	if (sync_dir(ss, dir) < 0 || sync_dir(ss, ss->root) < 0) {
		warn("%s: fsync", dir);
		goto fail;
	}
	s->opened_t_us = t_us;
	c->s = s;
	ss->counts.opened++;
	if (ss->verbose)
		event_opened(c, s->dir, started_by);
	return 0;
fail:
	/* A folder with no frame is worth nothing: it goes. */
	if (s->dir != NULL)
		remove_folder(s);
	ss->write_failed = 1;
	ss->counts.failed++;
	retry_later(c, t_us, 0);
	session_free(s);
	return -1;
}

/* Whether a truncate-to-size of one of the session's files worked; by its
 * descriptor while it is open. */
static int
cut(struct session *s, int fd, const char *name, uint64_t size)
{
	char path[PATH_MAX];

	if (fd >= 0)
		return ftruncate(fd, (off_t)size);
	if (pathcat(path, sizeof path, s->dir, name) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return truncate(path, (off_t)size);
}

/* Write the index lines waiting in the buffer; their payloads are in
 * stream.h264 already. */
static int
flush_lines(struct session *s)
{
	if (s->lines_len == 0)
		return 0;
	if (writeall(s->index_fd, s->lines, s->lines_len) < 0)
		return -1;
	s->index_bytes += s->lines_len;
	s->lines_len = 0;
	s->written = (struct index_mark){ s->offset, s->frames, s->config_packets,
	    s->first_ms, s->last_ms, s->have_ms };
	return 0;
}

/* End a session that could not be written. What the index covers stays and
 * is made consistent: stream.h264 is cut back to the end of the last indexed
 * payload and index.tsv to its last whole line (which also gives back what
 * the failed write took). A session with no picture is removed instead. */
static void
session_fail(struct conn *c, uint64_t t_us, const char *what, int errnum)
{
	struct session *s = c->s;
	struct unwritten *u;
	char msg[256], *text;

	snprintf(msg, sizeof msg, "%s: %s", what, strerror(errnum));
	warnx("%s: %s", s->dir, msg);
	c->s = NULL;
	s->ss->write_failed = 1;
	retry_later(c, t_us, t_us - s->opened_t_us);
	free(c->resume_message);
	c->resume_message = s->capture_message;
	s->capture_message = NULL;
	if (s->kind != SESSION_SEGMENTS && flush_lines(s) < 0) {
		/* The payloads of the lines that could not be written go too. */
		s->offset = s->written.offset;
		s->frames = s->written.frames;
		s->config_packets = s->written.config_packets;
		s->first_ms = s->written.first_ms;
		s->last_ms = s->written.last_ms;
		s->have_ms = s->written.have_ms;
	}
	if (s->kind == SESSION_SEGMENTS ? s->segments == 0 : s->frames == 0) {
		remove_folder(s);
		session_free(s);
		return;
	}
	if (s->kind == SESSION_SEGMENTS) {
		if (cut(s, s->tsv_fd, SEGINDEX_NAME, s->tsv_bytes) < 0)
			warn("%s/%s: truncate", s->dir, SEGINDEX_NAME);
	} else {
		if (cut(s, s->stream_fd, stream_name(s->kind), s->offset) < 0)
			warn("%s/%s: truncate", s->dir, stream_name(s->kind));
		if (cut(s, s->index_fd, INDEX_NAME, s->index_bytes) < 0)
			warn("%s/%s: truncate", s->dir, INDEX_NAME);
	}
	text = render_json(c, s, "failed", session_wall(c, t_us), "write_error", msg);
	if (text != NULL && store_json(s->ss, s->dir, text) < 0) {
		/* Kept, and written when there is room again. */
		if ((u = malloc(sizeof *u)) == NULL || (u->dir = strdup(s->dir)) == NULL)
			err(1, NULL);
		u->text = text;
		u->next = s->ss->unwritten_first;
		s->ss->unwritten_first = u;
		text = NULL;
	}
	free(text);
	print_line("failed", s->dir);
	s->ss->counts.failed++;
	session_free(s);
}

static void
dirty_add(struct session *s)
{
	if (s->dirty)
		return;
	s->dirty = 1;
	s->dirty_prev = NULL;
	s->dirty_next = s->ss->dirty_first;
	if (s->ss->dirty_first)
		s->ss->dirty_first->dirty_prev = s;
	s->ss->dirty_first = s;
}

/* Make what was written durable: the data before the index that names it. */
static int
sync_files(struct session *s)
{
	if (s->kind == SESSION_SEGMENTS)
		return fdatasync(s->tsv_fd) < 0 || fsync(s->dir_fd) < 0 ? -1 : 0;
	return fdatasync(s->stream_fd) < 0 || fdatasync(s->index_fd) < 0 ? -1 : 0;
}

static int
put_entry(struct session *s, const struct rec_frame *f, uint64_t t_us, const char **what)
{
	struct index_entry e;

	*what = INDEX_NAME;
	if (s->lines_len + INDEX_LINE_MAX > sizeof s->lines && flush_lines(s) < 0)
		return -1;
	*what = stream_name(s->kind);
	if (writeall(s->stream_fd, f->payload, f->payload_len) < 0)
		return -1;
	e.seq = f->seq;
	e.device_ms = f->kind == FRAME_CONFIG ? 0 : f->device_ms;
	e.arrival_us = t_us;
	e.offset = s->offset;
	e.size = (uint32_t)f->payload_len;
	e.kind = f->kind;
	s->lines_len += index_format(s->lines + s->lines_len, &e);
	/* Only now is the payload part of the session. */
	s->offset += f->payload_len;
	s->conn->frames_written++;
	s->conn->bytes_written += f->payload_len;
	s->ss->counts.frames++;
	s->ss->counts.bytes += f->payload_len;
	if (f->kind == FRAME_CONFIG) {
		s->config_packets++;
	} else if (f->kind == FRAME_JPEG) {
		s->frames++;	/* the board sends no time of its own */
	} else {
		s->frames++;
		if (!s->have_ms)
			s->first_ms = f->device_ms;
		s->last_ms = f->device_ms;
		s->have_ms = 1;
	}
	dirty_add(s);
	return 0;
}

/* Whether an access unit carries both SPS and PPS before its picture. */
static int
has_parameter_sets(const unsigned char *p, size_t len)
{
	struct h264_nal nal;
	size_t pos = 0;
	int sps = 0, pps = 0;

	while (h264_next_nal(p, len, &pos, &nal)) {
		if (nal.type == NAL_SPS)
			sps = 1;
		else if (nal.type == NAL_PPS)
			pps = 1;
		else if (nal.type >= 1 && nal.type <= 5)
			break;
	}
	return sps && pps;
}

void
session_frame(struct conn *c, const struct rec_frame *f, uint64_t t_us)
{
	struct session *s = c->s;
	const char *what;

	if (!s->seen_picture && f->kind != FRAME_CONFIG && f->kind != FRAME_UNKNOWN) {
		s->seen_picture = 1;
		if (f->kind == FRAME_KEY && has_parameter_sets(f->payload, f->payload_len))
			s->have_config = 1;
		if (!s->have_config && c->config_len > 0) {
			struct rec_frame cf = { 0, c->config_seq, 0, FRAME_CONFIG, 0,
			    c->config, c->config_len };

			if (put_entry(s, &cf, c->config_t_us, &what) < 0) {
				session_fail(c, t_us, what, errno);
				return;
			}
			s->config_injected = 1;
			s->have_config = 1;
		}
	}
	if (f->kind == FRAME_CONFIG)
		s->have_config = 1;
	if (s->have_real && f->missing > 0) {
		s->gaps++;
		s->missing_frames += f->missing;
	}
	s->have_real = 1;
	if (put_entry(s, f, t_us, &what) < 0)
		session_fail(c, t_us, what, errno);
}

void
session_image(struct conn *c, const struct rec_image *im, uint64_t t_us)
{
	struct session *s = c->s;
	struct rec_frame f = { 0, im->number, 0, FRAME_JPEG, 0, im->jpeg, im->jpeg_len };
	const char *what;

	if (s->frames == 0) {
		s->width = im->width;
		s->height = im->height;
	}
	s->have_real = 1;
	if (put_entry(s, &f, t_us, &what) < 0)
		session_fail(c, t_us, what, errno);
}

/* Close a session's files, checking: close(2) is where a write error
 * deferred by the file system (NFS, quota) shows when nothing was synced. */
static int
close_files(struct session *s, const char **what)
{
	int stream_fd = s->stream_fd, index_fd = s->index_fd;

	dirty_remove(s);
	if (s->kind == SESSION_SEGMENTS) {
		int tsv_fd = s->tsv_fd;

		s->tsv_fd = -1;
		*what = SEGINDEX_NAME;
		return close(tsv_fd);
	}
	s->stream_fd = s->index_fd = -1;
	*what = stream_name(s->kind);
	if (close(stream_fd) < 0) {
		close(index_fd);
		return -1;
	}
	*what = INDEX_NAME;
	return close(index_fd);
}

void
session_end(struct conn *c, uint64_t t_us, const char *ended_by)
{
	struct session *s = c->s;
	const char *what;

	if (s == NULL)
		return;
	if (s->kind != SESSION_SEGMENTS && flush_lines(s) < 0) {
		session_fail(c, t_us, INDEX_NAME, errno);
		return;
	}
	if (s->ss->sync && sync_files(s) < 0) {
		session_fail(c, t_us, "fdatasync", errno);
		return;
	}
	/* A duplicate keeps the lock on stream.h264 (segments.tsv) until
	 * session.json no longer says recording (without one, a moment's race). */
	s->lock_fd = fcntl(s->kind == SESSION_SEGMENTS ? s->tsv_fd : s->stream_fd,
	    F_DUPFD_CLOEXEC, 0);
	if (close_files(s, &what) < 0) {
		session_fail(c, t_us, what, errno);
		return;
	}
	if (write_json(c, s, "closed", session_wall(c, t_us), ended_by, NULL) < 0 ||
	    sync_dir(s->ss, s->dir) < 0) {
		session_fail(c, t_us, "session.json", errno);
		return;
	}
	print_line("closed", s->dir);
	s->ss->counts.closed++;
	if (s->ss->verbose)
		event_closed(c, s->dir, ended_by, s->kind == SESSION_SEGMENTS ?
		    s->segments : s->frames, s->kind == SESSION_SEGMENTS ?
		    s->segment_bytes : s->offset);
	session_free(s);
	c->s = NULL;
}

int
session_any_dirty(const struct sessions *ss)
{
	return ss->dirty_first != NULL;
}

void
session_sync_all(struct sessions *ss, uint64_t now_us)
{
	struct session *s;

	/* Stream before index: the index must never be durable ahead of the
	 * bytes it points at. */
	while ((s = ss->dirty_first) != NULL) {
		if (s->kind != SESSION_SEGMENTS && flush_lines(s) < 0) {
			session_fail(s->conn, now_us, INDEX_NAME, errno);
			continue;
		}
		if (ss->sync && sync_files(s) < 0) {
			session_fail(s->conn, now_us, "fdatasync", errno);
			continue;
		}
		dirty_remove(s);
	}
}

/* The id kept for session.json: valid UTF-8, at most SEGMENT_ID_KEEP bytes. */
static char *
id_text(const char *id, size_t len)
{
	char *p;

	if (len > SEGMENT_ID_KEEP)
		len = SEGMENT_ID_KEEP;
	if ((p = malloc(len + 1)) == NULL)
		err(1, NULL);
	memcpy(p, id, len);
	p[len] = '\0';
	utf8_fix(p, len);
	return p;
}

/* A frame session that has nothing yet becomes a segment session: its
 * capture began with capture_started, and the phone turns out to send
 * segments. */
static int
become_segments(struct session *s, const char **what)
{
	if (segment_files(s, what) < 0)
		return -1;
	*what = "session.json";
	if (write_json(s->conn, s, "recording", 0, NULL, NULL) < 0)
		return -1;
	dirty_remove(s);
	unlinkat(s->dir_fd, "stream.h264", 0);
	unlinkat(s->dir_fd, INDEX_NAME, 0);
	close(s->stream_fd);
	close(s->index_fd);
	s->stream_fd = s->index_fd = -1;
	*what = s->dir;
	return sync_dir(s->ss, s->dir);
}

void
session_segment(struct conn *c, const struct rec_segment *sg, uint64_t t_us)
{
	struct session *s = c->s;
	struct segindex_entry e;
	char name[SEGMENT_NAME_CAP], file[SEGMENT_NAME_CAP + 8], *line;
	const char *what;
	size_t cap, len;

	if (s->kind != SESSION_SEGMENTS && become_segments(s, &what) < 0) {
		session_fail(c, t_us, what, errno);
		return;
	}
	if (segment_store(s->dir_fd, s->ss->sync, sg, &s->names, name, &what) < 0) {
		session_fail(c, t_us, what, errno);
		return;
	}
	snprintf(file, sizeof file, "%s.mp4", name);
	memset(&e, 0, sizeof e);
	e.seq = (uint32_t)(s->segments + 1);
	e.file = file;
	e.arrival_us = t_us;
	e.size = sg->mp4_len;
	sha256_hex(sg->mp4, sg->mp4_len, e.sha256);
	cap = 256 + sizeof file + 4 * sg->id_len;
	if ((line = malloc(cap)) == NULL)
		err(1, NULL);
	len = segindex_format(line, cap, &e, sg->id, sg->id_len);
	if (writeall(s->tsv_fd, line, len) < 0) {
		int saved = errno;

		free(line);
		/* Not in the list: not part of the session. */
		segment_unstore(s->dir_fd, name);
		session_fail(c, t_us, SEGINDEX_NAME, saved);
		return;
	}
	free(line);
	s->tsv_bytes += len;
	s->segments++;
	s->segment_bytes += sg->mp4_len;
	c->frames_written++;
	c->bytes_written += sg->mp4_len;
	s->ss->counts.frames++;
	s->ss->counts.bytes += sg->mp4_len;
	if (s->first_id == NULL)
		s->first_id = id_text(sg->id, sg->id_len);
	free(s->last_id);
	s->last_id = id_text(sg->id, sg->id_len);
	s->have_real = 1;
	dirty_add(s);
}
