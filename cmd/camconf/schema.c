/* The keys of camrec-config(5): one line each. A later option is one more
 * line here and in the page; a file naming a key this version does not
 * know is refused, so a setting is never silently ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camconf.h"

const struct key schema_keys[] = {
	{ "host", KEY_STRING, 0, 0, "\"0.0.0.0\"" },
	{ "port", KEY_UINT, 1, 65535, "50001" },
	{ "recordings", KEY_STRING, 0, 0, "\"./recordings\"" },
	{ "rundir", KEY_STRING, 0, 0, NULL },
	{ "idle_timeout", KEY_UINT, 0, 86400, "30" },
	/* wsrecv's limit: a record body is at most 1 GiB, 4 bytes more
	 * than the message. */
	{ "max_message", KEY_UINT, 1, (1u << 30) - 4, "25165824" },
	{ "finalize_jobs", KEY_UINT, 1, 64, "2" },
	{ "fsync_interval", KEY_UINT, 0, 86400, "1" },
	{ "hooks.on_session_finalized", KEY_ARGV, 0, 0, NULL },
	{ "hooks.on_session_failed", KEY_ARGV, 0, 0, NULL },
	{ "hooks.timeout", KEY_UINT, 1, 86400, "600" },
	{ "hooks.concurrency", KEY_UINT, 1, 16, "1" },
	{ "retention.keep_free", KEY_FREE, 0, 0, NULL },
	{ "retention.max_age", KEY_AGE, 0, 0, NULL },
	{ "retention.max_total", KEY_SIZE, 0, 0, NULL },
	{ "retention.interval", KEY_UINT, 10, 86400, "300" },
	/* Without a port of their own, /metrics on the cameras' port. */
	{ "metrics.enabled", KEY_BOOL, 0, 0, "true" },
	{ "metrics.host", KEY_STRING, 0, 0, "\"127.0.0.1\"" },
	{ "metrics.port", KEY_UINT, 1, 65535, NULL },
	{ NULL, 0, 0, 0, NULL },
};

static void
set_path(struct config_error *e, const char *section, const char *key,
    int index)
{
	e->depth = 0;
	if (section != NULL)
		e->path[e->depth++] = (struct step){ section, 0 };
	e->path[e->depth++] = (struct step){ key, 0 };
	if (index >= 0)
		e->path[e->depth++] = (struct step){ NULL, (size_t)index };
}

/* What the file said, short enough for one line. */
static void
got(const json_t *v, char *buf, size_t cap)
{
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

	if (text == NULL)
		snprintf(buf, cap, "?");
	else if (strlen(text) > 60)
		snprintf(buf, cap, "%.57s...", text);
	else
		snprintf(buf, cap, "%s", text);
	free(text);
}

static int
plain_string(const json_t *v)
{
	const unsigned char *s;

	if (!json_is_string(v) || json_string_length(v) == 0)
		return 0;
	for (s = (const unsigned char *)json_string_value(v); *s; s++)
		if (*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* digits, then one of units, and nothing else; the number above 0. */
static int
number_unit(const char *s, const char *units)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 15 || strspn(s, "0") == n)
		return 0;
	return s[n] != '\0' && strchr(units, s[n]) != NULL && s[n + 1] == '\0';
}

static int
percent(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n > 0 && n <= 2 && s[n] == '%' && s[n + 1] == '\0' && atoi(s) >= 1;
}

/* 0 when v is a valid value of k; else -1 with what is valid in e->what
 * and, for a bad array element, its index in *bad. */
static int
check_value(const struct key *k, const json_t *v, int *bad, char *what, size_t cap)
{
	char seen[80];
	size_t i;
	json_t *arg;

	got(v, seen, sizeof seen);
	*bad = -1;
	switch (k->type) {
	case KEY_STRING:
		if (plain_string(v))
			return 0;
		snprintf(what, cap, "expected a non-empty string without control "
		    "characters, got %s", seen);
		return -1;
	case KEY_UINT:
		if (json_is_integer(v) && json_integer_value(v) >= 0 &&
		    (uint64_t)json_integer_value(v) >= k->min &&
		    (uint64_t)json_integer_value(v) <= k->max)
			return 0;
		snprintf(what, cap, "expected a whole number %llu-%llu, got %s",
		    (unsigned long long)k->min, (unsigned long long)k->max, seen);
		return -1;
	case KEY_BOOL:
		if (json_is_boolean(v))
			return 0;
		snprintf(what, cap, "expected true or false, got %s", seen);
		return -1;
	case KEY_ARGV:
		if (!json_is_array(v) || json_array_size(v) == 0) {
			snprintf(what, cap, "expected a command as an array of "
			    "strings, [\"program\", \"argument\", ...], got %s", seen);
			return -1;
		}
		json_array_foreach(v, i, arg) {
			if (!json_is_string(arg) || json_string_length(arg) == 0 ||
			    strlen(json_string_value(arg)) != json_string_length(arg)) {
				got(arg, seen, sizeof seen);
				*bad = (int)i;
				snprintf(what, cap, "expected a non-empty string, got %s",
				    seen);
				return -1;
			}
		}
		return 0;
	case KEY_FREE:
		if (json_is_string(v) && (percent(json_string_value(v)) ||
		    number_unit(json_string_value(v), "KMGTP")))
			return 0;
		snprintf(what, cap, "expected a share of the disk from \"1%%\" to "
		    "\"99%%\" or a size like \"20G\" (K, M, G, T, P), got %s", seen);
		return -1;
	case KEY_SIZE:
		if (json_is_string(v) && number_unit(json_string_value(v), "KMGTP"))
			return 0;
		snprintf(what, cap, "expected a size like \"500G\" (digits, then K, "
		    "M, G, T or P), got %s", seen);
		return -1;
	case KEY_AGE:
		if (json_is_string(v) && number_unit(json_string_value(v), "smhdw"))
			return 0;
		snprintf(what, cap, "expected an age like \"30d\" (digits, then s, "
		    "m, h, d or w), got %s", seen);
		return -1;
	}
	return -1;
}

/* The keys valid in section (NULL: the top level), for the message about
 * one that is not. */
static void
valid_here(const char *section, char *buf, size_t cap)
{
	const struct key *k;
	size_t used = 0, slen = section ? strlen(section) : 0, last_len = 0;
	const char *dot, *name, *last = "";
	int n;

	buf[0] = '\0';
	for (k = schema_keys; k->name != NULL && used < cap; k++) {
		dot = strchr(k->name, '.');
		if (section == NULL)
			name = k->name;
		else if (dot != NULL && (size_t)(dot - k->name) == slen &&
		    strncmp(k->name, section, slen) == 0)
			name = dot + 1;
		else
			continue;
		/* A section is named once, for its first key. */
		n = section == NULL && dot != NULL ? (int)(dot - name) : (int)strlen(name);
		if (last_len == (size_t)n && strncmp(last, name, (size_t)n) == 0)
			continue;
		last = name;
		last_len = (size_t)n;
		used += (size_t)snprintf(buf + used, cap - used, "%s%.*s",
		    used ? ", " : "", n, name);
	}
}

static const struct key *
lookup(const char *section, const char *name, int *is_section)
{
	const struct key *k;
	size_t slen = section ? strlen(section) : 0, nlen = strlen(name);

	*is_section = 0;
	for (k = schema_keys; k->name != NULL; k++) {
		if (section == NULL) {
			if (strcmp(k->name, name) == 0)
				return k;
			if (strncmp(k->name, name, nlen) == 0 && k->name[nlen] == '.')
				*is_section = 1;
		} else if (strncmp(k->name, section, slen) == 0 &&
		    k->name[slen] == '.' && strcmp(k->name + slen + 1, name) == 0)
			return k;
	}
	return NULL;
}

static int
check_object(json_t *obj, const char *section, struct config_error *e)
{
	const char *name;
	const struct key *k;
	json_t *v;
	char valid[256], seen[80];
	int is_section, bad;

	json_object_foreach(obj, name, v) {
		k = lookup(section, name, &is_section);
		if (is_section) {
			if (!json_is_object(v)) {
				set_path(e, NULL, name, -1);
				got(v, seen, sizeof seen);
				snprintf(e->what, sizeof e->what, "expected an object "
				    "of settings {...}, got %s", seen);
				return -1;
			}
			if (check_object(v, name, e) < 0)
				return -1;
			continue;
		}
		if (k == NULL) {
			set_path(e, section, name, -1);
			e->at_key = 1;
			valid_here(section, valid, sizeof valid);
			snprintf(e->what, sizeof e->what, "unknown key; valid %s: %s",
			    section ? "here" : "at the top", valid);
			return -1;
		}
		if (check_value(k, v, &bad, e->what, sizeof e->what) < 0) {
			set_path(e, section, name, bad);
			return -1;
		}
	}
	return 0;
}

int
schema_check(json_t *root, struct config_error *e)
{
	memset(e, 0, sizeof *e);
	if (!json_is_object(root)) {
		snprintf(e->what, sizeof e->what, "expected an object of settings {...}");
		return -1;
	}
	return check_object(root, NULL, e);
}

json_t *
schema_get(json_t *root, const char *name)
{
	const char *dot = strchr(name, '.');
	char section[64];
	json_t *obj;

	if (root == NULL)
		return NULL;
	if (dot == NULL)
		return json_object_get(root, name);
	snprintf(section, sizeof section, "%.*s", (int)(dot - name), name);
	obj = json_object_get(root, section);
	return obj ? json_object_get(obj, dot + 1) : NULL;
}
