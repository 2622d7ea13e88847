#!/usr/bin/env bash
# bench/preview.sh: the console's live previews. One camera at 30 fps 1080p
# (H.264 made by ffmpeg now) watched by V preview viewers on /dev?v=2:
#
#   latency  from the picture's due time at the camera (bench/wsblast -r
#            stamps each picture with it, then writes it on time) to the
#            last byte at each viewer (bench/liveload -P), p50 and p99:
#            what the recorder adds, plus loopback transfer, as an upper
#            bound (stamps are whole milliseconds, up to 1 ms early);
#   cost     CPU and peak RSS of wsrecv | frameparse | sessionwriter, the
#            camera alone and then with the viewers;
#   stall    one viewer that never reads for STALL seconds: the recorder's
#            RSS sampled each second, its peak;
#   ingest   bench/ingest.sh fast 100 10 without and with the camera and
#            its V viewers in the same wsrecv, twice each, alternating.
#
#   bench/preview.sh [V] [SECONDS] [STALL]      (100 20 30)
#
# PREVIEW_INGEST_RUNS=N: ingest pairs to run (default 2; 0: none).
# Whether the viewers are the limit: liveload's own CPU share is printed,
# and every reading viewer's message count against the pictures sent.
# Tools from $CAMREC_BIN (default bin/).
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
. bench/common.sh
viewers=${1:-100}
secs=${2:-20}
stall=${3:-30}
bin=${CAMREC_BIN:-$PWD/bin}
work=$(mktemp -d "${TMPDIR:-/tmp}/camrec-bench.XXXXXX")
trap 'st=$?; set +e; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; exit $st' EXIT
ulimit -n "$(ulimit -Hn)"

cc -O2 -o "$work/liveload" bench/liveload.c
cc -O2 -pthread -o "$work/wsblast" bench/wsblast.c
clip=$work/clip1080.h264
scripts/mkclip.sh -s 1920x1080 -t 10 -b 8M "$clip"

# The recorder with the console on port $p; pids in $w $f $s.
recorder() {
	p=$(port)
	rm -rf "$work/rec" "$work/a" "$work/b"
	mkdir "$work/rec"
	mkfifo "$work/a" "$work/b"
	"$bin/wsrecv" --max-per-address $((viewers + 8)) --www web --recordings "$work/rec" \
		-H 127.0.0.1 -p "$p" >"$work/a" 2>"$work/wsrecv.err" &
	w=$!
	"$bin/frameparse" <"$work/a" >"$work/b" &
	f=$!
	"$bin/sessionwriter" -d "$work/rec" <"$work/b" >/dev/null &
	s=$!
	wait_port "$p"
}
stop_recorder() {
	kill -TERM "$w"
	wait "$w" "$f" "$s" || :
}
# The 1080p camera for $1 seconds.
camera() {
	"$work/wsblast" -n 1 -r 30 -t "$1" "$p" "$clip" >"$work/cam.out" 2>&1 &
	cam=$!
	for _ in $(seq 100); do
		! grep -q barrier "$work/cam.out" || return 0
		sleep 0.1
	done
	echo "preview: the camera did not connect" >&2
	exit 1
}
cpu_all() {
	awk -v a="$(cpu_of "$w")" -v b="$(cpu_of "$f")" -v c="$(cpu_of "$s")" 'BEGIN { print a + b + c }'
}
rss_all() {
	echo $(($(hwm_of "$w") + $(hwm_of "$f") + $(hwm_of "$s")))
}
mono() {
	python3 -c 'import time; print("%.3f" % time.monotonic())'
}
echo "== latency and cost: a 1080p camera at 30 fps, then $viewers viewers for $secs s"
recorder
camera $((2 * secs + 20))
sleep 3
c0=$(cpu_all) t0=$(mono)
sleep "$secs"
c1=$(cpu_all) t1=$(mono) rss_alone=$(rss_all)
"$work/liveload" -P -n "$viewers" -w 3 -t "$secs" "$p" >"$work/load.out"
c2=$(cpu_all) t2=$(mono) rss_watched=$(rss_all)
sed 's/^/viewers: /' "$work/load.out"
kill "$cam"
wait "$cam" || :
stop_recorder
alone=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.0f", 100 * (b - a) / (e - s) }')
watched=$(awk -v a="$c1" -v b="$c2" -v s="$t1" -v e="$t2" 'BEGIN { printf "%.0f", 100 * (b - a) / (e - s) }')
sent=$((secs * 30))
read -r p50 p99 < <(awk '/^latency_ms/ { sub("p50=", "", $2); sub("p99=", "", $3); print $2, $3 }' "$work/load.out")
read -r mmin mmax < <(awk '/^messages_per_reading_viewer/ { sub("min=", "", $2); sub("max=", "", $3); print $2, $3 }' "$work/load.out")
gen=$(awk -F= '/^generator_cpu_percent/ { print $2 }' "$work/load.out")
echo "result: preview viewers=$viewers latency_ms p50=$p50 p99=$p99 (goal p99 <= 20)" \
	"recorder_cpu_percent alone=$alone with_viewers=$watched" \
	"recorder_peak_rss_mb alone=$(awk -v k="$rss_alone" 'BEGIN { printf "%.1f", k / 1024 }')" \
	"with_viewers=$(awk -v k="$rss_watched" 'BEGIN { printf "%.1f", k / 1024 }')"
if [ "$mmin" -ge $((sent * 95 / 100)) ] && [ "$gen" -lt 50 ]; then
	echo "viewers: not the limit: each of $viewers read $mmin..$mmax of about $sent pictures, using $gen% of one core"
else
	echo "viewers: MAY BE THE LIMIT: each read $mmin..$mmax of about $sent pictures, using $gen% of one core"
fi

echo "== stall: the camera and one viewer that never reads, for $stall s"
recorder
camera $((stall + 20))
sleep 2
"$work/liveload" -P -n 1 -s 1 -w 0 -t "$stall" "$p" >/dev/null &
load=$!
rss_log=$work/rss
: >"$rss_log"
while kill -0 "$load" 2>/dev/null; do
	awk '/^VmRSS:/ { print $2 }' "/proc/$w/status" >>"$rss_log"
	sleep 1
done
wait "$load" || :
peak=$(rss_all)
kill "$cam"
wait "$cam" || :
stop_recorder
echo "result: stall seconds=$stall wsrecv_rss_mb" \
	"at_5s=$(awk 'NR == 5 { printf "%.1f", $1 / 1024 }' "$rss_log")" \
	"at_end=$(awk 'END { printf "%.1f", $1 / 1024 }' "$rss_log")" \
	"max=$(sort -n "$rss_log" | tail -n 1 | awk '{ printf "%.1f", $1 / 1024 }')" \
	"recorder_peak_rss_mb=$(awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }')"

echo "== ingest: bench/ingest.sh fast 100 10 without and with the camera and $viewers viewers"
for i in $(seq "${PREVIEW_INGEST_RUNS:-2}"); do
	for v in 0 "$viewers"; do
		INGEST_VIEWERS=$v INGEST_PREVIEW_CLIP=$clip bench/ingest.sh fast 100 10 >"$work/ingest.out"
		grep -e '^generator' "$work/ingest.out" | sed 's/^/ingest: /'
		echo "result: ingest viewers=$v run=$i $(grep '^result:' "$work/ingest.out" | grep -o 'camrec=[0-9.]* MB/s')"
	done
done
