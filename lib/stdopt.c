#include "stdopt.h"
#include "util.h"

int
std_option(int ch, const char *name, void (*usage)(FILE *, int))
{
	switch (ch) {
	case 'h':
		usage(stdout, 0);
		break;
	case 'V':
		return print_version(name) < 0;
	}
	usage(stderr, 2);
	return 2;
}
