#!/usr/bin/env bats
# The console page in a real browser (headless Chromium): a simulated phone
# and ESP32 board on a whole recorder, previews, commands, recordings.
# Screenshots and the page's log of a failed run are kept in
# $CONSOLE_ARTIFACTS (default tests/artifacts/).
load helper

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	make_clip clip.h264 -profile:v baseline -g 30
	mkdir jpeg
	ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=size=320x240:rate=10:duration=2 jpeg/img%02d.jpg
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	PIDS=()
	MODEL='<img src=x onerror=window.__xss=1>'
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
}

# recorder: camrec.sh with the page, a phone and a board connected.
recorder() {
	PORT=$(free_port)
	camrec.sh -p "$PORT" -d rec -R run -w "$REPO/web" </dev/null 2>camrec.err &
	PIDS+=($!)
	wait_port "$PORT" 20
	camsim -u "ws://127.0.0.1:$PORT/android-cam" --clip "$BATS_FILE_TMPDIR/clip.h264" \
		--model "$MODEL" --fps 30 2>phone.err &
	PIDS+=($!)
	camsim --esp -u "ws://127.0.0.1:$PORT/esp" --jpeg "$BATS_FILE_TMPDIR/jpeg" --fps 10 2>esp.err &
	PIDS+=($!)
}

browser() {
	timeout 300 $PY "$REPO/tests/console_browser.py" "http://127.0.0.1:$PORT/" \
		--model "$MODEL" --artifacts "${CONSOLE_ARTIFACTS:-$REPO/tests/artifacts}" "$@"
}

@test "the console with WebCodecs: phone and board appear, start (the board at QVGA 20), previews move, stop ends both sessions, both recordings play" {
	recorder
	run -0 browser ${CONSOLE_SCREENSHOT:+--screenshot "$CONSOLE_SCREENSHOT"}
	[ "$output" = ok ]
}

@test "the console without WebCodecs (as over plain http on a LAN): the same, the phone's preview through MSE" {
	recorder
	run -0 browser --no-webcodecs ${CONSOLE_SCREENSHOT_MSE:+--screenshot "$CONSOLE_SCREENSHOT_MSE"}
	[ "$output" = ok ]
}
