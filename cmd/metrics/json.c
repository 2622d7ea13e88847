/* --json: the same facts as the exposition, for scripts and jq. It is made
 * from the exposition text itself, so the two can never say different
 * things: each metric becomes a member named like it, a number when it
 * has no labels, else an array of objects holding the labels and "value".
 *
 *	{"camrec_sessions_opened_total": 3,
 *	 "camrec_connections": [{"kind": "android", "value": 2}, ...]} */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "metrics.h"

static json_t *
number(const char *s)
{
	char *end;
	double d = strtod(s, &end);
	long long n;

	if (end == s)
		return json_null();
	n = (long long)d;
	if ((double)n == d && d < 9e15 && d > -9e15)
		return json_integer(n);
	return json_real(d);
}

/* One label value from just after its opening quote up to the closing
 * one, unescaped; *p is left after the closing quote. */
static json_t *
label_value(const char **p)
{
	const char *s = *p;
	char *buf = malloc(strlen(s) + 1);
	size_t n = 0;
	json_t *v;

	if (buf == NULL)
		return NULL;
	for (; *s != '\0' && *s != '"'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			s++;
			buf[n++] = *s == 'n' ? '\n' : *s;
		} else
			buf[n++] = *s;
	}
	*p = *s == '"' ? s + 1 : s;
	v = json_stringn(buf, n);
	free(buf);
	return v;
}

/* One sample line: name, labels, value. */
static void
sample(json_t *root, const char *line)
{
	const char *p = line + strcspn(line, "{ ");
	char *name = strndup(line, (size_t)(p - line));
	json_t *labels = NULL, *list;
	const char *eq;

	if (name == NULL)
		return;
	if (*p == '{') {
		labels = json_object();
		for (p++; *p != '\0' && *p != '}';) {
			if ((eq = strchr(p, '=')) == NULL || eq[1] != '"')
				break;
			char *key = strndup(p, (size_t)(eq - p));

			p = eq + 2;
			if (key != NULL)
				json_object_set_new(labels, key, label_value(&p));
			free(key);
			if (*p == ',')
				p++;
		}
		if (*p == '}')
			p++;
	}
	p += strspn(p, " ");
	if (labels == NULL) {
		json_object_set_new(root, name, number(p));
	} else {
		json_object_set_new(labels, "value", number(p));
		if ((list = json_object_get(root, name)) == NULL) {
			list = json_array();
			json_object_set_new(root, name, list);
		}
		json_array_append_new(list, labels);
	}
	free(name);
}

char *
json_from_text(const struct text *t)
{
	json_t *root = json_object();
	const char *line = t->p, *end = t->p + t->len, *nl;
	char *copy, *out;

	while (line < end) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			nl = end;
		if (*line != '#' && nl > line &&
		    (copy = strndup(line, (size_t)(nl - line))) != NULL) {
			sample(root, copy);
			free(copy);
		}
		line = nl + 1;
	}
	out = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return out;
}
