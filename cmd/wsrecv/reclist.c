/* The list of recordings for the console page, as JSON, newest first. It
 * is made from the session.json of each folder, which sessionwriter
 * replaces whole (rename), so reading it never meets half a file; a
 * session still recording is left out, and no other file of a folder is
 * read, only looked at (stream.mp4 and thumbnail.jpg: there or not, and
 * how big). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "beneath.h"
#include "wsrecv.h"

#define SESSION_JSON_MAX	(1u << 20)
#define RECLIST_MAX		1000	/* the newest this many */

static json_t *
load_session(int rootfd, const char *name)
{
	char path[512];
	struct stat st;
	json_t *j = NULL;
	json_error_t e;
	char *buf;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof path, "%s/session.json", name) >= sizeof path)
		return NULL;
	if ((fd = open_beneath(rootfd, path, O_RDONLY | O_NONBLOCK)) < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > SESSION_JSON_MAX || (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	n = pread(fd, buf, (size_t)st.st_size, 0);
	close(fd);
	if (n == st.st_size)
		j = json_loadb(buf, (size_t)n, 0, &e);
	free(buf);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* Size of a regular file of the folder, or -1. */
static long long
file_size(int rootfd, const char *name, const char *file)
{
	char path[512];
	struct stat st;
	int fd;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", name, file) >= sizeof path)
		return -1;
	if ((fd = open_beneath(rootfd, path, O_RDONLY | O_NONBLOCK)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		st.st_size = -1;
	close(fd);
	return (long long)st.st_size;
}

/* "/recordings/NAME/FILE" with everything but [A-Za-z0-9._-] escaped. */
static json_t *
url(const char *name, const char *file)
{
	static const char hex[] = "0123456789ABCDEF";
	char buf[3 * 256 + 64], *p = buf;
	const unsigned char *s;

	p += sprintf(p, "/recordings/");
	for (s = (const unsigned char *)name; *s && p < buf + 3 * 256; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-')
			*p++ = (char)*s;
		else {
			*p++ = '%';
			*p++ = hex[*s >> 4];
			*p++ = hex[*s & 15];
		}
	}
	*p++ = '/';
	strcpy(p, file);
	return json_string(buf);
}

static json_t *
entry(int rootfd, const char *name, json_t *s)
{
	json_t *o = json_object(), *peer = json_object_get(s, "peer");
	json_t *start = json_object_get(s, "started_wall_us");
	json_t *stop = json_object_get(s, "ended_wall_us");
	long long mp4 = file_size(rootfd, name, "stream.mp4");
	long long thumb = file_size(rootfd, name, "thumbnail.jpg");
	json_t *bytes = json_object_get(s, "bytes");

	json_object_set_new(o, "folder", json_string(name));
	json_object_set(o, "camera", json_is_object(peer) ? peer : json_null());
	json_object_set(o, "device_model", json_object_get(s, "device_model") ?
	    json_object_get(s, "device_model") : json_null());
	json_object_set(o, "kind", json_object_get(s, "kind") ?
	    json_object_get(s, "kind") : json_null());
	json_object_set(o, "path", json_object_get(s, "path") ?
	    json_object_get(s, "path") : json_null());
	json_object_set(o, "start", json_object_get(s, "started") ?
	    json_object_get(s, "started") : json_null());
	json_object_set(o, "started_wall_us", json_is_integer(start) ? start : json_null());
	json_object_set_new(o, "duration", json_is_integer(start) &&
	    json_is_integer(stop) ? json_real((double)(json_integer_value(stop) -
	    json_integer_value(start)) / 1e6) : json_null());
	json_object_set_new(o, "size", mp4 >= 0 ? json_integer(mp4) :
	    json_is_integer(bytes) ? json_integer(json_integer_value(bytes)) :
	    json_null());
	json_object_set(o, "state", json_object_get(s, "state"));
	json_object_set_new(o, "video", mp4 > 0 ? url(name, "stream.mp4") : json_null());
	json_object_set_new(o, "thumbnail", thumb > 0 ? url(name, "thumbnail.jpg") :
	    json_null());
	return o;
}

static int
newest_first(const void *a, const void *b)
{
	json_t *x = json_object_get(*(json_t *const *)a, "started_wall_us");
	json_t *y = json_object_get(*(json_t *const *)b, "started_wall_us");
	json_int_t u = json_is_integer(x) ? json_integer_value(x) : 0;
	json_int_t v = json_is_integer(y) ? json_integer_value(y) : 0;

	return u < v ? 1 : u > v ? -1 : strcmp(
	    json_string_value(json_object_get(*(json_t *const *)a, "folder")),
	    json_string_value(json_object_get(*(json_t *const *)b, "folder")));
}

/* The JSON text, malloc'd, or NULL with errno. */
char *
reclist_json(int rootfd, size_t *len)
{
	json_t **v = NULL, *arr, *s, *top, *state;
	size_t n = 0, cap = 0, i;
	struct dirent *d;
	char *text;
	DIR *dir;
	int fd;

	if ((fd = dup(rootfd)) < 0 || (dir = fdopendir(fd)) == NULL)
		return NULL;
	rewinddir(dir);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.' || strlen(d->d_name) > 255)
			continue;
		if ((s = load_session(rootfd, d->d_name)) == NULL)
			continue;
		state = json_object_get(s, "state");
		if (!json_is_string(state) ||
		    strcmp(json_string_value(state), "recording") == 0) {
			json_decref(s);
			continue;
		}
		if (n == cap) {
			json_t **nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof *v);

			if (nv == NULL) {
				json_decref(s);
				break;
			}
			v = nv;
		}
		v[n++] = entry(rootfd, d->d_name, s);
		json_decref(s);
	}
	closedir(dir);
	if (n > 0)
		qsort(v, n, sizeof *v, newest_first);
	arr = json_array();
	for (i = 0; i < n; i++) {
		if (i < RECLIST_MAX)
			json_array_append(arr, v[i]);
		json_decref(v[i]);
	}
	free(v);
	top = json_pack("{s:s,s:o}", "format", "camrec-recordings 1", "recordings", arr);
	text = top ? json_dumps(top, JSON_COMPACT) : NULL;
	json_decref(top);
	if (text == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	*len = strlen(text);
	return text;
}
