/* b64speed: how fast lib/base64.c decodes a segment's base64, against
 * memcpy of the same text in the same run (the speed of memory on this
 * machine at that moment). Usage: b64speed FILE [ROUNDS]: FILE holds base64
 * text only. Prints "base64: N MB/s memcpy: N MB/s ratio: N" (MB of
 * base64 text read per second, best of ROUNDS). */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base64.h"

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	FILE *f;
	unsigned char *in, *out, *copy;
	size_t len, out_len, at;
	long n;
	int rounds = argc > 2 ? atoi(argv[2]) : 20, i;
	double best_dec = 1e9, best_cpy = 1e9, t;

	if (argc < 2 || (f = fopen(argv[1], "rb")) == NULL)
		errx(2, "usage: b64speed FILE [ROUNDS]");
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0)
		err(1, "%s", argv[1]);
	rewind(f);
	len = (size_t)n;
	if ((in = malloc(len)) == NULL || (out = malloc(base64_decoded_max(len) + 1)) == NULL ||
	    (copy = malloc(len)) == NULL || fread(in, 1, len, f) != len)
		err(1, "%s", argv[1]);
	memset(out, 0, base64_decoded_max(len) + 1);
	memset(copy, 0, len);
	for (i = 0; i < rounds; i++) {
		t = mono();
		if (base64_decode(in, len, out, &out_len, &at) < 0)
			errx(1, "%s: not base64 at %zu", argv[1], at);
		if ((t = mono() - t) < best_dec)
			best_dec = t;
		t = mono();
		memcpy(copy, in, len);
		__asm__ volatile("" : : "r"(copy) : "memory");
		if ((t = mono() - t) < best_cpy)
			best_cpy = t;
	}
	printf("base64: %.0f MB/s memcpy: %.0f MB/s ratio: %.2f text=%zu decoded=%zu\n",
	    len / best_dec / 1e6, len / best_cpy / 1e6, best_cpy / best_dec, len, out_len);
	return 0;
}
