#!/usr/bin/env bash
# bench/memory.sh: memory of wsrecv | frameparse | sessionwriter when N
# phones start at the same instant, each with its parameter sets and a key
# frame of KEY bytes, and then send FPS pictures a second of 720p.
#
#   bench/memory.sh [N] [SECONDS] [FPS] [KEY]      (1000 60 5 185000)
#
# bench/wsblast -r FPS opens and upgrades all N connections, then starts
# them all at once (a barrier, which it reports), first against
# bench/wssink (discard: does the generator keep its schedule, and what the
# WebSocket library alone costs per connection), then against the
# pipeline. The clip's first key frame is padded to KEY bytes with a filler
# NAL unit (type 12, as CBR encoders write), so each phone's first
# picture is as large as a phone's at `start`.
#
# Reported: each process's peak RSS (VmHWM), its RSS sampled every 0.2 s
# and the largest sum of the three in the steady half (the second half of
# the run), the time from the start until the last phone's first key frame
# was received whole by wsrecv (its arrival time in index.tsv) and until it
# was in stream.h264 (polled every 0.1 s), and the recordings checked
# byte-exact with no sequence gap and no growing lag (bench/verify.py).
# WSRECV_OPTS adds options to wsrecv (e.g. --rx-budget), BITRATE sets
# the clip's (4M: ~17 KB pictures), SYNC sessionwriter's -s (1), DISCARD=0
# skips the discard run. Tools from $CAMREC_BIN (default bin/).
set -eu
cd "$(dirname "$0")/.."
n=${1:-1000}
secs=${2:-60}
fps=${3:-5}
key=${4:-185000}
bin=${CAMREC_BIN:-$PWD/bin}
work=$(mktemp -d "${TMPDIR:-/tmp}/camrec-mem.XXXXXX")
# shellcheck disable=SC2154,SC2046 # st is the trap's own; jobs -p is a list
trap 'st=$?; set +e; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; exit $st' EXIT

ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((n * 4 + 64)) ]; then
	echo "memory: open-files limit $(ulimit -n) is too low for $n connections" >&2
	exit 1
fi
# shellcheck disable=SC2046 # pkg-config prints a list of flags
cc -O2 -o "$work/wssink" bench/wssink.c $(pkg-config --cflags --libs libwebsockets)
cc -O2 -pthread -o "$work/wsblast" bench/wsblast.c

clip=$work/clip.h264
scripts/mkclip.sh -t 10 -b "${BITRATE:-4M}" "$work/raw.h264"
# The first key frame padded with filler data to KEY bytes: prints the
# bytes of the parameter sets and of the padded first picture.
sizes=$(python3 - "$work/raw.h264" "$clip" "$key" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
key = int(sys.argv[3])
starts = []
i = d.find(b"\x00\x00\x01")
while i >= 0:
    starts.append(i - 1 if i > 0 and d[i - 1] == 0 else i)
    i = d.find(b"\x00\x00\x01", i + 3)
types = [d[s + (3 if d[s + 2] == 1 else 4)] & 0x1F for s in starts]
first_vcl = next(k for k, t in enumerate(types) if t in (1, 5))
cfg = next(s for s, t in zip(starts, types) if t not in (7, 8))
end = next(s for s, t in zip(starts[first_vcl + 1:], types[first_vcl + 1:]))
have = end - cfg
fill = b""
if key > have + 6:
    fill = b"\x00\x00\x00\x01\x0c" + b"\xff" * (key - have - 6) + b"\x80"
open(sys.argv[2], "wb").write(d[:end] + fill + d[end:])
print(cfg, have + len(fill))
PY
)
read -r cfg_len key_len <<<"$sizes"

port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
	local _
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
hwm_of() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}
generate() {
	"$work/wsblast" -n "$n" -t "$secs" -r "$fps" "$1" "$clip" >"$work/gen.out" 2>"$work/gen.err" || {
		echo "memory: load generator failed:" >&2
		tail -n 5 "$work/gen.err" >&2
		return 1
	}
}

echo "== clip: parameter sets $cfg_len bytes, first key frame $key_len bytes; $n phones, $fps fps, $secs s"
if [ "${DISCARD:-1}" != 0 ]; then
	echo "== discard: wsblast -n $n -t $secs -r $fps into wssink"
	p=$(port)
	"$work/wssink" "$p" >"$work/sink.out" &
	k=$!
	wait_port "$p"
	generate "$p"
	cat "$work/gen.out"
	echo "wssink peak_rss_kib=$(hwm_of $k)"
	kill -TERM $k
	wait $k || :
fi

echo "== camrec: the same into wsrecv ${WSRECV_OPTS:-} | frameparse | sessionwriter"
p=$(port)
mkfifo "$work/a" "$work/b"
# shellcheck disable=SC2086 # WSRECV_OPTS is a list of options
"$bin/wsrecv" --max-per-address "$n" ${WSRECV_OPTS:-} -H 127.0.0.1 -p "$p" >"$work/a" &
w=$!
"$bin/frameparse" <"$work/a" >"$work/b" &
f=$!
"$bin/sessionwriter" -s "${SYNC:-1}" -d "$work/rec" <"$work/b" >"$work/ended" &
s=$!
wait_port "$p"
# The sampler: RSS of the three every 0.2 s, and when each session's
# stream first holds the parameter sets and the first key frame.
python3 - "$work" "$n" $((cfg_len + key_len)) $w $f $s <<'PY' &
import os, sys, time
work, n, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pids = sys.argv[4:]
rec = os.path.join(work, "rec")
done, out = {}, open(os.path.join(work, "rss.tsv"), "w")
last_poll = 0
while True:
    now = time.monotonic()
    try:
        rss = []
        for p in pids:
            for line in open("/proc/%s/status" % p):
                if line.startswith("VmRSS:"):
                    rss.append(line.split()[1])
    except OSError:
        break
    out.write("%.3f\t%s\n" % (now, "\t".join(rss)))
    if len(done) < n and now - last_poll >= 0.1 and os.path.isdir(rec):
        last_poll = now
        for e in os.scandir(rec):
            if e.name in done or e.name.startswith("."):
                continue
            try:
                if os.stat(os.path.join(e.path, "stream.h264")).st_size >= want:
                    done[e.name] = now
            except OSError:
                pass
        if len(done) == n:
            open(os.path.join(work, "keys_recorded"), "w").write("%.3f\n" % max(done.values()))
    out.flush()
    time.sleep(0.2)
PY
sampler=$!
# Python can take seconds to start on a loaded machine: the phones start
# only once the sampler runs.
for _ in $(seq 600); do
	[ -s "$work/rss.tsv" ] && break
	sleep 0.05
done
generate "$p"
cat "$work/gen.out"
python3 - "$work/ended" "$n" <<'PY'
import sys, time
t = time.monotonic()
while time.monotonic() - t < 240:
    with open(sys.argv[1]) as f:
        if sum(1 for _ in f) >= int(sys.argv[2]):
            break
    time.sleep(0.05)
PY
hw=$(hwm_of $w) hf=$(hwm_of $f) hs=$(hwm_of $s)
for pid in $w $f $s; do
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f ", ($14 + $15) / hz }' "/proc/$pid/stat"
done >"$work/cpu"
kill -TERM $w
wait $w $f $s || :
wait $sampler || :
check=$(python3 bench/verify.py "$clip" "$work/rec")
echo "verify: $check"
python3 - "$work" "$secs" "$hw" "$hf" "$hs" "$key_len" "$check" <<'PY'
import os, sys
work, secs = sys.argv[1], float(sys.argv[2])
hw, hf, hs = (int(x) / 1024.0 for x in sys.argv[3:6])
key_len = int(sys.argv[6])
g = dict(w.split("=", 1) for w in open(os.path.join(work, "gen.out")).read().split() if "=" in w)
v = dict(w.split("=", 1) for w in sys.argv[7].split() if "=" in w)
t0 = float(g["start_mono"])
rows = [[float(x) for x in l.split("\t")] for l in open(os.path.join(work, "rss.tsv"))]
steady = [r for r in rows if t0 + secs / 2 <= r[0] <= t0 + secs]
idle = [r for r in rows if r[0] <= t0]
def mb(kib):
    return kib / 1024.0
# When each phone's first key frame was received whole, from its index;
# and how late its last picture came, against when it was due.
arrivals, last_lags = [], []
for name in os.listdir(os.path.join(work, "rec")):
    if name.startswith("."):
        continue
    rows = [l.split("\t") for l in open(os.path.join(work, "rec", name, "index.tsv"))
            if not l.startswith("#")]
    keys = [r for r in rows if r[5].strip() == "key"]
    if keys:
        arrivals.append(int(keys[0][2]) / 1e6 - t0)
        d0 = int(keys[0][1])
        last = rows[-1]
        last_lags.append(int(last[2]) / 1e6 - t0 - (int(last[1]) - d0) / 1e3)
arrivals.sort()
last_lags.sort()
last_arrival = t0 + arrivals[-1]
print("result: first key frames received, s after the start: p50 %.2f p90 %.2f max %.2f; "
      "last picture's lateness: p50 %.2f max %.2f s" % (
          arrivals[len(arrivals) // 2], arrivals[len(arrivals) * 9 // 10], arrivals[-1],
          last_lags[len(last_lags) // 2], last_lags[-1]))
kr = os.path.join(work, "keys_recorded")
recorded = float(open(kr).read()) - t0 if os.path.exists(kr) else float("nan")
print("result: cpu_s wsrecv=%s frameparse=%s sessionwriter=%s" % tuple(open(os.path.join(work, "cpu")).read().split()))
if idle:
    print("result: rss at the barrier (all connected, nothing sent) wsrecv=%.1f frameparse=%.1f "
          "sessionwriter=%.1f MB" % tuple(mb(idle[-1][k]) for k in (1, 2, 3)))
print("result: peak_rss wsrecv=%.1f frameparse=%.1f sessionwriter=%.1f sum=%.1f MB" % (hw, hf, hs, hw + hf + hs))
if steady:
    print("result: steady_rss (max over the second half, sampled) wsrecv=%.1f frameparse=%.1f "
          "sessionwriter=%.1f sum=%.1f MB" % tuple(
              [mb(max(r[k] for r in steady)) for k in (1, 2, 3)] +
              [mb(max(r[1] + r[2] + r[3] for r in steady))]))
print("result: first key frames (%d bytes) of all phones: received %.2f s, in stream.h264 %.2f s "
      "after the start; burst written by the generator %s s" % (
          key_len, last_arrival - t0, recorded, g.get("burst_s")))
print("result: frames sent=%s recorded=%s lag_growth_ms=%s max_lag_ms=%s generator max_late_ms=%s" % (
    g["frames"], v["packets"], v["lag_growth_ms"], v["max_lag_ms"], g.get("max_late_ms")))
if int(v["packets"]) != int(g["frames"]):
    sys.exit("memory: frames were lost: %s recorded of %s sent" % (v["packets"], g["frames"]))
PY
