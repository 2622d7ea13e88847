/* What each folder of the recordings folder is. The marks are those of
 * camrec-session(5): session.json's state, stream.mp4 once mux made it,
 * mux's and thumb's temporaries .NAME.tmp-PID while they run, and the
 * flock(2) locks (on the folder by finalize.sh and hookrun, on
 * stream.h264 or segments.tsv by the writer). Anything prune cannot
 * read as a finished session is kept. This file calls only tree.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "prune.h"
#include "util.h"

/* A folder of the old recorder (stream.h264, nothing else) is only taken
 * as one when nobody wrote it for this long: sessionwriter creates
 * stream.h264 an instant before it locks it and writes session.json. */
#define OLD_SETTLE_US (600 * 1000000LL)
#define JSON_MAX      (1 << 20)
#define LEFTOVER_TAG  ".pruning"

static int64_t
mtime_us(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000 + st->st_mtim.tv_nsec / 1000;
}

static int
regular_at(int dir_fd, const char *name, struct stat *st)
{
	return fstatat(dir_fd, name, st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st->st_mode);
}

/* Whether the folder holds a temporary .NAME.tmp-PID of a process that
 * still runs: mux or thumb writing stream.mp4 or thumbnail.jpg. */
static int
live_temporary(int dir_fd)
{
	struct dirent *de;
	const char *p;
	char *end;
	long pid;
	DIR *d;
	int fd, live = 0;

	if ((fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 1;
	}
	while (!live && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || (p = strstr(de->d_name, ".tmp-")) == NULL)
			continue;
		pid = strtol(p + 5, &end, 10);
		if (*end == '\0' && end != p + 5 && pid > 0 &&
		    (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			live = 1;
	}
	closedir(d);
	return live;
}

static json_t *
load_json(int dir_fd, int *missing)
{
	json_t *o;
	FILE *f;
	int fd;

	*missing = 0;
	if ((fd = openat(dir_fd, "session.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		*missing = errno == ENOENT;
		return NULL;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return NULL;
	}
	o = json_loadf(f, JSON_ALLOW_NUL, NULL);
	fclose(f);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static void
keep(struct entry *e, enum kind kind, const char *why)
{
	e->kind = kind;
	e->why = why;
}

void
scan_classify(int dir_fd, struct entry *e, int64_t now_us)
{
	struct stat media, st;
	const char *state;
	json_t *o, *ended;
	int has_media, missing;

	has_media = regular_at(dir_fd, "stream.h264", &media) ||
	    regular_at(dir_fd, "segments.tsv", &media) ||
	    regular_at(dir_fd, "stream.mjpeg", &media);
	e->why = NULL;
	e->ended = 0;
	e->time_us = has_media ? mtime_us(&media) : 0;
	if (live_temporary(dir_fd)) {
		keep(e, KIND_FINALIZING, "being finalized (temporaries of a running mux or thumb)");
		return;
	}
	if ((o = load_json(dir_fd, &missing)) == NULL) {
		if (!missing)
			keep(e, KIND_OTHER, "session.json cannot be read");
		else if (!regular_at(dir_fd, "stream.h264", &media))
			keep(e, KIND_OTHER, "not a session (neither session.json nor stream.h264)");
		else if (now_us - mtime_us(&media) < OLD_SETTLE_US)
			keep(e, KIND_OTHER, "no session.json, stream.h264 written in the last 10 minutes");
		else
			e->kind = KIND_OLD;
		return;
	}
	ended = json_object_get(o, "ended_wall_us");
	if (json_is_integer(ended) && json_integer_value(ended) > 0) {
		e->time_us = json_integer_value(ended);
		e->ended = 1;
	}
	else if (!has_media && fstatat(dir_fd, "session.json", &st, AT_SYMLINK_NOFOLLOW) == 0)
		e->time_us = mtime_us(&st);
	state = json_string_value(json_object_get(o, "state"));
	if (state == NULL)
		keep(e, KIND_OTHER, "session.json has no state");
	else if (strcmp(state, "recording") == 0)
		keep(e, KIND_OPEN, "open (recording)");
	else if (strcmp(state, "closed") != 0 && strcmp(state, "failed") != 0 &&
	    strcmp(state, "recovered") != 0)
		keep(e, KIND_OTHER, "unknown state in session.json");
	else if (!regular_at(dir_fd, "stream.mp4", &st))
		keep(e, KIND_UNFINALIZED, "not finalized (no stream.mp4)");
	else
		e->kind = KIND_FINALIZED;
	json_decref(o);
}

static int
add(struct listing *l, size_t *cap, const char *name, const struct stat *st,
    uint64_t bytes)
{
	struct entry *e;

	if (l->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;

		if ((e = reallocarray(l->entries, ncap, sizeof *e)) == NULL)
			return -1;
		l->entries = e;
		*cap = ncap;
	}
	e = &l->entries[l->n];
	memset(e, 0, sizeof *e);
	if ((e->name = strdup(name)) == NULL)
		return -1;
	e->bytes = bytes;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	l->n++;
	return 0;
}

static int
leftover(const char *name)
{
	size_t n = strlen(name), t = strlen(LEFTOVER_TAG);

	return name[0] == '.' && n > t + 1 && strcmp(name + n - t, LEFTOVER_TAG) == 0;
}

int
scan(int root_fd, struct listing *l, int64_t now_us)
{
	struct dirent *de;
	struct stat root, st;
	struct entry *e;
	size_t cap = 0;
	uint64_t bytes;
	DIR *d;
	int fd, dir_fd;

	memset(l, 0, sizeof *l);
	if (fstat(root_fd, &root) < 0 ||
	    (fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(root_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		bytes = tree_size(root_fd, de->d_name, root.st_dev);
		l->total += bytes;
		/* Symlinks, files and other file systems are never sessions. */
		if (!S_ISDIR(st.st_mode) || st.st_dev != root.st_dev)
			continue;
		if (de->d_name[0] == '.' && !leftover(de->d_name))
			continue;
		if (add(l, &cap, de->d_name, &st, bytes) < 0)
			goto fail;
		e = &l->entries[l->n - 1];
		dir_fd = openat(root_fd, de->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dir_fd < 0) {
			keep(e, KIND_OTHER, "cannot be opened");
			continue;
		}
		/* Taken and let go at once: only a lock held by someone else
		 * matters, and they wait for it rather than fail. */
		if (flock(dir_fd, LOCK_EX | LOCK_NB) < 0)
			keep(e, KIND_BUSY, "in use (being finalized, or a hook runs)");
		/* camrec.sh's mark: its hook (an upload, say) has yet to run. */
		else if (faccessat(dir_fd, HOOK_DUE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			keep(e, KIND_BUSY, "its hook is due");
		else if (leftover(de->d_name))
			e->kind = KIND_LEFTOVER;
		else
			scan_classify(dir_fd, e, now_us);
		close(dir_fd);
	}
	closedir(d);
	return 0;
fail:
	closedir(d);
	return -1;
}

void
scan_free(struct listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->entries[i].name);
	free(l->entries);
	memset(l, 0, sizeof *l);
}
