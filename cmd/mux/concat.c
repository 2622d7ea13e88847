/* The segments of a current phone's session, joined: segments.tsv names
 * the MP4 files in the order they arrived, and ffmpeg's concat demuxer
 * reads them one after another with stream copy. The list goes to ffmpeg
 * on a pipe with absolute file: URLs, so nothing is written beside the
 * session; segindex_load has checked that every name is a plain one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mux.h"
#include "segindex.h"
#include "util.h"

void
concat_quote(FILE *f, const char *s)
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
	char *list = NULL, *abs, path[4096];
	size_t listlen = 0, i;
	struct segindex si;
	struct stat st;
	FILE *out;

	*nfiles = 0;
	if (segindex_load(tsv, &si, bad_line, why) < 0)
		return NULL;
	if ((abs = realpath(dir, NULL)) == NULL ||
	    (out = open_memstream(&list, &listlen)) == NULL) {
		free(abs);
		segindex_free(&si);
		return NULL;
	}
	fputs("ffconcat version 1.0\n", out);
	for (i = 0; i < si.n; i++) {
		if (pathcat(path, sizeof path, abs, si.e[i].file) < 0)
			break;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			*bad_line = si.e[i].line;
			*why = "no such segment file";
			errno = EINVAL;
			break;
		}
		fputs("file 'file:", out);
		concat_quote(out, path);
		fputs("'\n", out);
	}
	if (fclose(out) != 0 || i < si.n) {
		free(list);
		list = NULL;
	} else
		*nfiles = si.n;
	free(abs);
	segindex_free(&si);
	return list;
}
