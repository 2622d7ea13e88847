#!/usr/bin/env bats
# metrics: a real scrape over HTTP of a real recorder, checked by promtool
# (Debian package prometheus), and the values it shows.
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	export CAMREC_CONFIG=$BATS_TEST_TMPDIR/none.json
	port=$(free_port)
	mport=$(free_port)
	pids=
	camrec_pid=
}

teardown() {
	local p
	for p in $pids $camrec_pid; do
		kill "$p" 2>/dev/null || :
	done
	wait 2>/dev/null || :
}

# scrape [PATH [PORT]]: the body of GET http://127.0.0.1:PORT/PATH (by
# default $mport), with the status and content type on the first line.
scrape() {
	$PY - "http://127.0.0.1:${2:-$mport}${1:-/metrics}" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=10)
except urllib.error.HTTPError as e:
    print(e.code)
    sys.exit(0)
print(r.status, r.headers["Content-Type"])
sys.stdout.write(r.read().decode())
PY
}

# One sample's value from the last scrape in scrape.txt.
sample() {
	awk -v name="$1" '$1 == name { print $2 }' scrape.txt
}

promcheck() {
	tail -n +2 scrape.txt | promtool check metrics
}

@test "metrics: on the recorder's own port by default, the counters what the cameras sent" {
	make_clip clip.h264
	printf '{"host": "127.0.0.1", "port": %s, "recordings": "rec", "rundir": "run"}' "$port" >c.json
	camrec.sh --config c.json </dev/null 2>camrec.log &
	camrec_pid=$!
	wait_port "$port"
	grep -q "camrec: metrics: http://127.0.0.1:$port/metrics" camrec.log
	# Known messages from an independent client: 3 text, 2 binary.
	$PY "$REPO/tests/wsclient.py" "ws://127.0.0.1:$port/android-cam" \
		't:{"hello": 1}' 't:0123456789' 't:x' b:00010203 rand:1000 close >client.out
	grep -q '^done$' client.out
	# wsrecv writes its counters at most once a second.
	wait_for "grep -q '\"messages_received_total\":5,' run/wsrecv.counters" 10
	scrape / "$port" >/dev/null
	scrape /metrics "$port" >scrape.txt
	[ "$(head -1 scrape.txt)" = "200 text/plain; version=0.0.4; charset=utf-8" ]
	run -0 promcheck
	[ "$(sample camrec_received_messages_total)" = 5 ]
	[ "$(sample camrec_received_bytes_total)" = $((12 + 10 + 1 + 4 + 1000)) ]
	[ "$(sample 'camrec_connections_total{kind="android"}')" = 1 ]
	[ "$(sample 'camrec_connections_total{kind="esp"}')" = 0 ]
	[ "$(sample 'camrec_backpressure_seconds_total{cause="stdout"}')" = 0.000000 ]
	[ "$(sample camrec_queued_bytes)" = 0 ]
	[ "$(sample camrec_sessions_opened_total)" = 0 ]
	[ "$(sample camrec_sessions_recovered_total)" = 0 ]

	# A recording: what was written is what the session folder holds.
	camsim -u "ws://127.0.0.1:$port/android-cam" --clip clip.h264 2>camsim.log &
	pids="$pids $!"
	wait_for "ctl -c run/ctl.fifo -s run/status.json list | grep -q android" 10
	ctl -c run/ctl.fifo -s run/status.json start 16:9 4 30 >/dev/null
	wait_for "grep -q '\"recording\":true' run/status.json" 10
	sleep 1
	ctl -c run/ctl.fifo -s run/status.json stop >/dev/null
	wait_for "grep -q 'mp4=ok' camrec.log" 30
	wait_for "grep -q '\"sessions_closed_total\":1' run/status.json" 10
	# camrec.sh counts the finalize just after it logged it.
	wait_for "metrics --once -R run | grep -qx 'camrec_finalize_duration_seconds_count 1'" 10
	scrape /metrics "$port" >scrape.txt
	run -0 promcheck
	[ "$(sample camrec_sessions_opened_total)" = 1 ]
	[ "$(sample camrec_sessions_closed_total)" = 1 ]
	[ "$(sample camrec_sessions_failed_total)" = 0 ]
	[ "$(sample 'camrec_connections_total{kind="android"}')" = 2 ]
	session=$(echo rec/127.0.0.1_*)
	frames=$(($(wc -l <"$session/index.tsv") - 1))
	bytes=$(stat -c %s "$session/stream.h264")
	[ "$frames" -gt 10 ]
	[ "$(sample camrec_written_frames_total)" = "$frames" ]
	[ "$(sample camrec_written_bytes_total)" = "$bytes" ]
	grep -Eqx "camrec_camera_written_frames_total\{conn=\"2\",peer=\"127.0.0.1\"\} $frames" scrape.txt
	grep -Eqx "camrec_camera_written_bytes_total\{conn=\"2\",peer=\"127.0.0.1\"\} $bytes" scrape.txt
	# The log: one line for the session's opening and one for its end,
	# naming it (and so the camera); none per frame.
	abs=$PWD/$session
	[ "$(grep -cF "sessionwriter: $abs: opened by capture_started, conn 2, device camsim" camrec.log)" -eq 1 ]
	# Frames are pictures: the codec config in the index is no frame.
	[ "$(grep -cE "^sessionwriter: $abs: closed by capture_stopped, conn 2, [0-9]+ frames, $bytes bytes$" camrec.log)" -eq 1 ]
	[ "$(wc -l <camrec.log)" -lt 15 ]
	# wsrecv received every frame the session holds, and the client's.
	[ "$(sample camrec_received_bytes_total)" -gt $((bytes + 1027)) ]
	[ "$(sample camrec_finalize_duration_seconds_count)" = 1 ]
	# The same facts as JSON, for scripts.
	metrics --once --json -R run >status.json
	jq -e --argjson f "$frames" --argjson b "$bytes" '
		.camrec_written_frames_total == $f and .camrec_written_bytes_total == $b and
		.camrec_sessions_closed_total == 1 and .camrec_received_messages_total > 5 and
		(.camrec_connections_total[] | select(.kind == "android") | .value) == 2 and
		(.camrec_camera_written_bytes_total[] | select(.conn == "2") | .peer) == "127.0.0.1" and
		.camrec_disk_free_bytes > 0' status.json
	# No metrics server of its own.
	for p in $(descendants "$camrec_pid"); do
		[[ $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) != "metrics -H"* ]]
	done
	kill -TERM "$camrec_pid"
	wait "$camrec_pid"
	camrec_pid=
}

@test "metrics: wsrecv answers 503 when metrics cannot run, and serves on" {
	mkdir run
	env PATH=/usr/bin:/bin "$(command -v wsrecv)" -H 127.0.0.1 -p "$port" --metrics run >/dev/null 2>wsrecv.log &
	pids="$pids $!"
	wait_port "$port"
	run -0 scrape /metrics "$port"
	[ "$output" = 503 ]
	grep -q 'wsrecv: /metrics: cannot run metrics: No such file or directory' wsrecv.log
	run -0 scrape /metrics "$port"
	[ "$output" = 503 ]
	run -0 scrape /other "$port"
	[ "$output" = 404 ]
}

@test "metrics: at most two scrapes run at once; more get 503 at once, and the count comes back" {
	mkdir run bin
	# The real metrics, made slow enough that four scrapes overlap.
	printf '#!/bin/sh\nsleep 3\nexec %s "$@"\n' "$(command -v metrics)" >bin/metrics
	chmod +x bin/metrics
	env PATH="$PWD/bin:$PATH" "$(command -v wsrecv)" -H 127.0.0.1 -p "$port" --metrics run >/dev/null 2>wsrecv.log &
	pids="$pids $!"
	wait_port "$port"
	for i in 1 2 3 4; do
		scrape /metrics "$port" | head -n 1 | cut -d' ' -f1 >"s$i" &
	done
	wait_for '[ "$(cat s1 s2 s3 s4 | wc -l)" -eq 4 ]' 30
	[ "$(sort s1 s2 s3 s4 | uniq -c | tr -s ' ')" = " 2 200
 2 503" ]
	run -0 scrape /metrics "$port"
	[[ $output == "200 "* ]]
}

@test "metrics: a recorder's scrape while a camera records and after, clean for promtool" {
	make_clip clip.h264
	printf '{"host": "127.0.0.1", "port": %s, "recordings": "rec", "rundir": "run",\n "metrics": {"enabled": true, "port": %s}}' "$port" "$mport" >c.json
	camrec.sh --config c.json </dev/null 2>camrec.log &
	camrec_pid=$!
	wait_for "[ -s run/status.json ]" 10
	wait_port "$mport"
	camsim -u "ws://127.0.0.1:$port/android-cam" --clip clip.h264 2>camsim.log &
	pids="$pids $!"
	wait_for "ctl -c run/ctl.fifo -s run/status.json list | grep -q android" 10
	ctl -c run/ctl.fifo -s run/status.json start 16:9 4 30 >/dev/null
	wait_for "grep -q '\"recording\":true' run/status.json" 10
	scrape >scrape.txt
	[ "$(head -1 scrape.txt)" = "200 text/plain; version=0.0.4; charset=utf-8" ]
	run -0 promcheck
	[ "$(sample 'camrec_connections{kind="android"}')" = 1 ]
	[ "$(sample 'camrec_connections{kind="esp"}')" = 0 ]
	grep -Eq '^camrec_camera_recording\{conn="[0-9]+",peer="127.0.0.1"\} 1$' scrape.txt
	[ "$(sample 'camrec_sessions{state="recording"}')" = 1 ]
	[ "$(sample camrec_finalize_duration_seconds_count)" = 0 ]

	ctl -c run/ctl.fifo -s run/status.json stop >/dev/null
	wait_for "grep -q 'mp4=ok' camrec.log" 30
	wait_for "[ -s run/finalize.counts ]" 10
	scrape >scrape.txt
	run -0 promcheck
	[ "$(sample 'camrec_sessions{state="recording"}')" = 0 ]
	[ "$(sample 'camrec_sessions{state="closed"}')" = 1 ]
	[ "$(sample camrec_sessions_finalized)" = 1 ]
	[ "$(sample camrec_finalize_duration_seconds_count)" = 1 ]
	[ "$(sample 'camrec_finalize_duration_seconds_bucket{le="+Inf"}')" = 1 ]
	[ "$(sample camrec_finalize_failures_total)" = 0 ]
	# The folder's files, to the byte.
	[ "$(sample camrec_recordings_bytes)" -eq "$(find rec -mindepth 2 -maxdepth 2 -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')" ]
	free=$(sample camrec_disk_free_bytes)
	[ "$free" -gt 0 ]
	[ "$(sample camrec_disk_size_bytes)" -ge "$free" ]

	read -r mpid < <(pgrep -f "metrics -H 127.0.0.1 -p $mport")
	kill -TERM "$camrec_pid"
	wait "$camrec_pid"
	camrec_pid=
	gone "$mpid"
}

@test "metrics: hostile peer labels escaped, other paths 404, links not followed" {
	mkdir -p rec/a rec/b rec/c outside run
	printf '{"state":"closed"}' >rec/a/session.json
	printf 'x' >rec/a/stream.mp4
	printf '{"state":"failed"}' >rec/b/session.json
	printf '{"state":"$(evil)"}' >rec/c/session.json
	mkdir rec/old
	head -c 1000 /dev/zero >outside/big
	ln -s ../outside rec/link
	ln -s ../../outside/big rec/a/big
	printf '%s\n' '{"format":"camrec-status 1","cameras":[' \
		'{"conn":7,"peer":"a\"b\\c\nd","kind":"android","recording":false,"fps":0,"kbps":0},' \
		'{"conn":8,"peer":"10.0.0.2","kind":"esp","recording":true,"fps":12.5,"kbps":800}]}' >run/status.json
	printf 'runs 3\nfailures 1\n' >run/hooks.counts
	metrics -p "$mport" -d rec -R run &
	pids="$pids $!"
	wait_port "$mport"
	scrape >scrape.txt
	run -0 promcheck
	grep -qxF 'camrec_camera_recording{conn="7",peer="a\"b\\c\nd"} 0' scrape.txt
	[ "$(sample 'camrec_camera_frames_per_second{conn="8",peer="10.0.0.2"}')" = 12.5 ]
	[ "$(sample 'camrec_camera_receive_bytes_per_second{conn="8",peer="10.0.0.2"}')" = 100000 ]
	[ "$(sample 'camrec_sessions{state="closed"}')" = 1 ]
	[ "$(sample 'camrec_sessions{state="failed"}')" = 1 ]
	[ "$(sample 'camrec_sessions{state="other"}')" = 1 ]
	[ "$(sample 'camrec_sessions{state="none"}')" = 1 ]
	[ "$(sample camrec_recordings_bytes)" -eq $((18 + 1 + 18 + 19)) ]
	[ "$(sample camrec_hook_runs_total)" = 3 ]
	[ "$(sample camrec_hook_failures_total)" = 1 ]
	[ "$(sample camrec_prune_runs_total)" = 0 ]
	# The JSON form gives back the peer exactly, and the same counts.
	metrics --once --json -d rec -R run >status.json
	[ "$(jq -r '.camrec_camera_recording[] | select(.conn == "7") | .peer' status.json)" = $'a"b\\c\nd' ]
	jq -e '.camrec_hook_runs_total == 3 and .camrec_hook_failures_total == 1 and
		(.camrec_sessions[] | select(.state == "other") | .value) == 1 and
		(.camrec_camera_frames_per_second[] | select(.conn == "8") | .value) == 12.5' status.json
	run -0 scrape /
	[ "$output" = 404 ]
	run -0 scrape '/metrics/../x'
	[ "$output" = 404 ]
}

@test "metrics: without a status file or counters, every metric still there" {
	metrics -p "$mport" -d missing &
	pids="$pids $!"
	wait_port "$mport"
	scrape >scrape.txt
	run -0 promcheck
	[ "$(sample 'camrec_connections{kind="android"}')" = 0 ]
	[ "$(sample camrec_recordings_bytes)" = 0 ]
	[ "$(sample camrec_hook_runs_total)" = 0 ]
	run -1 grep -q '^camrec_disk_free_bytes ' scrape.txt
}

@test "metrics: a taken port is an error, and stops a recorder that wanted it" {
	metrics -p "$mport" -d rec &
	pids="$pids $!"
	wait_port "$mport"
	run -1 metrics -p "$mport" -d rec
	[ "$output" = "metrics: cannot listen on 127.0.0.1 port $mport" ]
	printf '{"host": "127.0.0.1", "port": %s, "recordings": "rec", "rundir": "run",\n "metrics": {"enabled": true, "port": %s}}' "$port" "$mport" >c.json
	camrec.sh --config c.json </dev/null 2>camrec.log &
	camrec_pid=$!
	for _ in $(seq 200); do
		kill -0 "$camrec_pid" 2>/dev/null || break
		sleep 0.1
	done
	run -1 wait "$camrec_pid"
	camrec_pid=
	grep -q 'camrec: metrics exited with status 1; stopping the recorder' camrec.log
}

@test "metrics: --once prints the exposition, the folder from the status file" {
	mkdir -p rec/a run
	printf '{"state":"closed"}' >rec/a/session.json
	printf '{"format":"camrec-status 1","cameras":[],"recordings":"%s","counters":{"sessions_opened_total":4,"written_bytes_total":77}}\n' "$PWD/rec" >run/status.json
	printf '{"counters":{"connections_total":{"esp":2},"received_bytes_total":99}}\n' >run/wsrecv.counters
	metrics --once -R run >scrape.txt
	sed -i 1i200 scrape.txt
	run -0 promcheck
	[ "$(sample 'camrec_sessions{state="closed"}')" = 1 ]
	[ "$(sample camrec_sessions_opened_total)" = 4 ]
	[ "$(sample camrec_written_bytes_total)" = 77 ]
	[ "$(sample 'camrec_connections_total{kind="esp"}')" = 2 ]
	[ "$(sample camrec_received_bytes_total)" = 99 ]
	grep -q '^camrec_disk_free_bytes ' scrape.txt
}

@test "metrics: usage, --help, --version" {
	run -0 metrics --help
	[ "${lines[0]}" = "usage: metrics [-v] [--once [--json]] [-H host] [-p port] [-d dir] [-R rundir]" ]
	[ "${lines[1]}" = "               [-s status]" ]
	run -2 metrics --json
	[ "$output" = "metrics: --json goes with --once" ]
	run -0 metrics --version
	[[ "$output" == "metrics (camrec) "* ]]
	run -2 metrics -p 0
	[ "$output" = "metrics: -p 0: want a port from 1 to 65535" ]
	run -2 metrics extra
	run -2 metrics -H ''
}
