/* -v: one line on stderr for each session opened and ended, beside the
 * warnings, so a log (journald) tells the story of each camera without a
 * line per frame. The folder names the camera (its address and port) and
 * the session; what the camera said of itself is escaped. */
#include <stdio.h>
#include <string.h>

#include "logtext.h"
#include "sessionwriter.h"

void
event_opened(const struct conn *c, const char *dir, const char *started_by)
{
	char model[200] = "";

	if (c->device_model != NULL)
		logtext_escape(model, sizeof model, c->device_model,
		    strlen(c->device_model));
	fprintf(stderr, "sessionwriter: %s: opened by %s, conn %llu%s%s\n", dir,
	    started_by, (unsigned long long)c->id, *model ? ", device " : "", model);
}

void
event_closed(const struct conn *c, const char *dir, const char *ended_by,
    uint64_t frames, uint64_t bytes)
{
	fprintf(stderr, "sessionwriter: %s: closed by %s, conn %llu, %llu frames, "
	    "%llu bytes\n", dir, ended_by, (unsigned long long)c->id,
	    (unsigned long long)frames, (unsigned long long)bytes);
}
