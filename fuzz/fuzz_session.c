/* The readers of a session folder's session.json: prune's classification
 * (what may be deleted) and wsrecv's list of recordings for the console,
 * whose output must stay valid JSON whatever the file holds. The input is
 * written as the session.json of one folder in a folder made once. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "fuzz.h"
#include "prune.h"

#define NAME "127.0.0.1_40000_20261201_000000"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
char *reclist_json(int rootfd, size_t *len);	/* cmd/wsrecv/reclist.c */

static char root[] = "/tmp/fuzz_session.XXXXXX";
static int root_fd = -1, dir_fd = -1;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct entry e;
	char *list;
	size_t len;
	json_t *j;
	int fd;

	if (root_fd < 0) {
		if (mkdtemp(root) == NULL || (root_fd = open(root, O_RDONLY | O_DIRECTORY)) < 0 ||
		    mkdirat(root_fd, NAME, 0755) < 0 ||
		    (dir_fd = openat(root_fd, NAME, O_RDONLY | O_DIRECTORY)) < 0 ||
		    (fd = openat(dir_fd, "stream.h264", O_WRONLY | O_CREAT, 0644)) < 0)
			abort();
		close(fd);
	}
	if ((fd = openat(dir_fd, "session.json", O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	memset(&e, 0, sizeof e);
	e.name = (char *)NAME;
	scan_classify(dir_fd, &e, 1796110000000000LL);
	if (e.kind > KIND_OTHER)
		abort();
	if ((list = reclist_json(root_fd, &len)) != NULL) {
		if ((j = json_loadb(list, len, 0, NULL)) == NULL)
			abort();	/* the console would get broken JSON */
		json_decref(j);
		free(list);
	}
	return 0;
}
