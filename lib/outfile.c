#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "outfile.h"

char *
outfile_temp(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *s;
	int n;

	if (slash == NULL)
		n = asprintf(&s, ".%s.tmp-%ld", path, (long)getpid());
	else
		n = asprintf(&s, "%.*s/.%s.tmp-%ld", (int)(slash - path), path,
		    slash + 1, (long)getpid());
	return n < 0 ? NULL : s;
}

char *
outfile_beside(const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');
	char *s;
	int n;

	if (slash == NULL)
		n = asprintf(&s, "%s", name);
	else
		n = asprintf(&s, "%.*s/%s", (int)(slash - path), path, name);
	return n < 0 ? NULL : s;
}

char *
outfile_url(const char *path)
{
	char *s;

	return asprintf(&s, "file:%s", path) < 0 ? NULL : s;
}
