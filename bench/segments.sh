#!/usr/bin/env bash
# bench/segments.sh: current-app phones (MP4 segments as JSON text, see
# issue 9) through wsrecv | frameparse | sessionwriter.
#
#   bench/segments.sh [N] [SECONDS]
#
# 1. base64: lib/base64.c decoding the segment's text (bench/b64speed.c),
#    against memcpy of the same text in the same run.
# 2. throughput: N phones (default 10) each sending the same ~15 MiB text
#    message (an 11 MiB MP4 made by ffmpeg now, as base64) over and over for
#    SECONDS (default 10), with bench/wsblast -s, first into bench/wssink
#    (discards: the generator's own ceiling) and then into the pipeline:
#    segments per second, MB/s of base64 text, CPU seconds per segment.
# 3. memory: 100 phones sending one such segment each at the same moment
#    (wsblast -s -c 1): the peak RSS of each pipeline process and their sum.
# Every stored segment is checked byte for byte against the one sent, and
# their count against what was sent. Tools from $CAMREC_BIN (default bin/).
# SEGMENTS_SYNC=0 turns off sessionwriter's fsync of every segment (-s 0);
# by default it syncs, as it does when recording.
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=bench/common.sh
. bench/common.sh
n=${1:-10}
secs=${2:-10}
burst=100
sync_s=${SEGMENTS_SYNC:-1}
bin=${CAMREC_BIN:-$PWD/bin}
work=$(mktemp -d "${TMPDIR:-/tmp}/camrec-segbench.XXXXXX")
trap 'st=$?; set +e; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; exit $st' EXIT

ulimit -n "$(ulimit -Hn)"
cc -O2 -o "$work/wssink" bench/wssink.c $(pkg-config --cflags --libs libwebsockets)
cc -O2 -pthread -o "$work/wsblast" bench/wsblast.c
cc -O2 -Ilib -o "$work/b64speed" bench/b64speed.c lib/base64.c

# An MP4 as MediaMuxer would finish it, near the app's 11.6 MiB cut: 720p
# at about 4 Mbit/s for 23 s.
ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30:duration=23 \
	-pix_fmt yuv420p -c:v libx264 -preset ultrafast -profile:v baseline -g 30 \
	-b:v 4M -maxrate 4M -bufsize 8M "$work/seg.mp4"
python3 - "$work/seg.mp4" "$work/seg.json" "$work/seg.b64" <<'PY'
import base64, json, sys
mp4 = open(sys.argv[1], "rb").read()
b64 = base64.b64encode(mp4).decode()
open(sys.argv[3], "w").write(b64)
msg = {"type": "mp4_segment", "segment_id": "20251221_195713_00", "data": b64,
       "size": len(mp4), "qr_results": []}
open(sys.argv[2], "w").write(json.dumps(msg, separators=(",", ":")))
PY
mp4_bytes=$(stat -c %s "$work/seg.mp4")
json_bytes=$(stat -c %s "$work/seg.json")
echo "segment: $mp4_bytes bytes of MP4, $json_bytes bytes of JSON text"

echo "== base64: lib/base64.c on the segment's text, best of 20"
"$work/b64speed" "$work/seg.b64" 20

kv() {	# kv KEY LINE
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# generate PORT N [wsblast options]: prints wsblast's stats line.
generate() {
	local p=$1 k=$2
	shift 2
	"$work/wsblast" -s "$work/seg.json" -n "$k" "$@" "$p" 2>"$work/gen.err" || {
		echo "segments: load generator failed:" >&2
		tail -n 5 "$work/gen.err" >&2
		return 1
	}
}

echo "== discard: wsblast -s -n $n -t $secs into wssink"
p=$(port)
"$work/wssink" "$p" >/dev/null &
sink=$!
wait_port "$p"
d=$(generate "$p" "$n" -t "$secs") || exit 1
echo "$d sink_cpu=$(cpu_of $sink)"
kill -TERM "$sink"
wait "$sink" || :

# pipeline K [wsblast options]: the generator into the pipeline, until
# every session is closed; prints the stats, CPU and peak RSS.
pipeline() {
	local k=$1 p w f s out end
	shift
	rm -rf "$work/rec" "$work/a" "$work/b" "$work/ended"
	p=$(port)
	mkfifo "$work/a" "$work/b"
	"$bin/wsrecv" --max-per-address "$k" -H 127.0.0.1 -p "$p" >"$work/a" &
	w=$!
	"$bin/frameparse" <"$work/a" >"$work/b" &
	f=$!
	"$bin/sessionwriter" -s "$sync_s" -d "$work/rec" <"$work/b" >"$work/ended" &
	s=$!
	wait_port "$p" || { echo "segments: wsrecv does not listen on $p" >&2; return 1; }
	out=$(generate "$p" "$k" "$@") || return 1
	end=$(python3 - "$work/ended" "$k" <<'PY'
import sys, time
t = time.monotonic()
while time.monotonic() - t < 600:
    with open(sys.argv[1]) as f:
        if sum(1 for _ in f) >= int(sys.argv[2]):
            break
    time.sleep(0.01)
print("%.6f" % time.monotonic())
PY
)
	echo "$out drained_mono=$end wsrecv_cpu=$(cpu_of $w) frameparse_cpu=$(cpu_of $f)" \
		"sessionwriter_cpu=$(cpu_of $s) wsrecv_kib=$(hwm_of $w)" \
		"frameparse_kib=$(hwm_of $f) sessionwriter_kib=$(hwm_of $s)"
	kill -TERM "$w"
	wait "$w" "$f" "$s" || :
}

# check K_SENT: every stored segment is the one sent.
check() {
	python3 - "$work/seg.mp4" "$work/rec" "$1" <<'PY'
import hashlib, os, sys
want = hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()
n = 0
for root, dirs, files in os.walk(sys.argv[2]):
    for name in files:
        if name.endswith(".mp4"):
            if hashlib.sha256(open(os.path.join(root, name), "rb").read()).hexdigest() != want:
                sys.exit("segments: %s differs from the segment sent" % os.path.join(root, name))
            n += 1
print("stored=%d byte-exact" % n)
if n != int(sys.argv[3]):
    sys.exit("segments: %d stored of %s sent" % (n, sys.argv[3]))
PY
}

echo "== camrec: the same generator into wsrecv | frameparse | sessionwriter -s $sync_s"
o=$(pipeline "$n" -t "$secs")
echo "$o"
check "$(kv frames "$o")"
python3 - "$d" "$o" "$mp4_bytes" <<'PY'
import sys
def kv(s):
    return dict(w.split("=", 1) for w in s.split() if "=" in w)
d, o, mp4 = kv(sys.argv[1]), kv(sys.argv[2]), int(sys.argv[3])
osecs = float(o["drained_mono"]) - float(o["start_mono"])
cpu = sum(float(o[k]) for k in ("wsrecv_cpu", "frameparse_cpu", "sessionwriter_cpu"))
dseg, oseg = int(d["frames"]) / float(d["seconds"]), int(o["frames"]) / osecs
print("result: discard=%.1f segments/s (%.0f MB/s) camrec=%.1f segments/s (%.0f MB/s of text, "
      "%.0f MB/s of MP4) camrec/discard=%.2f cpu_per_segment=%.0f ms (wsrecv %s s, frameparse %s s, "
      "sessionwriter %s s for %s segments)" % (
      dseg, int(d["bytes"]) / float(d["seconds"]) / 1e6, oseg, int(o["bytes"]) / osecs / 1e6,
      int(o["frames"]) * mp4 / osecs / 1e6, oseg / dseg, 1000 * cpu / int(o["frames"]),
      o["wsrecv_cpu"], o["frameparse_cpu"], o["sessionwriter_cpu"], o["frames"]))
if dseg < 2 * oseg:
    print("generator: NOT 2x: it reached only %.1fx the pipeline's rate against the discard "
          "endpoint" % (dseg / oseg))
else:
    print("generator: outran the pipeline %.1fx against the discard endpoint" % (dseg / oseg))
PY

echo "== memory: $burst phones, one segment each, all at once (wsblast -s -n $burst -c 1)"
o=$(pipeline "$burst" -c 1 -t 600)
echo "$o"
check "$burst"
python3 - "$o" <<'PY'
import sys
o = dict(w.split("=", 1) for w in sys.argv[1].split() if "=" in w)
k = [int(o[p + "_kib"]) for p in ("wsrecv", "frameparse", "sessionwriter")]
print("result: peak RSS wsrecv=%.1f MiB frameparse=%.1f MiB sessionwriter=%.1f MiB "
      "pipeline=%.1f MiB; %s segments in %.1f s" % (k[0] / 1024, k[1] / 1024, k[2] / 1024,
      sum(k) / 1024, o["frames"], float(o["drained_mono"]) - float(o["start_mono"])))
PY
