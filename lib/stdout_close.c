#include <errno.h>
#include <stdio.h>

#include "util.h"

int
stdout_close(void)
{
	int failed = ferror(stdout);

	if (fclose(stdout) != 0)
		return -1;
	if (failed) {
		errno = EIO;
		return -1;
	}
	return 0;
}
