#!/usr/bin/env bats
# thumb against the real ffmpeg, on clips made now.

load helper

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=30:duration=2 \
		-pix_fmt yuv420p -c:v libx264 -profile:v baseline -g 30 -f h264 a.h264
	ffmpeg -nostdin -loglevel error -y -f h264 -r 30 -i a.h264 -c:v copy a.mp4
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	cp "$BATS_FILE_TMPDIR"/a.h264 "$BATS_FILE_TMPDIR"/a.mp4 .
}

size() {
	ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height \
		-of csv=p=0 "$1"
}

# ref IN N OUT: picture N (0-based) of IN, decoded in order and encoded as
# thumb encodes it, without any seeking.
ref() {
	ffmpeg -nostdin -v error -y -i "$1" -vf "select=eq(n\\,$2)" -frames:v 1 -q:v 2 \
		-f mjpeg "$3"
}

@test "thumb: first picture, full size, from .h264 and .mp4" {
	run thumb a.h264 h.jpg
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(size h.jpg)" = "mjpeg,320,240" ]
	thumb a.mp4 m.jpg
	[ "$(size m.jpg)" = "mjpeg,320,240" ]
	ref a.mp4 0 r.jpg
	cmp h.jpg r.jpg
	cmp m.jpg r.jpg
	[ ! -e h.jpg.log ]
	[ ! -e m.jpg.log ]
	no_temporaries
}

@test "thumb --at picks the picture at that time" {
	thumb --at 1 a.mp4 m.jpg
	thumb --at 1 a.h264 h.jpg
	ref a.mp4 30 r.jpg
	cmp m.jpg r.jpg
	cmp h.jpg r.jpg
	thumb --at 0.5 a.mp4 half.jpg
	ref a.mp4 15 r15.jpg
	cmp half.jpg r15.jpg
	thumb --at 0.5 a.h264 hhalf.jpg
	cmp hhalf.jpg r15.jpg
	run -1 cmp -s half.jpg r.jpg
}

@test "thumb --width scales keeping the aspect ratio" {
	thumb --width 160 a.h264 h.jpg
	[ "$(size h.jpg)" = "mjpeg,160,120" ]
	thumb --width 100 --at 1.5 a.mp4 m.jpg
	[ "$(size m.jpg)" = "mjpeg,100,76" ]
}

@test "thumb: a time past the end exits 3 and leaves nothing" {
	run -3 --separate-stderr thumb --at 10 a.mp4 m.jpg
	[ "$stderr" = "thumb: a.mp4: no picture at 10 seconds" ]
	run -3 --separate-stderr thumb --at 10 a.h264 m.jpg
	[ "$stderr" = "thumb: a.h264: no picture at 10 seconds" ]
	[ ! -e m.jpg ]
	[ ! -e m.jpg.log ]
	no_temporaries
}

@test "thumb: usage errors exit 2" {
	run -2 --separate-stderr thumb a.h264
	[ "$stderr" = "usage: thumb [--at seconds] [--width w] in.h264|in.mp4 out.jpg" ]
	run -2 --separate-stderr thumb --width 0 a.h264 x.jpg
	[ "$stderr" = "thumb: --width 0: not a width between 2 and 16384" ]
	run -2 --separate-stderr thumb --at soon a.h264 x.jpg
	[ "$stderr" = "thumb: --at soon: not a number of seconds" ]
	run -0 thumb --help
	[ "$output" = "usage: thumb [--at seconds] [--width w] in.h264|in.mp4 out.jpg" ]
	[ ! -e x.jpg ]
}

@test "thumb: missing, empty or undecodable input exits 3" {
	run -3 --separate-stderr thumb nothere.h264 x.jpg
	[ "$stderr" = "thumb: nothere.h264: No such file or directory" ]
	: > empty.mp4
	run -3 --separate-stderr thumb empty.mp4 x.jpg
	[ "$stderr" = "thumb: empty.mp4: empty" ]
	# The pictures without their parameter sets: nothing decodes.
	$PY -c 'import re, sys; d = open("a.h264", "rb").read(); sys.stdout.buffer.write(re.sub(b"\x00\x00\x00\x01[\x67\x68][^\x00]*", b"", d))' > nosps.h264
	run -3 h264info nosps.h264
	run -3 --separate-stderr thumb nosps.h264 x.jpg
	[ "$stderr" = "thumb: nosps.h264: no SPS/PPS: no decodable picture" ]
	[ ! -e x.jpg ]
	[ ! -e x.jpg.log ]
}

@test "thumb: ffmpeg not found 127, not executable 126, failing 4" {
	FFMPEG_BIN=/nonexistent/ffmpeg run -127 --separate-stderr thumb a.h264 x.jpg
	[ "$stderr" = "thumb: /nonexistent/ffmpeg: No such file or directory" ]
	printf '#!/bin/sh\necho "fake ffmpeg: no luck" >&2\nexit 1\n' > fake
	chmod 644 fake
	FFMPEG_BIN=$PWD/fake run -126 --separate-stderr thumb a.h264 x.jpg
	[ "$stderr" = "thumb: $PWD/fake: Permission denied" ]
	[ ! -e x.jpg ]
	[ ! -e x.jpg.log ]
	chmod 755 fake
	FFMPEG_BIN=$PWD/fake run -4 --separate-stderr thumb a.h264 x.jpg
	[ "$stderr" = "thumb: x.jpg: ffmpeg failed with exit status 1; its messages are in x.jpg.log" ]
	grep -qx 'fake ffmpeg: no luck' x.jpg.log
	[ ! -e x.jpg ]
	no_temporaries
}

@test "thumb: an mp4 ffmpeg cannot read exits 4; an unwritable folder exits 1" {
	head -c 5000 /dev/urandom > junk.mp4
	run -4 --separate-stderr thumb junk.mp4 x.jpg
	[ "$stderr" = "thumb: x.jpg: ffmpeg failed with exit status 1; its messages are in x.jpg.log" ]
	[ -s x.jpg.log ]
	[ ! -e x.jpg ]
	: > notadir
	run -1 --separate-stderr thumb a.mp4 notadir/x.jpg
	[ "$stderr" = "thumb: notadir/x.jpg: cannot write notadir/x.jpg.log: Not a directory" ]
}
