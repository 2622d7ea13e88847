/* Text from outside (a folder name, a program's stderr, what a camera
 * sent) made safe for a one-line log: journald and terminals show the
 * line as it is, so a newline would forge a second entry and an escape
 * sequence would move the cursor. */
#ifndef CAMREC_LOGTEXT_H
#define CAMREC_LOGTEXT_H

#include <stddef.h>

/* logtext.c */
/* Copy len bytes of in to out (cap bytes, cap >= 1, always terminated),
 * every byte outside printable ASCII written \xHH and the backslash \\;
 * stops before an escape that would not fit. Returns how many bytes of in
 * were taken. */
size_t logtext_escape(char *out, size_t cap, const void *in, size_t len);

#endif
