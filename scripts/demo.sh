#!/bin/sh
# demo.sh: record a few seconds from a simulated phone and a simulated
# ESP32 board through the whole recorder, with the console open to a
# browser meanwhile, then show what was recorded. Leaves no process behind.
set -eu
# The number in the top-level VERSION file; make install writes it here.
camrec_version=

here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../bin:$here:$PATH
seconds=${DEMO_SECONDS:-4}

case "${1:-}" in
--help) echo "usage: demo.sh"; exit 0 ;;
--version) echo "demo.sh (camrec) ${camrec_version:-$(cat "$(dirname "$0")/../VERSION")}"; exit 0 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/camrec-demo.XXXXXX")
camrec_pid='' camsim_pid='' board_pid=''
cleanup() {
	[ -z "$camsim_pid" ] || kill "$camsim_pid" 2>/dev/null || :
	[ -z "$board_pid" ] || kill "$board_pid" 2>/dev/null || :
	[ -z "$camrec_pid" ] || kill "$camrec_pid" 2>/dev/null || :
	wait 2>/dev/null || :
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() {
	printf '\n== %s\n' "$*"
}

say "making a 6 s 1280x720 test clip with ffmpeg (libx264, SPS/PPS once, like a phone)"
mkclip.sh -t 6 "$work/clip.h264"
mkdir "$work/jpeg"
ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=size=640x480:rate=10:duration=3 \
	"$work/jpeg/img%02d.jpg"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
say "starting camrec.sh on port $port, recordings in $work/recordings"
camrec.sh -p "$port" -d "$work/recordings" -R "$work/run" </dev/null 2>"$work/camrec.log" &
camrec_pid=$!
ctl() {
	command ctl -c "$work/run/ctl.fifo" -s "$work/run/status.json" "$@"
}
i=0
until [ -p "$work/run/ctl.fifo" ] && ctl -n list >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { echo "demo: recorder did not start" >&2; cat "$work/camrec.log" >&2; exit 1; }
	sleep 0.1
done
say "console, while the demo runs ($seconds s; DEMO_SECONDS=60 for longer): http://127.0.0.1:$port/"

say "starting camsim twice: a simulated Android phone and a simulated ESP32 board"
camsim -u "ws://127.0.0.1:$port/android-cam" --clip "$work/clip.h264" --model "camsim demo phone" \
	2>"$work/camsim.log" &
camsim_pid=$!
camsim --esp -u "ws://127.0.0.1:$port/esp" --jpeg "$work/jpeg" 2>"$work/board.log" &
board_pid=$!
i=0
until [ "$(ctl list 2>/dev/null | grep -c -e android -e esp)" -ge 2 ]; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { echo "demo: the cameras did not connect" >&2; exit 1; }
	sleep 0.1
done

say "ctl start 16:9 4 30   (the board gets a plain \"start\")"
ctl start 16:9 4 30
sleep "$seconds"
ctl list
say "ctl stop"
ctl stop

say "waiting for both sessions to be finalized"
i=0
until [ "$(grep -c 'mp4=' "$work/camrec.log")" -ge 2 ]; do
	i=$((i + 1))
	[ "$i" -lt 600 ] || { echo "demo: no finalized sessions" >&2; cat "$work/camrec.log" >&2; exit 1; }
	sleep 0.1
done
kill "$camsim_pid" "$board_pid" 2>/dev/null || :
kill "$camrec_pid"
wait "$camrec_pid" || :
camrec_pid=
wait "$camsim_pid" "$board_pid" 2>/dev/null || :
camsim_pid='' board_pid=''
cat "$work/camrec.log"

for session in "$work"/recordings/*_*_*/; do
	session=${session%/}
	say "session folder: $session"
	ls -l "$session"
	echo "-- ffprobe of stream.mp4:"
	ffprobe -v error -show_entries format=duration,size:stream=codec_name,profile,width,height,avg_frame_rate,nb_frames \
		-of default=noprint_wrappers=1 "$session/stream.mp4"
done
echo
echo "(the demo's files stay in $work)"
