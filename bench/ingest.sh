#!/usr/bin/env bash
# bench/ingest.sh: throughput, CPU and memory of wsrecv | frameparse |
# sessionwriter under N simulated cameras on loopback, against a ceiling
# measured in the same run with the same load generator: wssink, a minimal
# WebSocket endpoint that takes every message and discards it.
#
#   bench/ingest.sh fast [N] [SECONDS]     N cameras sending as fast as they can
#   bench/ingest.sh paced [N] [SECONDS] [FPS]
#                                          N cameras at FPS (30) of 720p-sized frames
#
# Every recording is checked byte-exact against the clip (bench/verify.py).
set -eu
cd "$(dirname "$0")/.."
mode=${1:-fast}
n=${2:-100}
secs=${3:-10}
fps=${4:-30}
bin=$PWD/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/camrec-bench.XXXXXX")
trap 'st=$?; set +e; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; exit $st' EXIT

ulimit -n "$(ulimit -Hn)"
need=$((n * 3 + 64))
if [ "$(ulimit -n)" -lt "$need" ]; then
	echo "ingest: open-files limit $(ulimit -n) is too low for $n connections (need about $need);" \
		"raise the hard limit (ulimit -Hn) or ask for fewer" >&2
	exit 1
fi

cc -O2 -o "$work/wssink" bench/wssink.c $(pkg-config --cflags --libs libwebsockets)

# 720p at 4 Mbit/s, 30 fps: about 17 KB a frame, key frames larger; SPS/PPS
# once at the start like a phone.
clip=$work/clip.h264
scripts/mkclip.sh -t 10 "$clip"

port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# CPU seconds (user + system) and peak RSS in KiB of a live process.
cpu_of() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}
hwm_of() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

if [ "$mode" = fast ]; then
	load=(--fast --autostart --duration "$secs")
else
	load=(--fps "$fps" --autostart --duration "$secs")
fi

# Run the load generator against port $1; prints its --stats line and the
# generator's own CPU seconds.
generate() {
	/usr/bin/env time -f 'gen_cpu=%U+%S' -o "$work/gen.time" \
		"$bin/camsim" -n "$n" -u "ws://127.0.0.1:$1/android-cam" --clip "$clip" \
		"${load[@]}" --stats 2>"$work/camsim.err" || {
		echo "ingest: camsim failed:" >&2
		tail -n 5 "$work/camsim.err" >&2
		return 1
	}
	tr '\n' ' ' <"$work/gen.time"
	echo
}

echo "== ceiling: camsim -n $n ${load[*]} into wssink (discards)"
p=$(port)
"$work/wssink" "$p" >"$work/sink.out" &
sink=$!
wait_port "$p"
ceiling=$(generate "$p")
sink_cpu=$(cpu_of "$sink")
kill -TERM "$sink"
wait "$sink" || :
echo "$ceiling sink_cpu=$sink_cpu $(cat "$work/sink.out")"

echo "== camrec: camsim -n $n ${load[*]} into wsrecv | frameparse | sessionwriter"
p=$(port)
mkfifo "$work/a" "$work/b"
"$bin/wsrecv" -H 127.0.0.1 -p "$p" >"$work/a" &
w=$!
"$bin/frameparse" <"$work/a" >"$work/b" &
f=$!
"$bin/sessionwriter" -d "$work/rec" <"$work/b" >"$work/ended" &
s=$!
wait_port "$p"
ours=$(generate "$p")
# Every camera has closed; wait until the pipeline has written it all.
for i in $(seq 600); do
	[ "$(wc -l <"$work/ended")" -ge "$n" ] && break
	sleep 0.1
done
cpu=0 rss=0
for pid in $w $f $s; do
	cpu=$(awk -v a="$cpu" -v b="$(cpu_of "$pid")" 'BEGIN { print a + b }')
	rss=$((rss + $(hwm_of "$pid")))
done
echo "$ours pipeline_cpu=$cpu pipeline_peak_rss_kib=$rss (wsrecv $(hwm_of $w), frameparse $(hwm_of $f), sessionwriter $(hwm_of $s))"
kill -TERM "$w"
wait "$w" "$f" "$s" || :
check=$(python3 bench/verify.py "$clip" "$work/rec")
echo "verify: $check"

python3 - "$ceiling" "$ours" "$cpu" "$rss" "$check" "$n" <<'PY'
import sys
def kv(s):
    return dict(w.split("=", 1) for w in s.split() if "=" in w)
c, o, v = kv(sys.argv[1]), kv(sys.argv[2]), kv(sys.argv[5])
cpu, rss, n = float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[6])
cmb = int(c["bytes"]) / float(c["seconds"]) / 1e6
omb = int(o["bytes"]) / float(o["seconds"]) / 1e6
gen = sum(float(x) for x in o["gen_cpu"].split("+"))
frames = int(o["frames"])
print("result: cameras=%d ceiling=%.1f MB/s camrec=%.1f MB/s ratio=%.0f%% frames/s=%.0f "
      "cpu_s_per_GB=%.2f peak_rss=%.1f MB generator_cpu_share=%.0f%% recorded_messages=%s sent_messages=%d"
      % (n, cmb, omb, 100 * omb / cmb, frames / float(o["seconds"]),
         cpu / (int(o["bytes"]) / 1e9), rss / 1024.0, 100 * gen / (gen + cpu),
         v["packets"], frames))
if int(v["packets"]) != frames:
    sys.exit("ingest: frames were lost: %s recorded of %d sent" % (v["packets"], frames))
PY
