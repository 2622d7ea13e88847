/* The per-frame index beside every recording's stream.h264 (index.tsv),
 * written by sessionwriter and read by fpsest, mux and recovery.
 * man/camrec-session.5 documents it. */
#ifndef CAMREC_INDEX_H
#define CAMREC_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define INDEX_NAME   "index.tsv"
#define INDEX_HEADER "#camrec-index 1\tseq\tdevice_ms\tarrival_us\toffset\tsize\tkind\n"
#define INDEX_LINE_MAX 128

struct index_entry {
	uint32_t seq;
	uint64_t device_ms;		/* camera clock; 0 for the config packet */
	uint64_t arrival_us;		/* wsrecv's monotonic clock */
	uint64_t offset;		/* where the payload starts in stream.h264 */
	uint32_t size;			/* payload bytes */
	uint8_t kind;			/* enum frame_kind from rec.h */
};

struct index {
	struct index_entry *e;
	size_t n;
	int torn_tail;			/* a last line without newline was dropped */
};

/* index.c */
/* Format one line, newline included; returns its length (< INDEX_LINE_MAX). */
size_t index_format(char *buf, const struct index_entry *e);
/* Load a whole index. 0, or -1 with errno (I/O) or, for a malformed file,
 * errno EINVAL and *bad_line set to the 1-based line number. */
int index_load(const char *path, struct index *ix, size_t *bad_line);
/* The same, but a malformed line after the header ends the index instead of
 * failing it: the entries before it are kept and *bad_line names it (0 when
 * every line was good). */
int index_load_prefix(const char *path, struct index *ix, size_t *bad_line);
void index_free(struct index *ix);
/* Parse a kind name ("config", "key", ...); -1 when unknown. */
int frame_kind_parse(const char *s, size_t len);

#endif
