/* Shared secrets that clients present: a token read from a file, compared
 * in constant time, and taken out of request paths before they are kept. */
#ifndef CAMREC_SECRET_H
#define CAMREC_SECRET_H

#include <stddef.h>

/* A token is 16 to 256 characters a URL carries unescaped: letters,
 * digits and - . _ ~ (what `openssl rand -hex 32` or a UUID gives). */
#define SECRET_MIN	16
#define SECRET_MAX	256

/* secret.c */
/* Read the token from the first line of path into buf (SECRET_MAX + 1
 * bytes); trailing blanks and the newline are not part of it. 0 with *len
 * set, or -1 with errno: EINVAL when the line is not a token (*why says
 * what is wrong), else what open or read said. */
int secret_load(const char *path, char *buf, size_t *len, const char **why);
/* Whether given[0..glen) is the secret want[0..wlen). Takes the same time
 * whatever the bytes of given are, and for any glen, so that timing tells
 * a client nothing about how much of a guess was right. */
int secret_equal(const char *given, size_t glen, const char *want, size_t wlen);

/* urlquery.c */
/* Whether one parameter of a query ("name=value", or "name" alone) is
 * called name. */
int query_is(const char *param, const char *name);

#endif
