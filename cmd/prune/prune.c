/* prune: keep a recordings folder within bounds by deleting its oldest
 * finished sessions. The recorder runs it now and then, and before a
 * session opens when space is short; it may also run from cron. It only
 * deletes what nobody works on any more: a session that is written,
 * recovered, finalized or handed to a hook stays, and so does anything it
 * does not recognise as a session. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "logtext.h"
#include "prune.h"
#include "stdopt.h"
#include "util.h"

struct goals {
	int keep_free, max_age, max_total;	/* which are given */
	double free_percent;			/* of the file system, or -1 */
	uint64_t free_bytes, total_bytes;
	int64_t age_us;
};

static void
usage(FILE *f, int status)
{
	fprintf(f, "usage: prune [-nv] [--keep-free percent%%|size] [--max-age age] "
	    "[--max-total size] dir\n");
	exit(status);
}

/* 500G, 1.5T, 4096: powers of 1024, whole bytes. */
static uint64_t
size_arg(const char *opt, const char *s)
{
	static const char units[] = "KMGTP";
	char num[64];
	const char *u;
	size_t len = strlen(s);
	double v, mult = 1;
	int c;

	if (len == 0 || len >= sizeof num)
		goto bad;
	memcpy(num, s, len + 1);
	c = s[len - 1] & ~0x20;
	if (c >= 'A' && c <= 'Z') {
		if ((u = strchr(units, c)) == NULL)
			goto bad;
		mult = pow(1024, (double)(u - units + 1));
		num[len - 1] = '\0';
	}
	if (parse_double(num, 0, 9e18, &v) < 0 || v * mult > 9e18)
		goto bad;
	return (uint64_t)(v * mult);
bad:
	errx(2, "%s \"%s\": expected a size: bytes, or a number with K, M, G, T or P",
	    opt, s);
}

/* 30d, 12h, 90m, 3600s, 2w; a bare number is seconds. */
static int64_t
age_arg(const char *s)
{
	static const struct { char unit; double seconds; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 },
	};
	char num[64];
	size_t len = strlen(s), i;
	double v, mult = 1;

	if (len == 0 || len >= sizeof num)
		goto bad;
	memcpy(num, s, len + 1);
	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (s[len - 1] == units[i].unit) {
			mult = units[i].seconds;
			num[len - 1] = '\0';
		}
	if (parse_double(num, 0, 1e12, &v) < 0 || v * mult > 1e12)
		goto bad;
	return (int64_t)(v * mult * 1e6);
bad:
	errx(2, "--max-age \"%s\": expected an age: a number with s, m, h, d or w", s);
}

static void
free_arg(struct goals *g, const char *s)
{
	size_t len = strlen(s);
	char num[64];

	g->keep_free = 1;
	g->free_percent = -1;
	if (len == 0 || s[len - 1] != '%') {
		g->free_bytes = size_arg("--keep-free", s);
		return;
	}
	if (len >= sizeof num)
		len = sizeof num - 1;
	memcpy(num, s, len - 1);
	num[len - 1] = '\0';
	if (parse_double(num, 0, 100, &g->free_percent) < 0)
		errx(2, "--keep-free \"%s\": expected a percentage from 0%% to 100%%", s);
}

static const char *
human(uint64_t bytes, char *buf, size_t size)
{
	static const char units[] = "KMGTP";
	double v = (double)bytes;
	int u = -1;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%llu", (unsigned long long)bytes);
	else
		snprintf(buf, size, "%.1f%c", v, units[u]);
	return buf;
}

/* Free bytes as the recorder (not root) sees them, and what the goal
 * asks for. */
static uint64_t
free_now(int root_fd, const char *dir, const struct goals *g, uint64_t *need)
{
	struct statvfs sv;

	if (fstatvfs(root_fd, &sv) < 0)
		err(1, "%s: statvfs", dir);
	if (g->free_percent >= 0)
		*need = (uint64_t)ceil((double)sv.f_blocks * sv.f_frsize *
		    g->free_percent / 100);
	else
		*need = g->free_bytes;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

static int
by_age(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;

	if (x->time_us != y->time_us)
		return x->time_us < y->time_us ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
deletable(const struct entry *e)
{
	return e->kind == KIND_FINALIZED || e->kind == KIND_OLD || e->kind == KIND_LEFTOVER;
}

/* "DIR/NAME: 1.2M, ended 2026-11-21 16:52:22 (31.2 days ago)" */
static void
describe(const char *dir_text, const struct entry *e, int64_t now_us,
    char *buf, size_t size)
{
	char name_text[1024], when[64], bytes[32];
	time_t t = (time_t)(e->time_us / 1000000);
	struct tm tm;

	logtext_escape(name_text, sizeof name_text, e->name, strlen(e->name));
	human(e->bytes, bytes, sizeof bytes);
	if (e->kind == KIND_LEFTOVER) {
		snprintf(buf, size, "%s/%s: %s, left half deleted", dir_text,
		    name_text, bytes);
		return;
	}
	if (e->time_us == 0) {
		snprintf(buf, size, "%s/%s: %s", dir_text, name_text, bytes);
		return;
	}
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(when, sizeof when, "@%lld", (long long)t);
	snprintf(buf, size, "%s/%s: %s, %s %s (%.1f days ago)", dir_text, name_text,
	    bytes, e->ended ? "ended" : "last written", when,
	    now_us > e->time_us ? (now_us - e->time_us) / 86400e6 : 0.0);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "keep-free", required_argument, NULL, 'f' },
		{ "max-age", required_argument, NULL, 'a' },
		{ "max-total", required_argument, NULL, 't' },
		STD_LONGOPTS,
	};
	struct goals g = { .free_percent = -1 };
	struct listing l;
	struct entry **order;
	char dir_text[1024], line[4096], a[32], b[32];
	const char *dir;
	uint64_t free_bytes = 0, need = 0, total;
	int64_t now_us;
	size_t i, n = 0, kept = 0, len;
	int ch, dry_run = 0, verbose = 0, root_fd, r, rv = 0;

	while ((ch = getopt_long(argc, argv, "nv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			dry_run = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'f':
			free_arg(&g, optarg);
			break;
		case 'a':
			g.max_age = 1;
			g.age_us = age_arg(optarg);
			break;
		case 't':
			g.max_total = 1;
			g.total_bytes = size_arg("--max-total", optarg);
			break;
		default:
			return std_option(ch, "prune", usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage(stderr, 2);
	if (!g.keep_free && !g.max_age && !g.max_total)
		errx(2, "no goal: give --keep-free, --max-age or --max-total");
	dir = argv[0];
	/* "rec/" is shown "rec", so that its sessions are "rec/NAME". */
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	logtext_escape(dir_text, sizeof dir_text, dir, len);

	if ((root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		err(1, "%s", dir_text);
	now_us = (int64_t)time(NULL) * 1000000;
	if (scan(root_fd, &l, now_us) < 0)
		err(1, "%s", dir_text);
	if ((order = calloc(l.n + 1, sizeof *order)) == NULL)
		err(1, NULL);
	for (i = 0; i < l.n; i++) {
		if (deletable(&l.entries[i]))
			order[n++] = &l.entries[i];
	}
	qsort(order, n, sizeof *order, by_age);
	total = l.total;
	if (g.keep_free)
		free_bytes = free_now(root_fd, dir_text, &g, &need);

	for (i = 0; i < n; i++) {
		struct entry *e = order[i];
		uint64_t freed = e->bytes;

		if (e->kind != KIND_LEFTOVER &&
		    !(g.keep_free && free_bytes < need) &&
		    !(g.max_total && total > g.total_bytes) &&
		    !(g.max_age && e->time_us < now_us - g.age_us))
			break;
		describe(dir_text, e, now_us, line, sizeof line);
		if (dry_run) {
			printf("would delete %s\n", line);
		} else if ((r = remove_session(root_fd, e, now_us)) < 0) {
			warn("%s: cannot delete", line);
			rv = 1;
			continue;
		} else if (r == 0) {
			continue;
		} else {
			fprintf(stderr, "prune: deleted %s\n", line);
		}
		total = total > freed ? total - freed : 0;
		if (g.keep_free) {
			uint64_t now_free = dry_run ? 0 : free_now(root_fd, dir_text, &g, &need);

			/* Space still held open by a reader comes back later:
			 * count it as freed rather than delete more for it. */
			free_bytes = now_free > free_bytes + freed ? now_free : free_bytes + freed;
		}
	}
	for (i = 0; i < l.n; i++) {
		if (deletable(&l.entries[i]))
			continue;
		kept++;
		if (verbose) {
			describe(dir_text, &l.entries[i], now_us, line, sizeof line);
			fprintf(stderr, "prune: kept %s: %s\n", line, l.entries[i].why);
		}
	}
	if (g.keep_free && free_bytes < need) {
		warnx("%s: cannot keep %s free: %s free after deleting what could be "
		    "deleted (%zu folders kept: open, not finalized or in use)",
		    dir_text, human(need, a, sizeof a), human(free_bytes, b, sizeof b), kept);
		rv = 1;
	}
	if (g.max_total && total > g.total_bytes) {
		warnx("%s: cannot bring the total to %s: %s after deleting what could "
		    "be deleted (%zu folders kept: open, not finalized or in use)",
		    dir_text, human(g.total_bytes, a, sizeof a), human(total, b, sizeof b), kept);
		rv = 1;
	}
	free(order);
	scan_free(&l);
	close(root_fd);
	if (stdout_close() < 0)
		err(1, "stdout");
	return rv;
}
