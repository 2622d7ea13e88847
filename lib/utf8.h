/* Text from clients goes into JSON files (session.json, the status file),
 * and JSON holds only valid UTF-8. */
#ifndef CAMREC_UTF8_H
#define CAMREC_UTF8_H

#include <stddef.h>

/* utf8.c */
/* Replace, in place, every byte of s[0..len) that is not part of a valid
 * UTF-8 sequence (a cut-off one at the end included) by '?', and NUL by
 * '?'. Returns the number of bytes replaced. */
size_t utf8_fix(char *s, size_t len);

#endif
