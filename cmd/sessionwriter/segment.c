/* One MP4 segment of a current phone into its session folder: the MP4 and
 * its QR results are written whole under temporary names, then linked to
 * their final names, so no crash leaves half a segment under a final name
 * and link(2) never replaces a file that is there. The lowest layer beside
 * jsontext.c: it calls nothing else of sessionwriter. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "segindex.h"
#include "sessionwriter.h"
#include "util.h"

#define MAX_SUFFIX 100000

static int
write_tmp(int dir_fd, const char *tmp, const void *p, size_t len, const char *tail, int sync)
{
	int fd, saved;

	if ((fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return -1;
	if (writeall(fd, p, len) < 0 || writeall(fd, tail, strlen(tail)) < 0 ||
	    (sync && fsync(fd) < 0)) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

int
segment_store(int dir_fd, int sync, const struct rec_segment *sg,
    struct segment_names *names, char *name, const char **what)
{
	char base[SEGINDEX_NAME_MAX + 1], mp4[SEGMENT_NAME_CAP + 8], qr[SEGMENT_NAME_CAP + 16];
	int n, saved;

	segindex_safe_name(base, sg->id, sg->id_len);
	*what = SEGMENT_TMP;
	if (write_tmp(dir_fd, SEGMENT_TMP, sg->mp4, sg->mp4_len, "", sync) < 0)
		goto fail;
	*what = QR_TMP;
	if (sg->qr_len > 0) {
		if (write_tmp(dir_fd, QR_TMP, sg->qr, sg->qr_len, "\n", sync) < 0)
			goto fail;
	} else if (write_tmp(dir_fd, QR_TMP, "[]", 2, "\n", sync) < 0)
		goto fail;
	/* A name taken is the next suffix; the search goes on from the one
	 * this base used last, so a phone repeating an id costs one link. */
	n = strcmp(base, names->base) == 0 ? names->suffix + 1 : 1;
	for (; n <= MAX_SUFFIX; n++) {
		if (n == 1)
			snprintf(name, SEGMENT_NAME_CAP, "%s", base);
		else
			snprintf(name, SEGMENT_NAME_CAP, "%s_%d", base, n);
		snprintf(mp4, sizeof mp4, "%s.mp4", name);
		snprintf(qr, sizeof qr, "%s_qr.json", name);
		*what = "segment file";
		if (linkat(dir_fd, SEGMENT_TMP, dir_fd, mp4, 0) < 0) {
			if (errno == EEXIST)
				continue;
			goto fail;
		}
		if (linkat(dir_fd, QR_TMP, dir_fd, qr, 0) < 0) {
			saved = errno;
			unlinkat(dir_fd, mp4, 0);
			if ((errno = saved) == EEXIST)
				continue;
			goto fail;
		}
		break;
	}
	if (n > MAX_SUFFIX) {
		errno = EEXIST;
		goto fail;
	}
	snprintf(names->base, sizeof names->base, "%s", base);
	names->suffix = n;
	unlinkat(dir_fd, SEGMENT_TMP, 0);
	unlinkat(dir_fd, QR_TMP, 0);
	return 0;
fail:
	saved = errno;
	unlinkat(dir_fd, SEGMENT_TMP, 0);
	unlinkat(dir_fd, QR_TMP, 0);
	errno = saved;
	return -1;
}

void
segment_unstore(int dir_fd, const char *name)
{
	char path[SEGMENT_NAME_CAP + 16];

	snprintf(path, sizeof path, "%s.mp4", name);
	unlinkat(dir_fd, path, 0);
	snprintf(path, sizeof path, "%s_qr.json", name);
	unlinkat(dir_fd, path, 0);
}
