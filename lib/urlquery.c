/* Parameters of a request's query string, one at a time as libwebsockets
 * hands them out: which one is called what (a token among them must be
 * found, and must not end up in any file). */
#include <string.h>

#include "secret.h"

int
query_is(const char *param, const char *name)
{
	size_t n = strlen(name);

	return strncmp(param, name, n) == 0 &&
	    (param[n] == '\0' || param[n] == '=');
}
