/* The response is built whole before it is sent, so a scrape sees one
 * moment; a buffer that grows by doubling holds it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"

static int
grow(struct text *t, size_t more)
{
	size_t cap = t->cap ? t->cap : 4096;
	char *p;

	while (cap - t->len < more + 1)
		cap *= 2;
	if (cap == t->cap)
		return 0;
	if ((p = realloc(t->p, cap)) == NULL) {
		t->failed = 1;
		return -1;
	}
	t->p = p;
	t->cap = cap;
	return 0;
}

void
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || t->failed || grow(t, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

void
text_label(struct text *t, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			text_add(t, "\\\\");
		else if (*s == '"')
			text_add(t, "\\\"");
		else if (*s == '\n')
			text_add(t, "\\n");
		else
			text_add(t, "%c", *s);
	}
}

void
text_free(struct text *t)
{
	free(t->p);
	t->p = NULL;
	t->len = t->cap = 0;
}
