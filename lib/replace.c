#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "util.h"

int
replace_file(const char *dir, const char *name, const char *data, size_t len, int sync)
{
	char tmp[PATH_MAX], path[PATH_MAX], tname[NAME_MAX + 1];
	int fd, saved;

	if (snprintf(tname, sizeof tname, ".%s.tmp", name) >= (int)sizeof tname) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (pathcat(tmp, sizeof tmp, dir, tname) < 0 || pathcat(path, sizeof path, dir, name) < 0)
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return -1;
	if (writeall(fd, data, len) < 0 || (sync && fsync(fd) < 0)) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}
