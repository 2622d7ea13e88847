/* What a hook is told about its session, from session.json
 * (camrec-session(5)). Every value is a string in an environment
 * variable, never part of a command line: the device model is whatever
 * the phone sent, and a hook that wants it as an argument must quote it
 * itself. A folder without session.json (one of the old recorder's) gets
 * empty values for what only session.json knows. This file calls no other
 * file of hookrun. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "hookrun.h"
#include "util.h"

/* session.json is a few hundred bytes; anything far bigger is not one. */
#define JSON_MAX (1 << 20)

static json_t *
load(int dir_fd, const char *dir, char *why, size_t why_size)
{
	json_error_t je;
	json_t *o;
	FILE *f;
	int fd;

	if ((fd = openat(dir_fd, "session.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return json_object();
		snprintf(why, why_size, "%s/session.json: %s", dir, strerror(errno));
		return NULL;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		snprintf(why, why_size, "%s/session.json: %s", dir, strerror(errno));
		close(fd);
		return NULL;
	}
	o = json_loadf(f, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	fclose(f);
	if (o == NULL) {
		snprintf(why, why_size, "%s/session.json: line %d column %d: %s",
		    dir, je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		snprintf(why, why_size, "%s/session.json: not a JSON object", dir);
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
put(const char *name, const char *value)
{
	return setenv(name, value != NULL ? value : "", 1);
}

static int
put_number(const char *name, const char *fmt, double v)
{
	char buf[64];

	snprintf(buf, sizeof buf, fmt, v);
	return put(name, buf);
}

static const char *
string_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A number of session.json, or -1 when absent or not a number >= 0. */
static double
number_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) && json_number_value(v) >= 0 ?
	    json_number_value(v) : -1;
}

/* "address:port", "[v6 address]:port", or empty. */
static int
put_peer(json_t *o)
{
	json_t *peer = json_object_get(o, "peer");
	const char *addr = string_of(peer, "address");
	double port = number_of(peer, "port");
	char buf[128];

	if (addr == NULL || port < 0 || port > 65535)
		return put("CAMREC_PEER", "");
	snprintf(buf, sizeof buf, strchr(addr, ':') ? "[%.100s]:%d" : "%.100s:%d",
	    addr, (int)port);
	return put("CAMREC_PEER", buf);
}

/* Seconds of video by the camera's clock, else by ours; and frames per
 * second over that span. */
static int
put_timing(json_t *o)
{
	double first = number_of(o, "first_device_ms");
	double last = number_of(o, "last_device_ms");
	double start = number_of(o, "started_wall_us");
	double end = number_of(o, "ended_wall_us");
	double frames = number_of(o, "frames");
	double span = -1;

	if (first >= 0 && last > first)
		span = (last - first) / 1e3;
	else if (start >= 0 && end > start)
		span = (end - start) / 1e6;
	if ((span >= 0 ? put_number("CAMREC_DURATION", "%.3f", span) :
	    put("CAMREC_DURATION", "")) < 0)
		return -1;
	if (span > 0 && frames >= 2)
		return put_number("CAMREC_FPS", "%.3f", (frames - 1) / span);
	return put("CAMREC_FPS", "");
}

int
facts_export(int dir_fd, const char *dir, const char *event,
    char *why, size_t why_size)
{
	char abs[PATH_MAX], mp4[PATH_MAX];
	struct stat st;
	json_t *o;
	double frames;
	int rv = -1;

	if ((o = load(dir_fd, dir, why, why_size)) == NULL)
		return -1;
	if (realpath(dir, abs) == NULL) {
		snprintf(why, why_size, "%s: %s", dir, strerror(errno));
		goto out;
	}
	mp4[0] = '\0';
	if (fstatat(dir_fd, "stream.mp4", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && pathcat(mp4, sizeof mp4, abs, "stream.mp4") < 0)
		mp4[0] = '\0';
	frames = number_of(o, "frames");
	if (put("CAMREC_SESSION_DIR", abs) < 0 ||
	    put("CAMREC_MP4", mp4) < 0 ||
	    (frames >= 0 ? put_number("CAMREC_FRAMES", "%.0f", frames) :
	    put("CAMREC_FRAMES", "")) < 0 ||
	    put_timing(o) < 0 ||
	    put_peer(o) < 0 ||
	    put("CAMREC_DEVICE_MODEL", string_of(o, "device_model")) < 0 ||
	    put("CAMREC_STATE", string_of(o, "state")) < 0 ||
	    put("CAMREC_EVENT", event) < 0) {
		snprintf(why, why_size, "environment: %s", strerror(errno));
		goto out;
	}
	rv = 0;
out:
	json_decref(o);
	return rv;
}
