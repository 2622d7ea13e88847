/* Walking a session folder without ever leaving it: every open is
 * relative to the folder above and refuses symlinks (O_NOFOLLOW), so a
 * link planted in a session, or a folder swapped for a link between two
 * steps, can make prune neither count nor delete anything outside the
 * recordings folder; nor does it cross into another mounted file system.
 * This file calls no other file of prune. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prune.h"

/* Session folders are flat; deeper trees are somebody else's. */
#define MAX_DEPTH 16

static int
open_below(int dir_fd, const char *name, dev_t dev, DIR **d)
{
	struct stat st;
	int fd;

	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_dev != dev) {
		int e = st.st_dev != dev ? EXDEV : errno;

		close(fd);
		errno = e;
		return -1;
	}
	if ((*d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
dots(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

static uint64_t
size_at(int dir_fd, const char *name, dev_t dev, int depth)
{
	struct dirent *de;
	struct stat st;
	uint64_t bytes;
	DIR *d;
	int fd;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
		return 0;
	bytes = (uint64_t)st.st_blocks * 512;
	if (!S_ISDIR(st.st_mode) || depth >= MAX_DEPTH)
		return bytes;
	if ((fd = open_below(dir_fd, name, dev, &d)) < 0)
		return bytes;
	while ((de = readdir(d)) != NULL)
		if (!dots(de->d_name))
			bytes += size_at(fd, de->d_name, dev, depth + 1);
	closedir(d);
	return bytes;
}

uint64_t
tree_size(int dir_fd, const char *name, dev_t dev)
{
	return size_at(dir_fd, name, dev, 0);
}

static int
remove_at(int dir_fd, const char *name, const char *first, dev_t dev, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, rv = 0, e, removed;

	if (depth >= MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	if ((fd = open_below(dir_fd, name, dev, &d)) < 0)
		return -1;
	if (first != NULL && unlinkat(fd, first, 0) < 0 && errno != ENOENT)
		rv = -1;
	/* Entries removed while reading may hide others from readdir: read
	 * again until a pass finds nothing. */
	for (removed = 1; rv == 0 && removed; rewinddir(d)) {
		removed = 0;
		while (rv == 0 && (de = readdir(d)) != NULL) {
			if (dots(de->d_name))
				continue;
			removed = 1;
			if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno != ENOENT)
					rv = -1;
			} else if (S_ISDIR(st.st_mode)) {
				rv = remove_at(fd, de->d_name, NULL, dev, depth + 1);
			} else if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT) {
				rv = -1;
			}
		}
	}
	e = errno;
	closedir(d);
	if (rv == 0 && unlinkat(dir_fd, name, AT_REMOVEDIR) < 0)
		return -1;
	errno = e;
	return rv;
}

int
tree_remove(int dir_fd, const char *name, const char *first, dev_t dev)
{
	return remove_at(dir_fd, name, first, dev, 0);
}
