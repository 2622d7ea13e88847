#!/usr/bin/env bats
# fpsest over hand-written indexes, indexes built from real clips, and
# old-style folders that only hold stream.h264.

load helper

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	make_clip vui.h264 -profile:v main -bf 3 -g 30
	"$BATS_TEST_DIRNAME/sps_notiming.py" vui.h264 novui.h264
}

setup() {
	cd "$BATS_FILE_TMPDIR"
	rm -rf s && mkdir s
}

HDR='#camrec-index 1\tseq\tdevice_ms\tarrival_us\toffset\tsize\tkind\n'

# index_from_clip CLIP DIR STEP_MS: a session folder as sessionwriter
# leaves it: the clip as stream.h264, a config line (device time 0), then
# one line per access unit with device times STEP_MS apart (fractional
# steps rounded like a camera's ms clock) and arrival 1-3 ms later.
index_from_clip() {
	mkdir -p "$2"
	cp "$1" "$2/stream.h264"
	{
		printf "$HDR"
		printf '1\t0\t5000000\t0\t0\tconfig\n'
		h264info -a "$1" | awk -F'\t' -v step="$3" '{
			dev = 83412345 + int(NR * step + 0.5)
			printf "%d\t%d\t%d\t%d\t%d\t%s\n", NR + 1, dev,
			    5000000 + NR * step * 1000 + (NR % 3) * 1000, $1, $2, $3
		}'
	} > "$2/index.tsv"
}

@test "index with a ts-0 config packet: device rate, config left out" {
	{
		printf "$HDR"
		printf '1\t0\t1000000\t0\t30\tconfig\n'
		for i in $(seq 0 30); do
			printf '%d\t%d\t%d\t%d\t100\t%s\n' $((i + 2)) $((83412345 + i * 40)) \
				$((1040000 + i * 40000 + (i % 2) * 3000)) $((30 + i * 100)) delta
		done
	} > s/index.tsv
	run --separate-stderr fpsest -v s
	[ "$status" -eq 0 ]
	[ "$output" = 25 ]
	[[ $stderr == *"device: used: 31 pictures over 1.200 s of device time"* ]]
	# The index path itself works too.
	[ "$(fpsest s/index.tsv)" = 25 ]
}

@test "--legacy: the old server's number, config packet and all" {
	# 32 messages; arrival span 1.24 s is not > 1.5, so device times:
	# 32 / (83413.545 - 0) s, which the old clamp turned into 1.
	{
		printf "$HDR"
		printf '1\t0\t1000000\t0\t30\tconfig\n'
		for i in $(seq 0 30); do
			printf '%d\t%d\t%d\t0\t100\tdelta\n' $((i + 2)) $((83412345 + i * 40)) \
				$((1040000 + i * 40000))
		done
	} > s/index.tsv
	[ "$(fpsest --legacy s)" = 1 ]
	exp=$(awk 'BEGIN { printf "%.3f", 32 / 83413.545 }')
	[ "$(fpsest --legacy --no-clamp --json s | $PY -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["chosen"]["fps"])')" = "$exp" ]
	# Arrival span 2 s > 1.5: 61 messages / 2 s = 30.5 (not 60 / 2).
	{
		printf "$HDR"
		for i in $(seq 0 60); do
			printf '%d\t%d\t%d\t0\t100\tdelta\n' $((i + 1)) $((i == 0 ? 0 : 5000 + i * 33)) \
				$((7000000 + i * 2000000 / 60))
		done
	} > s/index.tsv
	[ "$(fpsest --legacy s)" = 30.5 ]
}

@test "irregular frame spacing: (n - 1) / span of device time" {
	$PY -c '
import random
random.seed(7)
print("#camrec-index 1\tseq\tdevice_ms\tarrival_us\toffset\tsize\tkind")
print("1\t0\t100\t0\t10\tconfig")
t, a = 5000, 200000
for i in range(200):
    print("%d\t%d\t%d\t0\t10\t%s" % (i + 2, t, a, "key" if i % 30 == 0 else "delta"))
    step = random.choice([33, 34, 66, 67, 100, 33, 33, 150])
    t += step
    a += step * 1000 + random.randint(-5000, 5000)
' > s/index.tsv
	exp=$(awk -F'\t' '$6 != "config" && !/^#/ { if (!f) f = $2; l = $2; n++ }
		END { v = sprintf("%.3f", (n - 1) * 1000 / (l - f)); sub(/0+$/, "", v); sub(/\.$/, "", v); print v }' s/index.tsv)
	[ "$(fpsest s)" = "$exp" ]
}

@test "device times going backwards: arrival times used, -v says why" {
	{
		printf "$HDR"
		for i in $(seq 0 49); do
			dev=$((9000 + i * 50))
			[ "$i" -eq 20 ] && dev=100
			printf '%d\t%d\t%d\t0\t10\tdelta\n' $((i + 1)) $dev $((i * 50000))
		done
	} > s/index.tsv
	run --separate-stderr fpsest -v s
	[ "$status" -eq 0 ]
	[ "$output" = 20 ]
	[[ $stderr == *"device: rejected: device timestamps go backwards at seq 21"* ]]
	[[ $stderr == *"arrival: used: 50 pictures over 2.450 s of arrival time"* ]]
}

@test "device times with an absurd jump or no span: arrival times used" {
	{
		printf "$HDR"
		for i in $(seq 0 49); do
			dev=$((9000 + i * 50))
			[ "$i" -ge 30 ] && dev=$((dev + 3600000))
			printf '%d\t%d\t%d\t0\t10\tdelta\n' $((i + 1)) $dev $((i * 40000))
		done
	} > s/index.tsv
	run --separate-stderr fpsest -v s
	[ "$output" = 25 ]
	[[ $stderr == *"device timestamps jump 3600050 ms at seq 31 (more than 10000)"* ]]
	{
		printf "$HDR"
		for i in $(seq 0 9); do
			printf '%d\t777\t%d\t0\t10\tdelta\n' $((i + 1)) $((i * 100000))
		done
	} > s/index.tsv
	run --separate-stderr fpsest -v s
	[ "$output" = 10 ]
	[[ $stderr == *"device: rejected: device timestamps span 0 s"* ]]
}

@test "device rate far from arrival rate: device rejected" {
	# A device clock running 33 times too fast.
	{
		printf "$HDR"
		for i in $(seq 0 29); do
			printf '%d\t%d\t%d\t0\t10\tdelta\n' $((i + 1)) $((1000 + i * 3)) $((i * 100000))
		done
	} > s/index.tsv
	run --separate-stderr fpsest -v s
	[ "$output" = 10 ]
	[[ $stderr == *"device: rejected: device rate 333.333 disagrees with arrival rate 10.000"* ]]
	[[ $stderr == *"arrival: used"* ]]
}

@test "index built from a real clip: device rate as computed by hand" {
	index_from_clip vui.h264 s/rec 33.3667
	[ "$(wc -l < s/rec/index.tsv)" -eq 62 ]
	exp=$(awk -F'\t' '$6 == "key" || $6 == "delta" { if (!f) f = $2; l = $2; n++ }
		END { print fmt((n - 1) * 1000 / (l - f)) }
		function fmt(x,  v) { v = sprintf("%.3f", x); sub(/0+$/, "", v); sub(/\.$/, "", v); return v }' s/rec/index.tsv)
	[ "$exp" = 29.964 ]
	run --separate-stderr fpsest -v s/rec
	[ "$output" = "$exp" ]
	[[ $stderr == *"device: used: 60 pictures over 1.969 s of device time"* ]]
	# The old server: 61 messages over 2.002002 s of arrival time.
	[ "$(fpsest --legacy s/rec)" = 30.47 ]
}

@test "old folder with VUI timing: the VUI rate, not the folder clue" {
	d=s/192.168.1.20_50123_20260101_120000
	mkdir -p "$d"
	cp vui.h264 "$d/stream.h264"
	touch -d '2026-01-01 12:00:10' "$d/stream.h264"
	run --separate-stderr fpsest -v "$d"
	[ "$output" = 30 ]
	[[ $stderr == *"vui: used: SPS VUI time_scale 60 / (2 * num_units_in_tick 1)"* ]]
	[ "$(fpsest "$d/stream.h264")" = 30 ]
}

@test "old folder without VUI: pictures over folder start to mtime" {
	d=s/10.0.0.5_40000_20260102_030405
	mkdir -p "$d"
	cp novui.h264 "$d/stream.h264"
	touch -d '2026-01-02 03:04:15' "$d/stream.h264"
	run --separate-stderr fpsest -v "$d"
	[ "$status" -eq 0 ]
	[ "$output" = 6 ]
	[[ $stderr == *"vui: rejected: SPS at offset 0 has no VUI timing"* ]]
	[[ $stderr == *"folder: used: 60 pictures"*"10.000 s"* ]]
	# A collision suffix and a mangled IPv6 address still parse.
	d2=s/fe80--1_40000_20260102_030405_2
	mkdir -p "$d2"
	cp -p "$d/stream.h264" "$d2/stream.h264"
	[ "$(fpsest "$d2")" = 6 ]
}

@test "old folder without VUI or clue: --duration, else 10" {
	mkdir -p s/oldrec
	cp novui.h264 s/oldrec/stream.h264
	run --separate-stderr fpsest -v s/oldrec
	[ "$output" = 10 ]
	[[ $stderr == *"folder: rejected: folder name is not"* ]]
	[[ $stderr == *"default: used"* ]]
	[ "$(fpsest --duration 4 s/oldrec)" = 15 ]
	[ "$(fpsest --duration 7 s/oldrec)" = 8.571 ]
	# A clue whose mtime is before the start is not believed.
	d=s/10.0.0.5_40000_20260102_030405
	mkdir -p "$d"
	cp novui.h264 "$d/stream.h264"
	touch -d '2026-01-02 03:00:00' "$d/stream.h264"
	run --separate-stderr fpsest -v --duration 3 "$d"
	[ "$output" = 20 ]
	[[ $stderr == *"folder: rejected: stream.h264 last written -245.000 s after"* ]]
}

@test "clamping to [1, 60] unless --no-clamp" {
	mkdir -p s/oldrec
	cp novui.h264 s/oldrec/stream.h264
	[ "$(fpsest --duration 0.5 s/oldrec)" = 60 ]
	[ "$(fpsest --no-clamp --duration 0.5 s/oldrec)" = 120 ]
	[ "$(fpsest --duration 600 s/oldrec)" = 1 ]
	[ "$(fpsest --no-clamp --duration 600 s/oldrec)" = 0.1 ]
}

@test "--json lists every estimate and the chosen one" {
	index_from_clip vui.h264 s/rec 40
	fpsest --json s/rec > out.json
	$PY -m json.tool out.json > /dev/null
	$PY -c '
import json
j = json.load(open("out.json"))
src = [e["source"] for e in j["estimates"]]
assert src == ["device", "arrival", "vui", "folder", "duration", "default"], src
assert j["chosen"]["source"] == "device" and j["chosen"]["fps"] == 25.0, j["chosen"]
assert j["estimates"][2]["fps"] == 30.0
assert j["estimates"][4]["fps"] is None and j["estimates"][4]["reason"]
'
}

@test "garbage input: exit 3 naming the file and the problem" {
	head -c 5000 /dev/urandom | tr -d '\000' > junk.h264
	run --separate-stderr fpsest junk.h264
	[ "$status" -eq 3 ]
	[ "$stderr" = "fpsest: junk.h264: no SPS found" ]
	[ "$output" = "" ]
	: > empty.h264
	run --separate-stderr fpsest empty.h264
	[ "$status" -eq 3 ]
	[ "$stderr" = "fpsest: empty.h264: no SPS found" ]
	printf "$HDR"'1\t2\tthree\t4\t5\tkey\n' > s/index.tsv
	run --separate-stderr fpsest s
	[ "$status" -eq 3 ]
	[ "$stderr" = "fpsest: s/index.tsv: line 2: not an index line" ]
	mkdir -p s/emptydir
	run --separate-stderr fpsest s/emptydir
	[ "$status" -eq 3 ]
	[ "$stderr" = "fpsest: s/emptydir: neither index.tsv, stream.h264 nor segments.tsv in it" ]
}

@test "usage errors exit 2; a missing operand file exits 1" {
	run --separate-stderr fpsest
	[ "$status" -eq 2 ]
	[[ $stderr == "usage: fpsest "* ]]
	run --separate-stderr fpsest --duration abc x
	[ "$status" -eq 2 ]
	[ "$stderr" = "fpsest: --duration abc: not a number of seconds (0.001 to 1e9)" ]
	mkdir -p s/oldrec
	cp vui.h264 s/oldrec/stream.h264
	run --separate-stderr fpsest --legacy s/oldrec
	[ "$status" -eq 2 ]
	[ "$stderr" = "fpsest: s/oldrec: --legacy needs an index (index.tsv), there is none" ]
	run --separate-stderr fpsest nonexistent
	[ "$status" -eq 1 ]
	[ "$stderr" = "fpsest: nonexistent: No such file or directory" ]
	run fpsest --help
	[ "$status" -eq 0 ]
	[[ $output == "usage: fpsest "* ]]
}

@test "an index with no pictures: VUI of the stream beside it, else 10" {
	printf "$HDR"'1\t0\t100\t0\t30\tconfig\n' > s/index.tsv
	run --separate-stderr fpsest -v s
	[ "$output" = 10 ]
	[[ $stderr == *"device: rejected: 0 pictures with device timestamps, need 2"* ]]
	cp vui.h264 s/stream.h264
	[ "$(fpsest s)" = 30 ]
}
