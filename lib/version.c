#include <stdio.h>

#include "util.h"

int
print_version(const char *name)
{
	return printf("%s (camrec) %s\n", name, CAMREC_VERSION) < 0 ? -1 : 0;
}
