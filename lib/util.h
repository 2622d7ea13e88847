/* Small helpers every camrec tool uses. Library code never prints or exits. */
#ifndef CAMREC_UTIL_H
#define CAMREC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/* writeall.c */
/* Write all of buf, looping over short writes and EINTR. 0 or -1 with errno. */
int writeall(int fd, const void *buf, size_t len);

/* parsenum.c */
/* Parse a whole decimal string into [min, max]. 0, or -1 with errno
 * EINVAL (not a number) or ERANGE (outside the range). */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_double(const char *s, double min, double max, double *out);

/* be.c: big-endian fields of the wire formats. */
uint16_t be16_get(const unsigned char *p);
uint32_t be32_get(const unsigned char *p);
uint64_t be64_get(const unsigned char *p);
void be16_put(unsigned char *p, uint16_t v);
void be32_put(unsigned char *p, uint32_t v);
void be64_put(unsigned char *p, uint64_t v);

/* version.c */
/* Print "NAME camrec VERSION" on stdout; for --version. */
int print_version(const char *name);

/* stdout_close.c */
/* Flush and close stdout, returning -1 with errno when output was lost. */
int stdout_close(void);

/* clock.c */
/* Microseconds on the monotonic clock: for timeouts and intervals. */
int64_t mono_us(void);

/* fdlimit.c */
/* Raise the open-files soft limit to the hard one, at most cap; returns
 * the limit in force, 0 when it cannot be read. */
rlim_t fdlimit_raise(rlim_t cap);

/* pipesize.c */
/* A pipe between the tools holds PIPE_GROW bytes: at the kernel's default
 * 64 KiB every frame costs the reader a wake-up. */
#define PIPE_GROW (1 << 20)
/* Make fd, when it is a pipe, hold size bytes: 1, 0 when fd is no pipe,
 * or -1 with errno (EPERM above /proc/sys/fs/pipe-max-size). */
int pipe_grow(int fd, int size);

/* pathcat.c */
/* "dir/name" into buf; 0, or -1 with errno ENAMETOOLONG. */
int pathcat(char *buf, size_t cap, const char *dir, const char *name);

/* replace.c */
/* Replace dir/name with data through dir/.name.tmp and rename(2), so a
 * reader (or a crash) sees the old or the new file, never a mix; with
 * sync, fsync(2) before the rename. 0, or -1 with errno and no temporary
 * left behind. */
int replace_file(const char *dir, const char *name, const char *data, size_t len, int sync);

#endif
