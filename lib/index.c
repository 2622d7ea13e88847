#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index.h"
#include "rec.h"

/* The buffers an index starts with; the fuzz build starts them small
 * (INDEX_START_BYTES=4096 in the Makefile) so that a run costs no megabyte
 * and their growing is reached by small inputs. */
#ifndef INDEX_START_BYTES
#define INDEX_START_BYTES (1u << 20)
#endif
#define INDEX_START_ENTRIES (INDEX_START_BYTES / 256)

size_t
index_format(char *buf, const struct index_entry *e)
{
	int n = snprintf(buf, INDEX_LINE_MAX, "%u\t%llu\t%llu\t%llu\t%u\t%s\n",
	    (unsigned)e->seq, (unsigned long long)e->device_ms,
	    (unsigned long long)e->arrival_us, (unsigned long long)e->offset,
	    (unsigned)e->size, frame_kind_name(e->kind));

	return n < 0 ? 0 : (size_t)n;
}

int
frame_kind_parse(const char *s, size_t len)
{
	static const uint8_t kinds[] = { FRAME_UNKNOWN, FRAME_CONFIG, FRAME_KEY, FRAME_DELTA,
	    FRAME_JPEG };
	size_t i;

	for (i = 0; i < sizeof kinds; i++) {
		const char *name = frame_kind_name(kinds[i]);
		if (strlen(name) == len && memcmp(name, s, len) == 0)
			return kinds[i];
	}
	return -1;
}

/* Parse an unsigned decimal field ending in sep; advances *p past sep. */
static int
field(const char **p, const char *end, char sep, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s >= end || *s < '0' || *s > '9')
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (s >= end || *s != sep)
		return -1;
	*p = s + 1;
	*out = v;
	return 0;
}

static int
parse_line(const char *s, const char *end, struct index_entry *e)
{
	uint64_t seq, size;
	const char *nl;
	int kind;

	if (field(&s, end, '\t', &seq) < 0 || seq > UINT32_MAX ||
	    field(&s, end, '\t', &e->device_ms) < 0 ||
	    field(&s, end, '\t', &e->arrival_us) < 0 ||
	    field(&s, end, '\t', &e->offset) < 0 ||
	    field(&s, end, '\t', &size) < 0 || size > UINT32_MAX)
		return -1;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (nl == NULL || (kind = frame_kind_parse(s, (size_t)(nl - s))) < 0)
		return -1;
	e->seq = (uint32_t)seq;
	e->size = (uint32_t)size;
	e->kind = (uint8_t)kind;
	return 0;
}

static int
load(const char *path, struct index *ix, size_t *bad_line, int partial)
{
	char *data = NULL, *p, *end;
	size_t cap = 0, len = 0, line = 0, ecap = 0;
	ssize_t n;
	int fd;

	memset(ix, 0, sizeof *ix);
	*bad_line = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	for (;;) {
		if (cap - len < INDEX_START_BYTES / 16) {
			char *q = realloc(data, cap = cap ? cap * 2 : INDEX_START_BYTES);
			if (q == NULL)
				goto fail;
			data = q;
		}
		n = read(fd, data + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	fd = -1;

	end = data + len;
	for (p = data; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		line++;
		if (nl == NULL) {
			/* A crash can tear the last line; the rest is still good. */
			ix->torn_tail = 1;
			break;
		}
		if (*p != '#') {
			if (ix->n == ecap) {
				size_t ncap = ecap ? ecap * 2 : INDEX_START_ENTRIES;
				struct index_entry *q = realloc(ix->e, ncap * sizeof *q);
				if (q == NULL)
					goto fail;
				ix->e = q;
				ecap = ncap;
			}
			if (parse_line(p, nl + 1, &ix->e[ix->n]) < 0) {
				*bad_line = line;
				if (partial && line > 1)
					break;
				errno = EINVAL;
				goto fail;
			}
			ix->n++;
		} else if (line == 1 && strncmp(p, "#camrec-index 1\t", 16) != 0) {
			*bad_line = 1;
			errno = EINVAL;
			goto fail;
		}
		p = nl + 1;
	}
	if (len > 0 && *data != '#') {
		*bad_line = 1;
		errno = EINVAL;
		goto fail;
	}
	free(data);
	return 0;
fail:
	{
		int saved = errno;
		if (fd >= 0)
			close(fd);
		free(data);
		index_free(ix);
		errno = saved;
	}
	return -1;
}

int
index_load(const char *path, struct index *ix, size_t *bad_line)
{
	return load(path, ix, bad_line, 0);
}

int
index_load_prefix(const char *path, struct index *ix, size_t *bad_line)
{
	return load(path, ix, bad_line, 1);
}

void
index_free(struct index *ix)
{
	free(ix->e);
	ix->e = NULL;
	ix->n = 0;
}
