/* Per-source rate limit of log lines; see ratelog.h. */
#include <stdio.h>
#include <string.h>

#include "ratelog.h"

int
ratelog_due(struct ratelog *r, const char *src, int64_t now, int64_t period_us,
    unsigned max_lines, unsigned *held)
{
	size_t i, oldest = 0;

	*held = 0;
	if (r->window_us == 0 || now - r->window_us >= period_us) {
		*held = r->suppressed;
		r->window_us = now;
		r->window_lines = 0;
		r->suppressed = 0;
	}
	for (i = 0; i < RATELOG_SEEN; i++) {
		if (r->seen[i].at != 0 && strcmp(r->seen[i].src, src) == 0) {
			if (now - r->seen[i].at < period_us)
				return 0;	/* said lately: not even counted */
			break;
		}
		if (r->seen[i].at < r->seen[oldest].at)
			oldest = i;
	}
	if (i == RATELOG_SEEN)
		i = oldest;
	if (r->window_lines >= max_lines) {
		r->suppressed++;
		return 0;
	}
	snprintf(r->seen[i].src, sizeof r->seen[i].src, "%s", src);
	r->seen[i].at = now;
	r->window_lines++;
	return 1;
}
