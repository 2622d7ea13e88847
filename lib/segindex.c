#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segindex.h"
#include "util.h"

#define FIELDS 6

int
segindex_plain_name(const char *s, size_t len)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-";
	size_t i;

	if (len == 0 || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(ok, s[i]) == NULL)
			return 0;
	return 1;
}

size_t
segindex_format(char *buf, size_t cap, const struct segindex_entry *e,
    const char *id, size_t id_len)
{
	size_t i, n;
	int k;

	k = snprintf(buf, cap, "%u\t%s\t%llu\t%llu\t%s\t", e->seq, e->file,
	    (unsigned long long)e->arrival_us, (unsigned long long)e->size, e->sha256);
	if (k < 0 || (size_t)k >= cap)
		return 0;
	n = (size_t)k;
	for (i = 0; i < id_len; i++) {
		unsigned char c = (unsigned char)id[i];

		if (n + 5 >= cap)
			return 0;
		if (c > ' ' && c <= '~' && c != '\\')
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", c);
	}
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

size_t
segindex_safe_name(char *out, const char *id, size_t id_len)
{
	size_t i, n = id_len < SEGINDEX_NAME_MAX ? id_len : SEGINDEX_NAME_MAX;

	for (i = 0; i < n; i++) {
		char c = id[i];

		out[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ? c : '_';
	}
	if (n == 0) {
		strcpy(out, "segment");
		return strlen(out);
	}
	out[n] = '\0';
	return n;
}

size_t
segindex_unescape(char *id)
{
	size_t i, n = 0;
	unsigned v;

	for (i = 0; id[i] != '\0'; i++) {
		if (id[i] == '\\' && id[i + 1] == 'x' && id[i + 2] != '\0' &&
		    id[i + 3] != '\0' && sscanf(id + i + 2, "%2x", &v) == 1) {
			id[n++] = (char)v;
			i += 3;
		} else
			id[n++] = id[i];
	}
	id[n] = '\0';
	return n;
}

/* Fields of one line, split in place: file and id point into line. */
static int
split_line(char *line, struct segindex_entry *e, const char **why)
{
	char *f[FIELDS], *p = line;
	uint64_t v;
	size_t i;

	for (i = 0; i < FIELDS; i++) {
		f[i] = p;
		p = strchr(p, i + 1 < FIELDS ? '\t' : '\n');
		if (p == NULL) {
			if (i + 1 < FIELDS) {
				*why = "too few fields";
				return -1;
			}
			break;
		}
		*p++ = '\0';
	}
	*why = "malformed";
	if (parse_u64(f[0], 0, UINT32_MAX, &v) < 0)
		return -1;
	e->seq = (uint32_t)v;
	if (!segindex_plain_name(f[1], strlen(f[1]))) {
		*why = "not a plain file name";
		return -1;
	}
	if (parse_u64(f[2], 0, UINT64_MAX, &e->arrival_us) < 0 ||
	    parse_u64(f[3], 0, UINT64_MAX, &e->size) < 0 || strlen(f[4]) > 64)
		return -1;
	memcpy(e->sha256, f[4], strlen(f[4]) + 1);
	e->file = f[1];
	e->id = f[5];
	return 0;
}

int
segindex_parse_line(char *line, struct segindex_entry *e, const char **why)
{
	return split_line(line, e, why);
}

static int
parse_line(char *line, struct segindex_entry *e, const char **why)
{
	char *file, *id;

	if (split_line(line, e, why) < 0)
		return -1;
	file = e->file;
	id = e->id;
	e->file = e->id = NULL;
	if ((e->file = strdup(file)) == NULL || (e->id = strdup(id)) == NULL)
		return -2;
	return 0;
}

int
segindex_load(const char *path, struct segindex *si, size_t *bad_line,
    const char **why)
{
	struct segindex_entry *q;
	char *line = NULL;
	size_t cap = 0, lineno = 0, ecap = 0;
	int r, saved;
	FILE *in;

	memset(si, 0, sizeof *si);
	*bad_line = 0;
	*why = NULL;
	if ((in = fopen(path, "re")) == NULL)
		return -1;
	while (getline(&line, &cap, in) > 0) {
		lineno++;
		if (line[0] == '#')
			continue;
		if (si->n == ecap) {
			ecap = ecap ? 2 * ecap : 16;
			if ((q = reallocarray(si->e, ecap, sizeof *q)) == NULL)
				goto fail;
			si->e = q;
		}
		memset(&si->e[si->n], 0, sizeof si->e[si->n]);
		if ((r = parse_line(line, &si->e[si->n], why)) < 0) {
			si->n++;	/* freed with the rest */
			if (r == -2)
				goto fail;
			*bad_line = lineno;
			errno = EINVAL;
			goto fail;
		}
		si->e[si->n++].line = lineno;
	}
	if (ferror(in))
		goto fail;
	fclose(in);
	free(line);
	return 0;
fail:
	saved = errno;
	fclose(in);
	free(line);
	segindex_free(si);
	errno = saved;
	return -1;
}

void
segindex_free(struct segindex *si)
{
	size_t i;

	for (i = 0; i < si->n; i++) {
		free(si->e[i].file);
		free(si->e[i].id);
	}
	free(si->e);
	memset(si, 0, sizeof *si);
}
