#!/usr/bin/env bats
# The files of each tool form layers: every call points down, none comes
# back into a file that called it (camrec(7), "Inside a tool").

bats_require_minimum_version 1.5.0
load helper

@test "layers: no tool's files call each other in a circle" {
	run "$BATS_TEST_DIRNAME/layers.py" "$REPO" "$BATS_TEST_TMPDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "layers: the check finds a circle when there is one" {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p t/cmd/x t/lib
	printf 'void b(void);\nvoid a(void) { b(); }\n' >t/cmd/x/a.c
	printf 'void a(void);\nvoid b(void) { }\nvoid c(void) { a(); }\n' >t/cmd/x/b.c
	run "$BATS_TEST_DIRNAME/layers.py" t "$BATS_TEST_TMPDIR"
	[ "$status" -eq 1 ]
	[ "$output" = "x: calls go in a circle between a.c, b.c" ]
}
