#!/bin/sh
# demo.sh: record a few seconds from a simulated phone through the whole
# recorder, then show what was recorded. Leaves no process behind.
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
camrec_pid='' camsim_pid=''
cleanup() {
	[ -z "$camsim_pid" ] || kill "$camsim_pid" 2>/dev/null || :
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
say "console (while the demo runs): http://127.0.0.1:$port/"

say "starting camsim, a simulated Android phone"
camsim -u "ws://127.0.0.1:$port/android-cam" --clip "$work/clip.h264" --model "camsim demo phone" \
	2>"$work/camsim.log" &
camsim_pid=$!
i=0
until ctl list 2>/dev/null | grep -q android; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { echo "demo: the phone did not connect" >&2; exit 1; }
	sleep 0.1
done

say "ctl start 16:9 4 30"
ctl start 16:9 4 30
sleep "$seconds"
ctl list
say "ctl stop"
ctl stop

say "waiting for the session to be finalized"
i=0
until grep -q 'mp4=' "$work/camrec.log"; do
	i=$((i + 1))
	[ "$i" -lt 300 ] || { echo "demo: no finalized session" >&2; cat "$work/camrec.log" >&2; exit 1; }
	sleep 0.1
done
kill "$camsim_pid" 2>/dev/null || :
kill "$camrec_pid"
wait "$camrec_pid" || :
camrec_pid=
wait "$camsim_pid" 2>/dev/null || :
camsim_pid=
cat "$work/camrec.log"

session=$(find "$work/recordings" -mindepth 1 -maxdepth 1 -type d | head -n 1)
say "session folder: $session"
ls -l "$session"
say "ffprobe of stream.mp4"
ffprobe -v error -show_entries format=duration,size:stream=codec_name,profile,width,height,avg_frame_rate,nb_frames \
	-of default=noprint_wrappers=1 "$session/stream.mp4"
say "thumbnail: $session/thumbnail.jpg"
echo "(the demo's files stay in $work)"
