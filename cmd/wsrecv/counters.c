/* wsrecv's counters, for metrics(1): what it received since it started
 * and how long it held its readers back. They are kept in memory, where a
 * message costs two additions, and written to the --counters file whole
 * through replace_file() at most once a second, and only when something
 * changed: a scrape costs wsrecv nothing. The file is JSON, like the
 * counters sessionwriter keeps in its status file. */
#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campath.h"
#include "util.h"
#include "wsrecv.h"

#define WRITE_GAP_US 1000000

int
counters_open(struct counters *k, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		k->dir = strdup(".");
		k->name = strdup(path);
	} else {
		k->dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
		k->name = strdup(slash + 1);
	}
	if (k->dir == NULL || k->name == NULL)
		return -1;
	k->changed = 1;
	return 0;
}

void
counters_close(struct counters *k)
{
	free(k->dir);
	free(k->name);
	k->dir = k->name = NULL;
}

void
counters_conn(struct counters *k, const char *path)
{
	switch (campath_kind(path, strlen(path))) {
	case CAMPATH_ESP:
		k->conns[1]++;
		break;
	case CAMPATH_DEV:
		k->conns[2]++;
		break;
	case CAMPATH_LIVE:
		k->conns[3]++;
		break;
	default:
		k->conns[0]++;
		break;
	}
	k->changed = 1;
}

void
counters_message(struct counters *k, size_t len)
{
	k->messages++;
	k->bytes += len;
	k->changed = 1;
}

/* The time a cause of holding was on, up to now. */
static void
held(struct counters *k, int cause, int on, int64_t now)
{
	if (k->held_on[cause])
		k->held_us[cause] += now - k->held_since[cause];
	k->held_on[cause] = on;
	k->held_since[cause] = now;
}

static void
write_file(struct counters *k, size_t queued, size_t reassembly)
{
	char text[1024];
	int n;

	n = snprintf(text, sizeof text, "{\"format\":\"camrec-counters 1\","
	    "\"program\":\"wsrecv\",\"pid\":%ld,\"counters\":{"
	    "\"connections_total\":{\"android\":%llu,\"esp\":%llu,\"dev\":%llu,"
	    "\"live\":%llu},"
	    "\"messages_received_total\":%llu,\"received_bytes_total\":%llu,"
	    "\"backpressure_seconds_total\":{\"stdout\":%.6f,\"budget\":%.6f},"
	    "\"queued_bytes\":%zu,\"reassembly_bytes\":%zu}}\n",
	    (long)getpid(), (unsigned long long)k->conns[0],
	    (unsigned long long)k->conns[1], (unsigned long long)k->conns[2],
	    (unsigned long long)k->conns[3], (unsigned long long)k->messages,
	    (unsigned long long)k->bytes, k->held_us[0] / 1e6, k->held_us[1] / 1e6,
	    queued, reassembly);
	if (n < 0 || (size_t)n >= sizeof text)
		return;
	/* A counter file that cannot be written must not stop recording:
	 * said once, tried again next time. */
	if (replace_file(k->dir, k->name, text, (size_t)n, 0) < 0) {
		if (!k->warned)
			warn("counters %s/%s", k->dir, k->name);
		k->warned = 1;
		return;
	}
	k->warned = 0;
}

void
counters_tick(struct counters *k, int64_t now, int stdout_held, int budget_held,
    size_t queued, size_t reassembly, int force)
{
	if (k->name == NULL)
		return;
	if (stdout_held != k->held_on[0] || budget_held != k->held_on[1])
		k->changed = 1;
	held(k, 0, stdout_held, now);
	held(k, 1, budget_held, now);
	if (queued != k->queued || reassembly != k->reassembly)
		k->changed = 1;
	if (k->held_on[0] || k->held_on[1])
		k->changed = 1;
	if (!force && (!k->changed || now - k->written_us < WRITE_GAP_US))
		return;
	k->queued = queued;
	k->reassembly = reassembly;
	write_file(k, queued, reassembly);
	k->written_us = now;
	k->changed = 0;
}
