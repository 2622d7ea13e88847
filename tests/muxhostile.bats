#!/usr/bin/env bats
# mux on hostile sessions: pictures made of a NAL unit every 4 bytes, a
# picture too large for FLV, parameter sets that change too often. mux must
# stay within a memory bound and write the MP4 of what can be muxed.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	load helper
	cd "$BATS_FILE_TMPDIR"
	aud_clip a.h264 320x240 2
	aud_clip w.h264 160x120 0.1
	aud_clip t.h264 120x160 0.1
	mkdir s
	"$BATS_TEST_DIRNAME/mksession.py" s a.h264
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	cp -r "$BATS_FILE_TMPDIR"/s .
	# ffmpeg gets its memory back; the limit is for mux alone.
	printf '#!/bin/sh\nulimit -S -d unlimited\nexec ffmpeg "$@"\n' >ffmpeg-unlimited
	chmod +x ffmpeg-unlimited
}

frames() {
	ffprobe -v error -select_streams v:0 -show_entries stream=nb_frames -of csv=p=0 "$1"
}

@test "mux: 48 MiB of one-byte NAL units fit in 100 MiB of heap" {
	"$BATS_TEST_DIRNAME/muxhostile.py" s 60 $((8 << 20)) 6
	# AddressSanitizer's shadow memory counts as data: no limit there.
	limit=$((100 << 20))
	if ldd "$CAMREC_BIN/mux" | grep -q libasan; then limit=unlimited; fi
	FFMPEG_BIN=$PWD/ffmpeg-unlimited run --separate-stderr \
		prlimit --data="$limit":unlimited mux s/stream.h264 s/stream.mp4
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$(frames s/stream.mp4)" -eq 66 ]
}

@test "mux: a picture too large for FLV is left out with those that need it" {
	"$BATS_TEST_DIRNAME/muxhostile.py" s 10 $((14 << 20))
	run --separate-stderr mux s/stream.h264 s/stream.mp4
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"s/stream.h264: 1 pictures over 16777210 bytes (more than FLV carries) left out, and 20 pictures after them up to the next key frame"* ]]
	# 60 pictures; the 11th to the 30th (the deltas after the hostile one) are gone.
	[ "$(frames s/stream.mp4)" -eq 40 ]
}

@test "mux: parameter sets changing 69 times give 64 parts and a warning" {
	set --
	for i in $(seq 1 35); do set -- "$@" "$BATS_FILE_TMPDIR/w.h264" "$BATS_FILE_TMPDIR/t.h264"; done
	mkdir p
	"$BATS_TEST_DIRNAME/mksession.py" p "$@"
	run --separate-stderr mux p/stream.h264 p/stream.mp4
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"p/stream.h264: picture seq "*" and 17 after it left out: the parameter sets change more than 63 times"* ]]
	[ -s p/stream.mp4 ]
	[ -s p/stream.part64.mp4 ]
	[ ! -e p/stream.part65.mp4 ]
	[ "$(frames p/stream.part64.mp4)" -eq 3 ]
}
