#!/usr/bin/env bats
# hookrun: hooks run on a real session (recorded by sessionwriter from a
# camera whose device model is hostile, finalized by finalize.sh); the
# rclone example hook against a real rclone WebDAV server on 127.0.0.1.

load helper
load sw_helper

# What the camera calls itself: shell syntax, quotes, an escape sequence.
MODEL=$(printf 'Pixel $(touch pwned) `touch pwned2` "a b" '"'"'c'"'"'; rm -rf x \\ \033[2J end')

setup_file() {
	clip_setup_file
	printf 'open 7 addr=10.0.0.5 port=40000\ncaps 7 %s\nstarted 7\nclip 7 %s\nstopped 7\nclose 7\n' \
		"$MODEL" "$BATS_FILE_TMPDIR/clip.h264" | mkrec -o base.rec
	frameparse base.rec | sessionwriter -d base -s 0 > base.out
	read -r _ dir < base.out
	finalize.sh -q "$dir"
	mv "$dir" session
}

setup() {
	clip_setup
	cp -a "$BATS_FILE_TMPDIR/session" s
	S=$PWD/s
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# A hook that writes each CAMREC_ variable to a file of its name in $1.
envdump() {
	mkdir -p "$1"
	cat > dump.sh <<-'EOF'
	#!/bin/sh
	for v in CAMREC_SESSION_DIR CAMREC_MP4 CAMREC_FRAMES CAMREC_DURATION CAMREC_FPS \
		CAMREC_PEER CAMREC_DEVICE_MODEL CAMREC_STATE CAMREC_EVENT; do
		eval "printf '%s' \"\${$v-UNSET}\"" > "$1/$v"
	done
	EOF
	chmod +x dump.sh
}

@test "usage: --help, --version; no --, no command, bad -t or -e exit 2" {
	run -0 hookrun --help
	[ "$output" = "usage: hookrun [-t seconds] [-k seconds] [-e finalized|failed] dir -- command [argument ...]" ]
	run -0 hookrun --version
	[ "$output" = "hookrun (camrec) $(cat "$REPO/VERSION")" ]
	run -2 hookrun s true
	run -2 hookrun s --
	run -2 hookrun -- s
	run -2 --separate-stderr hookrun -t soon s -- true
	[ "$stderr" = 'hookrun: -t "soon": expected seconds from 0 to 604800' ]
	run -2 --separate-stderr hookrun -e closed s -- true
	[ "$stderr" = 'hookrun: -e "closed": expected finalized or failed' ]
	run -1 --separate-stderr hookrun nowhere -- true
	[ "$stderr" = "hookrun: nowhere: No such file or directory" ]
}

@test "the facts of session.json in CAMREC_ variables; the hostile device model is only ever a value" {
	envdump out
	run -0 --separate-stderr hookrun s -- ./dump.sh "$PWD/out"
	[[ "$stderr" =~ ^hookrun:\ s:\ dump.sh:\ exit\ 0\ in\ [0-9]+\.[0-9]s$ ]]
	[ "$(cat out/CAMREC_SESSION_DIR)" = "$S" ]
	[ "$(cat out/CAMREC_MP4)" = "$S/stream.mp4" ]
	[ "$(cat out/CAMREC_FRAMES)" = 60 ]
	[ "$(cat out/CAMREC_PEER)" = 10.0.0.5:40000 ]
	[ "$(cat out/CAMREC_STATE)" = closed ]
	[ "$(cat out/CAMREC_EVENT)" = finalized ]
	[ "$(cat out/CAMREC_DEVICE_MODEL)" = "$MODEL" ]
	[ "$(jget s/session.json device_model)" = "$MODEL" ]
	# duration and rate by the camera's clock, computed independently
	$PY - s/session.json out <<-'EOF'
	import json, sys
	o = json.load(open(sys.argv[1]))
	span = (o["last_device_ms"] - o["first_device_ms"]) / 1000
	got = lambda v: open(sys.argv[2] + "/" + v).read()
	assert got("CAMREC_DURATION") == "%.3f" % span, got("CAMREC_DURATION")
	assert got("CAMREC_FPS") == "%.3f" % ((o["frames"] - 1) / span), got("CAMREC_FPS")
	assert 25 < float(got("CAMREC_FPS")) < 35
	EOF
	[ ! -e pwned ] && [ ! -e pwned2 ] && [ ! -e out/pwned ] && [ ! -e s/pwned ]
	# the event is passed as given
	run -0 hookrun -e failed s -- ./dump.sh "$PWD/out"
	[ "$(cat out/CAMREC_EVENT)" = failed ]
}

@test "a hostile folder name reaches the hook as one value and the log escaped" {
	envdump out
	d=$(printf 'x$(touch pwned);\n\033[31m')
	cp -a s "$d"
	run -0 --separate-stderr hookrun "$d" -- ./dump.sh "$PWD/out"
	[ "$(cat out/CAMREC_SESSION_DIR)" = "$PWD/$d" ]
	[[ "$stderr" == 'hookrun: x$(touch pwned);\x0a\x1b[31m: dump.sh: exit 0 in '* ]]
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[ ! -e pwned ]
}

@test "a folder of the old recorder (no session.json): empty facts; a broken session.json: not run, exit 1" {
	mkdir old
	cp s/stream.h264 old/
	envdump out
	run -0 hookrun old -- ./dump.sh "$PWD/out"
	[ "$(cat out/CAMREC_SESSION_DIR)" = "$PWD/old" ]
	[ "$(cat out/CAMREC_MP4)" = "" ]
	[ "$(cat out/CAMREC_FRAMES)" = "" ]
	[ "$(cat out/CAMREC_STATE)" = "" ]
	printf '{"state": "closed",\n "frames": 6x}\n' > old/session.json
	run -1 --separate-stderr hookrun old -- touch ran
	[[ "$stderr" == "hookrun: old/session.json: line 2 column "*"; hook not run" ]]
	[ ! -e ran ]
}

@test "exit status, a signal, a missing or unexecutable command: logged, and hookrun's own status" {
	run -1 --separate-stderr hookrun s -- sh -c 'echo fine >&2; exit 3'
	[[ "$stderr" == "hookrun: s: sh: exit 3 in "*"s: stderr: fine" ]]
	run -1 --separate-stderr hookrun s -- sh -c 'kill -KILL $$'
	[[ "$stderr" == "hookrun: s: sh: killed by signal 9 (Killed) after "*s ]]
	run -127 --separate-stderr hookrun s -- ./no-such-hook
	[ "$stderr" = "hookrun: s: no-such-hook: cannot run: No such file or directory" ]
	touch plain
	run -126 --separate-stderr hookrun s -- ./plain
	[ "$stderr" = "hookrun: s: plain: cannot run: Permission denied" ]
	# the hook's stdout is hookrun's
	run -0 --separate-stderr hookrun s -- echo to stdout
	[ "$output" = "to stdout" ]
}

@test "the stderr tail in the log is bounded and escaped" {
	run -1 --separate-stderr hookrun s -- sh -c 'yes noise | head -n 40000 >&2; printf "last words\033[31m\n\n" >&2; exit 1'
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[ "${#stderr}" -lt 2000 ]
	[[ "$stderr" == "hookrun: s: sh: exit 1 in "*"s: stderr: ..."*'noise\x0anoise\x0alast words\x1b[31m' ]]
}

@test "a hook past its time is stopped with its whole process group: SIGTERM, then SIGKILL after the grace" {
	# obeys SIGTERM; a child in the background
	start=$(date +%s)
	run -1 --separate-stderr hookrun -t 1 -k 30 s -- sh -c 'sleep 300 & echo $! > bg; echo $$ > fg; wait'
	[ "$stderr" = "hookrun: s: sh: timed out after 1s, killed" ]
	[ $(($(date +%s) - start)) -lt 25 ]
	gone "$(cat bg)" "$(cat fg)"
	# ignores SIGTERM, and so does its child: SIGKILL after 1 s of grace
	run -1 --separate-stderr hookrun -t 1 -k 1 s -- sh -c 'trap "" TERM; sleep 300 & echo $! > bg; echo $$ > fg; echo waiting >&2; wait'
	[ "$stderr" = "hookrun: s: sh: timed out after 1s, killed: stderr: waiting" ]
	gone "$(cat bg)" "$(cat fg)"
}

@test "hookrun told to stop stops its hook's group; what a hook leaves behind goes too" {
	hookrun -t 300 s -- sh -c 'sleep 300 & echo $! > bg; echo $$ > fg; wait' 2> err &
	pid=$!
	PIDS+=("$pid")
	wait_for "[ -s $BATS_TEST_TMPDIR/bg ] && [ -s $BATS_TEST_TMPDIR/fg ]" 10
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 1 ]
	[[ "$(cat err)" == "hookrun: s: sh: stopped after "*"s: hookrun was told to stop" ]]
	gone "$(cat bg)" "$(cat fg)"
	# a hook that exits at once, leaving a child in its group
	run -0 hookrun s -- sh -c 'sleep 300 & echo $! > bg2'
	gone "$(cat bg2)"
}

@test "while a hook runs, prune leaves its folder alone; after, prune may delete it" {
	mkdir rec
	mv s rec/s
	hookrun rec/s -- sh -c 'touch started; while [ ! -e go ]; do sleep 0.1; done' 2> err &
	pid=$!
	PIDS+=("$pid")
	wait_for "[ -e $BATS_TEST_TMPDIR/started ]" 10
	run -1 --separate-stderr prune -v --max-age 1s --max-total 0 rec
	echo "$stderr" | grep -q "^prune: kept rec/s: .*: in use (being finalized, or a hook runs)$"
	[ -f rec/s/stream.mp4 ]
	touch go
	wait "$pid"
	run -0 --separate-stderr prune --max-age 1s rec
	[[ "$stderr" == "prune: deleted rec/s: "* ]]
	[ ! -e rec/s ]
}

# rclone serve webdav on a free port of 127.0.0.1, serving $BATS_TEST_TMPDIR/srv.
start_webdav() {
	mkdir -p srv
	PORT=$(free_port)
	rclone serve webdav --addr "127.0.0.1:$PORT" srv 2> serve.log &
	DAV=$!
	PIDS+=("$DAV")
	wait_port "$PORT" 20
	export RCLONE_CONFIG_DAV_TYPE=webdav RCLONE_CONFIG_DAV_URL=http://127.0.0.1:$PORT
	export RCLONE_CONFIG=$BATS_TEST_TMPDIR/none.conf
}

HOOK=$BATS_TEST_DIRNAME/../scripts/hooks/rclone-upload.sh
FAST=(-- --retries 1 --low-level-retries 1 --contimeout 5s)

@test "rclone-upload.sh: the folder goes to a WebDAV server, is read back and compared, then deleted here" {
	start_webdav
	( cd s && find . -type f -exec sha256sum {} + | sort ) > want
	run -0 --separate-stderr hookrun -t 120 s -- "$HOOK" dav:camrec "${FAST[@]}"
	[[ "${stderr}" == "hookrun: s: rclone-upload.sh: exit 0 in "*"rclone-upload.sh: s: uploaded to dav:camrec/s and checked; local copy deleted" ]]
	[ ! -e s ]
	( cd srv/camrec/s && find . -type f -exec sha256sum {} + | sort ) > got
	diff -u want got
	[ "$(wc -l < got)" -ge 5 ]
}

@test "rclone-upload.sh: server down: local copy kept, the hook fails, hookrun says so" {
	start_webdav
	kill "$DAV"
	wait "$DAV" || true
	sum=$(cd s && find . -type f -exec sha256sum {} + | sort | sha256sum)
	run -1 --separate-stderr hookrun -t 120 s -- "$HOOK" dav:camrec "${FAST[@]}"
	[[ "$stderr" == "hookrun: s: rclone-upload.sh: exit 1 in "*"connection refused"*"rclone-upload.sh: s: upload to dav:camrec/s failed; local copy kept" ]]
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[ "$(cd s && find . -type f -exec sha256sum {} + | sort | sha256sum)" = "$sum" ]
}

@test "rclone-upload.sh: a copy that differs on the server is caught by reading it back; the local folder stays" {
	start_webdav
	# a corrupt stream.mp4 already there, same size and time: rclone copy
	# takes it for the same file and skips it
	mkdir -p srv/camrec/s
	head -c "$(stat -c %s s/stream.mp4)" /dev/zero > srv/camrec/s/stream.mp4
	touch -r s/stream.mp4 srv/camrec/s/stream.mp4
	run -1 --separate-stderr hookrun -t 120 s -- "$HOOK" -k dav:camrec "${FAST[@]}"
	[[ "$stderr" == *"rclone-upload.sh: s: the copy at dav:camrec/s differs from the folder; local copy kept" ]]
	[ -f s/stream.mp4 ] && [ -f s/session.json ]
	cmp -s s/stream.mp4 srv/camrec/s/stream.mp4 && false
	# -H trusts sizes where the server keeps no hashes: it misses this
	run -0 --separate-stderr hookrun -t 120 s -- "$HOOK" -H -k dav:camrec "${FAST[@]}"
	[ -f s/stream.mp4 ]
}

@test "rclone-upload.sh: usage" {
	run -0 "$HOOK" --help
	[ "$output" = "usage: rclone-upload.sh [-H] [-k] REMOTE:PATH [-- RCLONE_OPTION...]" ]
	run -0 "$HOOK" --version
	[ "$output" = "rclone-upload.sh (camrec) $(cat "$REPO/VERSION")" ]
	run -2 "$HOOK"
	run -2 --separate-stderr "$HOOK" nocolon
	[ "$stderr" = 'rclone-upload.sh: "nocolon": expected an rclone remote, NAME:PATH' ]
	CAMREC_SESSION_DIR= run -2 "$HOOK" dav:x
}
