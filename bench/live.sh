#!/usr/bin/env bash
# bench/live.sh: liverelay fanning one 4 Mbit/s source out to N viewers on
# loopback: the relay's CPU and peak RSS, the latency it adds (source write
# to viewer receive, p50 and p99), what each viewer got; then the same with
# S of the viewers stalled.
#
#   bench/live.sh [N] [SECONDS] [STALLED]      (500 20 10)
#
# The source is bench/livesrc.py (fragments stamped with the monotonic
# clock), the viewers bench/liveload (raw epoll, no per-byte work). First
# the viewers against bench/livefan, a fan-out with nothing else to do (no
# source process, no cutting, no queues: the ceiling), so the relay's
# figures can be told from the generator's. Tools from $CAMREC_BIN (default
# bin/).
set -eu
cd "$(dirname "$0")/.."
n=${1:-500}
secs=${2:-20}
stalled=${3:-10}
bin=${CAMREC_BIN:-$PWD/bin}
work=$(mktemp -d "${TMPDIR:-/tmp}/camrec-bench.XXXXXX")
trap 'st=$?; set +e; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; exit $st' EXIT

ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((n * 2 + 64)) ]; then
	echo "live: open-files limit $(ulimit -n) is too low for $n viewers" >&2
	exit 1
fi
cc -O2 -o "$work/liveload" bench/liveload.c
cc -O2 -o "$work/livefan" bench/livefan.c

port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
	for _ in $(seq 1 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "live: port $1 never opened" >&2
	exit 1
}
# CPU seconds (user + system) of a process so far.
cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

# run NAME PID PORT STALLED: the viewers against PORT, PID's CPU and memory.
run() {
	local name=$1 pid=$2 p=$3 s=$4 c0 c1 t0 t1
	c0=$(cpu "$pid")
	t0=$(date +%s.%N)
	"$work/liveload" -n "$n" -s "$s" -t "$secs" -w 3 "$p" >"$work/$name.out"
	sed "s/^/result: $name /" "$work/$name.out"
	t1=$(date +%s.%N)
	c1=$(cpu "$pid")
	echo "result: $name server_cpu_percent=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.0f", 100 * (b - a) / (e - s) }')" \
		"server_peak_rss_kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")"
}

p=$(port)
"$work/livefan" "$p" &
fan=$!
wait_port "$p"
run ceiling "$fan" "$p" 0
run ceiling-stalled "$fan" "$p" "$stalled"
kill "$fan"

for s in 0 "$stalled"; do
	p=$(port)
	"$bin/liverelay" -H 127.0.0.1 -p "$p" -i 60 -- python3 bench/livesrc.py 2>"$work/relay.err" &
	relay=$!
	wait_port "$p"
	run "relay-stalled-$s" "$relay" "$p" "$s"
	kill "$relay"
	wait "$relay" || true
	echo "result: relay-stalled-$s dropped_as_too_slow=$(grep -c 'dropped: too slow' "$work/relay.err")"
done

# field RUN KEY: a number from a run's liveload output.
field() {
	sed -n "s/^\(.* \)\{0,1\}$2=\([0-9.]*\).*/\2/p" "$work/$1.out" | head -n 1
}
# The viewers must outrun what they measure: against livefan, which does
# nothing but write, every reading viewer has to get every fragment with a
# tail below the relay's, else the relay's figures are the generator's.
verdict() {
	awk -v c="$1" -v r="$2" -v cp50="$(field "$1" p50)" -v cp99="$(field "$1" p99)" \
		-v rp50="$(field "$2" p50)" -v rp99="$(field "$2" p99)" \
		-v cgaps="$(field "$1" with_gaps)" -v gcpu="$(field "$1" generator_cpu_percent)" 'BEGIN {
		ok = (cgaps == 0 && cp99 <= rp99 && gcpu < 50) ? "yes" : "NO"
		q50 = (cp50 > 0) ? rp50 / cp50 : 0
		q99 = (cp99 > 0) ? rp99 / cp99 : 0
		printf "result: %s generator_outruns_relay=%s (against the write-only fan-out: gaps=%d p99=%.1f ms, generator cpu %d%%)\n", r, ok, cgaps, cp99, gcpu
		printf "result: %s relay_over_ceiling p50=%.2f p99=%.2f\n", r, q50, q99
	}'
}
verdict ceiling relay-stalled-0
verdict ceiling-stalled "relay-stalled-$stalled"
