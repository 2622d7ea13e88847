/* The relay's JSON config file. Every key is checked before anything
 * starts, and a bad one is reported with the file, the key and what would
 * be valid, so a typo never runs with a default in its place. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liverelay.h"

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->host = strdup("0.0.0.0");
	c->port = 8765;
	c->path = strdup("/live");
	c->idle_timeout = 30;
	c->start_timeout = 10;
	c->restart_backoff = 1;
	c->stop_grace = 3;
	c->queue_bytes = 4u << 20;
	c->format = CUT_FMP4;
}

int
config_format(const char *name, enum cut_format *f)
{
	if (strcmp(name, "fmp4") == 0)
		*f = CUT_FMP4;
	else if (strcmp(name, "mpegts") == 0)
		*f = CUT_MPEGTS;
	else
		return -1;
	return 0;
}

static int
seconds(json_t *v, double *out)
{
	double d;

	if (!json_is_number(v))
		return -1;
	d = json_number_value(v);
	if (!(d >= 0 && d <= 86400))
		return -1;
	*out = d;
	return 0;
}

static int
set_string(char **dst, json_t *v)
{
	char *s;

	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	if ((s = strdup(json_string_value(v))) == NULL)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

static int
set_source(struct config *c, json_t *v)
{
	size_t i, n;
	char **argv;

	if (!json_is_array(v) || (n = json_array_size(v)) == 0)
		return -1;
	for (i = 0; i < n; i++)
		if (!json_is_string(json_array_get(v, i)))
			return -1;
	if ((argv = calloc(n + 1, sizeof(*argv))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if ((argv[i] = strdup(json_string_value(json_array_get(v, i)))) == NULL)
			break;
	if (i < n || argv[0][0] == '\0') {
		for (i = 0; i < n; i++)
			free(argv[i]);
		free(argv);
		return -1;
	}
	if (c->source) {
		for (i = 0; c->source[i]; i++)
			free(c->source[i]);
		free(c->source);
	}
	c->source = argv;
	return 0;
}

/* One key: 0, or -1 with what is valid for it in *valid. */
static int
set_key(struct config *c, const char *key, json_t *v, const char **valid)
{
	if (strcmp(key, "host") == 0) {
		*valid = "must be a non-empty string (an address to listen on)";
		return set_string(&c->host, v);
	}
	if (strcmp(key, "port") == 0) {
		*valid = "must be an integer from 1 to 65535";
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 65535)
			return -1;
		c->port = (unsigned)json_integer_value(v);
		return 0;
	}
	if (strcmp(key, "path") == 0) {
		*valid = "must be a string starting with /";
		if (!json_is_string(v) || json_string_value(v)[0] != '/')
			return -1;
		return set_string(&c->path, v);
	}
	if (strcmp(key, "idle_timeout") == 0) {
		*valid = "must be a number of seconds from 0 to 86400";
		return seconds(v, &c->idle_timeout);
	}
	if (strcmp(key, "start_timeout") == 0) {
		*valid = "must be a number of seconds from 0 to 86400";
		return seconds(v, &c->start_timeout);
	}
	if (strcmp(key, "restart_backoff") == 0) {
		*valid = "must be a number of seconds from 0 to 86400";
		return seconds(v, &c->restart_backoff);
	}
	if (strcmp(key, "stop_grace") == 0) {
		*valid = "must be a number of seconds from 0 to 86400";
		return seconds(v, &c->stop_grace);
	}
	if (strcmp(key, "queue_bytes") == 0) {
		*valid = "must be an integer from 65536 to 1073741824";
		if (!json_is_integer(v) || json_integer_value(v) < 65536 ||
		    json_integer_value(v) > 1073741824)
			return -1;
		c->queue_bytes = (size_t)json_integer_value(v);
		return 0;
	}
	if (strcmp(key, "format") == 0) {
		*valid = "must be \"fmp4\" or \"mpegts\"";
		return json_is_string(v) ?
		    config_format(json_string_value(v), &c->format) : -1;
	}
	if (strcmp(key, "source") == 0) {
		*valid = "must be a non-empty array of strings (the program "
		    "and its arguments)";
		return set_source(c, v);
	}
	*valid = NULL;
	return -1;
}

int
config_load(struct config *c, const char *path, char *why, size_t cap)
{
	json_t *root, *v;
	json_error_t jerr;
	const char *key, *valid;

	if ((root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		if (jerr.line < 0)
			snprintf(why, cap, "%s: %s", path, jerr.text);
		else
			snprintf(why, cap, "%s: line %d: %s", path, jerr.line,
			    jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(why, cap, "%s: must be a JSON object", path);
		json_decref(root);
		return -1;
	}
	json_object_foreach(root, key, v) {
		if (set_key(c, key, v, &valid) == 0)
			continue;
		if (valid == NULL)
			snprintf(why, cap, "%s: unknown key \"%.64s\" (known: host, "
			    "port, path, idle_timeout, start_timeout, "
			    "restart_backoff, stop_grace, queue_bytes, format, "
			    "source)", path, key);
		else
			snprintf(why, cap, "%s: key \"%s\": %s", path, key, valid);
		json_decref(root);
		return -1;
	}
	json_decref(root);
	return 0;
}

void
config_free(struct config *c)
{
	size_t i;

	free(c->host);
	free(c->path);
	if (c->source)
		for (i = 0; c->source[i]; i++)
			free(c->source[i]);
	free(c->source);
	memset(c, 0, sizeof(*c));
}
