/* The segments of a current phone's session, joined: segments.tsv names
 * the MP4 files in the order they arrived, and ffmpeg's concat demuxer
 * reads them one after another with stream copy. The list goes to ffmpeg
 * on a pipe with absolute file: URLs, so nothing is written beside the
 * session; names come from a file sessionwriter wrote, but are checked
 * again all the same (a name with '/' or a leading '.' is refused). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mux.h"
#include "util.h"

static int
safe_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-", s[i]) || s[i] == '\0')
			return 0;
	return 1;
}

/* Append s to the list inside ffconcat's single quotes. */
static void
quoted(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
}

char *
concat_list(const char *dir, const char *tsv, size_t *nfiles, size_t *bad_line,
    const char **why)
{
	char *line = NULL, *list = NULL, *abs, path[4096];
	size_t cap = 0, listlen = 0, lineno = 0;
	struct stat st;
	ssize_t n;
	FILE *in, *out;

	*nfiles = 0;
	*bad_line = 0;
	*why = NULL;
	if ((abs = realpath(dir, NULL)) == NULL)
		return NULL;
	if ((in = fopen(tsv, "re")) == NULL) {
		free(abs);
		return NULL;
	}
	if ((out = open_memstream(&list, &listlen)) == NULL)
		goto fail;
	fputs("ffconcat version 1.0\n", out);
	while ((n = getline(&line, &cap, in)) > 0) {
		char *file, *end;

		lineno++;
		if (line[0] == '#')
			continue;
		/* seq TAB file TAB ... */
		if ((file = strchr(line, '\t')) == NULL)
			goto bad;
		file++;
		if ((end = strchr(file, '\t')) == NULL)
			goto bad;
		*end = '\0';
		if (!safe_name(file, (size_t)(end - file))) {
			*why = "not a plain file name";
			goto bad;
		}
		if (pathcat(path, sizeof path, abs, file) < 0)
			goto fail;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			*why = "no such segment file";
			goto bad;
		}
		fputs("file 'file:", out);
		quoted(out, path);
		fputs("'\n", out);
		(*nfiles)++;
	}
	if (ferror(in))
		goto fail;
	if (fclose(out) != 0) {
		out = NULL;
		goto fail;
	}
	fclose(in);
	free(line);
	free(abs);
	return list;
bad:
	if (*why == NULL)
		*why = "malformed";
	*bad_line = lineno;
	errno = EINVAL;
fail:
	if (out != NULL)
		fclose(out);
	fclose(in);
	free(list);
	free(line);
	free(abs);
	return NULL;
}
