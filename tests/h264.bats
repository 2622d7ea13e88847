#!/usr/bin/env bats
# The H.264 reader (lib/h264*.c through h264info) against ffprobe on
# clips made now with libx264.

load helper

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	make_clip base.h264 -profile:v baseline -g 30
	make_clip main.h264 -profile:v main -bf 3 -g 30
	make_clip high.h264 -profile:v high -bf 3 -g 30
	make_clip slices.h264 -profile:v high -bf 3 -g 30 -x264-params slices=4
	ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=322x242:rate=30:duration=1 \
		-pix_fmt yuv420p -c:v libx264 -profile:v high -f h264 odd.h264
	"$BATS_TEST_DIRNAME/sps_notiming.py" base.h264 notiming.h264
}

setup() {
	cd "$BATS_FILE_TMPDIR"
}

# info FILE KEY: the value h264info prints for KEY.
info() {
	h264info "$1" | awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }'
}

probe() {
	ffprobe -v error -select_streams v:0 -count_frames \
		-show_entries "stream=$2" -of default=nw=1:nk=1 "$1"
}

# The reader's picture count, size and profile agree with ffprobe's.
agree_with_ffprobe() {
	local f=$1 profile
	[ "$(info "$f" pictures)" = "$(probe "$f" nb_read_frames)" ]
	[ "$(info "$f" width)" = "$(probe "$f" width)" ]
	[ "$(info "$f" height)" = "$(probe "$f" height)" ]
	profile=$(probe "$f" profile | tr 'A-Z ' 'a-z-')
	[ "$(info "$f" profile | cut -d' ' -f2)" = "$profile" ]
}

# Access units from h264info -a are ffprobe's packets: position, size, key.
packets_agree() {
	diff -u <(ffprobe -v error -show_entries packet=pos,size,flags -of csv=p=0 "$1" |
		awk -F, '{ print $2, $1, substr($3, 1, 1) == "K" ? "key" : "-" }') \
		<(h264info -a "$1" | awk -F'\t' '{ print $1, $2, $3 == "key" ? "key" : "-" }')
}

@test "baseline clip: pictures, size, profile, packets as ffprobe sees them" {
	agree_with_ffprobe base.h264
	packets_agree base.h264
	[ "$(info base.h264 profile)" = "66 constrained-baseline" ]
	[ "$(info base.h264 pictures)" = 60 ]
	[ "$(info base.h264 key_frames)" = 2 ]
}

@test "main profile with B-frames" {
	agree_with_ffprobe main.h264
	packets_agree main.h264
	[ "$(info main.h264 profile)" = "77 main" ]
	[ "$(info main.h264 poc_type)" = 0 ]
}

@test "high profile with B-frames" {
	agree_with_ffprobe high.h264
	packets_agree high.h264
	[ "$(info high.h264 profile)" = "100 high" ]
}

@test "four slices per picture stay one access unit" {
	agree_with_ffprobe slices.h264
	packets_agree slices.h264
	[ "$(info slices.h264 access_units)" = 60 ]
	slice_nals=$(h264info slices.h264 | awk '$1 == "nal" && ($2 == 1 || $2 == 5) { n += $3 } END { print n }')
	[ "$slice_nals" = 240 ]
}

@test "odd size: cropping gives 322x242 from 336x256 coded" {
	agree_with_ffprobe odd.h264
	[ "$(info odd.h264 width)" = 322 ]
	[ "$(info odd.h264 height)" = 242 ]
	[ "$(info odd.h264 coded_size)" = 336x256 ]
	[ "$(info odd.h264 crop)" = "0 14 0 14" ]
}

@test "VUI timing read when present, none when stripped" {
	[ "$(info base.h264 timing)" = "1 60 fixed 0 fps 30" ]
	[ "$(info notiming.h264 timing)" = none ]
	# ffprobe agrees the timing is gone (it then guesses 25 fps).
	[ "$(probe notiming.h264 r_frame_rate)" = 25/1 ]
	agree_with_ffprobe notiming.h264
}

@test "-a units tile the file and match the summary counts" {
	size=$(stat -c %s high.h264)
	run h264info -a high.h264
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq "$(info high.h264 access_units)" ]
	total=$(h264info -a high.h264 | awk -F'\t' 'NR == 1 { s = $1 } { s += $2 } END { print s }')
	[ "$total" = "$size" ]
	keys=$(h264info -a high.h264 | grep -c 'key$')
	[ "$keys" = "$(info high.h264 key_frames)" ]
}

@test "truncated files: never fail on a cut, count what is there" {
	size=$(stat -c %s main.h264)
	for n in 5000 12345 $((size / 2)) $((size - 7)); do
		head -c "$n" main.h264 > cut.h264
		run h264info cut.h264
		[ "$status" -eq 0 ]
		ours=$(info cut.h264 pictures)
		theirs=$(ffprobe -v quiet -show_entries packet=pos -of csv=p=0 cut.h264 | wc -l)
		[ "$ours" -eq "$theirs" ]
	done
	# Parameter sets and SEI only, the first slice cut off.
	head -c 40 main.h264 > cut.h264
	[ "$(info cut.h264 pictures)" = 0 ]
	[ "$(info cut.h264 access_units)" = 1 ]
}

@test "cut inside the SPS: exit 3, no SPS found" {
	head -c 8 main.h264 > cut.h264
	run --separate-stderr h264info cut.h264
	[ "$status" -eq 3 ]
	[ "$stderr" = "h264info: cut.h264: no SPS found" ]
}

@test "garbage between access units does not change the count" {
	# Zero-free noise cannot look like a start code; it stays with the
	# unit before it, as it would in ffmpeg's parser.
	h264info -a base.h264 | $PY -c '
import os, sys
data = open("base.h264", "rb").read()
out = bytearray()
for line in sys.stdin:
    off, size, kind = line.split("\t")
    off, size = int(off), int(size)
    out += data[off:off + size]
    out += bytes(b % 255 + 1 for b in os.urandom(37))
open("noisy.h264", "wb").write(out)'
	[ "$(info noisy.h264 pictures)" = 60 ]
	[ "$(info noisy.h264 key_frames)" = 2 ]
	agree_with_ffprobe noisy.h264
}

@test "hostile bytes: random data and fake start codes end cleanly" {
	head -c 300000 /dev/urandom > rand.h264
	run h264info rand.h264
	[ "$status" -eq 0 ] || [ "$status" -eq 3 ]
	# Start codes with every header byte, truncated SPS and slice bodies.
	$PY -c '
import os
out = bytearray(open("base.h264", "rb").read()[:200])
for t in range(256):
    out += b"\0\0\1" + bytes([t]) + os.urandom(t % 9)
out += b"\0\0\1\x67\x42"
open("hostile.h264", "wb").write(out)'
	run h264info hostile.h264
	[ "$status" -eq 0 ]
	run h264info -a hostile.h264
	[ "$status" -eq 0 ]
}

@test "emulation prevention bytes inside an SPS are removed" {
	# x264 writes num_units_in_tick 1 and time_scale 60 as 32-bit fields,
	# so its SPS carries 00 00 03 escapes right inside them.
	sps=$(head -c 30 base.h264 | od -An -tx1 | tr -d ' \n')
	case $sps in *00000300*0000030*) ;; *) false ;; esac
	[ "$(info base.h264 timing)" = "1 60 fixed 0 fps 30" ]
	[ "$(info high.h264 timing)" = "1 60 fixed 0 fps 30" ]
}

@test "usage, missing file and directory operands" {
	run --separate-stderr h264info
	[ "$status" -eq 2 ]
	[ "$stderr" = "usage: h264info [-a] file" ]
	run h264info --help
	[ "$status" -eq 0 ]
	[ "$output" = "usage: h264info [-a] file" ]
	run --separate-stderr h264info nonexistent.h264
	[ "$status" -eq 1 ]
	[ "$stderr" = "h264info: nonexistent.h264: No such file or directory" ]
	run --separate-stderr h264info .
	[ "$status" -eq 3 ]
	[ "$stderr" = "h264info: .: Is a directory" ]
}

@test "Android-like clip (SPS/PPS once) reads like ffprobe; without them exit 3" {
	make_clip android.h264
	agree_with_ffprobe android.h264
	[ "$(h264info android.h264 | awk '$1 == "nal" && $2 == 7 { print $3 }')" = 1 ]
	# The same pictures without the parameter sets cannot be decoded.
	$PY -c '
import re
d = open("android.h264", "rb").read()
parts = re.split(b"(?=\x00\x00\x01)", d)
open("nosps.h264", "wb").write(b"".join(p for p in parts if not (len(p) > 3 and p[3] & 0x1f in (7, 8))))'
	run --separate-stderr h264info nosps.h264
	[ "$status" -eq 3 ]
	[ "$stderr" = "h264info: nosps.h264: no SPS found" ]
}
