#!/usr/bin/env bats
# The shell scripts a user runs by hand: mkclip.sh, finalize.sh, demo.sh.
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "mkclip.sh: SPS/PPS once at the start, every picture decodes" {
	mkclip.sh -s 320x240 -t 2 clip.h264
	[ "$(h264info clip.h264 | awk '$1 == "nal" && $2 == 7 { print $3 }')" = 1 ]
	[ "$(head -c 5 clip.h264 | od -An -tx1 | tr -d ' \n')" = 0000000167 ]
	[ "$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames,width,height \
		-of csv=p=0 -f h264 clip.h264)" = "320,240,60" ]
	run -2 mkclip.sh
	run -2 mkclip.sh -z x.h264
}

@test "finalize.sh: an old-style folder with only stream.h264" {
	d=recordings/192.168.1.20_50123_20260101_120000
	mkdir -p "$d"
	make_clip "$d/stream.h264" -profile:v baseline -g 30
	run finalize.sh "$d/"
	[ "$status" -eq 0 ]
	[ "$output" = "$d frames=? duration=? fps=30 mp4=ok thumbnail=ok" ]
	[ "$(ffprobe -v error -show_entries stream=nb_frames -of csv=p=0 "$d/stream.mp4")" = 60 ]
	[ "$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$d/thumbnail.jpg")" = "320,240" ]
}

@test "finalize.sh: a folder without stream.h264 exits 3; usage exits 2" {
	mkdir empty
	run --separate-stderr finalize.sh empty
	[ "$status" -eq 3 ]
	[ "$stderr" = "finalize.sh: empty: neither stream.h264, segments.tsv nor stream.mjpeg" ]
	run -2 finalize.sh
	run -2 finalize.sh a b
}

@test "demo.sh: records a simulated phone and board, names the console, leaves no process behind" {
	TMPDIR=$BATS_TEST_TMPDIR DEMO_SECONDS=2 run demo.sh
	[ "$status" -eq 0 ]
	[[ "$output" == *"console, while the demo runs"*"http://127.0.0.1:"*/* ]]
	[[ "$output" == *"codec_name=h264"* ]]
	[[ "$output" == *"width=1280"* ]]
	[[ "$output" == *"width=640"* ]]
	run -0 find "$BATS_TEST_TMPDIR"/camrec-demo.*/recordings -mindepth 1 -maxdepth 1 -type d -name '*_*_*'
	[ "${#lines[@]}" -eq 2 ]
	for session in "${lines[@]}"; do
		[ -s "$session/stream.mp4" ]
		[ -s "$session/thumbnail.jpg" ]
	done
	# camrec.sh bound to all addresses names an address a browser can open.
	grep -q 'console: http://127.0.0.1:[0-9]*/ (from other machines' "$BATS_TEST_TMPDIR"/camrec-demo.*/camrec.log
	# Nothing the demo started is still running.
	run -1 pgrep -f "$BATS_TEST_TMPDIR/camrec-demo"
}

@test "every script: --version from the tree and as installed, the number in VERSION" {
	want=$(cat "$REPO/VERSION")
	make -s -C "$REPO" install-scripts DESTDIR="$BATS_TEST_TMPDIR/inst" PREFIX=/usr
	for s in camrec.sh demo.sh deps.sh finalize.sh mkclip.sh; do
		run -0 "$REPO/scripts/$s" --version
		[ "$output" = "$s (camrec) $want" ]
		run -0 "$BATS_TEST_TMPDIR/inst/usr/bin/$s" --version
		[ "$output" = "$s (camrec) $want" ]
	done
	run -0 mux --version
	[ "$output" = "mux (camrec) $want" ]
}
