#!/usr/bin/env bats
# frameparse: Android binary messages to FRAME/BADFRAME records, checked
# with mkrec.py's own reader of the record stream.

load helper
load sw_helper

setup_file() {
	clip_setup_file
}

setup() {
	clip_setup
}

@test "every message of a real clip becomes a frame with its payload and kind" {
	mkrec -o in.rec <<-EOF
	open 7
	text 7 {"status":"ready"}
	clip 7 $CLIP seq=10
	close 7
	EOF
	run --separate-stderr frameparse in.rec
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	frameparse in.rec > out.rec
	mkrec --payloads 7 out.rec | cmp - "$CLIP"
	mkrec --frames out.rec > frames
	[ "$(wc -l < frames)" -eq "$(mkrec --split "$CLIP" | wc -l)" ]
	[ "$(wc -l < frames)" -eq 61 ]
	# kinds agree with an independent split of the clip
	awk '{print $6}' frames > kinds
	mkrec --split "$CLIP" | awk '{print $3}' | diff -u - kinds
	# seq and device ms carried over; the config packet has time 0
	head -1 frames | grep -qx 'frame 7 10 0 0 config 0 37'
	sed -n 2p frames | grep -q '^frame 7 11 83412345 0 key 0 '
	# the other records pass through
	recdump out.rec | grep -c ' open \| text \| close ' | grep -qx 3
}

@test "sequence gaps and the 2^32 wrap are counted, not treated as errors" {
	mkrec -o in.rec <<-EOF
	open 1
	frame 1 4294967293 100 0000000165
	frame 1 4294967295 133 0000000141
	frame 1 0 166 0000000141
	frame 1 3 199 0000000141
	frame 1 3 200 0000000141
	frame 1 1 300 0000000165
	EOF
	run --separate-stderr frameparse in.rec
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	frameparse in.rec | mkrec --frames > frames
	cat > want <<-EOF
	frame 1 4294967293 100 0 key 0 5
	frame 1 4294967295 133 1 delta 0 5
	frame 1 0 166 0 delta 1 5
	frame 1 3 199 2 delta 0 5
	frame 1 3 200 0 delta 0 5
	frame 1 1 300 0 key 0 5
	EOF
	diff -u want frames
}

@test "malformed messages between good frames: badframe records and one stderr line each" {
	mkrec -o in.rec <<-EOF
	open 7
	clip 7 $CLIP count=10
	badlen 7 42 900 300
	raw 7 0102030405
	badlen 7 43 0 0
	clip 7 $CLIP from=10
	close 7
	EOF
	run --separate-stderr frameparse in.rec
	[ "$status" -eq 0 ]
	grep -qx 'frameparse: conn 7 seq 42: length field 900 but message has 316 bytes (300 after the header)' <<<"$stderr"
	grep -qx 'frameparse: conn 7: message of 5 bytes is shorter than the 16-byte frame header' <<<"$stderr"
	grep -qx 'frameparse: conn 7 seq 43: length field is 0' <<<"$stderr"
	[ "$(wc -l <<<"$stderr")" -eq 3 ]
	frameparse in.rec 2>/dev/null > out.rec
	mkrec --payloads 7 out.rec | cmp - "$CLIP"
	mkrec --frames out.rec | grep '^badframe' > bad
	cat > want <<-EOF
	badframe 7 42 316 2 length field 900 but message has 316 bytes (300 after the header)
	badframe 7 0 5 1 message of 5 bytes is shorter than the 16-byte frame header
	badframe 7 43 16 3 length field is 0
	EOF
	diff -u want bad
}

@test "a flood of bad frames is rate-limited on stderr, summed up at close" {
	{
		echo "open 3"
		for i in $(seq 1 25); do echo "badlen 3 $i 99 1"; done
		echo "close 3"
		echo "open 4"
		echo "raw 4 00"
		echo "close 4"
	} | mkrec -o in.rec
	run --separate-stderr frameparse in.rec
	[ "$status" -eq 0 ]
	[ "$(grep -c '^frameparse: conn 3 seq' <<<"$stderr")" -eq 10 ]
	grep -qx 'frameparse: conn 3: 25 malformed frames in all, 15 not shown' <<<"$stderr"
	grep -q '^frameparse: conn 4: message of 1 bytes' <<<"$stderr"
	[ "$(frameparse in.rec 2>/dev/null | mkrec --frames | grep -c '^badframe 3 ')" -eq 25 ]
}

@test "dev and live binaries, an ESP board's text and unknown record types pass through byte for byte" {
	mkrec -o in.rec <<-EOF
	open 1 path=/esp
	open 2 path=/dev
	raw 2 00000000000000010000000200000001
	open 3 path=/live/x
	raw 3 0102
	record 99 1 0a0b0c
	text 1 STATUS: ok
	close 1
	close 2
	close 3
	EOF
	run frameparse in.rec
	[ "$status" -eq 0 ]
	frameparse in.rec | cmp - in.rec
}

@test "an ESP board's binaries become image records, or badimage records with a line naming the connection" {
	mkrec -o in.rec <<-EOF
	open 1 path=/esp
	raw 1 ffd8ffc0000b08000200030100ffd9
	raw 1 ffd8ffe000
	raw 1 ffd8ffe000ffd9
	close 1
	EOF
	run --separate-stderr frameparse in.rec
	[ "$status" -eq 0 ]
	[ "$stderr" = "frameparse: conn 1: image of 5 bytes does not end with a JPEG EOI (FF D9): cut short?" ]
	frameparse in.rec 2>/dev/null | recdump | cut -d' ' -f2- >dump
	diff -u - <(grep -v -e ' open ' -e ' close ' dump) <<-EOF
	conn=1 image number=1 size=3x2 len=15
	conn=1 badimage len=5 reason="image of 5 bytes does not end with a JPEG EOI (FF D9): cut short?"
	conn=1 image number=2 size=0x0 len=7
	EOF
	[ "$(wc -l <dump)" -eq 5 ]
	# The image record carries the JPEG unchanged.
	frameparse in.rec 2>/dev/null | $PY "$REPO/tests/recbody.py" --type image --index 0 | od -An -tx1 | tr -d ' \n' >body
	[ "$(cat body)" = 0000000100030002ffd8ffc0000b08000200030100ffd9 ]
}

@test "a binary on a connection that was closed passes through untouched" {
	mkrec -o in.rec <<-EOF
	open 5
	close 5
	frame 5 1 100 0000000165
	EOF
	frameparse in.rec | cmp - in.rec
}

@test "a truncated stream: good records out first, then exit 3 naming the offset" {
	mkrec -o in.rec <<-EOF
	open 7
	clip 7 $CLIP count=3
	trunc 100
	EOF
	run --separate-stderr frameparse in.rec
	[ "$status" -eq 3 ]
	[[ "$stderr" =~ ^frameparse:\ in.rec:\ offset\ [0-9]+:\ truncated\ record\ body$ ]]
	frameparse < in.rec 2>err > out.rec || true
	grep -q '^frameparse: stdin: offset [0-9]*: truncated record body$' err
	[ "$(mkrec --frames out.rec | wc -l)" -eq 2 ]
}

@test "not a record stream: exit 3" {
	printf 'hello world\n' > bad
	run --separate-stderr frameparse bad
	[ "$status" -eq 3 ]
	[ "$stderr" = "frameparse: bad: not a camrec record stream (bad magic)" ]
	run --separate-stderr frameparse < /dev/null
	[ "$status" -eq 3 ]
	[ "$stderr" = "frameparse: stdin: empty input, no stream header" ]
}

@test "usage: --help, --version, bad options" {
	run frameparse --help
	[ "$status" -eq 0 ]
	[ "$output" = "usage: frameparse [file]" ]
	run frameparse --version
	[ "$status" -eq 0 ]
	[[ "$output" == "frameparse (camrec) "* ]]
	run --separate-stderr frameparse -x
	[ "$status" -eq 2 ]
	grep -q '^usage: frameparse \[file\]$' <<<"$stderr"
	run --separate-stderr frameparse a b
	[ "$status" -eq 2 ]
	run --separate-stderr frameparse /nonexistent/x
	[ "$status" -eq 1 ]
	[ "$stderr" = "frameparse: /nonexistent/x: No such file or directory" ]
}
