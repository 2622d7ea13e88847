/* Client text into JSON: the lowest layer of sessionwriter, used by the
 * session folders and the status file alike. */
#include <stdlib.h>

#include "sessionwriter.h"

json_t *
json_text(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	char *copy;
	size_t i;

	if (j != NULL || s == NULL)
		return j;
	/* Not UTF-8: keep the ASCII, mark the rest. */
	if ((copy = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		copy[i] = (unsigned char)s[i] < 0x80 && s[i] != '\0' ? s[i] : '?';
	j = json_stringn(copy, len);
	free(copy);
	return j;
}
