#include <string.h>

#include "campath.h"

static int
is(const char *path, size_t len, const char *name)
{
	size_t n = strlen(name);

	/* "/dev", "/dev/", "/dev?x" and "/dev/anything" all mean /dev. */
	return len >= n && memcmp(path, name, n) == 0 &&
	    (len == n || path[n] == '/' || path[n] == '?');
}

enum campath_kind
campath_kind(const char *path, size_t len)
{
	if (is(path, len, "/esp"))
		return CAMPATH_ESP;
	if (is(path, len, "/dev"))
		return CAMPATH_DEV;
	if (is(path, len, "/live"))
		return CAMPATH_LIVE;
	return CAMPATH_ANDROID;
}
