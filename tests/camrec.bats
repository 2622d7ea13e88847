#!/usr/bin/env bats
# The whole recorder through camrec.sh: real cameras (camsim, and an
# independent python3-websockets phone), real ffmpeg, real files.
load helper
load sw_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	make_clip clip.h264
	port=$(free_port)
	pids=
}

teardown() {
	local p
	for p in $pids ${camrec_pid:-}; do
		kill "$p" 2>/dev/null || :
	done
	wait 2>/dev/null || :
	# Shown when a test failed.
	[ ! -e camrec.log ] || { echo "== camrec.log"; cat camrec.log; }
}

# Start camrec.sh in the background on $port, recordings in ./rec.
start_camrec() {
	camrec.sh -p "$port" -d rec -R run "$@" </dev/null 2>camrec.log &
	camrec_pid=$!
	wait_for "[ -s run/status.json ]" 10
	wait_port "$port"
}

# Stop it with SIGTERM; it must exit 0 within 20 s.
stop_camrec() {
	kill -TERM "$camrec_pid"
	local i
	for i in $(seq 200); do
		kill -0 "$camrec_pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$camrec_pid"
	local rc=$?
	camrec_pid=
	return $rc
}

c() {
	ctl -c run/ctl.fifo -s run/status.json "$@"
}

camsim_bg() {
	camsim -u "ws://127.0.0.1:$port/android-cam" --clip clip.h264 "$@" 2>>camsim.log &
	pids="$pids $!"
}

# Pictures in a session's index, and ffprobe's frame count of its MP4.
index_pictures() {
	awk -F '\t' '$6 == "key" || $6 == "delta"' "$1/index.tsv" | wc -l
}
mp4_frames() {
	ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
		-of csv=p=0 "$1/stream.mp4"
}
state() {
	$PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' "$1/session.json"
}

@test "camrec.sh: start and stop a camera, the session is finalized" {
	start_camrec
	camsim_bg --model "Pixel test"
	wait_for "ctl -c run/ctl.fifo -s run/status.json list | grep -q android" 10
	run c start 16:9 4 30
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 confirmed"* ]]
	sleep 2
	run c stop
	[ "$status" -eq 0 ]
	wait_for "grep -q 'mp4=ok thumbnail=ok' camrec.log" 20
	stop_camrec
	dir=$(echo rec/*/)
	dir=${dir%/}
	[ "$(state "$dir")" = closed ]
	n=$(index_pictures "$dir")
	[ "$n" -ge 30 ]
	[ "$(mp4_frames "$dir")" -eq "$n" ]
	[ "$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$dir/thumbnail.jpg")" = "320,240" ]
	grep -q "frames=$n " camrec.log
	grep -q 'camrec: stopped' camrec.log
}

@test "camrec.sh: a timed start stops by itself" {
	start_camrec
	camsim_bg
	wait_for "ctl -c run/ctl.fifo -s run/status.json list | grep -q android" 10
	run c start 4:3 2 15 for 2s
	[ "$status" -eq 0 ]
	wait_for "grep -q 'mp4=ok' camrec.log" 20
	dir=$(echo rec/*/)
	n=$(index_pictures "$dir")
	# 2 s at 15 fps, give or take the start and stop round trips.
	[ "$n" -ge 20 ]
	[ "$n" -le 45 ]
	stop_camrec
}

@test "camrec.sh: a targeted start records only that camera; two cameras at once" {
	start_camrec
	camsim_bg --model one
	camsim_bg --model two
	wait_for "[ \$(ctl -c run/ctl.fifo -s run/status.json list | grep -c android) -eq 2 ]" 10
	id=$(c list | awk '/ one$/ { print $1 }')
	id2=$(c list | awk '/ two$/ { print $1 }')
	[ -n "$id" ]
	[ -n "$id2" ]
	run c start @"$id"
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 confirmed"* ]]
	sleep 1
	[ "$(ls rec | wc -l)" -eq 1 ]
	run c start @"$id2"
	[ "$status" -eq 0 ]
	sleep 1
	[ "$(ls rec | wc -l)" -eq 2 ]
	c stop
	wait_for "[ \$(grep -c 'mp4=ok' camrec.log) -eq 2 ]" 30
	stop_camrec
	for d in rec/*/; do
		[ "$(state "$d")" = closed ]
		[ "$(mp4_frames "$d")" -eq "$(index_pictures "$d")" ]
	done
}

@test "camrec.sh: an independent phone client is recorded byte-exact" {
	start_camrec
	$PY "$REPO/tests/androidcam.py" --fps 60 "ws://127.0.0.1:$port/android-cam" clip.h264 >phone.out
	grep -q '^sent' phone.out
	wait_for "grep -q 'mp4=ok' camrec.log" 20
	stop_camrec
	dir=$(echo rec/*/)
	cmp clip.h264 "$dir/stream.h264"
	[ "$(mp4_frames "$dir")" -eq 60 ]
}

@test "camrec.sh: SIGTERM mid-recording finalizes the session and leaves no process" {
	start_camrec
	camsim_bg
	wait_for "ctl -c run/ctl.fifo -s run/status.json list | grep -q android" 10
	c start 16:9 4 30 >/dev/null
	sleep 1.5
	read -r w f s l <run/pids
	stop_camrec
	dir=$(echo rec/*/)
	[ "$(state "$dir")" = closed ]
	[ -s "$dir/stream.mp4" ]
	gone $w $f $s $l
}

@test "camrec.sh: ^C at the terminal (SIGINT to the whole group) still finishes every MP4" {
	# A slow ffmpeg, so the ^C lands while the session is being finalized.
	printf '#!/bin/sh\nsleep 1\nexec ffmpeg "$@"\n' >slowff
	chmod +x slowff
	# As from a terminal: SIGINT not ignored, the recorder leading its group.
	FFMPEG_BIN=$PWD/slowff env --default-signal=INT setsid camrec.sh -p "$port" -d rec -R run </dev/null 2>camrec.log &
	camrec_pid=$!
	wait_for "[ -s run/status.json ]" 10
	wait_port "$port"
	camsim_bg
	wait_for "ctl -c run/ctl.fifo -s run/status.json list | grep -q android" 10
	c start >/dev/null
	sleep 1
	c stop >/dev/null
	sleep 0.5
	kill -INT -- "-$camrec_pid"
	for i in $(seq 200); do
		kill -0 "$camrec_pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$camrec_pid"
	camrec_pid=
	grep -q 'mp4=ok thumbnail=ok' camrec.log
	dir=$(echo rec/*/)
	[ "$(mp4_frames "$dir")" -eq "$(index_pictures "$dir")" ]
}

@test "camrec.sh: kill -9 of the pipeline, then a restart recovers a playable MP4" {
	start_camrec
	camsim_bg
	wait_for "ctl -c run/ctl.fifo -s run/status.json list | grep -q android" 10
	c start 16:9 4 30 >/dev/null
	sleep 2
	read -r w f s l <run/pids
	# The pipeline first: it would end its sessions if the script died
	# first. sessionwriter before the others: killed last, it could read
	# the end of its input (theirs died first) and close the session.
	kill -9 "$s" "$f" "$w" "$l"
	kill -9 "$camrec_pid"
	wait "$camrec_pid" 2>/dev/null || :
	camrec_pid=
	dir=$(echo rec/*/)
	dir=${dir%/}
	[ "$(state "$dir")" = recording ]
	[ ! -e "$dir/stream.mp4" ]
	rm -rf run
	# The same port: nothing of the killed recorder holds it.
	start_camrec
	wait_for "grep -q 'mp4=ok' camrec.log" 20
	stop_camrec
	[ "$(state "$dir")" = recovered ]
	n=$(index_pictures "$dir")
	[ "$n" -ge 20 ]
	[ "$(mp4_frames "$dir")" -eq "$n" ]
	last=$(tail -n 1 "$dir/index.tsv" | awk -F '\t' '{ print $4 + $5 }')
	[ "$(stat -c %s "$dir/stream.h264")" -eq "$last" ]
}

@test "camrec.sh: kill -9 of the script alone takes every child with it; a restart records on the same port and folder" {
	start_camrec
	camsim_bg
	wait_for "ctl -c run/ctl.fifo -s run/status.json list | grep -q android" 10
	c start 16:9 4 30 >/dev/null
	sleep 1.5
	mapfile -t kids < <(descendants "$camrec_pid")
	# At least wsrecv, frameparse, sessionwriter, cat and the finalize loop.
	[ "${#kids[@]}" -ge 5 ]
	kill -9 "$camrec_pid"
	wait "$camrec_pid" 2>/dev/null || :
	camrec_pid=
	gone "${kids[@]}"
	rm -rf run
	start_camrec
	# The session the dead recorder left is finalized by the new one.
	wait_for "grep -q 'mp4=ok' camrec.log" 20
	stop_camrec
	dir=$(echo rec/*/)
	dir=${dir%/}
	[ "$(state "$dir")" != recording ]
	[ "$(mp4_frames "$dir")" -eq "$(index_pictures "$dir")" ]
	no_temporaries "$dir"
}

@test "camrec.sh: a second recorder on the same folder is refused with status 3" {
	start_camrec
	run -3 --separate-stderr timeout 10 camrec.sh -p "$(free_port)" -d rec -R run2 </dev/null
	[ "$stderr" = "camrec: $PWD/rec: in use by another recorder (it holds $PWD/rec/.camrec.lock)" ]
	[ ! -e run2/ctl.fifo ]
	# The first one runs on, and once it is gone the folder is free.
	c list >/dev/null
	stop_camrec
	start_camrec
	stop_camrec
}

@test "camrec.sh: sessions that ended but were never finalized are finalized at start" {
	mkrec -o in.rec <<-EOF
	open 7 port=50007
	started 7
	clip 7 clip.h264
	close 7
	open 8 port=50008
	started 8
	clip 8 clip.h264
	close 8
	open 9 port=50009
	started 9
	clip 9 clip.h264
	close 9
	EOF
	frameparse in.rec | sessionwriter -d rec -s 0 >/dev/null
	a=$(echo rec/*_50007_*) b=$(echo rec/*_50008_*) done=$(echo rec/*_50009_*)
	# b: a mux and a thumb that were killed; done: finalized, and a
	# temporary of a process that still runs (this one).
	sleep 0 &
	dead=$!
	wait "$dead"
	: >"$b/.stream.mp4.tmp-$dead"
	mkdir "$b/.thumbnail.jpg.tmp-$dead"
	finalize.sh -q "$done"
	inode=$(stat -c %i "$done/stream.mp4")
	: >"$done/.stream.mp4.tmp-$$"
	start_camrec
	wait_for "[ \$(grep -c 'mp4=ok' camrec.log) -eq 2 ]" 20
	stop_camrec
	[ "$(grep -c 'mp4=' camrec.log)" -eq 2 ]
	for d in "$a" "$b"; do
		[ "$(mp4_frames "$d")" -eq "$(index_pictures "$d")" ]
		[ -s "$d/thumbnail.jpg" ]
	done
	no_temporaries "$b"
	[ "$(stat -c %i "$done/stream.mp4")" = "$inode" ]
	[ -e "$done/.stream.mp4.tmp-$$" ]
}

@test "camrec.sh: a crashed child stops the recorder with a message naming it" {
	start_camrec
	read -r w f s l <run/pids
	kill -9 "$f"
	for i in $(seq 100); do
		kill -0 "$camrec_pid" 2>/dev/null || break
		sleep 0.1
	done
	run wait "$camrec_pid"
	camrec_pid=
	[ "$status" -eq 1 ]
	grep -q 'camrec: frameparse exited with status 137; stopping the recorder' camrec.log
	gone $w $s $l
}

@test "camrec.sh: hostile device model and messages change nothing outside the session" {
	mkdir canary
	start_camrec
	evil='$(touch canary/pwned1); `touch canary/pwned2`; ../../canary/x"; rm -rf canary'
	$PY "$REPO/tests/androidcam.py" --model "$evil" "ws://127.0.0.1:$port/../../canary" clip.h264 >/dev/null
	$PY "$REPO/tests/wsclient.py" "ws://127.0.0.1:$port/x" "t:{\"status\":\"capture_started\",\"message\":\"$evil\"}" \
		't:$(touch canary/pwned3)' "t:{\"status\":\"capture_stopped\"}" close
	wait_for "[ \$(grep -c 'mp4=' camrec.log) -ge 1 ]" 20
	stop_camrec
	[ -z "$(ls canary)" ]
	for d in rec/*/; do
		case $d in rec/127.0.0.1_[0-9]*_[0-9]*_[0-9]*/) ;; *) false ;; esac
	done
	grep -qF 'touch canary/pwned1' rec/*/session.json
}

@test "camrec.sh: usage errors and --help" {
	run camrec.sh --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
	run -2 camrec.sh -j x
	[[ "$output" == *'bad -j "x"'* ]]
	run -2 camrec.sh -Z
}
