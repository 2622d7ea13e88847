/* fpsest internals shared by its two source files. */
#ifndef FPSEST_H
#define FPSEST_H

#include <stddef.h>

#include "index.h"
#include "mapfile.h"
#include "segindex.h"

/* Thresholds deciding when a timing source is not believed. */
#define MAX_DEVICE_STEP_MS	10000	/* one step between pictures */
#define CROSS_CHECK_RATIO	2.0	/* device vs arrival rate, either way */
#define CROSS_CHECK_NOTE	0.10	/* mentioned when they differ more */
#define MIN_RATE		0.1	/* below or above: implausible */
#define MAX_RATE		1000.0
#define MIN_CLUE_SPAN		2.0	/* seconds; the folder time has 1 s resolution */
#define MAX_CLUE_SPAN		(31.0 * 86400)
#define LEGACY_MIN_SPAN		1.5	/* the old server's arrival-span threshold */
#define DEFAULT_RATE		10.0

enum source {
	SRC_DEVICE, SRC_ARRIVAL, SRC_VUI, SRC_CLUE, SRC_DURATION, SRC_DEFAULT,
	SRC_LEGACY, SRC_SEGMENTS, NSOURCES
};

struct estimate {
	int tried;
	int ok;
	double fps;
	char reason[200];
};

struct input {
	const char *arg;		/* the operand as given, for messages */
	char *index_path;		/* NULL without an index */
	char *stream_path;		/* NULL when there is none */
	char *dir;			/* the session folder (for the name clue) */
	char *segments_path;		/* a current phone's segments.tsv, or NULL */
	struct segindex seg;
	struct index ix;
	int have_index;
	struct mapfile stream;
	int stream_mapped;		/* 1 mapped, -1 failed, 0 not yet */
	long long pictures;		/* in the stream; -1 not counted yet */
	double duration;		/* --duration, 0 when not given */
};

/* estimate.c */
extern const char *source_name[NSOURCES];
void est_device(struct input *in, struct estimate *e, const struct estimate *arrival);
void est_arrival(struct input *in, struct estimate *e);
void est_vui(struct input *in, struct estimate *e);
void est_clue(struct input *in, struct estimate *e);
void est_duration(struct input *in, struct estimate *e);
void est_legacy(struct input *in, struct estimate *e);
void est_segments(struct input *in, struct estimate *e);
int stream_map(struct input *in);

#endif
