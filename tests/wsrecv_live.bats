#!/usr/bin/env bats
# A recorded camera's live stream at /live/ID on wsrecv's port: the same
# preview messages as the console's (lib/fanout through view.c), to a
# python3-websockets viewer (tests/liveview.py), decoded by ffmpeg.

bats_require_minimum_version 1.5.0
load helper

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	PIDS=()
	PORT=$(free_port)
	URL=ws://127.0.0.1:$PORT
	mkdir -p rec
	wsrecv -p "$PORT" --www "$REPO/web" --recordings rec >out.rec 2>err 3>&- &
	WPID=$!
	PIDS+=("$WPID")
	wait_port "$PORT"
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in ./*.err ./err; do [ -e "$p" ] && echo "== $p" && cat "$p"; done; true
}

# phone SECONDS: a phone sending clip.h264 (a key frame every 30 frames,
# 30 a second); CAM is its id once wsrecv recorded its opening.
phone() {
	timeout 60 $PY "$REPO/tests/console.py" phone "$URL/android-cam" clip.h264 \
		--seconds "$1" 3>&- &
	PHONE=$!
	PIDS+=("$PHONE")
	PHONES=$((${PHONES:-0} + 1))
	wait_for "[ \$(recdump out.rec | grep -c 'open.*path=\"/android-cam\"') -ge $PHONES ]"
	CAM=$(recdump out.rec | awk '/ open .*path="\/android-cam"/ { sub(/^conn=/, "", $2); print $2 }' | tail -n 1)
	[[ $CAM =~ ^[0-9]+$ ]]
}

@test "wsrecv /live/ID: a late joiner gets the config and a key frame first; the bytes decode" {
	make_clip clip.h264
	phone 20
	# Join in the middle of a group of pictures.
	wait_for "[ \$(recdump out.rec | grep -c binary) -ge 45 ]"
	run -0 timeout 60 $PY "$REPO/tests/liveview.py" "$URL/live/$CAM" --seconds 3 \
		--strip 20 --out live.h264 --heads heads
	[[ $output == "messages "* ]]
	# type 1 (H.264): first the codec config (flags 2), then the kept key
	# frame (1), then the frames after it.
	[ "$(sed -n 1p heads)" = "1 2" ]
	[ "$(sed -n 2p heads)" = "1 1" ]
	[ "$(wc -l <heads)" -ge 30 ]
	# Annex B from its first byte: every frame decodes, the first a key.
	run -0 ffmpeg -nostdin -v error -f h264 -i live.h264 -f null -
	[ -z "$output" ]
	frames=$(ffprobe -v error -f h264 -count_frames -select_streams v \
		-show_entries stream=nb_read_frames -of csv=p=0 live.h264)
	[ "$frames" -ge 30 ]
	[ "$(ffprobe -v error -f h264 -select_streams v -show_entries packet=flags \
		-of csv=p=0 live.h264 | head -n 1)" = K_ ]
	# A viewer is no camera: not recorded.
	run -1 bash -c "recdump out.rec | grep 'path=\"/live'"
}

@test "wsrecv /live/ID: an unknown camera is refused with a reason; the viewer is closed when its camera goes" {
	make_clip clip.h264
	run -0 timeout 60 $PY "$REPO/tests/liveview.py" "$URL/live/77" --seconds 10
	[ "$output" = "messages 0 bytes 0 close 4004 no such camera" ]
	run -0 timeout 60 $PY "$REPO/tests/liveview.py" "$URL/live/x1" --seconds 10
	[ "$output" = "messages 0 bytes 0 close 4004 no such camera" ]
	phone 3
	run -0 timeout 60 $PY "$REPO/tests/liveview.py" "$URL/live/$CAM" --seconds 30
	[[ $output == "messages "*" close 1001 camera disconnected" ]]
	[[ ! $output == "messages 0 "* ]]
	# What a viewer sends is ignored, and it is not a console: no camera
	# list, no log lines.
	phone 5
	run -0 timeout 60 $PY "$REPO/tests/liveview.py" "$URL/live/$CAM" --seconds 2 --texts t
	[ ! -s t ]
}
