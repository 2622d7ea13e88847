/* jansson gives a line and column only for a syntax error. For a key of
 * the wrong type or an unknown one, this walks the text, which jansson has
 * already accepted, to the place the message should point at. */
#include <string.h>

#include "camconf.h"

struct cursor {
	const char *p, *end;
	int line, column;
};

static void
advance(struct cursor *c)
{
	if (*c->p == '\n') {
		c->line++;
		c->column = 1;
	} else if ((*c->p & 0xc0) != 0x80)	/* a character, not a byte */
		c->column++;
	c->p++;
}

static void
skip_space(struct cursor *c)
{
	while (c->p < c->end && strchr(" \t\r\n", *c->p) != NULL)
		advance(c);
}

static void
skip_string(struct cursor *c)
{
	advance(c);	/* the opening quote */
	while (c->p < c->end && *c->p != '"') {
		if (*c->p == '\\' && c->p + 1 < c->end)
			advance(c);
		advance(c);
	}
	if (c->p < c->end)
		advance(c);
}

static void
skip_value(struct cursor *c)
{
	int depth = 0;

	do {
		skip_space(c);
		if (c->p >= c->end)
			return;
		if (*c->p == '"')
			skip_string(c);
		else if (*c->p == '{' || *c->p == '[') {
			depth++;
			advance(c);
		} else if (*c->p == '}' || *c->p == ']') {
			depth--;
			advance(c);
		} else if (*c->p == ',' || *c->p == ':')
			advance(c);
		else
			while (c->p < c->end && strchr(" \t\r\n,:]}", *c->p) == NULL)
				advance(c);
	} while (depth > 0);
}

/* Whether the string token at c is key, compared once decoded, since a
 * key may be written with escapes. */
static int
key_is(const struct cursor *c, const char *key)
{
	struct cursor end = *c;
	json_t *s;
	int same;

	skip_string(&end);
	s = json_loadb(c->p, (size_t)(end.p - c->p), JSON_DECODE_ANY, NULL);
	same = s != NULL && json_is_string(s) && strcmp(json_string_value(s), key) == 0;
	json_decref(s);
	return same;
}

int
jsonpos_find(const char *text, size_t len, const struct step *path,
    size_t depth, int at_key, int *line, int *column)
{
	struct cursor c = { text, text + len, 1, 1 }, key_at;
	size_t level, i;
	int found;

	key_at = c;
	skip_space(&c);
	for (level = 0; level < depth; level++) {
		if (c.p >= c.end || *c.p != (path[level].key ? '{' : '['))
			return -1;
		advance(&c);
		found = 0;
		for (i = 0; !found; i++) {
			skip_space(&c);
			if (c.p >= c.end || *c.p == '}' || *c.p == ']')
				return -1;
			if (path[level].key != NULL) {
				key_at = c;
				found = key_is(&c, path[level].key);
				skip_string(&c);
				skip_space(&c);
				advance(&c);	/* the colon */
			} else
				found = i == path[level].index;
			skip_space(&c);
			if (found)
				break;
			skip_value(&c);
			skip_space(&c);
			if (c.p < c.end && *c.p == ',')
				advance(&c);
		}
	}
	/* jansson keeps the last of two equal keys; duplicates are refused
	 * before this runs, so the first found is the one. */
	if (at_key && depth > 0 && path[depth - 1].key != NULL)
		c = key_at;
	*line = c.line;
	*column = c.column;
	return 0;
}
