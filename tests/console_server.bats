#!/usr/bin/env bats
# wsrecv's console side without a browser: the HTTP roots and their
# escapes, the old console's protocol, refused commands, the previews'
# late joiners and slow or stalled viewers.
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
}

con() {
	timeout 60 $PY "$REPO/tests/console.py" "$@"
}

# start_wsrecv [OPTIONS...]: wsrecv with the page and ./rec served.
start_wsrecv() {
	PORT=$(free_port)
	mkdir -p rec
	wsrecv -p "$PORT" --www "$REPO/web" --recordings rec "$@" > out.rec 2> err &
	WPID=$!
	PIDS+=("$WPID")
	wait_port "$PORT"
	URL=ws://127.0.0.1:$PORT
}

stop_wsrecv() {
	kill -TERM "$WPID"
	wait "$WPID"
}

# session DIR STATE START_US: a session folder as sessionwriter leaves it.
session() {
	mkdir -p "rec/$1"
	printf '{"format":"camrec-session 1","kind":"frames","state":"%s","peer":{"address":"10.0.0.%s","port":4000},"path":"/android-cam","device_model":"<b>x</b>","started_wall_us":%s,"ended_wall_us":%s,"started":"t%s","bytes":7}\n' \
		"$2" "${3: -1}" "$3" $(($3 + 2500000)) "$3" > "rec/$1/session.json"
}

@test "the page, a recording with byte ranges, and the list of closed sessions newest first" {
	session 10.0.0.1_4000_20260101_000001 closed 1000001
	session 10.0.0.2_4000_20260101_000002 failed 3000002
	session 10.0.0.3_4000_20260101_000003 recording 5000003
	mkdir rec/oldserver && : > rec/oldserver/stream.h264
	head -c 300000 /dev/urandom > rec/10.0.0.1_4000_20260101_000001/stream.mp4
	printf 'jpeg' > rec/10.0.0.1_4000_20260101_000001/thumbnail.jpg
	start_wsrecv
	mp4=/recordings/10.0.0.1_4000_20260101_000001/stream.mp4
	sum() { tail -c +$(($1 + 1)) rec/10.0.0.1_4000_20260101_000001/stream.mp4 | head -c "$2" | sha256sum | cut -d' ' -f1; }

	run -0 con http "$PORT" GET /
	[ "$output" = "200 $(wc -c < "$REPO/web/index.html") $(sha256sum < "$REPO/web/index.html" | cut -d' ' -f1) -" ]
	run -0 con http "$PORT" GET "$mp4"
	[ "$output" = "200 300000 $(sum 0 300000) -" ]
	run -0 con http "$PORT" GET "$mp4" "Range: bytes=1000-1999"
	[ "$output" = "206 1000 $(sum 1000 1000) bytes 1000-1999/300000" ]
	run -0 con http "$PORT" GET "$mp4" "Range: bytes=299000-"
	[ "$output" = "206 1000 $(sum 299000 1000) bytes 299000-299999/300000" ]
	run -0 con http "$PORT" GET "$mp4" "Range: bytes=-10"
	[ "$output" = "206 10 $(sum 299990 10) bytes 299990-299999/300000" ]
	run -0 con http "$PORT" GET "$mp4" "Range: bytes=300000-"
	[[ $output == "416 0 "*" bytes */300000" ]]
	run -0 con http "$PORT" HEAD "$mp4"
	[[ $output == "200 0 "* ]]
	run -0 con http "$PORT" POST "$mp4"
	[[ $output == "405 "* ]]

	curl -sf "http://127.0.0.1:$PORT/api/recordings" > list.json
	$PY - list.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["recordings"]
assert [x["folder"] for x in r] == ["10.0.0.2_4000_20260101_000002", "10.0.0.1_4000_20260101_000001"], r
a = r[1]
assert a["state"] == "closed" and a["duration"] == 2.5 and a["size"] == 300000, a
assert a["video"] == "/recordings/10.0.0.1_4000_20260101_000001/stream.mp4", a
assert a["thumbnail"] == "/recordings/10.0.0.1_4000_20260101_000001/thumbnail.jpg", a
assert a["camera"] == {"address": "10.0.0.1", "port": 4000} and a["device_model"] == "<b>x</b>", a
assert r[0]["video"] is None and r[0]["thumbnail"] is None and r[0]["size"] == 7, r[0]
PY
}

@test "no request reaches outside the roots: .., %2e%2e, symbolic links, NUL bytes, dot names" {
	start_wsrecv
	echo "secret $RANDOM" > secret
	bad=$(sha256sum < secret | cut -d' ' -f1)
	mkdir -p rec/s
	ln -s ../../secret rec/s/up
	ln -s "$PWD/secret" rec/s/abs
	ln -s / rec/root
	echo inside > rec/s/in.txt
	ln -s in.txt rec/s/near
	: > rec/.camrec.lock
	for path in /recordings/../secret /recordings/s/../../secret \
		/recordings/%2e%2e/secret /recordings/%2E%2E/secret /recordings/s/%2e%2e/%2e%2e/secret \
		/recordings/..%2fsecret /recordings/%2e%2e%2fsecret /%2e%2e/%2e%2e/secret \
		/recordings/s/up /recordings/s/abs "/recordings/root$PWD/secret" \
		'/recordings/s/in.txt\x00.mp4' '/recordings/s/in%00.txt' /recordings/.camrec.lock \
		/recordings/s /recordings/ "/..$PWD/secret" ; do
		run -0 con http "$PORT" GET "$path"
		echo "$path -> $output"
		[[ $output != 200* ]]
		[[ $output != *"$bad"* ]]
	done
	# Inside the root a link is followed, so the checks above were not
	# refusing every link.
	run -0 con http "$PORT" GET /recordings/s/near
	[[ $output == "200 7 "* ]]
	# wsrecv serves on after all that.
	run -0 con http "$PORT" GET /recordings/s/in.txt
	[[ $output == "200 7 "* ]]
	kill -0 "$WPID"
}

@test "the old console on /dev: a board's images and messages come back, its commands are checked" {
	mkdir jpeg
	ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=size=160x120:rate=5:duration=1 jpeg/img%02d.jpg
	start_wsrecv
	camsim --esp -u "$URL/esp" --jpeg jpeg --fps 10 2>cam.err &
	PIDS+=($!)
	wait_for "grep -q 'open.*path=\"/esp\"' <(recdump out.rec)"
	run -0 con old "$URL/dev" --send 'start VGA 20' --send 'start BOGUS' --send 'start 99' \
		--send 'launch' --seconds 3
	echo "$output"
	[[ ${lines[0]} == open ]]
	[[ $output == *"text start sent to 1 camera"* ]]
	[[ $output == *"text ACK: "* ]]
	[[ $output == *'text error: bad ESP frame size "BOGUS": expected one of QQVGA'*'; nothing sent'* ]]
	[[ $output == *'text error: bad ESP quality "99": expected a whole number from 1 to 63 (lower is better); nothing sent'* ]]
	[[ $output == *'text error: unknown command (start, stop, status) "launch"; nothing sent'* ]]
	[[ $output == *"binary "*" ffd8 ffd9"* ]]
	stop_wsrecv
	# Exactly one command reached the board, the valid one, as a SENT record.
	run -0 bash -c "recdump out.rec | grep ' sent '"
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *'"start VGA 20"'* ]]
	# The console made no record of its own.
	run -1 bash -c "recdump out.rec | grep 'path=\"/dev'"
}

@test "the page's commands: invalid ones refused before anything is sent, phones get JSON" {
	make_clip clip.h264
	start_wsrecv
	con phone "$URL/android-cam" clip.h264 --seconds 4 &
	PIDS+=($!)
	wait_for "recdump out.rec | grep -q binary"
	run -0 con old "$URL/dev?v=2" \
		--send '{"type":"start","ids":"all","res":"BOGUS"}' \
		--send '{"type":"start","ids":"all","quality":99}' \
		--send '{"type":"start","ids":"all","fps":500}' \
		--send '{"type":"command","text":"start 16:9 4 500"}' \
		--send '{"type":"start","ids":[999],"bitrate":2.5}' \
		--send 'start HD' \
		--send '{"type":"start","ids":"all","ratio":"4:3","bitrate":8,"fps":15}' --seconds 2
	echo "$output"
	[ "$(grep -c '"type":"refused"' <<<"$output")" -eq 6 ]
	[[ $output == *'"type":"sent","command":"start","ids":[1]'* ]]
	stop_wsrecv
	run -0 bash -c "recdump out.rec | grep ' sent '"
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *'start_capture'*'\"bitrate\":8,\"fps\":15,\"aspectRatio\":{\"width\":4,\"height\":3}'* ]]
}

@test "a late joiner gets the codec config and the last key frame first, then the next key frame" {
	make_clip clip.h264
	start_wsrecv
	con phone "$URL/android-cam" clip.h264 --seconds 6 &
	PIDS+=($!)
	# Join in the middle of the second group of pictures (a key frame
	# every 30 frames, 30 a second).
	wait_for "[ \$(recdump out.rec | grep -c binary) -ge 45 ]"
	con viewer "$URL/dev?v=2" --out v.jsonl --seconds 3
	$PY - v.jsonl <<'PY'
import json, sys
m = [json.loads(l) for l in open(sys.argv[1])]
w = next(i for i, x in enumerate(m) if "watch" in x)
p = [x for x in m[w:] if "type" in x]
assert len(p) > 10, p
assert p[0]["flags"] == 2 and p[0]["type"] == 1, p[0]          # SPS+PPS
assert p[1]["flags"] == 1, p[1]                                 # the kept key frame
assert p[2]["flags"] == 1 and p[2]["t_us"] - p[1]["t_us"] >= 900000, p[2]  # the next one
for a, b in zip(p[2:], p[3:]):                                  # then every frame
    assert b["flags"] & 1 or 0 < b["t_us"] - a["t_us"] <= 34000, (a, b)
PY
}

@test "a slow viewer skips to key frames, another viewer and ingest lose nothing" {
	make_clip clip.h264 -g 30 -b:v 2M
	start_wsrecv --view-queue 65536
	con phone "$URL/android-cam" clip.h264 --seconds 9 --fps 100 --count sent &
	PHONE=$!
	PIDS+=("$PHONE")
	wait_for "recdump out.rec | grep -q binary"
	con viewer "$URL/dev?v=2" --out slow.jsonl --seconds 6 --delay-ms 80 &
	SLOW=$!
	con viewer "$URL/dev?v=2" --out fast.jsonl --seconds 6 &
	FAST=$!
	wait "$PHONE" "$SLOW" "$FAST"
	stop_wsrecv
	sent=$(cat sent)
	# Ingest: every frame, and the config, in the record stream.
	[ "$(recdump out.rec | grep -c ' binary ')" -eq $((sent + 1)) ]
	$PY - slow.jsonl fast.jsonl <<'PY'
import json, sys
def frames(f):
    m = [json.loads(l) for l in open(f)]
    assert not any("closed" in x for x in m), f
    return [x for x in m if "type" in x]
slow, fast = frames(sys.argv[1]), frames(sys.argv[2])
skips = 0
for v in (slow, fast):
    for a, b in zip(v, v[1:]):
        if b["flags"] == 2 or a["flags"] == 2:
            continue
        step = b["t_us"] - a["t_us"]
        # Only ever a whole group of pictures is dropped: what follows a
        # gap is a key frame.
        assert b["flags"] & 1 or 0 < step <= 10000, (a, b)
        skips += step > 10000 and v is slow
fast_pics = [x for x in fast if x["flags"] != 2]
slow_pics = [x for x in slow if x["flags"] != 2]
assert skips > 0 and len(slow_pics) < len(fast_pics) * 0.8, (skips, len(slow_pics), len(fast_pics))
assert all(0 < b["t_us"] - a["t_us"] <= 10000 for a, b in zip(fast_pics[2:], fast_pics[3:]))
PY
}

@test "a viewer that stops reading is closed; recording goes on" {
	make_clip clip.h264 -g 30 -b:v 4M
	start_wsrecv --view-queue 65536
	# Fast enough to fill the kernel's socket buffers (up to 4 MiB) too.
	con phone "$URL/android-cam" clip.h264 --seconds 8 --fps 300 --count sent &
	PHONE=$!
	PIDS+=("$PHONE")
	wait_for "recdump out.rec | grep -q binary"
	run -0 con stall "$URL/dev?v=2" --seconds 7
	[ "$output" = closed ]
	wait "$PHONE"
	stop_wsrecv
	[ "$(recdump out.rec | grep -c ' binary ')" -eq $(($(cat sent) + 1)) ]
}
