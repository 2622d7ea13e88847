#!/usr/bin/env bats
# liverelay with the real ffmpeg as its source and python3-websockets
# viewers (tests/liveview.py): lazy start, idle stop and its cancellation,
# restart, no orphan source, late joiners, slow viewers, status, config.

bats_require_minimum_version 1.5.0
load helper

# ffmpeg's test pattern as H.264 in fragmented MP4, a key frame each second
# and a fragment every 0.2 s, so most fragments do not start with one.
FFMPEG_FMP4='["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
 "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-c:v", "libx264",
 "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p",
 "-f", "mp4", "-movflags", "frag_keyframe+empty_moov+default_base_moof",
 "-frag_duration", "200000", "pipe:1"]'

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	PORT=$(free_port)
	URL=ws://127.0.0.1:$PORT/live
	RELAY=
	BG=()
	printf '{"source": %s}\n' "$FFMPEG_FMP4" >live.json
	# wait_for runs its condition in a new bash.
	export PORT URL
	export -f st
}

teardown() {
	local p
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ -n "$RELAY" ]; then
		kill "$RELAY" 2>/dev/null || true
		GONE_WAIT=15 gone "$RELAY" || kill -9 "$RELAY" 2>/dev/null || true
	fi
	for p in ./*.err; do [ -e "$p" ] && echo "== $p" && cat "$p"; done; true
}

# relay_start [options...]: liverelay on $PORT with live.json, in the
# background ($RELAY), once it listens.
relay_start() {
	liverelay -v -c live.json -H 127.0.0.1 -p "$PORT" "$@" 2>relay.err 3>&- &
	RELAY=$!
	wait_port "$PORT" 15
}

# viewer NAME [liveview options...]: a viewer in the background; its
# summary line goes to NAME.out.
viewer() {
	local name=$1
	shift
	$PY "$REPO/tests/liveview.py" "$URL" "$@" >"$name.out" 2>"$name.err" 3>&- &
	BG+=($!)
}

# st KEY...: one value of the status JSON (keys and array indexes).
st() {
	curl -fsS --max-time 5 "http://127.0.0.1:$PORT/status" | $PY -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v))' "$@"
}

# The first packet of a file a viewer received, as ffprobe reads it.
first_packet() {
	ffprobe -v error -select_streams v -show_entries packet=flags,pts_time \
		-of csv=p=0 "$1" | head -n 1
}

@test "liverelay: --help, --version and usage errors" {
	run -0 liverelay --help
	[[ $output == "usage: liverelay "* ]]
	run -0 liverelay --version
	[ "$output" = "liverelay (camrec) $(cat "$REPO/VERSION")" ]
	run -2 --separate-stderr liverelay -x
	run -2 --separate-stderr liverelay -p 70000 -- true
	[ "$stderr" = "liverelay: -p 70000: must be a port from 1 to 65535" ]
	run -2 --separate-stderr liverelay -p 8000
	[[ $stderr == *"no source"* ]]
}

@test "liverelay: invalid config files: one line naming the file, the key and what is valid" {
	echo '{"port": 0, "source": ["x"]}' >bad.json
	run -2 --separate-stderr liverelay -c bad.json
	[ "$stderr" = "liverelay: bad.json: key \"port\": must be an integer from 1 to 65535" ]
	echo '{"source": "ffmpeg -i x"}' >bad.json
	run -2 --separate-stderr liverelay -c bad.json
	[ "$stderr" = "liverelay: bad.json: key \"source\": must be a non-empty array of strings (the program and its arguments)" ]
	echo '{"idle_timeout": "30"}' >bad.json
	run -2 --separate-stderr liverelay -c bad.json
	[ "$stderr" = "liverelay: bad.json: key \"idle_timeout\": must be a number of seconds from 0 to 86400" ]
	echo '{"prot": 1}' >bad.json
	run -2 --separate-stderr liverelay -c bad.json
	[[ $stderr == "liverelay: bad.json: unknown key \"prot\" (known: host, port,"* ]]
	printf '{"port": 8765,\n "path": }\n' >bad.json
	run -2 --separate-stderr liverelay -c bad.json
	[[ $stderr == "liverelay: bad.json: line 2: "* ]]
	run -2 --separate-stderr liverelay -c missing.json
	[[ $stderr == "liverelay: missing.json: "* ]]
	[ "${#lines[@]}" -eq 0 ]
	# Options override the file: the bad port is never used.
	echo '{"port": 0, "source": ["x"]}' >bad.json
	run -2 --separate-stderr liverelay -c bad.json -p 1
	[[ $stderr == *'key "port"'* ]]
}

@test "liverelay: lazy start, status, then idle stop after the timeout" {
	relay_start -i 2
	# Listening, and no source before the first viewer.
	[ "$(st source running)" = false ]
	[ -z "$(descendants "$RELAY")" ]
	# 15 messages are 3 s of fragments: the source is looked at while the
	# viewer is still there, so the idle timer cannot have stopped it.
	viewer v1 --messages 15 --out v1.mp4
	wait_for '[ "$(st source running)" = true ]' 30
	pid=$(st source pid)
	[ "$pid" -gt 0 ]
	descendants "$RELAY" | grep -qx "$pid"
	wait_for '[ "$(cat v1.out)" ]' 30
	grep -q '^messages 15 ' v1.out
	[ "$(st source restarts)" = 0 ]
	[ "$(st viewer_count)" = 0 ]
	[ "$(head -c 8 v1.mp4 | tail -c 4)" = ftyp ]
	# The viewer left: the source stops after about 2 s, not at once.
	GONE_WAIT=20 gone "$pid"
	[ "$(st source running)" = false ]
	[ -z "$(descendants "$RELAY")" ]
	grep -q "no viewer for 2s: stopping the source" relay.err
}

@test "liverelay: status lists each viewer with its peer and counters" {
	relay_start
	viewer v1 --seconds 30 --ready v1.ready
	wait_for '[ "$(st viewers 0 messages_sent)" -ge 3 ]' 30
	[ "$(st viewer_count)" = 1 ]
	[ "$(st viewers 0 id)" = 1 ]
	[ "$(st viewers 0 peer)" = '"127.0.0.1"' ]
	[[ $(st viewers 0 since) == \"20*Z\" ]]
	[ "$(st viewers 0 messages_dropped)" = 0 ]
	[ "$(st source state)" = '"running"' ]
	[ "$(st source bytes_read)" -gt 0 ]
	[ "$(st path)" = '"/live"' ]
}

@test "liverelay: a viewer returning within the idle timeout keeps the same source" {
	relay_start -i 4
	viewer v2 --after go --seconds 8 --ready v2.ready
	viewer v1 --messages 3
	wait_for '[ "$(cat v1.out)" ]' 30
	pid=$(st source pid)
	wait_for '[ "$(st viewer_count)" = 0 ]' 10
	touch go
	wait_for '[ -e v2.ready ]' 15
	# Longer than the timeout with the viewer there: the timer was cancelled.
	wait_for '[ "$(cat v2.out)" ]' 40
	grep -q '^messages [1-9]' v2.out
	[ "$(st source pid)" = "$pid" ]
	run ! grep -q "stopping the source" relay.err
}

@test "liverelay: a source killed while viewers remain is restarted; the viewer is told and stays" {
	relay_start -b 0.5
	viewer v1 --seconds 40 --texts v1.texts --out v1.mp4
	wait_for '[ "$(st source state)" = "\"running\"" ]' 30
	pid=$(st source pid)
	kill -9 "$pid"
	wait_for '[ "$(st source restarts)" = 1 ] && [ "$(st source state)" = "\"running\"" ]' 30
	[ "$(st source pid)" != "$pid" ]
	grep -q '"event":"source_restarting"' v1.texts
	grep -q '"reason":"source ended (signal 9)"' v1.texts
	# Still the same viewer, still receiving.
	[ "$(st viewer_count)" = 1 ]
	[ "$(st viewers 0 id)" = 1 ]
	sent=$(st viewers 0 messages_sent)
	wait_for "[ \"\$(curl -fsS http://127.0.0.1:$PORT/status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"viewers\"][0][\"messages_sent\"])')\" -gt $sent ]" 30
}

@test "liverelay: kill -9 of the relay leaves no source process" {
	relay_start
	viewer v1 --seconds 40
	wait_for '[ "$(st source state)" = "\"running\"" ]' 30
	pid=$(st source pid)
	kill -9 "$RELAY"
	GONE_WAIT=10 gone "$RELAY" "$pid"
	RELAY=
}

@test "liverelay: kill -9 of the relay also kills what a sh -c source started, in its group or not" {
	# sh is the source; ffmpeg, its child, writes the stream; a sleep that
	# never writes would not die of a broken pipe; another left the group.
	ff=$($PY -c 'import json, shlex, sys; print(shlex.join(json.loads(sys.argv[1])))' "$FFMPEG_FMP4")
	$PY -c 'import json, sys; print(json.dumps({"source": ["sh", "-c", sys.argv[1]]}))' \
		"$ff & echo \$! >ff.pid; sleep 1000 & echo \$! >sleep.pid; setsid sleep 1000 & echo \$! >setsid.pid; wait" >live.json
	relay_start
	viewer v1 --seconds 40
	wait_for '[ "$(st source state)" = "\"running\"" ] && [ -s setsid.pid ]' 30
	pid=$(st source pid)
	gc="$(cat ff.pid) $(cat sleep.pid) $(cat setsid.pid)"
	# They run, and the last is in a group of its own.
	for p in $gc; do kill -0 "$p"; done
	[ "$(ps -o pgid= -p "$(cat setsid.pid)")" != "$(ps -o pgid= -p "$pid")" ]
	kill -9 "$RELAY"
	GONE_WAIT=10 gone "$RELAY" "$pid" $gc
	RELAY=
}

@test "liverelay: with its stderr gone the relay keeps serving, and kill -9 still leaves no source" {
	mkfifo err.fifo
	liverelay -v -c live.json -H 127.0.0.1 -p "$PORT" 2>err.fifo 3>&- &
	RELAY=$!
	# The reader of its stderr goes away after the first line.
	timeout 20 head -n 1 err.fifo >/dev/null
	wait_port "$PORT" 15
	run -0 $PY "$REPO/tests/liveview.py" "$URL" --messages 5
	[[ $output == "messages 5 "* ]]
	pid=$(st source pid)
	kill -9 "$RELAY"
	GONE_WAIT=10 gone "$RELAY" "$pid"
	RELAY=
}

@test "liverelay: a source that hangs: viewers closed with a reason after the start timeout, the source and its children killed" {
	# It ignores SIGTERM, as do the children it starts, and writes nothing.
	printf '{"source": ["sh", "-c", "trap \\"\\" TERM; sleep 1000 & sleep 1000 & wait"]}\n' >live.json
	relay_start -s 2 -g 1
	viewer v1 --seconds 30
	wait_for '[ "$(cat v1.out)" ]' 30
	[ "$(cat v1.out)" = "messages 0 bytes 0 close 1011 source did not start: no data within the start timeout" ]
	wait_for '[ "$(st source running)" = false ]' 15
	[ -z "$(descendants "$RELAY")" ]
	grep -q "nothing within the start timeout (2s)" relay.err
}

@test "liverelay: a source that keeps dying before its first bytes: viewers closed after the start timeout" {
	printf '{"source": ["false"]}\n' >live.json
	relay_start -s 3 -b 0.2
	viewer v1 --seconds 30 --texts v1.texts
	wait_for '[ "$(cat v1.out)" ]' 30
	[ "$(cat v1.out)" = "messages 0 bytes 0 close 1011 source did not start: no data within the start timeout" ]
	grep -q '"reason":"source ended (exit status 1)"' v1.texts
	[ "$(st source running)" = false ]
	[ "$(st source state)" = '"idle"' ]
}

@test "liverelay: kill -9 of the relay with a hanging source leaves nothing behind" {
	printf '{"source": ["sh", "-c", "trap \\"\\" TERM; exec sleep 1000"]}\n' >live.json
	relay_start -s 60
	viewer v1 --seconds 40
	wait_for '[ "$(st source running)" = true ]' 30
	pid=$(st source pid)
	kill -9 "$RELAY"
	GONE_WAIT=10 gone "$RELAY" "$pid"
	RELAY=
}

@test "liverelay: SIGTERM just after the last viewer vanished: the relay is gone within the grace" {
	relay_start
	viewer v1 --seconds 40
	wait_for '[ "$(st source state)" = "\"running\"" ]' 30
	kill -9 "${BG[0]}"
	kill -TERM "$RELAY"
	# The source's stop grace (3 s) and the exit's 2 s, with room for load;
	# the relay once waited here until some other event woke its loop.
	GONE_WAIT=8 gone "$RELAY"
	RELAY=
}

@test "liverelay: SIGTERM stops the source and closes the viewers, exit 0" {
	relay_start
	viewer v1 --seconds 40
	wait_for '[ "$(st source state)" = "\"running\"" ]' 30
	pid=$(st source pid)
	kill -TERM "$RELAY"
	rc=0
	wait "$RELAY" || rc=$?
	RELAY=
	[ "$rc" -eq 0 ]
	GONE_WAIT=10 gone "$pid"
	wait_for '[ "$(cat v1.out)" ]' 15
	[[ $(cat v1.out) == *"close 1001 relay shutting down" ]]
}

@test "liverelay: a late joiner's bytes decode from the first: init segment, then a fragment starting with a key frame" {
	relay_start
	viewer v1 --seconds 40
	# Join well after the start, and again half a second apart, so the
	# joins land at different places in the key frame interval.
	wait_for '[ "$(st source bytes_read)" -gt 100000 ]' 30
	for n in 1 2 3; do
		rm -f late.mp4
		run -0 $PY "$REPO/tests/liveview.py" "$URL" --messages 7 --out late.mp4
		[[ $output == "messages 7 "* ]]
		[ "$(head -c 8 late.mp4 | tail -c 4)" = ftyp ]
		first=$(first_packet late.mp4)
		[[ $first == *,K_* ]]
		# Late: its first frame is not the source's first.
		[ "${first%%,*}" != 0.000000 ]
		run -0 --separate-stderr ffmpeg -nostdin -v error -i late.mp4 -f null -
		[ -z "$stderr" ]
		sleep 0.5
	done
	# The check above can fail: the same bytes without their key fragment
	# start with a frame that is not a key frame.
	$PY - late.mp4 <<-'EOF' >nokey.mp4
		import struct, sys
		b = open(sys.argv[1], "rb").read()
		out, off, dropped = b"", 0, False
		while off < len(b):
		    size, kind = struct.unpack(">I4s", b[off:off + 8])
		    skip = not dropped and kind in (b"moof", b"mdat")
		    if skip and kind == b"mdat":
		        dropped = True
		    if not skip:
		        out += b[off:off + size]
		    off += size
		sys.stdout.buffer.write(out)
	EOF
	[[ $(first_packet nokey.mp4) != *,K_ ]]
}

@test "liverelay: MPEG-TS: a late joiner starts at a packet boundary, at a key frame" {
	printf '{"format": "mpegts", "source": ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-f", "mpegts", "pipe:1"]}\n' >live.json
	relay_start
	viewer v1 --seconds 40
	wait_for '[ "$(st source bytes_read)" -gt 100000 ]' 30
	run -0 $PY "$REPO/tests/liveview.py" "$URL" --messages 20 --out late.ts
	echo "$output"
	[[ $output == "messages 20 "* ]]
	od -An -tx1 -N 8 late.ts
	[ "$(head -c 1 late.ts | od -An -tx1 | tr -d ' ')" = 47 ]
	[ $(($(stat -c %s late.ts) % 188)) -eq 0 ]
	[[ $(first_packet late.ts) == *,K_* ]]
}

@test "liverelay: a stalled viewer skips, then is dropped; a fast one loses nothing" {
	# 4 Mbit/s copied from a clip, so the stalled viewer fills its socket
	# and its queue in seconds.
	ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=size=640x480:rate=25:duration=4 \
		-c:v libx264 -preset ultrafast -b:v 4M -g 25 -pix_fmt yuv420p clip.mp4
	printf '{"source": ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", "clip.mp4", "-c", "copy", "-f", "mp4", "-movflags", "frag_keyframe+empty_moov+default_base_moof", "-frag_duration", "200000", "pipe:1"]}\n' >live.json
	relay_start -q 262144
	viewer slow --stall --seconds 60 --ready slow.ready
	wait_for '[ -e slow.ready ]' 30
	viewer fast --seconds 60 --out fast.mp4
	wait_for 'grep -q "viewer 1 dropped: too slow" relay.err' 60
	wait_for '[ "$(st viewer_count)" = 1 ]' 20
	[ "$(st viewers 0 id)" = 2 ]
	[ "$(st viewers 0 messages_dropped)" = 0 ]
	[ "$(st viewers 0 skips)" = 0 ]
	kill "${BG[1]}"
	run -0 --separate-stderr ffmpeg -nostdin -v error -i fast.mp4 -f null -
	[ -z "$stderr" ]
}

@test "liverelay: / serves the player page, other paths are refused" {
	relay_start
	run -0 curl -fsS -D headers "http://127.0.0.1:$PORT/"
	[[ $output == *"new MediaSource()"* ]]
	grep -qi '^content-type: text/html' headers
	run -22 curl -fsS "http://127.0.0.1:$PORT/other"
	run -1 $PY "$REPO/tests/liveview.py" "ws://127.0.0.1:$PORT/other" --seconds 3
	[ "$(st source running)" = false ]
}

@test "liverelay: lib/fanout: bounded queues, key-aware skipping, shared messages" {
	ar=$(dirname "$CAMREC_BIN")/obj/libcamrec.a
	[ -f "$ar" ]
	san=
	if nm "$ar" | grep -q __asan; then san="-fsanitize=address,undefined"; fi
	# shellcheck disable=SC2086
	cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $san -I"$REPO/lib" \
		-o fanout_test "$REPO/tests/fanout_test.c" "$ar"
	run -0 ./fanout_test
	echo "$output"
	[[ $output != *FAIL* ]]
	[ "$(grep -c '^ok ' <<<"$output")" -ge 17 ]
}

@test "camlive.sh: runs the relay from the config, options after -- override it; status" {
	run -0 camlive.sh --version
	[ "$output" = "camlive.sh (camrec) $(cat "$REPO/VERSION")" ]
	run -2 camlive.sh
	printf '{"host": "127.0.0.1", "port": %s, "source": %s}\n' "$PORT" "$FFMPEG_FMP4" >live.json
	run -1 --separate-stderr camlive.sh status live.json
	[ "$stderr" = "camlive: no relay answers at http://127.0.0.1:$PORT/status" ]
	camlive.sh live.json -- -P /cam -i 5 2>relay.err 3>&- &
	RELAY=$!
	wait_port "$PORT" 15
	run -0 camlive.sh status live.json
	[[ $output == '{"path":"/cam","viewer_count":0,'* ]]
	echo '{"port": "x"}' >bad.json
	run -2 --separate-stderr camlive.sh bad.json
	[ "$stderr" = "liverelay: bad.json: key \"port\": must be an integer from 1 to 65535" ]
	run -2 --separate-stderr camlive.sh status bad.json
}

@test "camlive.sh: the example config's test pattern plays on the page at / in headless Chromium" {
	camlive.sh "$REPO/examples/camlive.json" -- -H 127.0.0.1 -p "$PORT" 2>relay.err 3>&- &
	RELAY=$!
	wait_port "$PORT" 15
	run -0 timeout 300 $PY "$REPO/tests/live_browser.py" "http://127.0.0.1:$PORT/" \
		--artifacts "${CONSOLE_ARTIFACTS:-$REPO/tests/artifacts}"
	[ "$output" = ok ]
}
