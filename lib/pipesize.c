#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "util.h"

int
pipe_grow(int fd, int size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISFIFO(st.st_mode))
		return 0;
	return fcntl(fd, F_SETPIPE_SZ, size) < 0 ? -1 : 1;
}
