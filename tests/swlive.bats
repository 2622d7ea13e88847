#!/usr/bin/env bats
# The live recorder (camrec.sh) with a phone on the current app (MP4
# segments as JSON text, deflate offered) and one on the old app (binary
# frames) on the same port at the same time.
load helper
load sw_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	make_clip clip.h264
	for n in 0 1 2; do
		ffmpeg -nostdin -loglevel error -y -f lavfi \
			-i "testsrc2=size=320x240:rate=30:duration=2,hue=h=$((n * 90))" \
			-pix_fmt yuv420p -c:v libx264 -profile:v baseline -g 30 "seg$n.mp4"
	done
	port=$(free_port)
	camrec_pid=
	pids=
}

teardown() {
	local p
	for p in $pids $camrec_pid; do
		kill "$p" 2>/dev/null || :
	done
	wait 2>/dev/null || :
}

@test "camrec.sh: current-app and old-app phones at once, both recorded, segments byte-exact" {
	camrec.sh -p "$port" -d rec -R run </dev/null 2>camrec.log &
	camrec_pid=$!
	wait_for "[ -s run/status.json ]" 10
	wait_port "$port"
	timeout 60 $PY "$REPO/tests/currentapp.py" --ids s_00,s_01,s_02 \
		"ws://127.0.0.1:$port/android-cam" seg0.mp4 seg1.mp4 seg2.mp4 >new.out &
	newpid=$!
	pids="$pids $newpid"
	timeout 60 $PY "$REPO/tests/androidcam.py" --fps 60 \
		"ws://127.0.0.1:$port/android-cam" clip.h264 >old.out
	wait "$newpid"
	grep -q '^sent' new.out
	grep -q '^sent' old.out
	# The app's last segment comes after capture_stopped, then it closes.
	wait_for "[ \$(grep -c 'mp4=ok' camrec.log) -eq 2 ]" 30
	kill -TERM "$camrec_pid"
	wait "$camrec_pid"
	camrec_pid=
	[ "$(find rec -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 2 ]
	old=$(dirname "$(echo rec/*/stream.h264)")
	new=$(dirname "$(echo rec/*/segments.tsv)")
	[ "$old" != "$new" ]
	cmp clip.h264 "$old/stream.h264"
	[ "$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$old/stream.mp4")" -eq 60 ]
	cmp seg0.mp4 "$new/s_00.mp4"
	cmp seg1.mp4 "$new/s_01.mp4"
	cmp seg2.mp4 "$new/s_02.mp4"
	[ "$($PY -c 'import json,sys; o=json.load(open(sys.argv[1])); print(o["kind"], o["segments"], o["ended_by"])' "$new/session.json")" = "segments 3 capture_stopped" ]
	[ "$(tail -n +2 "$new/segments.tsv" | cut -f5)" = "$(sha256sum seg0.mp4 seg1.mp4 seg2.mp4 | cut -c1-64)" ]
	[ "$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$new/stream.mp4")" -eq 180 ]
	[ -s "$new/thumbnail.jpg" ]
}
