#!/bin/sh
# Bench mux -t (FLV through a pipe into ffmpeg, device timestamps kept)
# against plain `ffmpeg -f h264 -i x.h264 -c copy y.mp4` on the same
# stream.h264, in the same run; prints both times and the ratio.
# The session is a 10 s 1080p30 ~4 Mbit/s clip (AUD-delimited) encoded once
# and repeated, key frame first, up to MUX_BENCH_SECONDS (default 3600)
# with jittered 30 fps device times.
set -eu
: "${MUX_BENCH_SECONDS:=3600}"
: "${TMPDIR:=/tmp}"
here=$(cd "$(dirname "$0")/.." && pwd)
PATH=${CAMREC_BIN:-$here/bin}:$PATH
PY=/usr/bin/python3
work=$(mktemp -d "$TMPDIR/mux-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

now() { date +%s.%N; }
# timed CMD...: wall time of one run, in seconds.
timed() {
	t0=$(now)
	"$@" > /dev/null 2>&1
	t1=$(now)
	echo "$t0 $t1" | awk '{ printf "%.3f", $2 - $1 }'
}

ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=30:duration=10 \
	-pix_fmt yuv420p -c:v libx264 -preset ultrafast -profile:v baseline -g 30 \
	-b:v 4M -maxrate 4M -bufsize 8M -x264-params aud=1 -f h264 "$work/clip.h264"

mkdir "$work/s"
$PY - "$work/clip.h264" "$work/s" "$MUX_BENCH_SECONDS" <<'PY'
import random, sys
clip, out, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(clip, "rb").read()
# Split at access unit delimiters (00 00 00 01 09).
cuts = []
i = data.find(b"\x00\x00\x00\x01\x09")
while i >= 0:
    cuts.append(i)
    i = data.find(b"\x00\x00\x00\x01\x09", i + 5)
cuts.append(len(data))
aus = [data[a:b] for a, b in zip(cuts, cuts[1:])]
first = aus[0]
j = first.find(b"\x00\x00\x00\x01\x65")
config = first[first.find(b"\x00\x00\x00\x01\x67"):j]
rnd = random.Random(1)
frames = seconds * 30
seq, ms, arrival, off = 1, 83412345, 5000000000, 0
with open(out + "/stream.h264", "wb") as s, open(out + "/index.tsv", "w") as ix:
    ix.write("#camrec-index 1\tseq\tdevice_ms\tarrival_us\toffset\tsize\tkind\n")
    s.write(config)
    ix.write("%d\t0\t%d\t0\t%d\tconfig\n" % (seq, arrival, len(config)))
    off = len(config)
    lines = []
    for n in range(frames):
        au = aus[n % len(aus)]
        seq += 1
        arrival += 33333
        kind = "key" if b"\x00\x00\x00\x01\x65" in au[:200] or b"\x00\x00\x01\x65" in au else "delta"
        s.write(au)
        lines.append("%d\t%d\t%d\t%d\t%d\t%s\n" % (seq, ms, arrival, off, len(au), kind))
        off += len(au)
        ms += rnd.randint(30, 37)
    ix.write("".join(lines))
PY

bytes=$(wc -c < "$work/s/stream.h264")
# Warm the page cache so both runs read from memory.
cat "$work/s/stream.h264" > /dev/null
t_plain=$(timed ffmpeg -nostdin -y -f h264 -i "$work/s/stream.h264" -c copy "$work/plain.mp4")
t_fast=$(timed ffmpeg -nostdin -y -f h264 -i "$work/s/stream.h264" -c copy \
	-movflags +faststart "$work/fast.mp4")
t_mux=$(timed mux -t "$work/s" "$work/s/stream.h264" "$work/s/stream.mp4")
frames=$(ffprobe -v error -show_entries stream=nb_frames -of csv=p=0 "$work/s/stream.mp4")
echo "mux bench: ${MUX_BENCH_SECONDS} s of 1080p30, $bytes bytes, $frames pictures"
echo "ffmpeg -f h264 -c copy:                 $t_plain s"
echo "ffmpeg -f h264 -c copy +faststart:      $t_fast s"
echo "mux -t (FLV pipe, +faststart):          $t_mux s"
echo "$t_mux $t_plain $t_fast" | awk '{ printf "ratio mux -t / plain ffmpeg: %.2fx (same +faststart: %.2fx)\n", $1 / $2, $1 / $3 }'
