#!/bin/sh
# Bench mux -j, the one re-encode in camrec: an ESP32 board's session of
# JPEG images to H.264 at finalize. The session is MJPEG_BENCH_SECONDS
# (default 60) of 1280x720 at 10 fps with jittered arrival times, the
# board's default; the images are testsrc2 at JPEG quality 4 (~50 KB, as
# the board's quality 12). Prints the CPU seconds (user + system, ffmpeg
# included) per minute of video, and the same for a plain constant-rate
# `ffmpeg -f jpeg_pipe` encode of the same file in the same run, so the
# cost of the per-image timing shows as a ratio.
set -eu
: "${MJPEG_BENCH_SECONDS:=60}"
: "${TMPDIR:=/tmp}"
here=$(cd "$(dirname "$0")/.." && pwd)
PATH=${CAMREC_BIN:-$here/bin}:$PATH
PY=/usr/bin/python3
work=$(mktemp -d "$TMPDIR/mjpeg-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# cpu CMD...: user + system seconds of CMD and its children.
cpu() {
	/usr/bin/time -f '%U %S' -o "$work/time" "$@" >/dev/null 2>&1
	awk '{ printf "%.2f", $1 + $2 }' "$work/time"
}

mkdir "$work/s"
ffmpeg -nostdin -loglevel error -y -f lavfi \
	-i "testsrc2=size=1280x720:rate=10:duration=$MJPEG_BENCH_SECONDS" \
	-q:v 4 -f image2pipe -c:v mjpeg "$work/s/stream.mjpeg"
$PY - "$work/s" <<'PY'
import random, sys
d = sys.argv[1]
data = open(d + "/stream.mjpeg", "rb").read()
# Each image ends with EOI; the next starts with SOI right after it.
starts, i = [], 0
while i < len(data):
    starts.append(i)
    i = data.find(b"\xff\xd9\xff\xd8", i) + 2
    if i == 1:
        break
starts.append(len(data))
rnd = random.Random(1)
t = 5000000000
with open(d + "/index.tsv", "w") as ix:
    ix.write("#camrec-index 1\tseq\tdevice_ms\tarrival_us\toffset\tsize\tkind\n")
    for n, (a, b) in enumerate(zip(starts, starts[1:])):
        ix.write("%d\t0\t%d\t%d\t%d\tjpeg\n" % (n + 1, t, a, b - a))
        t += rnd.randint(70000, 130000)
PY
images=$(($(wc -l <"$work/s/index.tsv") - 1))
cat "$work/s/stream.mjpeg" >/dev/null
c_plain=$(cpu ffmpeg -nostdin -y -f jpeg_pipe -framerate 10 -i "$work/s/stream.mjpeg" \
	-c:v libx264 -preset veryfast -bf 0 -pix_fmt yuv420p -movflags +faststart "$work/plain.mp4")
c_mux=$(cpu mux -j "$work/s" "$work/s/stream.mjpeg" "$work/s/stream.mp4")
frames=$(ffprobe -v error -show_entries stream=nb_frames -of csv=p=0 "$work/s/stream.mp4")
echo "mjpeg bench: $MJPEG_BENCH_SECONDS s of 720p at 10 fps, $(wc -c <"$work/s/stream.mjpeg") bytes, $images images, $frames in the MP4"
echo "$c_plain $c_mux $MJPEG_BENCH_SECONDS" | awk '{
	printf "ffmpeg -f jpeg_pipe -framerate 10, constant rate: %.2f CPU s (%.2f per minute)\n", $1, $1 * 60 / $3
	printf "result: mux -j, per-image durations: %.2f CPU s per minute of 720p10\n", $2 * 60 / $3
	printf "ratio mux -j / constant-rate ffmpeg: %.2fx\n", $2 / $1
}'
