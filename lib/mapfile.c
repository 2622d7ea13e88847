/* mmap keeps a multi-gigabyte stream.h264 scan at page-cache speed with no
 * copy; regular files only, since a pipe cannot be mapped. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mapfile.h"

static const unsigned char empty[1];

int
mapfile_open(const char *path, struct mapfile *m)
{
	void *p;
	int fd, saved;

	m->p = empty;
	m->len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &m->st) < 0)
		goto fail;
	if (S_ISDIR(m->st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (!S_ISREG(m->st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((uint64_t)m->st.st_size > SIZE_MAX) {
		errno = EFBIG;
		goto fail;
	}
	if (m->st.st_size > 0) {
		p = mmap(NULL, (size_t)m->st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			goto fail;
		/* One sequential pass; let the kernel read ahead hard. */
		madvise(p, (size_t)m->st.st_size, MADV_SEQUENTIAL);
		m->p = p;
		m->len = (size_t)m->st.st_size;
	}
	close(fd);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

void
mapfile_close(struct mapfile *m)
{
	if (m->p != empty && m->len > 0)
		munmap((void *)m->p, m->len);
	m->p = empty;
	m->len = 0;
}
