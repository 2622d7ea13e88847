/* Deleting one session. The folder's lock is taken first, without
 * waiting (finalize.sh and hookrun hold it shared while they work, and
 * wait for it themselves), then the writer's lock on stream.h264,
 * segments.tsv or stream.mjpeg, and the folder is looked at again under them: what scan
 * saw may have changed. It is then renamed to a hidden .NAME.pruning, so
 * that the recorder and finalize.sh never meet a half-deleted session,
 * and removed with session.json first; a .pruning folder that a killed
 * prune left is finished by the next. This file calls scan.c and tree.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prune.h"

static const char *const writer_files[] = { "stream.h264", "segments.tsv", "stream.mjpeg" };
#define NWRITER (sizeof writer_files / sizeof writer_files[0])

int
remove_session(int root_fd, struct entry *e, int64_t now_us)
{
	int locks[NWRITER] = { -1, -1, -1 }, dir_fd, rv = 0, saved;
	char hidden[NAME_MAX + 1];
	const char *target = e->name;
	struct stat st;
	size_t i;

	dir_fd = openat(root_fd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir_fd < 0)
		return -1;
	if (fstat(dir_fd, &st) < 0) {
		rv = -1;
		goto out;
	}
	if (st.st_dev != e->dev || st.st_ino != e->ino) {
		e->kind = KIND_OTHER;
		e->why = "replaced by another folder since it was looked at";
		goto out;
	}
	if (flock(dir_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			rv = -1;
			goto out;
		}
		e->kind = KIND_BUSY;
		e->why = "in use (being finalized, or a hook runs)";
		goto out;
	}
	if (e->kind != KIND_LEFTOVER) {
		for (i = 0; i < NWRITER; i++) {
			locks[i] = openat(dir_fd, writer_files[i],
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
			if (locks[i] >= 0 && flock(locks[i], LOCK_EX | LOCK_NB) < 0) {
				e->kind = KIND_BUSY;
				e->why = "being written or recovered";
				goto out;
			}
		}
		scan_classify(dir_fd, e, now_us);
		if (e->kind != KIND_FINALIZED && e->kind != KIND_OLD)
			goto out;
		/* A name too long to hide is removed where it is. */
		if (snprintf(hidden, sizeof hidden, ".%s.pruning", e->name) <
		    (int)sizeof hidden &&
		    renameat2(root_fd, e->name, root_fd, hidden, RENAME_NOREPLACE) == 0)
			target = hidden;
	}
	rv = tree_remove(root_fd, target, "session.json", e->dev) < 0 ? -1 : 1;
out:
	saved = errno;
	for (i = 0; i < NWRITER; i++)
		if (locks[i] >= 0)
			close(locks[i]);
	close(dir_fd);
	errno = saved;
	return rv;
}
