#!/bin/sh
# Bench fpsest: the whole-file picture count on a large stream.h264 (no VUI
# timing, no folder clue, --duration given, so every byte is scanned) in
# GB/s from the page cache beside cat and wc -l on the same file, and
# fpsest on a one-hour 30 fps index (108000 lines) in ms.
# FPSEST_BENCH_MB sets the stream size (default 2048).
set -eu
: "${FPSEST_BENCH_MB:=2048}"
: "${TMPDIR:=/tmp}"
here=$(cd "$(dirname "$0")/.." && pwd)
PATH=${CAMREC_BIN:-$here/bin}:$PATH
work=$(mktemp -d "$TMPDIR/fpsest-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

now() { date +%s.%N; }
# best_of N CMD...: the shortest wall time of N runs, in seconds.
best_of() {
	n=$1
	shift
	best=
	while [ "$n" -gt 0 ]; do
		t0=$(now)
		"$@" > /dev/null
		t1=$(now)
		best=$(echo "$t0 $t1 ${best:-}" | awk '{ d = $2 - $1; if ($3 != "" && $3 < d) d = $3; printf "%.6f", d }')
		n=$((n - 1))
	done
	echo "$best"
}

# A 10 s 1280x720 clip at about 4 Mbit/s, its VUI timing stripped, then
# repeated up to the size asked for.
ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30:duration=10 \
	-pix_fmt yuv420p -c:v libx264 -preset ultrafast -b:v 4M -g 30 -f h264 "$work/clip.h264"
/usr/bin/python3 "$here/tests/sps_notiming.py" "$work/clip.h264" "$work/one.h264"
clip=$(stat -c %s "$work/one.h264")
reps=$(( (FPSEST_BENCH_MB * 1048576 + clip - 1) / clip ))
cp "$work/one.h264" "$work/stream.h264"
have=1
while [ $((have * 2)) -le "$reps" ]; do
	cat "$work/stream.h264" "$work/stream.h264" > "$work/x" && mv "$work/x" "$work/stream.h264"
	have=$((have * 2))
done
while [ "$have" -lt "$reps" ]; do
	cat "$work/one.h264" >> "$work/stream.h264"
	have=$((have + 1))
done
size=$(stat -c %s "$work/stream.h264")
gb=$(echo "$size" | awk '{ printf "%.3f", $1 / 1e9 }')

cat "$work/stream.h264" > /dev/null	# into the page cache
t_cat=$(best_of 3 cat "$work/stream.h264")
t_wc=$(best_of 3 wc -l "$work/stream.h264")
t_fps=$(best_of 3 fpsest --duration 3600 "$work/stream.h264")
pictures=$((reps * 300))
echo "stream: $gb GB, $pictures pictures, answer $(fpsest --no-clamp --duration 3600 "$work/stream.h264")"
echo "$t_cat $t_wc $t_fps $gb" | awk '{
	printf "cat > /dev/null:   %.3f s  %.2f GB/s\n", $1, $4 / $1
	printf "wc -l (memchr):    %.3f s  %.2f GB/s\n", $2, $4 / $2
	printf "fpsest (scan):     %.3f s  %.2f GB/s\n", $3, $4 / $3
}'
rm -f "$work/stream.h264" "$work/clip.h264"

# One hour at 30 fps: a config line then 108000 pictures.
awk 'BEGIN {
	print "#camrec-index 1\tseq\tdevice_ms\tarrival_us\toffset\tsize\tkind"
	print "1\t0\t1000000\t0\t30\tconfig"
	off = 30
	for (i = 0; i < 108000; i++) {
		size = i % 30 == 0 ? 150000 : 17000
		printf "%d\t%d\t%d\t%d\t%d\t%s\n", i + 2, 83412345 + int(i * 100 / 3),
		    1040000 + int(i * 100000 / 3) + (i % 7) * 900, off, size, i % 30 ? "delta" : "key"
		off += size
	}
}' > "$work/index.tsv"
t_ix=$(best_of 5 fpsest "$work/index.tsv")
echo "index: 108000 pictures ($(stat -c %s "$work/index.tsv") bytes), answer $(fpsest "$work/index.tsv")"
echo "$t_ix" | awk '{ printf "fpsest (index):    %.1f ms\n", $1 * 1000 }'
