#!/usr/bin/env bats
# camsim against an independent peer (tests/wsserver.py, python3-websockets):
# what a camera says and sends, and the faults it fakes on request.

load helper

START='{"command":"start_capture","payload":{"format":"h264","bitrate":4,"fps":30,"aspectRatio":{"width":16,"height":9}}}'
STOP='{"command":"stop_capture"}'

setup_file() {
	make_clip "$BATS_FILE_TMPDIR/clip.h264"
}

setup() {
	CLIP=$BATS_FILE_TMPDIR/clip.h264
	T=$BATS_TEST_TMPDIR
	SRV= CAM= WSR=
}

teardown() {
	local p
	for p in $CAM $SRV $WSR; do
		kill "$p" 2>/dev/null || true
		timeout 5 tail --pid="$p" -f /dev/null || true
	done
}

# server [wsserver options]: start the test server on a free port ($PORT),
# logging to $T/log.jsonl and dumping payloads into $T.
server() {
	PORT=$(free_port)
	$PY "$REPO/tests/wsserver.py" --port "$PORT" --log "$T/log.jsonl" --dump "$T" "$@" &
	SRV=$!
	wait_port "$PORT"
}

# check PYTHON: run a python snippet with ev (the logged events) in scope.
check() {
	$PY -c "
import json, sys
ev = [json.loads(l) for l in open('$T/log.jsonl')]
def texts(c=None): return [e for e in ev if e['ev'] == 'text' and (c is None or e['conn'] == c)]
def bins(c=None): return [e for e in ev if e['ev'] == 'binary' and (c is None or e['conn'] == c)]
def closes(): return [e for e in ev if e['ev'] == 'close']
$1
"
}

# Stop camsim with SIGTERM and expect a clean exit.
stop_cam() {
	kill -TERM "$CAM"
	local rc=0
	wait "$CAM" || rc=$?
	CAM=
	[ "$rc" -eq 0 ]
}

@test "--help, --version and usage errors" {
	run -0 camsim --help
	[[ $output == usage:\ camsim* ]]
	run -0 camsim --version
	[[ $output == "camsim (camrec) "* ]]
	run -2 --separate-stderr camsim --bogus
	[[ $stderr == *"usage: camsim"* ]]
	run -2 --separate-stderr camsim --clip "$CLIP" --fps abc
	[[ $stderr == *"--fps abc: expected a number"* ]]
	run -2 --separate-stderr camsim
	[[ $stderr == *"--clip FILE is required"* ]]
	run -2 --separate-stderr camsim --esp
	[[ $stderr == *"--esp needs --jpeg"* ]]
	run -2 --separate-stderr camsim --clip "$CLIP" -u http://x/
	[[ $stderr == *"only ws:// is supported"* ]]
	run -2 --separate-stderr camsim --clip "$CLIP" --vanish-how maybe
	[[ $stderr == *"expected silence or reset"* ]]
	run -2 --separate-stderr camsim --clip "$CLIP" extra
	[[ $stderr == *"usage: camsim"* ]]
}

@test "unreadable clip exits 1, a file that is not H.264 exits 3" {
	run -1 --separate-stderr camsim --clip "$T/missing.h264"
	[[ $stderr == *"missing.h264: No such file or directory"* ]]
	head -c 5000 /dev/urandom | tr -d '\000' >"$T/noise.h264"
	run -3 --separate-stderr camsim --clip "$T/noise.h264"
	[[ $stderr == *"noise.h264: no SPS/PPS at the start of the clip"* ]]
}

@test "connect: ready, capabilities, and nothing binary without start_capture" {
	server
	camsim -u "ws://127.0.0.1:$PORT/android-cam" --clip "$CLIP" --model "Pixel 7" &
	CAM=$!
	wait_for "grep -q capabilities '$T/log.jsonl'"
	sleep 0.5
	stop_cam
	check '
t = texts()
assert json.loads(t[0]["data"]) == {"status": "ready", "message": "Client is ready to stream"}, t
cap = json.loads(t[1]["data"])
assert cap["type"] == "capabilities" and cap["deviceModel"] == "Pixel 7", cap
assert cap["resolutions"][0]["width"] * cap["resolutions"][0]["height"] >= cap["resolutions"][-1]["width"] * cap["resolutions"][-1]["height"]
assert bins() == [], bins()
assert [e["path"] for e in ev if e["ev"] == "open"] == ["/android-cam"]
assert closes()[0]["code"] == 1000, closes()
'
}

@test "start_capture: capture_started, config packet at time 0, the clip byte for byte, seq +1, paced" {
	server --send "0.2:$START"
	camsim -u "ws://127.0.0.1:$PORT/android-cam" --clip "$CLIP" &
	CAM=$!
	# 60 pictures at 30 fps: one loop of the clip takes 2 s.
	wait_for "[ \$(grep -c binary '$T/log.jsonl') -ge 66 ]" 10
	stop_cam
	check '
t = texts()
assert json.loads(t[2]["data"]) == {"status": "capture_started", "message": "Streaming H.264 at 16:9 aspect ratio, 4MB bitrate (30fps) [rotated on Android]"}, t[2]
first_bin = ev.index(bins()[0])
assert ev.index(t[2]) < first_bin, "capture_started after the first frame"
b = bins()
assert b[0]["ts"] == 0
assert all(x["ts"] > 80000000 for x in b[1:]), b[1]
assert all(x["len"] == x["plen"] + 16 for x in b)
assert [x["seq"] for x in b] == list(range(b[0]["seq"], b[0]["seq"] + len(b))), "sequence"
ts = [x["ts"] for x in b[1:61]]
assert ts == sorted(ts)
mean = (ts[-1] - ts[0]) / (len(ts) - 1)
assert 1000 / 30 * 0.7 <= mean <= 1000 / 30 * 1.3, mean
assert json.loads(texts()[-1]["data"])["status"] == "capture_stopped"
assert closes()[0]["code"] == 1000
'
	cmp -n "$(stat -c %s "$CLIP")" "$T/conn1.bin" "$CLIP"
	# The second loop starts with the first picture, not with SPS/PPS again.
	check "
clip = open('$CLIP', 'rb').read(); got = open('$T/conn1.bin', 'rb').read()
cfg = bins()[0]['plen']
rest = got[len(clip):]
assert len(rest) > 1000 and rest == clip[cfg:cfg + len(rest)], 'second loop'
"
}

@test "requested fps paces the device clock; stop_capture ends the frames" {
	server --send '0.2:{"command":"start_capture","payload":{"format":"h264","bitrate":2,"fps":10}}' \
		--send "1.4:$STOP" --send '1.5:not json {' --send '1.6:{"command":"start_capture"}' \
		--send '1.7:{"command":"reboot"}'
	camsim -u "ws://127.0.0.1:$PORT/android-cam" --clip "$CLIP" &
	CAM=$!
	wait_for "grep -q reboot '$T/log.jsonl'"
	sleep 0.6
	stop_cam
	check '
t = [json.loads(x["data"]) for x in texts()]
st = [x.get("status") for x in t]
assert st == ["ready", None, "capture_started", "capture_stopped", "error"], st
assert t[2]["message"] == "Streaming H.264 at 4:3 aspect ratio, 2MB bitrate (10fps) [rotated on Android]", t[2]
assert t[4]["message"] == "Invalid command received: not json {", t[4]
stopped = ev.index(texts()[3])
assert not [e for e in ev[stopped:] if e["ev"] == "binary"], "frames after capture_stopped"
ts = [x["ts"] for x in bins()[1:]]
assert len(ts) >= 8, len(ts)
mean = (ts[-1] - ts[0]) / (len(ts) - 1)
assert 70 <= mean <= 130, mean
'
}

@test "--early sends the config packet and frames before capture_started" {
	server --send "0.2:$START"
	camsim -u "ws://127.0.0.1:$PORT/" --clip "$CLIP" --early 3 &
	CAM=$!
	wait_for "grep -q capture_started '$T/log.jsonl'"
	sleep 0.3
	stop_cam
	check '
cs = ev.index([e for e in texts() if "capture_started" in e["data"]][0])
before = [e for e in ev[:cs] if e["ev"] == "binary"]
assert len(before) == 4, before
assert before[0]["ts"] == 0 and before[1]["ts"] > 0
'
}

@test "--drop makes sequence gaps, --malformed a length field that lies, --seq-start wraps" {
	server
	run -0 camsim -u "ws://127.0.0.1:$PORT/" --clip "$CLIP" --autostart --fast --frames 40 \
		--drop 5 --malformed 7 --seq-start 4294967290
	check '
b = bins()
assert len(b) == 41, len(b)
seq = [x["seq"] for x in b]
assert seq[0] == 4294967290 and 0 in seq, seq
gaps = [(a, c) for a, c in zip(seq, seq[1:]) if (c - a) % 2**32 != 1]
assert len(gaps) >= 7 and all((c - a) % 2**32 == 2 for a, c in gaps), gaps
bad = [i + 1 for i, x in enumerate(b) if x["plen"] != x["len"] - 16]
assert bad == list(range(7, 42, 7)), bad
'
	run -0 camsim -u "ws://127.0.0.1:$PORT/" --clip "$CLIP" --autostart --fast --frames 40 \
		--drop 0.2 --seed 7
	check '
seq = [x["seq"] for x in bins(2)]
assert any(c - a > 1 for a, c in zip(seq, seq[1:])), seq
'
}

@test "--burst holds frames and sends them back to back" {
	server
	camsim -u "ws://127.0.0.1:$PORT/" --clip "$CLIP" --autostart --fps 20 --burst 5 &
	CAM=$!
	wait_for "[ \$(grep -c binary '$T/log.jsonl') -ge 16 ]"
	stop_cam
	check '
b = bins()[1:16]
arr = [x["t"] for x in b]
gaps = [c - a for a, c in zip(arr, arr[1:])]
assert sum(1 for g in gaps if g < 0.02) >= 10, gaps
assert sum(1 for g in gaps if g > 0.15) >= 2, gaps
# Device times keep the capture spacing (50 ms; a loaded machine wakes
# the capture clock late now and then), where the sends come in bursts.
ts = [x["ts"] for x in b]
tsg = [c - a for a, c in zip(ts, ts[1:])]
assert all(g > 0 for g in tsg), ts
assert sum(1 for g in tsg if g < 20) <= 2, ts
'
}

@test "--jitter makes the spacing irregular around the requested rate" {
	server
	camsim -u "ws://127.0.0.1:$PORT/" --clip "$CLIP" --autostart --fps 20 --jitter 20 --seed 3 &
	CAM=$!
	wait_for "[ \$(grep -c binary '$T/log.jsonl') -ge 22 ]"
	stop_cam
	check '
import statistics
ts = [x["ts"] for x in bins()[1:22]]
d = [c - a for a, c in zip(ts, ts[1:])]
assert 35 <= statistics.mean(d) <= 65, d
assert statistics.pstdev(d) > 4, d
'
}

@test "-n 3: three connections, distinct device models, own sequence counters" {
	server
	run -0 camsim -n 3 -u "ws://127.0.0.1:$PORT/android-cam" --clip "$CLIP" --autostart --frames 5
	check '
models = sorted(json.loads(e["data"])["deviceModel"] for e in texts() if "capabilities" in e["data"])
assert models == ["camsim-0", "camsim-1", "camsim-2"], models
for c in (1, 2, 3):
    assert [x["seq"] for x in bins(c)] == list(range(6)), c
    assert json.loads(texts(c)[-1]["data"]) == {"status": "capture_stopped", "message": "Frame limit reached"}
assert sorted(e["code"] for e in closes()) == [1000] * 3
'
}

@test "--vanish-after: the server gets no close frame (reset and silence)" {
	server
	run -0 camsim -u "ws://127.0.0.1:$PORT/" --clip "$CLIP" --autostart --vanish-after 0.5 \
		--vanish-how reset
	wait_for "grep -q '\"close\"' '$T/log.jsonl'"
	check '
c = closes()[0]
assert c["code"] == 1006 and c["frames"] > 5, c
assert not [e for e in texts() if "capture_stopped" in e["data"]]
'
	camsim -u "ws://127.0.0.1:$PORT/" --clip "$CLIP" --autostart --vanish-after 0.5 &
	CAM=$!
	sleep 1.5
	check '
assert len(closes()) == 1, "silent camera closed"
b = bins(2)
assert b and b[-1]["t"] < ev[-1]["t"] + 1
'
	n=$(grep -c '"conn": 2' "$T/log.jsonl")
	sleep 0.5
	[ "$(grep -c '"conn": 2' "$T/log.jsonl")" -eq "$n" ]
	stop_cam
	wait_for "[ \$(grep -c '\"close\"' '$T/log.jsonl') -eq 2 ]"
	check '
c = closes()[1]
assert c["conn"] == 2 and c["code"] == 1006, c
'
}

@test "--esp: text commands answered with ACK/STATUS/ERROR, one JPEG per message" {
	mkdir "$T/jpeg"
	ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=size=160x120:rate=5:duration=1 \
		"$T/jpeg/img%02d.jpg"
	PORT=$(free_port)
	$PY "$REPO/tests/wsserver.py" --port "$PORT" --log "$T/log.jsonl" --raw \
		--send 0.2:start --send '0.6:status' --send '0.7:start BOGUS' --send '0.8:start 99' \
		--send '0.9:start VGA 20' --send '1.3:stop' &
	SRV=$!
	wait_port "$PORT"
	camsim --esp -u "ws://127.0.0.1:$PORT/esp" --jpeg "$T/jpeg" &
	CAM=$!
	wait_for "grep -q 'streaming stopped' '$T/log.jsonl'"
	stop_cam
	check '
t = [x["data"] for x in texts()]
assert t[0] == "ACK: streaming started HD quality 12", t
assert t[1].startswith("STATUS: streaming HD quality 12"), t
assert t[2].startswith("ERROR:") and t[3] == "ERROR: quality must be 1-63", t
assert t[4] == "ACK: streaming started VGA quality 20" and t[5] == "ACK: streaming stopped", t
b = bins()
assert len(b) >= 8, len(b)
assert all(x["head"] == "ffd8" and x["tail"] == "ffd9" for x in b)
assert [e["path"] for e in ev if e["ev"] == "open"] == ["/esp"]
'
}

@test "SIGINT: capture_stopped, close frame, exit 0" {
	server
	camsim -u "ws://127.0.0.1:$PORT/" --clip "$CLIP" --autostart &
	CAM=$!
	wait_for "[ \$(grep -c binary '$T/log.jsonl') -ge 5 ]"
	kill -INT "$CAM"
	rc=0
	wait "$CAM" || rc=$?
	CAM=
	[ "$rc" -eq 0 ]
	wait_for "grep -q '\"close\"' '$T/log.jsonl'"
	check '
assert json.loads(texts()[-1]["data"])["status"] == "capture_stopped"
assert closes()[0]["code"] == 1000
'
}

@test "--fast --frames and --duration: bounded runs with a machine-readable summary" {
	server --count-only
	run -0 --separate-stderr camsim -n 2 -u "ws://127.0.0.1:$PORT/" --clip "$CLIP" --autostart \
		--fast --frames 300 --stats
	[[ $output =~ ^frames=602\ bytes=[0-9]+\ seconds=[0-9.]+$ ]]
	[[ $stderr == *"2 cameras, 602 frames"*MB/s* ]]
	wait_for "[ \$(grep -c '\"close\"' '$T/log.jsonl') -eq 2 ]"
	bytes=$(echo "$output" | sed 's/.*bytes=\([0-9]*\).*/\1/')
	check "assert sum(c['bytes'] for c in closes()) == $bytes and sum(c['frames'] for c in closes()) == 602"
	SECONDS=0
	run -0 camsim -u "ws://127.0.0.1:$PORT/" --clip "$CLIP" --autostart --duration 1 --stats
	[ "$SECONDS" -le 3 ]
	[[ $output =~ ^frames=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -ge 20 ]
	[ "${BASH_REMATCH[1]}" -le 40 ]
}

@test "refused connection exits 1; --retry waits for the server" {
	PORT=$(free_port)
	run -1 --separate-stderr camsim -u "ws://127.0.0.1:$PORT/" --clip "$CLIP"
	[[ $stderr == *"camera 0: ws://127.0.0.1:$PORT/:"* ]]
	camsim -u "ws://127.0.0.1:$PORT/" --clip "$CLIP" --retry --autostart --frames 3 2>"$T/err" &
	CAM=$!
	sleep 1.2
	$PY "$REPO/tests/wsserver.py" --port "$PORT" --log "$T/log.jsonl" &
	SRV=$!
	rc=0
	wait "$CAM" || rc=$?
	CAM=
	[ "$rc" -eq 0 ]
	grep -q "retrying in 1 s" "$T/err"
	check 'assert len(bins()) == 4'
}

@test "-n beyond the descriptor limit is refused clearly" {
	run -1 --separate-stderr bash -c "ulimit -n 64; camsim -n 500 --clip '$CLIP'"
	[[ $stderr == *"-n 500 needs 532 file descriptors but the limit is 64"* ]]
}

@test "camsim -> wsrecv -> frameparse -> recdump: a started stream with a bad header" {
	PORT=$(free_port)
	mkfifo "$T/ctl"
	wsrecv -p "$PORT" -c "$T/ctl" >"$T/out.rec" 2>"$T/wsrecv.err" &
	WSR=$!
	wait_port "$PORT"
	camsim -u "ws://127.0.0.1:$PORT/android-cam" --clip "$CLIP" --malformed 10 &
	CAM=$!
	wait_for "recdump '$T/out.rec' | grep -q capabilities"
	printf 'text all %s\n' "$START" >"$T/ctl"
	wait_for "[ \$(recdump '$T/out.rec' | grep -c binary) -ge 25 ]"
	stop_cam
	kill -TERM "$WSR"
	wait "$WSR"
	WSR=
	frameparse <"$T/out.rec" 2>"$T/fp.err" | recdump >"$T/dump"
	grep -q 'text "{\\"status\\":\\"capture_started\\"' "$T/dump"
	grep -q 'frame seq=0 device_ms=0 kind=config' "$T/dump"
	grep -q 'frame seq=1 device_ms=[0-9]* kind=key' "$T/dump"
	grep -q 'badframe seq=9 ' "$T/dump"
	grep -q 'conn 1 seq 9: length field' "$T/fp.err"
	grep -q 'close code=1000 clean=1 by_server=0' "$T/dump"
}
