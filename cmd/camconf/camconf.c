/* camconf: check a camrec-config(5) file and print the settings in force.
 * camrec.sh runs it before starting anything, so a bad file stops the
 * recorder with one line naming the file, line, column and key, and a
 * good one reaches the script as NUL-separated fields (-0) that it reads
 * as data: no setting is ever evaluated by a shell. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camconf.h"
#include "stdopt.h"
#include "util.h"

#define MAX_FILE (1 << 20)	/* a settings file is a few hundred bytes */

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: camconf [-0] [file]\n");
	exit(status);
}

/* The whole file, NUL-terminated; NULL with errno. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	if ((buf = malloc(MAX_FILE + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, MAX_FILE + 1, f);
	if (ferror(f) || n > MAX_FILE) {
		if (!ferror(f))
			errno = EFBIG;
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
path_name(const struct config_error *e, char *buf, size_t cap)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < e->depth && used < cap; i++)
		used += (size_t)(e->path[i].key ?
		    snprintf(buf + used, cap - used, "%s%s", i ? "." : "", e->path[i].key) :
		    snprintf(buf + used, cap - used, "[%zu]", e->path[i].index));
}

/* Read and check file; exits 2 with one line when it is bad. */
static json_t *
load(const char *file)
{
	json_error_t jerr;
	struct config_error e;
	char *text, name[200];
	size_t len;
	json_t *root;
	int line = 1, column = 1;

	if ((text = slurp(file, &len)) == NULL)
		err(1, "%s", file);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		free(text);
		errx(2, "%s:%d:%d: not a valid settings file: %s", file, jerr.line,
		    jerr.column, jerr.text);
	}
	if (schema_check(root, &e) == 0) {
		free(text);
		return root;
	}
	/* The checks had the decoded file; the place is found in the text.
	 * e.path points into root, so both go only after. */
	jsonpos_find(text, len, e.path, e.depth, e.at_key, &line, &column);
	path_name(&e, name, sizeof name);
	free(text);
	json_decref(root);
	errx(2, "%s:%d:%d: %s%s%s", file, line, column, name, e.depth ? ": " : "",
	    e.what);
}

static int
put_field(const char *s)
{
	return fwrite(s, 1, strlen(s) + 1, stdout) == strlen(s) + 1 ? 0 : -1;
}

/* key, source, value; an array as its length and then its elements; an
 * unset key as the empty string. */
static void
print_fields(const struct key *k, json_t *v, const char *source)
{
	char num[32];
	size_t i;
	json_t *arg;

	put_field(k->name);
	put_field(source);
	if (v == NULL || json_is_null(v))
		put_field(k->type == KEY_ARGV ? "0" : "");
	else if (json_is_string(v))
		put_field(json_string_value(v));
	else if (json_is_integer(v)) {
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
		put_field(num);
	} else if (json_is_boolean(v))
		put_field(json_is_true(v) ? "true" : "false");
	else if (json_is_array(v)) {
		snprintf(num, sizeof num, "%zu", json_array_size(v));
		put_field(num);
		json_array_foreach(v, i, arg)
			put_field(json_string_value(arg));
	}
}

static void
print_line(const struct key *k, json_t *v, const char *source)
{
	char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	printf("%s = %s (%s)\n", k->name, text ? text : "unset", source);
	free(text);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		STD_LONGOPTS,
	};
	const struct key *k;
	json_t *root = NULL, *v, *dflt;
	int c, fields = 0;

	while ((c = getopt_long(argc, argv, "0", longopts, NULL)) != -1) {
		switch (c) {
		case '0':
			fields = 1;
			break;
		default:
			return std_option(c, "camconf", usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage(stderr, 2);

	if (argc == 1)
		root = load(argv[0]);
	for (k = schema_keys; k->name != NULL; k++) {
		v = schema_get(root, k->name);
		dflt = k->dflt ? json_loads(k->dflt, JSON_DECODE_ANY, NULL) : NULL;
		if (fields)
			print_fields(k, v ? v : dflt, v ? "file" : "default");
		else
			print_line(k, v ? v : dflt, v ? "file" : "default");
		json_decref(dflt);
	}
	json_decref(root);
	if (stdout_close() < 0)
		err(1, "stdout");
	return 0;
}
