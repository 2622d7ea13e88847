/* What a scrape shows is read fresh each time from what the recorder
 * already leaves on disk: sessionwriter's status file (the cameras now,
 * its counters, where it records), wsrecv's counters file, the counters
 * camrec.sh keeps in its run folder (finalize, hooks, prune, recovery),
 * the session folders and the filesystem under them. Nothing here is kept
 * between scrapes, so a restarted metrics server shows the same numbers. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <jansson.h>

#include "metrics.h"

static const char *const conn_kinds[] = { "android", "esp", "dev", "live" };
static const char *const states[] = { "recording", "closed", "failed", "recovered",
	"other", "none" };
#define NSTATES (sizeof states / sizeof states[0])

/* The finalize durations' buckets, in seconds, as camrec.sh counts them. */
static const unsigned buckets[] = { 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800 };
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

static void
header(struct text *t, const char *name, const char *type, const char *help)
{
	text_add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One counter of a "counters" object; 0 when it is missing. */
static unsigned long long
count(json_t *root, const char *key, const char *sub)
{
	json_t *v = json_object_get(json_object_get(root, "counters"), key);

	if (sub != NULL)
		v = json_object_get(v, sub);
	return json_is_integer(v) && json_integer_value(v) > 0 ?
	    (unsigned long long)json_integer_value(v) : 0;
}

static double
seconds(json_t *root, const char *key, const char *sub)
{
	json_t *v = json_object_get(json_object_get(root, "counters"), key);

	v = json_object_get(v, sub);
	return json_is_number(v) ? json_number_value(v) : 0;
}

/* A counter of one series per connection, from the status file. */
static void
per_camera(json_t *cams, const char *name, const char *key, const char *help,
    struct text *t)
{
	const char *peer;
	json_t *c;
	size_t i;

	header(t, name, "counter", help);
	json_array_foreach(cams, i, c) {
		peer = json_string_value(json_object_get(c, "peer"));
		text_add(t, "%s{conn=\"%lld\",peer=\"", name,
		    (long long)json_integer_value(json_object_get(c, "conn")));
		text_label(t, peer ? peer : "");
		text_add(t, "\"} %lld\n",
		    (long long)json_integer_value(json_object_get(c, key)));
	}
}

/* wsrecv's --counters file: what came in, and how long reading waited. */
static void
received(json_t *root, struct text *t)
{
	size_t k;

	header(t, "camrec_connections_total", "counter",
	    "WebSocket connections accepted, by kind of connection.");
	for (k = 0; k < 4; k++)
		text_add(t, "camrec_connections_total{kind=\"%s\"} %llu\n",
		    conn_kinds[k], count(root, "connections_total", conn_kinds[k]));
	header(t, "camrec_received_messages_total", "counter",
	    "Messages received from cameras.");
	text_add(t, "camrec_received_messages_total %llu\n",
	    count(root, "messages_received_total", NULL));
	header(t, "camrec_received_bytes_total", "counter",
	    "Bytes of the messages received from cameras.");
	text_add(t, "camrec_received_bytes_total %llu\n",
	    count(root, "received_bytes_total", NULL));
	header(t, "camrec_backpressure_seconds_total", "counter",
	    "Time wsrecv stopped reading cameras: stdout, frameparse was behind; "
	    "budget, the memory budget was spent.");
	text_add(t, "camrec_backpressure_seconds_total{cause=\"stdout\"} %.6f\n",
	    seconds(root, "backpressure_seconds_total", "stdout"));
	text_add(t, "camrec_backpressure_seconds_total{cause=\"budget\"} %.6f\n",
	    seconds(root, "backpressure_seconds_total", "budget"));
	header(t, "camrec_queued_bytes", "gauge",
	    "Bytes of records waiting in wsrecv for frameparse.");
	text_add(t, "camrec_queued_bytes %llu\n", count(root, "queued_bytes", NULL));
	header(t, "camrec_reassembly_bytes", "gauge",
	    "Bytes of messages wsrecv is still receiving.");
	text_add(t, "camrec_reassembly_bytes %llu\n", count(root, "reassembly_bytes", NULL));
}

/* sessionwriter's counters, from its status file. */
static void
written(json_t *root, struct text *t)
{
	static const char *const ends[] = { "opened", "closed", "failed" };
	char key[64], name[80];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof key, "sessions_%s_total", ends[i]);
		snprintf(name, sizeof name, "camrec_%s", key);
		header(t, name, "counter", i == 0 ? "Sessions opened." : i == 1 ?
		    "Sessions closed and complete." :
		    "Sessions that a write error ended or kept from opening.");
		text_add(t, "%s %llu\n", name, count(root, key, NULL));
	}
	header(t, "camrec_written_frames_total", "counter",
	    "Frames, images and segments written into sessions.");
	text_add(t, "camrec_written_frames_total %llu\n",
	    count(root, "written_frames_total", NULL));
	header(t, "camrec_written_bytes_total", "counter",
	    "Bytes of frames, images and segments written into sessions.");
	text_add(t, "camrec_written_bytes_total %llu\n",
	    count(root, "written_bytes_total", NULL));
}

static void
cameras(json_t *root, struct text *t)
{
	json_t *cams = json_object_get(root, "cameras"), *c;
	unsigned long long count[4] = { 0 };
	const char *kind, *peer;
	size_t i, k;

	json_array_foreach(cams, i, c) {
		kind = json_string_value(json_object_get(c, "kind"));
		for (k = 0; kind != NULL && k < 4; k++)
			if (strcmp(kind, conn_kinds[k]) == 0)
				count[k]++;
	}
	header(t, "camrec_connections", "gauge", "Cameras connected now, by kind of connection.");
	for (k = 0; k < 4; k++)
		text_add(t, "camrec_connections{kind=\"%s\"} %llu\n", conn_kinds[k], count[k]);

	/* One series per connection: the set is bounded by wsrecv's
	 * connection cap and ends with the connection. */
	header(t, "camrec_camera_recording", "gauge",
	    "1 when the connection is writing a session now.");
	json_array_foreach(cams, i, c) {
		peer = json_string_value(json_object_get(c, "peer"));
		text_add(t, "camrec_camera_recording{conn=\"%lld\",peer=\"",
		    (long long)json_integer_value(json_object_get(c, "conn")));
		text_label(t, peer ? peer : "");
		text_add(t, "\"} %d\n", json_is_true(json_object_get(c, "recording")));
	}
	header(t, "camrec_camera_frames_per_second", "gauge",
	    "Pictures a second over the last 3 seconds.");
	json_array_foreach(cams, i, c) {
		peer = json_string_value(json_object_get(c, "peer"));
		text_add(t, "camrec_camera_frames_per_second{conn=\"%lld\",peer=\"",
		    (long long)json_integer_value(json_object_get(c, "conn")));
		text_label(t, peer ? peer : "");
		text_add(t, "\"} %.1f\n", json_number_value(json_object_get(c, "fps")));
	}
	header(t, "camrec_camera_receive_bytes_per_second", "gauge",
	    "Bytes of video a second over the last 3 seconds.");
	json_array_foreach(cams, i, c) {
		peer = json_string_value(json_object_get(c, "peer"));
		text_add(t, "camrec_camera_receive_bytes_per_second{conn=\"%lld\",peer=\"",
		    (long long)json_integer_value(json_object_get(c, "conn")));
		text_label(t, peer ? peer : "");
		text_add(t, "\"} %.0f\n", json_number_value(json_object_get(c, "kbps")) * 1000 / 8);
	}
	per_camera(cams, "camrec_camera_written_frames_total", "frames_written",
	    "Frames (images, segments) of this connection written into sessions.", t);
	per_camera(cams, "camrec_camera_written_bytes_total", "bytes_written",
	    "Bytes of this connection's frames written into sessions.", t);
}

/* One "NAME VALUE" counter, or "le SECONDS COUNT", from a counts file. */
struct counts {
	unsigned long long runs, failures, microseconds, le[NBUCKETS];
};

static void
read_counts(const char *rundir, const char *name, struct counts *n)
{
	char path[4096], word[32];
	unsigned long long a, b;
	FILE *f;
	size_t i;

	memset(n, 0, sizeof *n);
	if (rundir == NULL)
		return;
	snprintf(path, sizeof path, "%s/%s", rundir, name);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fscanf(f, "%31s %llu", word, &a) == 2) {
		if (strcmp(word, "runs") == 0)
			n->runs = a;
		else if (strcmp(word, "failures") == 0)
			n->failures = a;
		else if (strcmp(word, "microseconds") == 0)
			n->microseconds = a;
		else if (strcmp(word, "le") == 0 && fscanf(f, "%llu", &b) == 1)
			for (i = 0; i < NBUCKETS; i++)
				if (buckets[i] == a)
					n->le[i] = b;
	}
	fclose(f);
}

static void
counters(const char *rundir, struct text *t)
{
	struct counts n;
	size_t i;

	read_counts(rundir, "finalize.counts", &n);
	header(t, "camrec_finalize_duration_seconds", "histogram",
	    "Time to make a session's stream.mp4 and thumbnail.jpg.");
	for (i = 0; i < NBUCKETS; i++)
		text_add(t, "camrec_finalize_duration_seconds_bucket{le=\"%u\"} %llu\n",
		    buckets[i], n.le[i]);
	text_add(t, "camrec_finalize_duration_seconds_bucket{le=\"+Inf\"} %llu\n", n.runs);
	text_add(t, "camrec_finalize_duration_seconds_sum %llu.%06llu\n",
	    n.microseconds / 1000000, n.microseconds % 1000000);
	text_add(t, "camrec_finalize_duration_seconds_count %llu\n", n.runs);
	header(t, "camrec_finalize_failures_total", "counter",
	    "Sessions whose MP4 or thumbnail could not be made.");
	text_add(t, "camrec_finalize_failures_total %llu\n", n.failures);

	read_counts(rundir, "hooks.counts", &n);
	header(t, "camrec_hook_runs_total", "counter", "Session hooks run.");
	text_add(t, "camrec_hook_runs_total %llu\n", n.runs);
	header(t, "camrec_hook_failures_total", "counter",
	    "Session hooks that failed or timed out.");
	text_add(t, "camrec_hook_failures_total %llu\n", n.failures);

	read_counts(rundir, "recover.counts", &n);
	header(t, "camrec_sessions_recovered_total", "counter",
	    "Sessions a crash left open, recovered at the recorder's start.");
	text_add(t, "camrec_sessions_recovered_total %llu\n", n.runs);

	read_counts(rundir, "prune.counts", &n);
	header(t, "camrec_prune_runs_total", "counter", "Retention runs of prune.");
	text_add(t, "camrec_prune_runs_total %llu\n", n.runs);
	header(t, "camrec_prune_failures_total", "counter", "Retention runs that failed.");
	text_add(t, "camrec_prune_failures_total %llu\n", n.failures);
}

/* The state in one session folder's session.json; "none" without one. */
static size_t
session_state(int dirfd)
{
	int fd = openat(dirfd, "session.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	const char *state;
	json_t *root;
	size_t i;

	if (fd < 0)
		return NSTATES - 1;
	root = json_loadfd(fd, 0, NULL);
	close(fd);
	state = json_string_value(json_object_get(root, "state"));
	for (i = 0; state != NULL && i < NSTATES - 2; i++)
		if (strcmp(state, states[i]) == 0)
			break;
	if (state == NULL)
		i = NSTATES - 2;
	json_decref(root);
	return i;
}

/* Bytes of the regular files in one folder; symlinks are not followed. */
static unsigned long long
folder_bytes(int dirfd, int *finalized)
{
	unsigned long long sum = 0;
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd = dup(dirfd);

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		sum += (unsigned long long)st.st_size;
		if (strcmp(e->d_name, "stream.mp4") == 0)
			*finalized = 1;
	}
	closedir(d);
	return sum;
}

static void
sessions(const char *recordings, struct text *t)
{
	unsigned long long count[NSTATES] = { 0 }, finalized = 0, bytes = 0;
	struct statvfs vfs;
	struct dirent *e;
	DIR *d = recordings ? opendir(recordings) : NULL;
	int fd, done, have_disk;
	size_t i;

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), e->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		done = 0;
		count[session_state(fd)]++;
		bytes += folder_bytes(fd, &done);
		finalized += (unsigned long long)done;
		close(fd);
	}
	if (d != NULL)
		closedir(d);
	header(t, "camrec_sessions", "gauge",
	    "Session folders in the recordings folder, by the state in their "
	    "session.json (none: an old folder without one).");
	for (i = 0; i < NSTATES; i++)
		text_add(t, "camrec_sessions{state=\"%s\"} %llu\n", states[i], count[i]);
	header(t, "camrec_sessions_finalized", "gauge",
	    "Session folders that have their stream.mp4.");
	text_add(t, "camrec_sessions_finalized %llu\n", finalized);
	header(t, "camrec_recordings_bytes", "gauge",
	    "Bytes of the files in the session folders.");
	text_add(t, "camrec_recordings_bytes %llu\n", bytes);

	have_disk = recordings != NULL && statvfs(recordings, &vfs) == 0;
	header(t, "camrec_disk_free_bytes", "gauge",
	    "Bytes free for the recorder on the recordings' filesystem.");
	if (have_disk)
		text_add(t, "camrec_disk_free_bytes %llu\n",
		    (unsigned long long)vfs.f_bavail * vfs.f_frsize);
	header(t, "camrec_disk_size_bytes", "gauge",
	    "Size of the recordings' filesystem.");
	if (have_disk)
		text_add(t, "camrec_disk_size_bytes %llu\n",
		    (unsigned long long)vfs.f_blocks * vfs.f_frsize);
}

static json_t *
load(const char *dir, const char *path)
{
	char buf[4096];

	if (dir != NULL && path != NULL) {
		snprintf(buf, sizeof buf, "%s/%s", dir, path);
		path = buf;
	}
	return path != NULL ? json_load_file(path, 0, NULL) : NULL;
}

void
collect(const struct sources *src, struct text *t)
{
	json_t *status = load(NULL, src->status);
	json_t *wsrecv = load(src->rundir, src->rundir ? "wsrecv.counters" : NULL);
	const char *recordings = src->recordings;

	/* Where sessionwriter records, unless told. */
	if (recordings == NULL)
		recordings = json_string_value(json_object_get(status, "recordings"));
	cameras(status, t);
	received(wsrecv, t);
	written(status, t);
	sessions(recordings, t);
	counters(src->rundir, t);
	json_decref(status);
	json_decref(wsrecv);
}
