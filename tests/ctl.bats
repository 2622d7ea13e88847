#!/usr/bin/env bats
# ctl: the command grammar, the exact FIFO lines, refusals, timers, and the
# whole path through wsrecv and sessionwriter to answering cameras.

load helper
bats_require_minimum_version 1.5.0

setup() {
	T=$BATS_TEST_TMPDIR
	FIFO=$T/ctl.fifo
	mkfifo "$FIFO"
	# Hold both ends, as wsrecv does, so ctl finds a reader and what it
	# wrote stays in the pipe for drain to read.
	exec 8<>"$FIFO"
	PIDS=
	unset CAMREC_CTL CAMREC_STATUS
}

teardown() {
	local p
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null || true
	done
	exec 8<&-
}

# Everything written to the FIFO so far.
drain() {
	$PY -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
out = b""
while True:
    try:
        b = os.read(fd, 65536)
    except BlockingIOError:
        break
    if not b:
        break
    out += b
sys.stdout.buffer.write(out)' "$FIFO"
}

# refuse "ARGS" "MESSAGE": exit 2, that message on stderr, nothing written.
refuse() {
	local out
	# shellcheck disable=SC2086
	run --separate-stderr ctl -c "$FIFO" $1
	if [ "$status" -ne 2 ] || [ "$stderr" != "ctl: $2" ]; then
		echo "ctl $1: status $status, stderr: $stderr" >&2
		echo "expected: ctl: $2" >&2
		return 1
	fi
	out=$(drain)
	if [ -n "$out" ]; then
		echo "ctl $1 wrote: $out" >&2
		return 1
	fi
}

# A status file with Android cameras 3 and 5, ESP board 7 and a developer
# console 9, as sessionwriter writes it.
status_fixture() {
	cat >"$T/status.json" <<'EOF'
{"format":"camrec-status 1","t_us":100,"cameras":[
{"conn":3,"peer":"127.0.0.1","port":50123,"path":"/android-cam","kind":"android","device_model":"Pixel\u001b[2J 7","recording":true,"session":"rec/127.0.0.1_50123_20261121_165222","fps":29.8,"kbps":3980.5,"last_text":null,"last_text_us":null,"last_status":"capture_started","last_status_us":50},
{"conn":5,"peer":"192.168.1.20","port":50124,"path":"/android-cam","kind":"android","device_model":null,"recording":false,"session":null,"fps":0.0,"kbps":0.0,"last_text":null,"last_text_us":null,"last_status":null,"last_status_us":null},
{"conn":7,"peer":"192.168.1.20","port":40000,"path":"/esp","kind":"esp","device_model":null,"recording":false,"session":null,"fps":12.0,"kbps":900.0,"last_text":"ACK: start","last_text_us":60,"last_status":null,"last_status_us":null},
{"conn":9,"peer":"192.168.1.21","port":40001,"path":"/dev","kind":"dev","device_model":null,"recording":false,"session":null,"fps":0.0,"kbps":0.0,"last_text":null,"last_text_us":null,"last_status":null,"last_status_us":null}]}
EOF
}

START='{"command":"start_capture","payload":{"format":"h264","bitrate":4,"fps":10}}'
STOP='{"command":"stop_capture"}'

@test "ctl: --help, --version and a bad option" {
	run ctl --help
	[ "$status" -eq 0 ]
	[ "$output" = "usage: ctl [-n] [-c fifo] [-s status] [-w seconds] [command [argument ...]]" ]
	run ctl --version
	[ "$status" -eq 0 ]
	[[ "$output" == "ctl (camrec) "* ]]
	run --separate-stderr ctl -x stop
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"usage: ctl"* ]]
	run --separate-stderr ctl -w soon stop
	[ "$status" -eq 2 ]
	[ "$stderr" = "ctl: -w soon: expected seconds from 0 to 3600" ]
}

@test "ctl: start and stop write the exact JSON of the Android app" {
	run ctl -c "$FIFO" start
	[ "$status" -eq 0 ]
	[ "$output" = "start: written to $FIFO (no status file, no confirmation)" ]
	diff -u - <(drain) <<EOF
text /android-cam $START
text /esp start
EOF
	ctl -c "$FIFO" start 16:9 4 30 >/dev/null
	ctl -c "$FIFO" start 4:3 8 >/dev/null
	ctl -c "$FIFO" start 1 0 >/dev/null
	ctl -c "$FIFO" start 100 120 >/dev/null
	ctl -c "$FIFO" start 1:1 >/dev/null
	ctl -c "$FIFO" stop >/dev/null
	diff -u - <(drain) <<'EOF'
text /android-cam {"command":"start_capture","payload":{"format":"h264","bitrate":4,"fps":30,"aspectRatio":{"width":16,"height":9}}}
text /esp start
text /android-cam {"command":"start_capture","payload":{"format":"h264","bitrate":8,"fps":10,"aspectRatio":{"width":4,"height":3}}}
text /esp start
text /android-cam {"command":"start_capture","payload":{"format":"h264","bitrate":1,"fps":0}}
text /esp start
text /android-cam {"command":"start_capture","payload":{"format":"h264","bitrate":100,"fps":120}}
text /esp start
text /android-cam {"command":"start_capture","payload":{"format":"h264","bitrate":4,"fps":10,"aspectRatio":{"width":1,"height":1}}}
text /esp start
text /android-cam {"command":"stop_capture"}
text /esp stop
EOF
}

@test "ctl: ESP boards get plain text, sizes checked and upper-cased" {
	for c in "esp start" "esp start hd" "esp start 240x240 63" "esp start 1" \
	    "esp start P_3MP 12" "esp stop" "esp status"; do
		# shellcheck disable=SC2086
		ctl -c "$FIFO" $c >/dev/null
	done
	diff -u - <(drain) <<'EOF'
text /esp start
text /esp start HD
text /esp start 240X240 63
text /esp start 1
text /esp start P_3MP 12
text /esp stop
text /esp status
EOF
}

@test "ctl: bad settings are refused with what is valid, nothing written" {
	refuse "start abc" 'bad bitrate "abc": expected a whole number of Mbit/s from 1 to 100'
	refuse "start 4.5" 'bad bitrate "4.5": the phone app reads whole Mbit/s and would use 4; give a whole number from 1 to 100'
	refuse "start 0" 'bad bitrate "0": expected a whole number of Mbit/s from 1 to 100'
	refuse "start 101" 'bad bitrate "101": expected a whole number of Mbit/s from 1 to 100'
	refuse "start -1" 'bad bitrate "-1": expected a whole number of Mbit/s from 1 to 100'
	refuse "start 16:9 4 121" 'bad frame rate "121": expected a whole number of frames per second from 0 to 120 (0 = unlimited)'
	refuse "start 16:9 4 x" 'bad frame rate "x": expected a whole number of frames per second from 0 to 120 (0 = unlimited)'
	refuse "start 16x9" 'bad aspect ratio "16x9": expected W:H, whole numbers from 1 to 100 (e.g. 16:9)'
	refuse "start 0:9" 'bad aspect ratio "0:9": expected W:H, whole numbers from 1 to 100 (e.g. 16:9)'
	refuse "start 16:" 'bad aspect ratio "16:": expected W:H, whole numbers from 1 to 100 (e.g. 16:9)'
	refuse "start 101:9" 'bad aspect ratio "101:9": expected W:H, whole numbers from 1 to 100 (e.g. 16:9)'
	refuse "start 4 16:9" 'aspect ratio "16:9" must come first: start [W:H] [BITRATE] [FPS] [segments DURATION] [for DURATION] [@TARGET...]'
	refuse "start 16:9 4 30 1" 'too many arguments for start at "1": start [W:H] [BITRATE] [FPS] [segments DURATION] [for DURATION] [@TARGET...]'
	refuse "stop now" 'too many arguments for stop at "now"'
	refuse "Start" 'unknown command "Start"; try help'
	refuse "record 16:9" 'unknown command "record"; try help'
}

@test "ctl: bad ESP commands, targets and durations are refused" {
	refuse "esp start HUGE" 'bad ESP frame size "HUGE": expected one of QQVGA QCIF HQVGA 240X240 QVGA CIF HVGA VGA SVGA XGA HD SXGA UXGA FHD P_HD P_3MP QXGA'
	refuse "esp start HD 64" 'bad ESP quality "64": expected a whole number from 1 to 63 (lower is better)'
	refuse "esp start 0" 'bad ESP quality "0": expected a whole number from 1 to 63 (lower is better)'
	refuse "esp start 12 HD" 'too many arguments for start at "HD"'
	refuse "esp reboot" 'unknown esp command "reboot": esp start [RES] [QUALITY] [for DURATION] | esp stop | esp status'
	refuse "esp" 'esp needs a command: esp start [RES] [QUALITY] [for DURATION] | esp stop | esp status'
	refuse "esp status now" 'too many arguments for esp status at "now"'
	refuse "stop @x7" 'bad target "@x7": expected @ID, @ADDRESS or @ADDRESS:PORT'
	refuse "stop @1.2.3.4:0" 'bad target "@1.2.3.4:0": expected @ID, @ADDRESS or @ADDRESS:PORT'
	refuse "stop @camera.local" 'bad target "@camera.local": expected @ID, @ADDRESS or @ADDRESS:PORT'
	refuse "@7" 'a target needs a command; try help'
	refuse "stop @192.168.1.20" '@192.168.1.20: an address target needs the status file (-s or CAMREC_STATUS)'
	refuse "start for 30" 'bad duration "30": expected a number with unit s, m or h (e.g. 30s, 2m, 1h), more than 0 and at most 24h'
	refuse "start for 0s" 'bad duration "0s": expected a number with unit s, m or h (e.g. 30s, 2m, 1h), more than 0 and at most 24h'
	refuse "start for 25h" 'bad duration "25h": expected a number with unit s, m or h (e.g. 30s, 2m, 1h), more than 0 and at most 24h'
	refuse "start for" 'bad duration "": expected a number with unit s, m or h (e.g. 30s, 2m, 1h), more than 0 and at most 24h'
	refuse "start for 1s for 2s" '"for" given twice'
	refuse "stop for 10s" '"for DURATION" only follows start or esp start'
	refuse "help @3" 'help takes no target'
}

@test "ctl: no reader on the FIFO is 'recorder not running' at once" {
	mkfifo "$T/idle.fifo"
	t0=$(date +%s%N)
	run --separate-stderr timeout 5 ctl -c "$T/idle.fifo" start
	t1=$(date +%s%N)
	[ "$status" -eq 4 ]
	[ "$stderr" = "ctl: recorder not running (no reader on FIFO $T/idle.fifo)" ]
	# Not after timeout's 5 s: ctl did not wait for a reader (a loaded
	# machine may take a second or two to start it at all).
	[ $(((t1 - t0) / 1000000)) -lt 4500 ]
	run --separate-stderr ctl -c "$T/none.fifo" stop
	[ "$status" -eq 4 ]
	[ "$stderr" = "ctl: recorder not running (no control FIFO $T/none.fifo)" ]
	: >"$T/plain"
	run --separate-stderr ctl -c "$T/plain" stop
	[ "$status" -eq 1 ]
	[ "$stderr" = "ctl: control FIFO $T/plain: not a FIFO" ]
	[ ! -s "$T/plain" ]
	run --separate-stderr ctl stop
	[ "$status" -eq 2 ]
	[ "$stderr" = "ctl: no control FIFO: give -c FIFO or set CAMREC_CTL" ]
}

@test "ctl: CAMREC_CTL and CAMREC_STATUS name the FIFO and status file" {
	status_fixture
	CAMREC_CTL=$FIFO CAMREC_STATUS=$T/status.json run ctl -w 0 stop @5
	[ "$status" -eq 0 ]
	[ "$output" = "stop: sent to 1 camera: 5" ]
	[ "$(drain)" = "text 5 $STOP" ]
}

@test "ctl: -n prints the lines and needs no recorder" {
	run ctl -n start 16:9 for 10s @3
	[ "$status" -eq 0 ]
	diff -u - <(echo "$output") <<'EOF'
text 3 {"command":"start_capture","payload":{"format":"h264","bitrate":4,"fps":10,"aspectRatio":{"width":16,"height":9}}}
# after 10s
text 3 {"command":"stop_capture"}
EOF
	[ -z "$(drain)" ]
}

@test "ctl: start sets the current app's segment length; fractional bitrates are refused" {
	run ctl -n start 4 30 segments 10s @3
	[ "$status" -eq 0 ]
	[ "$output" = 'text 3 {"command":"start_capture","payload":{"format":"h264","bitrate":4,"fps":30,"segmentDuration":10.0}}' ]
	run ctl -n start segments 1.5m for 1h @3
	[ "${lines[0]}" = 'text 3 {"command":"start_capture","payload":{"format":"h264","bitrate":4,"fps":10,"segmentDuration":90.0}}' ]
	run --separate-stderr ctl -n start segments 0.5s @3
	[ "$status" -eq 2 ]
	[ "$stderr" = 'ctl: bad segment length "0.5s": expected a number with unit s, m or h (e.g. 10s, 1m), from 1s to 1h' ]
	run --separate-stderr ctl -n stop segments 10s
	[ "$status" -eq 2 ]
	[ "$stderr" = 'ctl: "segments DURATION" only follows start (Android cameras)' ]
	run --separate-stderr ctl -n start 16:9 1.5 30 @3
	[ "$status" -eq 2 ]
	[ "$stderr" = 'ctl: bad bitrate "1.5": the phone app reads whole Mbit/s and would use 1; give a whole number from 1 to 100' ]
	[ -z "$(drain)" ]
}

@test "ctl: list prints the status file, escaping what clients sent" {
	status_fixture
	run ctl -s "$T/status.json" list
	[ "$status" -eq 0 ]
	diff -u - <(echo "$output") <<'EOF'
ID    PEER                   PATH           KIND    REC    FPS     KBPS  SESSION                                  MODEL
3     127.0.0.1:50123        /android-cam   android yes   29.8   3980.5  rec/127.0.0.1_50123_20261121_165222      Pixel\x1b[2J 7
5     192.168.1.20:50124     /android-cam   android no     0.0      0.0  -                                        -
7     192.168.1.20:40000     /esp           esp     no    12.0    900.0  -                                        -
9     192.168.1.21:40001     /dev           dev     no     0.0      0.0  -                                        -
EOF
	run ctl -s "$T/status.json" status @192.168.1.20:40000
	[ "$status" -eq 0 ]
	[ "${lines[1]:0:2}" = "7 " ]
	[ "${#lines[@]}" -eq 2 ]
	run ctl -s "$T/status.json" list @42
	[ "$output" = "no camera matches" ]
	echo '{"format":"camrec-status 1","t_us":1,"cameras":[]}' >"$T/empty.json"
	run ctl -s "$T/empty.json" list
	[ "$output" = "no cameras connected" ]
	run --separate-stderr ctl list
	[ "$status" -eq 2 ]
	[ "$stderr" = "ctl: list needs the status file (-s or CAMREC_STATUS)" ]
	run --separate-stderr ctl -s "$T/missing.json" list
	[ "$status" -eq 1 ]
	[ "$stderr" = "ctl: status file $T/missing.json: No such file or directory" ]
	echo '{"cameras":' >"$T/bad.json"
	run --separate-stderr ctl -s "$T/bad.json" -c "$FIFO" stop
	[ "$status" -eq 3 ]
	[[ "$stderr" == "ctl: status file $T/bad.json: line "* ]]
	echo '{"format":"other","cameras":[]}' >"$T/bad.json"
	run --separate-stderr ctl -s "$T/bad.json" list
	[ "$status" -eq 3 ]
	[ "$stderr" = "ctl: status file $T/bad.json: not a camrec-status 1 document" ]
	[ -z "$(drain)" ]
}

@test "ctl: list escapes bidi controls and invisible format characters" {
	# A device model can reorder or hide what the operator reads: U+202E
	# turns the rest of the line around, U+2066..U+2069 isolate, U+200B,
	# U+00AD and U+FEFF are invisible. Other text is printed as it came.
	cat >"$T/status.json" <<'EOF'
{"format":"camrec-status 1","t_us":100,"cameras":[
{"conn":3,"peer":"127.0.0.1","port":50123,"path":"/android-cam\u200f","kind":"android","device_model":"Pixel\u202e7 orp\u2066x\u2069\u200b\u00ad\ufeff\u061c\u200e\u202a\u2060 \udb40\udc01 Caf\u00e9 \u65e5\u672c","recording":true,"session":"rec/\u2067x","fps":1.0,"kbps":2.0,"last_text":null,"last_text_us":null,"last_status":null,"last_status_us":null}]}
EOF
	run ctl -s "$T/status.json" list
	[ "$status" -eq 0 ]
	diff -u - <(echo "$output") <<'EOF'
ID    PEER                   PATH           KIND    REC    FPS     KBPS  SESSION                                  MODEL
3     127.0.0.1:50123        /android-cam\u200f android yes    1.0      2.0  rec/\u2067x                              Pixel\u202e7 orp\u2066x\u2069\u200b\u00ad\ufeff\u061c\u200e\u202a\u2060 \U000e0001 Café 日本
EOF
}

@test "ctl: with a status file, JSON goes to Android ids and text to ESP ids" {
	status_fixture
	run ctl -c "$FIFO" -s "$T/status.json" -w 0 start 16:9 8 30
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "start: sent to 3 cameras: 3 5 7" ]
	[[ "${lines[1]}" == 'note: ESP boards get a plain "start"'* ]]
	diff -u - <(drain) <<'EOF'
text 3,5 {"command":"start_capture","payload":{"format":"h264","bitrate":8,"fps":30,"aspectRatio":{"width":16,"height":9}}}
text 7 start
EOF
	ctl -c "$FIFO" -s "$T/status.json" -w 0 esp start VGA >/dev/null
	ctl -c "$FIFO" -s "$T/status.json" -w 0 @5 stop >/dev/null
	ctl -c "$FIFO" -s "$T/status.json" -w 0 stop @192.168.1.20 >/dev/null
	ctl -c "$FIFO" -s "$T/status.json" -w 0 stop @127.0.0.1:50123 @7 >/dev/null
	diff -u - <(drain) <<EOF
text 7 start VGA
text 5 $STOP
text 5 $STOP
text 7 stop
text 3 $STOP
text 7 stop
EOF
}

@test "ctl: targets that match no camera are refused, nothing written" {
	status_fixture
	run --separate-stderr ctl -c "$FIFO" -s "$T/status.json" stop @4
	[ "$status" -eq 5 ]
	[ "$stderr" = "ctl: @4: no such camera connected" ]
	run --separate-stderr ctl -c "$FIFO" -s "$T/status.json" stop @3 @10.0.0.1
	[ "$status" -eq 5 ]
	[ "$stderr" = "ctl: @10.0.0.1: no such camera connected" ]
	run --separate-stderr ctl -c "$FIFO" -s "$T/status.json" stop @9
	[ "$status" -eq 5 ]
	[ "$stderr" = "ctl: @9: connection 9 is a dev client, not a camera" ]
	run --separate-stderr ctl -c "$FIFO" -s "$T/status.json" esp status @3
	[ "$status" -eq 5 ]
	[ "$stderr" = "ctl: @3: connection 3 is an Android camera; esp status is for ESP boards" ]
	echo '{"format":"camrec-status 1","t_us":1,"cameras":[]}' >"$T/empty.json"
	run --separate-stderr ctl -c "$FIFO" -s "$T/empty.json" start
	[ "$status" -eq 5 ]
	[ "$stderr" = "ctl: start: no camera connected" ]
	[ -z "$(drain)" ]
}

@test "ctl: without a status file an @ID gets the command as it is" {
	ctl -c "$FIFO" start @7 @9 >/dev/null
	ctl -c "$FIFO" esp stop @12 >/dev/null
	diff -u - <(drain) <<EOF
text 7,9 $START
text 12 stop
EOF
	# A status file that does not exist yet: paths, with a warning.
	run --separate-stderr ctl -c "$FIFO" -s "$T/later.json" stop
	[ "$status" -eq 0 ]
	[ "$stderr" = "ctl: status file $T/later.json: No such file or directory; addressing cameras by path" ]
	diff -u - <(drain) <<EOF
text /android-cam $STOP
text /esp stop
EOF
}

@test "ctl: many cameras are split over FIFO lines of at most PIPE_BUF" {
	$PY - "$T/many.json" <<'EOF'
import json, sys
cams = [{"conn": 1000000000000000000 + i, "peer": "10.0.0.1", "port": 1000 + i,
         "path": "/android-cam", "kind": "android"} for i in range(250)]
json.dump({"format": "camrec-status 1", "t_us": 1, "cameras": cams}, open(sys.argv[1], "w"))
EOF
	run ctl -c "$FIFO" -s "$T/many.json" -w 0 stop
	[ "$status" -eq 0 ]
	drain >"$T/lines"
	[ "$(wc -l <"$T/lines")" -eq 2 ]
	[ "$(awk '{ if (length($0) + 1 > 4096) print "long" }' "$T/lines")" = "" ]
	[ "$(cut -d' ' -f2 "$T/lines" | tr ',' '\n' | sort -u | wc -l)" -eq 250 ]
	[ "$(cut -d' ' -f3- "$T/lines" | sort -u)" = "$STOP" ]
}

@test "ctl: start for 1s sends the stop after a second, in the foreground" {
	t0=$(date +%s%N)
	ctl -c "$FIFO" start 4:3 for 1s >"$T/out" &
	pid=$!
	PIDS=$pid
	# The starts go out first (on a loaded machine the stop may follow
	# them before they are read, so both reads together are compared).
	first=
	for _ in $(seq 1 300); do
		first=$(drain)
		[ -z "$first" ] || break
		sleep 0.1
	done
	[[ $first == "text /android-cam {\"command\":\"start_capture\""* ]]
	wait "$pid"
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	[ "$ms" -ge 1000 ]
	diff -u - <(printf '%s\n' "$first"; drain) <<EOF
text /android-cam {"command":"start_capture","payload":{"format":"h264","bitrate":4,"fps":10,"aspectRatio":{"width":4,"height":3}}}
text /esp start
text /android-cam $STOP
text /esp stop
EOF
	grep -q '^start: stop in 1s$' "$T/out"
}

@test "ctl: commands from stdin: errors go on, status of the last failure" {
	run --separate-stderr ctl -c "$FIFO" <<'EOF'
# a comment
start 16:9 4 30
start 16:9 4 300

esp start HD 12
stop
EOF
	[ "$status" -eq 2 ]
	[ "$stderr" = 'ctl: bad frame rate "300": expected a whole number of frames per second from 0 to 120 (0 = unlimited)' ]
	[[ "$output" != *"camrec>"* ]]
	diff -u - <(drain) <<EOF
text /android-cam {"command":"start_capture","payload":{"format":"h264","bitrate":4,"fps":30,"aspectRatio":{"width":16,"height":9}}}
text /esp start
text /esp start HD 12
text /android-cam $STOP
text /esp stop
EOF
	printf 'stop\nquit\nstart\n' | ctl -c "$FIFO" >/dev/null
	[ "$(drain)" = "text /android-cam $STOP
text /esp stop" ]
	printf 'stop' | ctl -c "$FIFO" >/dev/null
	[ "$(drain | wc -l)" -eq 2 ]
}

@test "ctl: a 'for' timer runs while commands are read, EOF waits for it" {
	t0=$(date +%s%N)
	{
		echo 'esp start for 1s'
		sleep 0.4
		echo 'esp status'
	} | ctl -c "$FIFO" >"$T/out"
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	[ "$ms" -ge 1000 ]
	[ "$ms" -lt 10000 ]	# not some other wait; the bound leaves room for load
	diff -u - <(drain) <<EOF
text /esp start
text /esp status
text /esp stop
EOF
	# The stop goes out while stdin is still open.
	{
		echo 'start for 0.5s @4'
		sleep 1.2
		drain >"$T/mid"
		echo 'stop @5'
	} | ctl -c "$FIFO" >/dev/null
	[ "$(cat "$T/mid")" = "text 4 $START
text 4 $STOP" ]
	[ "$(drain)" = "text 5 $STOP" ]
}

@test "ctl: SIGTERM sends the pending stop at once" {
	ctl -c "$FIFO" start for 60s @3 >"$T/out" 2>&1 &
	pid=$!
	PIDS=$pid
	wait_for "grep -q 'stop in' '$T/out'" 5
	kill -TERM "$pid"
	t0=$(date +%s%N)
	rc=0
	wait "$pid" || rc=$?
	t1=$(date +%s%N)
	[ "$rc" -eq 143 ]
	[ $(((t1 - t0) / 1000000)) -lt 10000 ]	# not the 60 s timer
	diff -u - <(drain) <<EOF
text 3 $START
text 3 $STOP
EOF
}

@test "ctl: a prompt only on a terminal" {
	run $PY -c '
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp("ctl", ["ctl", "-c", sys.argv[1]])
os.write(fd, b"help\nquit\n")
out = b""
while True:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
os.waitpid(pid, 0)
sys.stdout.write(out.decode())' "$FIFO"
	[ "$status" -eq 0 ]
	[[ "$output" == *"camrec> "* ]]
	[[ "$output" == *"esp start [RES] [QUALITY]"* ]]
}

# ---- end to end: wsrecv | frameparse | sessionwriter, python cameras ----

recorder() {
	[ -x "$CAMREC_BIN/wsrecv" ] && [ -x "$CAMREC_BIN/sessionwriter" ] ||
		skip "wsrecv or sessionwriter not built"
	PORT=$(free_port)
	RFIFO=$T/rec.fifo
	ST=$T/status.json
	mkfifo "$T/records" "$T/frames"
	wsrecv -H 127.0.0.1 -p "$PORT" -c "$RFIFO" >"$T/records" 2>"$T/wsrecv.err" 8<&- &
	PIDS="$PIDS $!"
	frameparse <"$T/records" >"$T/frames" 2>"$T/frameparse.err" 8<&- &
	PIDS="$PIDS $!"
	sessionwriter -d "$T/rec" --status "$ST" <"$T/frames" >"$T/ended" 2>"$T/sw.err" 8<&- &
	PIDS="$PIDS $!"
	wait_port "$PORT"
}

# camera NAME [fakephone options] PATH: connect a camera, logging to $T/NAME.
camera() {
	local name=$1 path=${*: -1}
	set -- "${@:2:$#-2}"
	$PY "$REPO/tests/fakephone.py" "$@" "ws://127.0.0.1:$PORT$path" >"$T/$name" 8<&- &
	PIDS="$PIDS $!"
}

# The connection id of camera NAME, from the status file.
conn_of() {
	local port
	port=$(awk '$1 == "open" { print $2 }' "$T/$1")
	ctl -s "$ST" list "@127.0.0.1:$port" | awk 'NR == 2 { print $1 }'
}

# Wait until the status file lists N connections with their models known.
wait_cameras() {
	wait_for "[ \$(ctl -s '$ST' list 2>/dev/null | awk 'NR > 1 && !(\$4 == \"android\" && \$NF == \"-\")' | wc -l) -eq $1 ]" 10
}

@test "ctl end to end: cameras get exactly the commands and confirm" {
	recorder
	camera p1 --model $'Pixel\x1b[2J 7' /android-cam
	camera p2 --answer none /android-cam
	camera e1 --esp /esp
	wait_cameras 3
	run ctl -c "$RFIFO" -s "$ST" -w 1.5 start 16:9 4 30
	[ "$status" -eq 7 ]
	p1=$(conn_of p1) p2=$(conn_of p2) e1=$(conn_of e1)
	[[ "$output" == *"  $p1 127.0.0.1:"*" Pixel\\x1b[2J 7: confirmed: capture_started \"Streaming H.264 at 16:9 aspect ratio, 4MB bitrate (30fps)\""* ]]
	[[ "$output" == *"  $p2 127.0.0.1:"*" Pixel 7: no answer within 1.5s"* ]]
	[[ "$output" == *"  $e1 127.0.0.1:"*" esp: confirmed: \"ACK: start\""* ]]
	[[ "$output" == *"start: 2 confirmed, 0 error, 1 no answer" ]]
	run ctl -c "$RFIFO" -s "$ST" stop "@$p1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"stop: 1 confirmed, 0 error, 0 no answer" ]]
	run ctl -c "$RFIFO" -s "$ST" esp status
	[ "$status" -eq 0 ]
	[[ "$output" == *"esp: confirmed: \"STATUS: idle\""* ]]
	diff -u - <(grep '^text' "$T/p1") <<'EOF'
text {"command":"start_capture","payload":{"format":"h264","bitrate":4,"fps":30,"aspectRatio":{"width":16,"height":9}}}
text {"command":"stop_capture"}
EOF
	diff -u - <(grep '^text' "$T/p2") <<'EOF'
text {"command":"start_capture","payload":{"format":"h264","bitrate":4,"fps":30,"aspectRatio":{"width":16,"height":9}}}
EOF
	diff -u - <(grep '^text' "$T/e1") <<'EOF'
text start
text status
EOF
}

@test "ctl end to end: list from sessionwriter, errors, and start for" {
	recorder
	camera p1 /android-cam
	camera bad --answer error --model 'Galaxy S9' /android-cam
	wait_cameras 2
	p1=$(conn_of p1) bad=$(conn_of bad)
	run ctl -c "$RFIFO" -s "$ST" -w 2 start 4:3 2 15 for 1s
	[ "$status" -eq 6 ]
	[[ "$output" == *"  $bad 127.0.0.1:"*" Galaxy S9: error: error \"Invalid command received: {"* ]]
	[[ "$output" == *"start: 1 confirmed, 1 error, 0 no answer"* ]]
	[[ "$output" == *"stop: sent to 2 cameras: "* ]]
	[[ "$output" == *"stop: 1 confirmed, 1 error, 0 no answer" ]]
	diff -u - <(grep '^text' "$T/p1") <<'EOF'
text {"command":"start_capture","payload":{"format":"h264","bitrate":2,"fps":15,"aspectRatio":{"width":4,"height":3}}}
text {"command":"stop_capture"}
EOF
	# A session was started and ended by the phone's answers. One that got
	# no frames yet may be a current-app phone whose last segment comes
	# after capture_stopped: it ends when sessionwriter's grace (5 s) does.
	wait_for "ctl -s '$ST' list @$p1 | sed -n 2p | grep -q ' android no '" 15
	run ctl -s "$ST" list "@$p1"
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" == "$p1 "*" android no "*" Pixel 7" ]]
	ctl -c "$RFIFO" -s "$ST" -w 0 start "@$p1" >/dev/null
	wait_for "ctl -s '$ST' list @$p1 | grep -q ' yes '" 5
	run ctl -s "$ST" list "@$p1"
	[[ "${lines[1]}" == *" yes "*"$T/rec/127.0.0.1_"*" Pixel 7" || "${lines[1]}" == *" yes "*"rec/127.0.0.1_"*" Pixel 7" ]]
}
