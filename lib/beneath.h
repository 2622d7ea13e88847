/* Opening a file strictly below a folder, for anything that serves files
 * by names a client chose. */
#ifndef CAMREC_BENEATH_H
#define CAMREC_BENEATH_H

/* beneath.c */
/* Open path below the folder dirfd with openat2(RESOLVE_BENEATH): no "..",
 * absolute path or symbolic link may lead out of it, checked by the kernel
 * as it opens. The descriptor, or -1 with errno (EXDEV for an escape). */
int open_beneath(int dirfd, const char *path, int flags);

#endif
