#!/usr/bin/env bats
# recdump against streams written by an independent implementation of the
# record format (tests/mkrec.py), and against streams it must refuse.
load helper
load sw_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "recdump: one line per record with its fields" {
	mkrec -o s.rec <<'EOF2'
at 5000000
open 7 path=/android-cam addr=192.0.2.9 port=50123 wall=1763743942000000
text 7 {"status":"ready"}
frame 7 1 83412345 0000000165
raw 7 0102
record 99 7 00ff
close 7 1000 1
EOF2
	run recdump s.rec
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '5.000000 conn=7 open peer=192.0.2.9 port=50123 path="/android-cam" wall=1763743942.000000' ]
	[ "${lines[1]}" = '5.001000 conn=7 text "{\"status\":\"ready\"}"' ]
	[[ "${lines[2]}" == '5.002000 conn=7 binary'* ]]
	[ "${lines[4]}" = '5.004000 conn=7 type=99 len=2' ]
	[ "${lines[5]}" = '5.005000 conn=7 close code=1000 clean=1 by_server=0 reason="bye"' ]
	[ "${#lines[@]}" -eq 6 ]
}

@test "recdump: frames after frameparse, text escaped and cut" {
	long=$(printf 'x%.0s' $(seq 300))
	printf 'open 1\ntext 1 a\tb %s\nframe 1 5 1000 0000000141\nbadlen 1 6 900 10\n' "$long" | mkrec -o s.rec
	frameparse s.rec 2>/dev/null | recdump >out
	grep -q '^1.001000 conn=1 text "a\\x09b xxx.*"\.\.\.(304 bytes)$' out
	grep -q 'conn=1 frame seq=5 device_ms=1000 kind=delta len=5$' out
	grep -q 'conn=1 badframe seq=6 len=26 reason="length field 900' out
	recdump -a s.rec | grep -q "x\"$"
}

@test "recdump: a stream it cannot read exits 3 naming what and where" {
	printf 'NOTREC\1\0' >bad.rec
	run --separate-stderr recdump bad.rec
	[ "$status" -eq 3 ]
	[ "$stderr" = "recdump: bad.rec: not a camrec record stream (bad magic)" ]

	printf 'CAMREC\2\0' >v2.rec
	run --separate-stderr recdump v2.rec
	[ "$status" -eq 3 ]
	[ "$stderr" = "recdump: v2.rec: unsupported record stream version" ]

	printf 'open 1\ntext 1 hello\ntrunc 3\n' | mkrec -o t.rec
	run --separate-stderr recdump t.rec
	[ "$status" -eq 3 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$stderr" == "recdump: t.rec: offset "*": truncated record body" ]]

	: >empty.rec
	run --separate-stderr recdump <empty.rec
	[ "$status" -eq 3 ]
	[ "$stderr" = "recdump: stdin: empty input, no stream header" ]
}

@test "recdump: --help, --version, usage errors" {
	run recdump --help
	[ "$status" -eq 0 ]
	[ "$output" = "usage: recdump [-a] [file]" ]
	run recdump --version
	[[ "$output" == "recdump (camrec) "* ]]
	run -2 recdump -x
	run -2 recdump a b
	run -1 recdump /nonexistent
}
