/* Whole files read-only in memory (mmap), for the H.264 scanners. */
#ifndef CAMREC_MAPFILE_H
#define CAMREC_MAPFILE_H

#include <stddef.h>
#include <sys/stat.h>

struct mapfile {
	const unsigned char *p;	/* never NULL after a successful open */
	size_t len;
	struct stat st;
};

/* mapfile.c */
/* Map path read-only; 0, or -1 with errno (EISDIR for a directory,
 * EFBIG when it does not fit the address space). An empty file maps to
 * an empty buffer. */
int mapfile_open(const char *path, struct mapfile *m);
void mapfile_close(struct mapfile *m);

#endif
