#!/usr/bin/env bash
# bench/ingest.sh: throughput, CPU and memory of wsrecv | frameparse |
# sessionwriter on loopback, against ceilings measured in the same run with
# the same load generator.
#
#   bench/ingest.sh fast [N] [SECONDS]     N phones sending as fast as they can
#   bench/ingest.sh paced [N] [SECONDS] [FPS]
#                                          N phones at FPS (30) of 720p-sized frames
#
# fast: bench/wsblast (pre-masked frames, writev, no per-frame work) drives,
# one after another: bench/wssink discarding every message (the discard
# ceiling), bench/wssink -w writing every chunk into a file per connection
# (the floor: the least a recorder must do), and the pipeline. It says
# whether the generator outran the pipeline by 2x against the discard
# ceiling; when it did not, the pipeline's figure may be the generator's.
# paced: camsim (libwebsockets, one timer per frame, like a phone) drives the
# discard ceiling and the pipeline.
#
# Tools from $CAMREC_BIN (default bin/). Every recording is checked
# byte-exact against the clip (bench/verify.py).
#
# INGEST_VIEWERS=V (set by bench/preview.sh): wsrecv serves the console
# too, and with V > 0, beside the phones, a 1080p camera at 30 fps
# ($INGEST_PREVIEW_CLIP) is watched by V preview viewers (bench/liveload -P)
# for the whole camrec run; its recording is left out of the check.
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
. bench/common.sh
mode=${1:-fast}
n=${2:-100}
secs=${3:-10}
fps=${4:-30}
bin=${CAMREC_BIN:-$PWD/bin}
# fdatasync each file once a second (sessionwriter's default) in the floor
# and the pipeline alike, or with INGEST_SYNC=0 in neither.
sync_s=${INGEST_SYNC:-1}
# The ceilings read with the same buffer as wsrecv (pt_serv_buf_size).
serv_buf=${INGEST_SERV_BUF:-16384}
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
cc -O2 -pthread -o "$work/wsblast" bench/wsblast.c
viewers=${INGEST_VIEWERS:-}
[ -z "$viewers" ] || cc -O2 -o "$work/liveload" bench/liveload.c

# 720p at 4 Mbit/s, 30 fps: about 17 KB a frame, key frames larger; SPS/PPS
# once at the start like a phone.
clip=$work/clip.h264
scripts/mkclip.sh -t 10 "$clip"

mono() {
	python3 -c 'import time; print("%.6f" % time.monotonic())'
}

# Run the load generator against port $1; prints its stats line and its own
# CPU seconds.
generate() {
	if [ "$mode" = fast ]; then
		/usr/bin/env time -f 'gen_cpu=%U+%S' -o "$work/gen.time" \
			"$work/wsblast" -n "$n" -t "$secs" "$1" "$clip" >"$work/gen.out" 2>"$work/gen.err"
	else
		/usr/bin/env time -f 'gen_cpu=%U+%S' -o "$work/gen.time" \
			"$bin/camsim" -n "$n" -u "ws://127.0.0.1:$1/android-cam" --clip "$clip" \
			--fps "$fps" --autostart --duration "$secs" --stats >"$work/gen.out" 2>"$work/gen.err"
	fi || {
		echo "ingest: load generator failed:" >&2
		tail -n 5 "$work/gen.err" >&2
		return 1
	}
	tr '\n' ' ' <"$work/gen.out"
	tr '\n' ' ' <"$work/gen.time"
	echo
}

# wssink as a ceiling: $1 is discard or floor.
sink() {
	local p pid out opts=(-b "$serv_buf")
	p=$(port)
	if [ "$1" = floor ]; then
		mkdir "$work/floor"
		opts+=(-w "$work/floor" -s "$sync_s")
	fi
	"$work/wssink" "${opts[@]}" "$p" >"$work/sink.out" &
	pid=$!
	wait_port "$p"
	out=$(generate "$p")
	echo "$out sink_cpu=$(cpu_of "$pid") sink_peak_rss_kib=$(hwm_of "$pid")"
	kill -TERM "$pid"
	wait "$pid" || :
	rm -rf "$work/floor"
}

if [ "$mode" = fast ]; then
	echo "== discard: wsblast -n $n -t $secs into wssink (discards)"
	discard=$(sink discard)
	echo "$discard"
	echo "== floor: wsblast -n $n -t $secs into wssink -w (a file per connection, fdatasync every $sync_s s)"
	floor=$(sink floor)
	echo "$floor"
else
	echo "== discard: camsim -n $n --fps $fps --duration $secs into wssink (discards)"
	discard=$(sink discard)
	echo "$discard"
	floor=-
fi

echo "== camrec: the same generator into wsrecv | frameparse | sessionwriter"
p=$(port)
mkfifo "$work/a" "$work/b"
# Every phone comes from 127.0.0.1: lift wsrecv's per-address cap.
wsopts=()
if "$bin/wsrecv" --help 2>&1 | grep -q -e --max-per-address; then
	wsopts=(--max-per-address "$((n + ${viewers:-0} + 1))")
fi
if [ -n "$viewers" ]; then
	mkdir -p "$work/rec"
	wsopts+=(--www web --recordings "$work/rec")
fi
"$bin/wsrecv" "${wsopts[@]}" -H 127.0.0.1 -p "$p" >"$work/a" &
w=$!
"$bin/frameparse" <"$work/a" >"$work/b" &
f=$!
"$bin/sessionwriter" -s "$sync_s" -d "$work/rec" <"$work/b" >"$work/ended" &
s=$!
wait_port "$p"
if [ "${viewers:-0}" -gt 0 ]; then
	"$work/wsblast" -n 1 -r 30 -t $((secs + 120)) "$p" "$INGEST_PREVIEW_CLIP" >"$work/cam.out" 2>&1 &
	cam=$!
	for _ in $(seq 100); do
		! grep -q barrier "$work/cam.out" || break
		sleep 0.1
	done
	"$work/liveload" -P -n "$viewers" -w 0 -t $((secs + 120)) "$p" >"$work/viewers.out" &
	load=$!
	sleep 2
fi
ours=$(generate "$p")
# Every phone has closed; the pipeline is done when every session is.
end=$(python3 - "$work/ended" "$n" <<'PY'
import sys, time
t = time.monotonic()
while time.monotonic() - t < 60:
    with open(sys.argv[1]) as f:
        if sum(1 for _ in f) >= int(sys.argv[2]):
            break
    time.sleep(0.01)
print("%.6f" % time.monotonic())
PY
)
cpu=0 rss=0
for pid in $w $f $s; do
	cpu=$(awk -v a="$cpu" -v b="$(cpu_of "$pid")" 'BEGIN { print a + b }')
	rss=$((rss + $(hwm_of "$pid")))
done
ours="$ours drained_mono=$end"
echo "$ours pipeline_cpu=$cpu pipeline_peak_rss_kib=$rss" \
	"(wsrecv $(cpu_of $w) s $(hwm_of $w) KiB, frameparse $(cpu_of $f) s $(hwm_of $f) KiB," \
	"sessionwriter $(cpu_of $s) s $(hwm_of $s) KiB)"
if [ "${viewers:-0}" -gt 0 ]; then
	kill "$cam" "$load"
	wait "$cam" "$load" || :
fi
kill -TERM "$w"
wait "$w" "$f" "$s" || :
if [ "${viewers:-0}" -gt 0 ]; then
	for d in "$work"/rec/*/; do
		! cmp -s -n 64 "$d/stream.h264" "$INGEST_PREVIEW_CLIP" || rm -rf "$d"
	done
fi
check=$(python3 bench/verify.py "$clip" "$work/rec")
echo "verify: $check"

python3 - "$mode" "$n" "$discard" "$floor" "$ours" "$cpu" "$rss" "$check" <<'PY'
import sys
def kv(s):
    return dict(w.split("=", 1) for w in s.split() if "=" in w)
mode, n = sys.argv[1], int(sys.argv[2])
d, fl, o, v = kv(sys.argv[3]), kv(sys.argv[4]), kv(sys.argv[5]), kv(sys.argv[8])
cpu, rss = float(sys.argv[6]), int(sys.argv[7])
def mbs(x):
    return int(x["bytes"]) / float(x["seconds"]) / 1e6
def s_per_gb(c, x):
    return c / (int(x["bytes"]) / 1e9)
def gen_cpu(x):
    return sum(float(t) for t in x["gen_cpu"].split("+"))
# The pipeline's time runs until its last session is closed, not only until
# wsrecv has read everything.
if "start_mono" in o:
    o["seconds"] = str(float(o["drained_mono"]) - float(o["start_mono"]))
dmb, omb = mbs(d), mbs(o)
frames = int(o["frames"])
out = ["cameras=%d" % n, "discard=%.1f MB/s" % dmb]
if fl:
    fmb = mbs(fl)
    out += ["floor=%.1f MB/s" % fmb]
out += ["camrec=%.1f MB/s" % omb]
if fl:
    out += ["camrec/floor=%.2f" % (omb / fmb)]
out += ["camrec/discard=%.2f" % (omb / dmb), "frames/s=%.0f" % (frames / float(o["seconds"]))]
if fl:
    out += ["cpu_s_per_GB: discard=%.2f floor=%.2f camrec=%.2f camrec/floor=%.2f" % (
        s_per_gb(float(d["sink_cpu"]), d), s_per_gb(float(fl["sink_cpu"]), fl),
        s_per_gb(cpu, o), s_per_gb(cpu, o) / s_per_gb(float(fl["sink_cpu"]), fl))]
else:
    out += ["cpu_s_per_GB: discard=%.2f camrec=%.2f" % (
        s_per_gb(float(d["sink_cpu"]), d), s_per_gb(cpu, o))]
out += ["peak_rss=%.1f MB" % (rss / 1024.0),
        "generator_cpu_share=%.0f%%" % (100 * gen_cpu(o) / (gen_cpu(o) + cpu)),
        "recorded_messages=%s sent_messages=%d" % (v["packets"], frames),
        "lag_growth_ms=%s" % v["lag_growth_ms"]]
print("result: " + " ".join(out))
if mode == "fast":
    r = dmb / omb
    if r >= 2:
        print("generator: outran the pipeline %.1fx against the discard endpoint (>= 2x): "
              "the pipeline's figure is the pipeline's" % r)
    else:
        print("generator: NOT 2x: it reached only %.1fx the pipeline's speed against the "
              "discard endpoint, so the pipeline's figure may be the generator's" % r)
if int(v["packets"]) != frames:
    sys.exit("ingest: frames were lost: %s recorded of %d sent" % (v["packets"], frames))
PY
