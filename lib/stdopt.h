/* The options every camrec tool has, --help and --version, said once. */
#ifndef CAMREC_STDOPT_H
#define CAMREC_STDOPT_H

#include <getopt.h>
#include <stdio.h>

/* The last entries of a tool's getopt_long table, terminator included. */
#define STD_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }, \
	{ NULL, 0, NULL, 0 }

/* For what getopt_long returned that none of the tool's own cases took:
 * --help is usage(stdout, 0), --version prints "NAME (camrec) VERSION"
 * and returns the exit status for main to return (1 when stdout failed),
 * anything else is usage(stderr, 2). usage is the tool's and does not
 * return. */
int std_option(int ch, const char *name, void (*usage)(FILE *, int));

#endif
