/* --images: what the old server did with every ESP32 image, kept for
 * whoever reads that folder: the newest N images of all boards as
 * DIR/images/frame_<YYYYmmdd_HHMMSS>_<seq>.jpg, older ones deleted. Each
 * file is written under a temporary name and renamed, so a reader never
 * sees half an image; nothing is synced, the sessions are the record.
 * The lowest layer beside session.c: it calls nothing else of
 * sessionwriter. */
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sessionwriter.h"
#include "util.h"

#define NAME_CAP 64

/* The date and seq of a name this file writes, or -1 for any other name. */
static int
parse_name(const char *name, char date[16], uint64_t *seq)
{
	size_t n = strlen(name);
	char digits[24];

	/* frame_ YYYYmmdd _ HHMMSS _ seq .jpg */
	if (n < 6 + 15 + 1 + 1 + 4 || strncmp(name, "frame_", 6) != 0 ||
	    strcmp(name + n - 4, ".jpg") != 0 || name[14] != '_' || name[21] != '_' ||
	    strspn(name + 6, "0123456789") != 8 || strspn(name + 15, "0123456789") != 6 ||
	    n - 4 - 22 >= sizeof digits)
		return -1;
	memcpy(digits, name + 22, n - 4 - 22);
	digits[n - 4 - 22] = '\0';
	if (strspn(digits, "0123456789") != strlen(digits) ||
	    parse_u64(digits, 0, UINT64_MAX, seq) < 0)
		return -1;
	memcpy(date, name + 6, 15);
	date[15] = '\0';
	return 0;
}

/* Oldest first: by the time in the name, then by seq. */
static int
by_age(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	char dx[16], dy[16];
	uint64_t sx, sy;
	int d;

	parse_name(x, dx, &sx);
	parse_name(y, dy, &sy);
	if ((d = strcmp(dx, dy)) != 0)
		return d;
	return sx < sy ? -1 : sx > sy;
}

static void
remove_file(struct images *im, const char *name)
{
	char path[PATH_MAX];

	if (pathcat(path, sizeof path, im->dir, name) == 0 && unlink(path) < 0 &&
	    errno != ENOENT && !im->warned) {
		warn("%s", path);
		im->warned = 1;
	}
}

/* Put name (malloc'd) at the newest end; the oldest beyond keep goes. */
static void
push(struct images *im, char *name)
{
	size_t slot;

	if (im->n == im->keep) {
		remove_file(im, im->name[im->first]);
		free(im->name[im->first]);
		im->name[im->first] = NULL;
		im->first = (im->first + 1) % im->keep;
		im->n--;
	}
	slot = (im->first + im->n) % im->keep;
	im->name[slot] = name;
	im->n++;
}

int
images_open(struct images *im, const char *root, size_t keep)
{
	struct dirent *de;
	char date[16], **found = NULL, **more;
	size_t nfound = 0, cap = 0, i;
	uint64_t seq;
	DIR *d;

	memset(im, 0, sizeof *im);
	im->keep = keep;
	if ((im->name = calloc(keep, sizeof *im->name)) == NULL ||
	    asprintf(&im->dir, "%s/%s", root, IMAGES_DIR) < 0)
		return -1;
	if (mkdir(im->dir, 0755) < 0 && errno != EEXIST)
		return -1;
	if ((d = opendir(im->dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (parse_name(de->d_name, date, &seq) < 0)
			continue;
		if (nfound == cap) {
			cap = cap ? cap * 2 : 256;
			if ((more = reallocarray(found, cap, sizeof *found)) == NULL)
				err(1, NULL);
			found = more;
		}
		if ((found[nfound++] = strdup(de->d_name)) == NULL)
			err(1, NULL);
		if (seq > im->seq)
			im->seq = seq;
	}
	closedir(d);
	/* An earlier run's images are the oldest; names go on after its seq. */
	if (nfound > 0)
		qsort(found, nfound, sizeof *found, by_age);
	for (i = 0; i < nfound; i++)
		push(im, found[i]);
	free(found);
	return 0;
}

void
images_add(struct images *im, const unsigned char *jpeg, size_t len, int64_t wall_us)
{
	char tmp[PATH_MAX], path[PATH_MAX], date[32], *name;
	time_t sec = (time_t)(wall_us / 1000000);
	struct tm tm;
	int fd, ok;

	if (localtime_r(&sec, &tm) == NULL && gmtime_r(&sec, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	strftime(date, sizeof date, "%Y%m%d_%H%M%S", &tm);
	if (asprintf(&name, "frame_%s_%" PRIu64 ".jpg", date, ++im->seq) < 0)
		err(1, NULL);
	if (pathcat(tmp, sizeof tmp, im->dir, IMAGES_TMP) < 0 ||
	    pathcat(path, sizeof path, im->dir, name) < 0) {
		errno = ENAMETOOLONG;
		ok = 0;
	} else if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		ok = 0;
	} else {
		ok = writeall(fd, jpeg, len) == 0;
		if (close(fd) < 0)
			ok = 0;
		if (ok && rename(tmp, path) < 0)
			ok = 0;
	}
	if (!ok) {
		unlink(tmp);
		if (!im->warned)
			warn("%s/%s", im->dir, name);
		im->warned = 1;
		free(name);
		return;
	}
	im->warned = 0;
	push(im, name);
}

void
images_close(struct images *im)
{
	size_t i;

	if (im->name != NULL)
		for (i = 0; i < im->n; i++)
			free(im->name[(im->first + i) % im->keep]);
	free(im->name);
	free(im->dir);
	memset(im, 0, sizeof *im);
}
