#!/usr/bin/env bash
# bench/finalize_burst.sh: do finalizes starve ingest? Records 2 x N cameras
# at 30 fps through camrec.sh, stops group A (N sessions end together and
# are finalized: fpsest, mux, thumb) while group B keeps recording, and
# measures how much later than usual B's frames arrived meanwhile: arrival
# time minus device time, against the same measure before the stop.
set -eu
cd "$(dirname "$0")/.."
n=${1:-20}
bin=${CAMREC_BIN:-$PWD/bin}
work=$(mktemp -d "${TMPDIR:-/tmp}/camrec-burst.XXXXXX")
trap 'st=$?; set +e; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; exit $st' EXIT
PATH=$bin:$PWD/scripts:$PATH

clip=$work/clip.h264
scripts/mkclip.sh -t 10 "$clip"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
camrec.sh -H 127.0.0.1 -p "$port" -d "$work/rec" -R "$work/run" </dev/null 2>"$work/camrec.log" &
camrec=$!
c() {
	ctl -c "$work/run/ctl.fifo" -s "$work/run/status.json" "$@"
}
for i in $(seq 100); do
	[ -s "$work/run/status.json" ] && break
	sleep 0.1
done
camsim -n "$n" --model A -u "ws://127.0.0.1:$port/android-cam" --clip "$clip" 2>/dev/null &
camsim -n "$n" --model B -u "ws://127.0.0.1:$port/android-cam" --clip "$clip" 2>/dev/null &
for i in $(seq 100); do
	[ "$(c list | grep -c android)" -eq $((2 * n)) ] && break
	sleep 0.1
done
c -w 5 start 16:9 4 30 >/dev/null || :
sleep 6
ids=$(c list | awk '$NF ~ /^A-/ { printf "@%s ", $1 }')
t_stop=$(python3 -c 'import time; print(int(time.monotonic() * 1e6))')
# shellcheck disable=SC2086
c -w 5 stop $ids >/dev/null || :
for i in $(seq 600); do
	[ "$(grep -c 'mp4=' "$work/camrec.log")" -ge "$n" ] && break
	sleep 0.1
done
t_done=$(python3 -c 'import time; print(int(time.monotonic() * 1e6))')
sleep 1
c -w 5 stop >/dev/null || :
kill -TERM "$camrec"
wait "$camrec" || :
ok=$(grep -c 'mp4=ok' "$work/camrec.log")

python3 - "$work/rec" "$t_stop" "$t_done" "$n" "$ok" <<'PY'
import json, os, sys
root, t_stop, t_done, n, ok = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
before, during = [], []
for name in os.listdir(root):
    if name.startswith("."):
        continue    # the recorder's lock file
    d = os.path.join(root, name)
    if not json.load(open(os.path.join(d, "session.json"))).get("device_model", "").startswith("B"):
        continue
    rows = [l.split("\t") for l in open(os.path.join(d, "index.tsv")) if not l.startswith("#")]
    pics = [(int(r[1]), int(r[2])) for r in rows if r[5].strip() in ("key", "delta")]
    d0, a0 = pics[0]
    base = min((a - a0) / 1000.0 - (dv - d0) for dv, a in pics)
    for dv, a in pics:
        lag = (a - a0) / 1000.0 - (dv - d0) - base
        if a < t_stop:
            before.append(lag)
        elif a <= t_done:
            during.append(lag)
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")
print("result: %d sessions ended together, finalized in %.1f s; %d of %d sessions got their MP4; frames of the other %d cameras "
      "arrived late by p50 %.1f ms, p99 %.1f ms, max %.1f ms before the stop, and by p50 %.1f ms, "
      "p99 %.1f ms, max %.1f ms while finalizing: extra delay (max during - p99 before) %.1f ms"
      % (n, (t_done - t_stop) / 1e6, ok, 2 * n, n, pct(before, .5), pct(before, .99), max(before),
         pct(during, .5), pct(during, .99), max(during), max(during) - pct(before, .99)))
PY
