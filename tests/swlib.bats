#!/usr/bin/env bats
# The library parts sessionwriter uses for segment sessions, through a small
# driver compiled now against lib/: SHA-256 against sha256sum, and the file
# names made from a phone's segment id.

load helper

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	cat >drv.c <<-'C'
	#include <stdio.h>
	#include <stdlib.h>
	#include <string.h>
	#include "segindex.h"
	#include "sha256.h"
	static unsigned char buf[1 << 22];
	int
	main(int argc, char **argv)
	{
		char name[SEGINDEX_NAME_MAX + 1], hex[65];
		size_t n, i, step, len;
		if (strcmp(argv[1], "name") == 0) {
			n = fread(buf, 1, sizeof buf, stdin);
			len = segindex_safe_name(name, (char *)buf, n);
			printf("%s %zu %d\n", name, len, segindex_plain_name(name, len));
			return 0;
		}
		n = fread(buf, 1, sizeof buf, stdin);
		if (argc > 2) {
			struct sha256 c;
			unsigned char d[32];
			step = (size_t)atoi(argv[2]);
			sha256_init(&c);
			for (i = 0; i < n; i += step)
				sha256_update(&c, buf + i, n - i < step ? n - i : step);
			sha256_final(&c, d);
			for (i = 0; i < 32; i++)
				printf("%02x", d[i]);
			printf("\n");
			return 0;
		}
		sha256_hex(buf, n, hex);
		printf("%s\n", hex);
		return 0;
	}
	C
	cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$REPO/lib" -o drv drv.c \
		"$REPO/lib/sha256.c" "$REPO/lib/segindex.c" "$REPO/lib/parsenum.c"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	DRV=$BATS_FILE_TMPDIR/drv
}

@test "sha256: every block boundary and a large input agree with sha256sum" {
	for n in 0 1 3 55 56 57 63 64 65 119 120 127 128 1000 65536 3000001; do
		head -c "$n" /dev/urandom >in
		want=$(sha256sum <in | cut -c1-64)
		[ "$("$DRV" sha <in)" = "$want" ]
		# fed in uneven pieces
		[ "$("$DRV" sha 7 <in)" = "$want" ]
		[ "$("$DRV" sha 100 <in)" = "$want" ]
	done
	[ "$(printf abc | "$DRV" sha)" = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad ]
}

@test "segment names: hostile ids become plain names of at most 64 bytes" {
	name() { printf '%s' "$1" | "$DRV" name; }
	[ "$(name 20251221_195713_00)" = "20251221_195713_00 18 1" ]
	[ "$(name ../../x)" = "______x 7 1" ]
	[ "$(name /etc/passwd)" = "_etc_passwd 11 1" ]
	[ "$(name '$(touch /tmp/pwned)')" = "__touch__tmp_pwned_ 19 1" ]
	[ "$(name ....)" = "____ 4 1" ]
	[ "$(name '')" = "segment 7 1" ]
	[ "$(name "$(printf 'a\nb')")" = "a_b 3 1" ]
	[ "$(printf 'a\0b' | "$DRV" name)" = "a_b 3 1" ]
	[ "$(name 'é')" = "__ 2 1" ]
	long=$(head -c 10240 /dev/zero | tr '\0' x)
	[ "$(name "$long")" = "$(head -c 64 /dev/zero | tr '\0' x) 64 1" ]
}
