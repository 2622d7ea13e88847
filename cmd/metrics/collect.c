/* What a scrape shows is read fresh each time from what the recorder
 * already leaves on disk: sessionwriter's status file (the cameras now),
 * the counters camrec.sh keeps in its run folder (finalize, hooks, prune),
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

static void
cameras(const char *status, struct text *t)
{
	json_t *root = status ? json_load_file(status, 0, NULL) : NULL;
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
	json_decref(root);
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
	DIR *d = opendir(recordings);
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

	have_disk = statvfs(recordings, &vfs) == 0;
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

void
collect(const struct sources *src, struct text *t)
{
	cameras(src->status, t);
	sessions(src->recordings, t);
	counters(src->rundir, t);
}
