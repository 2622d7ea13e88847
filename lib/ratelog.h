/* Lines about a client's misdeeds, at most once per period for each source
 * (an address) and at most a set number a period for all sources together,
 * so that neither one client nor a scan from many addresses floods the log;
 * what was held back is counted, to be said when the period ends. */
#ifndef CAMREC_RATELOG_H
#define CAMREC_RATELOG_H

#include <stdint.h>

#define RATELOG_SEEN	64	/* sources remembered; the oldest makes room */
#define RATELOG_SRC	56

struct ratelog {
	struct {
		char src[RATELOG_SRC];
		int64_t at;
	} seen[RATELOG_SEEN];
	int64_t window_us;	/* this period's lines began */
	unsigned window_lines, suppressed;
};

/* Whether a line about src is due at now (microseconds, monotonic), with
 * period_us between two lines about one source and max_lines a period in
 * all. *held gets how many lines were held back in the period that has
 * just ended (0 mostly), for the caller to say so. Zeroed memory is a
 * ready struct ratelog. */
int ratelog_due(struct ratelog *r, const char *src, int64_t now, int64_t period_us,
    unsigned max_lines, unsigned *held);

#endif
