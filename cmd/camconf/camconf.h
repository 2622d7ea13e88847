/* camconf's files, in layers: calls go down only.
 *   camconf.c  main: options, reading the file, printing the settings
 *   schema.c   every key with its type, range and default; checks a
 *              decoded file against them
 *   jsonpos.c  where a key or value stands in the text (line, column),
 *              for the message about it
 * No file reads another's globals: what a lower file needs is passed in. */
#ifndef CAMCONF_H
#define CAMCONF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum key_type {
	KEY_STRING,	/* non-empty, no control characters */
	KEY_UINT,	/* a whole number in [min, max] */
	KEY_BOOL,
	KEY_ARGV,	/* an array of strings: a command, never a shell line */
	KEY_FREE,	/* "10%" (1-99) or a size */
	KEY_SIZE,	/* "500G": digits, then K, M, G, T or P (powers of 1024) */
	KEY_AGE,	/* "30d": digits, then s, m, h, d or w */
};

struct key {
	const char *name;	/* "hooks.timeout" */
	enum key_type type;
	uint64_t min, max;	/* KEY_UINT */
	const char *dflt;	/* the default as JSON text; NULL: unset */
};

/* One step of a path into the file: an object key or an array index. */
struct step {
	const char *key;	/* NULL for an array element */
	size_t index;
};

/* schema.c */
extern const struct key schema_keys[];
/* What a bad setting is checked against, on one line. */
struct config_error {
	struct step path[3];
	size_t depth;
	int at_key;		/* point at the key (unknown key), not its value */
	char what[512];		/* "expected ..., got ..." */
};
/* 0 when root holds only known keys of the right type and range; else -1
 * with the first problem in *e. */
int schema_check(json_t *root, struct config_error *e);
/* The value of key in root, NULL when the file does not set it. */
json_t *schema_get(json_t *root, const char *name);

/* jsonpos.c */
/* Line and column (from 1) of the key (at_key) or the value at path in
 * text, which must be valid JSON; 0, or -1 when it is not there. */
int jsonpos_find(const char *text, size_t len, const struct step *path,
    size_t depth, int at_key, int *line, int *column);

#endif
