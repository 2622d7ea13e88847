/* The list of MP4 segments beside a current phone's session (segments.tsv),
 * written by sessionwriter and read by mux and fpsest.
 * man/camrec-session.5 documents it. */
#ifndef CAMREC_SEGINDEX_H
#define CAMREC_SEGINDEX_H

#include <stddef.h>
#include <stdint.h>

#define SEGINDEX_NAME   "segments.tsv"
#define SEGINDEX_HEADER "#camrec-segments 1\tseq\tfile\tarrival_us\tsize\tsha256\tid\n"
#define SEGINDEX_NAME_MAX 64		/* bytes of a name made from an id */

struct segindex_entry {
	uint32_t seq;
	char *file;			/* a plain name in the session folder */
	uint64_t arrival_us;		/* wsrecv's monotonic clock */
	uint64_t size;
	char sha256[65];		/* hex */
	char *id;			/* the phone's segment id, escaped as written */
	size_t line;			/* where it stands in the file, 1-based */
};

struct segindex {
	struct segindex_entry *e;
	size_t n;
};

/* segindex.c */
/* Whether s[0..len) is a name that stays in its folder: letters, digits,
 * '.', '_' and '-' only, not starting with '.'. */
int segindex_plain_name(const char *s, size_t len);
/* One line, newline included, into buf; the id (the phone's text, len
 * bytes) with every byte outside '!'..'~' and '\' as \xHH. Returns the
 * length, or 0 when cap is too small. */
size_t segindex_format(char *buf, size_t cap, const struct segindex_entry *e,
    const char *id, size_t id_len);
/* Load a whole list. 0, or -1 with errno (I/O), or for a bad line errno
 * EINVAL, *bad_line (1-based) and *why. */
int segindex_load(const char *path, struct segindex *si, size_t *bad_line,
    const char **why);
void segindex_free(struct segindex *si);
/* A file name (no extension) made from a phone's segment id: [A-Za-z0-9_-]
 * kept, every other byte '_', at most SEGINDEX_NAME_MAX bytes, "segment"
 * when empty; so it always passes segindex_plain_name. out has room for
 * SEGINDEX_NAME_MAX + 1 bytes. Returns its length. */
size_t segindex_safe_name(char *out, const char *id, size_t id_len);
/* Parse one line (its newline optional) in place into *e, whose file and id
 * point into line afterwards. 0, or -1 with *why. */
int segindex_parse_line(char *line, struct segindex_entry *e, const char **why);
/* Undo the escaping of an id: \xHH back to the byte, in place. Returns
 * the new length. */
size_t segindex_unescape(char *id);

#endif
