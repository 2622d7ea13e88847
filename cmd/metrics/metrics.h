/* metrics's files, in layers: calls go down only.
 *   metrics.c  main: options, the HTTP server, one response per scrape
 *   collect.c  the exposition: reads the status file, the counters
 *              camrec.sh keeps, the recordings folder and the disk
 *   json.c     the exposition as one JSON document (--json)
 *   text.c     a growing text buffer and Prometheus label escaping
 * No file reads another's globals: what a lower file needs is passed in. */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

/* text.c */
struct text {
	char *p;
	size_t len, cap;
	int failed;		/* out of memory: the scrape fails */
};
void text_add(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s as a label value: backslash, double quote and newline escaped. */
void text_label(struct text *t, const char *s);
void text_free(struct text *t);

/* json.c */
/* The samples of an exposition as JSON text (to free), or NULL. */
char *json_from_text(const struct text *t);

/* collect.c */
struct sources {
	const char *recordings;	/* the recordings folder */
	const char *status;	/* sessionwriter's --status file, or NULL */
	const char *rundir;	/* camrec.sh's folder of *.counts, or NULL */
};
/* Every metric, as Prometheus text exposition format 0.0.4. */
void collect(const struct sources *src, struct text *t);

#endif
