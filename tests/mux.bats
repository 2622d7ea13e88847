#!/usr/bin/env bats
# mux against the real ffmpeg: session folders built now from x264 clips
# split into access units, with irregular device timestamps.

load helper

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	aud_clip a.h264 320x240 2
	aud_clip b.h264 240x320 1
	mkdir s jit keep rot
	"$BATS_TEST_DIRNAME/mksession.py" s a.h264
	"$BATS_TEST_DIRNAME/mksession.py" --step 50 --seed 7 jit a.h264
	"$BATS_TEST_DIRNAME/mksession.py" --keep-ps keep a.h264
	"$BATS_TEST_DIRNAME/mksession.py" rot a.h264 b.h264
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	cp -r "$BATS_FILE_TMPDIR"/s "$BATS_FILE_TMPDIR"/jit .
}

# Device times of the pictures in an index, relative to the first, as
# ffprobe prints them; rows FROM..TO (1-based) of the pictures only.
want_pts() {
	awk -F'\t' -v from="${2:-1}" -v to="${3:-1000000}" '
		NR > 1 && $6 != "config" { n++; if (n < from || n > to) next
			if (f == "") f = $2; printf "%.6f\n", ($2 - f) / 1000 }' "$1"
}

got_pts() {
	ffprobe -v error -select_streams v:0 -show_entries frame=pts_time \
		-of default=nw=1:nk=1 "$1"
}

# Span of the pictures plus their median spacing, in seconds.
want_duration() {
	$PY - "$1" <<'PY'
import sys
t = [int(l.split("\t")[1]) for l in open(sys.argv[1]) if not l.startswith("#")
     and l.split("\t")[5].strip() != "config"]
d = sorted(b - a for a, b in zip(t, t[1:]))
print("%.6f" % ((t[-1] - t[0] + d[len(d) // 2]) / 1000))
PY
}

probe() {
	ffprobe -v error -select_streams v:0 -show_entries "$2" -of default=nw=1:nk=1 "$1"
}

pictures() {
	awk -F'\t' 'NR > 1 && $6 != "config"' "$1" | wc -l
}

# Nothing under the final name, no temporary left behind.
no_output() {
	[ ! -e "$1" ]
	no_temporaries "$(dirname "$1")"
}

@test "mux -t: every picture keeps its device timestamp" {
	run mux -t s/index.tsv s/stream.h264 s/stream.mp4
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(probe s/stream.mp4 stream=nb_frames)" -eq "$(pictures s/index.tsv)" ]
	diff -u <(want_pts s/index.tsv) <(got_pts s/stream.mp4)
	[ "$(probe s/stream.mp4 format=duration)" = "$(want_duration s/index.tsv)" ]
	[ ! -e s/stream.mp4.log ]
	no_output s/.unused
}

@test "mux -t: duration is the span plus the median spacing, not the SPS frame rate" {
	mux -t jit jit/stream.h264 jit/stream.mp4
	diff -u <(want_pts jit/index.tsv) <(got_pts jit/stream.mp4)
	[ "$(probe jit/stream.mp4 format=duration)" = "$(want_duration jit/index.tsv)" ]
	[ "$(probe jit/stream.mp4 format=duration)" != \
		"$(awk -F'\t' 'NR==3{f=$2} END{printf "%.6f\n", ($2-f+33)/1000}' jit/index.tsv)" ]
}

@test "mux: moov before mdat, and the file decodes" {
	mux s/stream.h264 s/stream.mp4
	$PY -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.exit(not 0 < d.find(b"moov") < d.find(b"mdat"))' s/stream.mp4
	run ffmpeg -nostdin -v error -i s/stream.mp4 -f null -
	[ "$status" -eq 0 ]
	[ "$(probe s/stream.mp4 stream=width,height | paste -sd x)" = 320x240 ]
}

@test "mux without options uses the index beside the input; -t takes a folder" {
	mux s/stream.h264 s/a.mp4
	mux -t s s/stream.h264 s/b.mp4
	diff -u <(want_pts s/index.tsv) <(got_pts s/a.mp4)
	diff -u <(got_pts s/a.mp4) <(got_pts s/b.mp4)
}

@test "mux: SPS/PPS repeated inside key frames go to the sequence header" {
	cp -r "$BATS_FILE_TMPDIR"/keep .
	run mux keep/stream.h264 keep/stream.mp4
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ ! -e keep/stream.part2.mp4 ]
	diff -u <(want_pts keep/index.tsv) <(got_pts keep/stream.mp4)
}

@test "mux -r 30 gives what the old server's command gave" {
	rm s/index.tsv
	mux -r 30 s/stream.h264 s/new.mp4
	ffmpeg -nostdin -loglevel error -y -f h264 -r 30 -i s/stream.h264 -c:v copy s/old.mp4
	[ "$(probe s/new.mp4 stream=nb_frames)" -eq "$(probe s/old.mp4 stream=nb_frames)" ]
	[ "$(probe s/new.mp4 format=duration)" = "$(probe s/old.mp4 format=duration)" ]
	[ "$(probe s/new.mp4 stream=nb_frames)" -eq 60 ]
	[ "$(probe s/new.mp4 format=duration)" = 2.000000 ]
}

@test "mux -r \"\$(fpsest --legacy DIR)\" reproduces the old server's file" {
	fps=$(fpsest --legacy jit)
	mux -r "$fps" jit/stream.h264 jit/legacy.mp4
	ffmpeg -nostdin -loglevel error -y -f h264 -r "$fps" -i jit/stream.h264 -c:v copy jit/old.mp4
	[ "$(probe jit/legacy.mp4 stream=nb_frames)" -eq "$(probe jit/old.mp4 stream=nb_frames)" ]
	[ "$(probe jit/legacy.mp4 format=duration)" = "$(probe jit/old.mp4 format=duration)" ]
	# mux -t instead keeps the real span, which the old constant rate missed.
	mux -t jit jit/stream.h264 jit/real.mp4
	[ "$(probe jit/real.mp4 format=duration)" = "$(want_duration jit/index.tsv)" ]
}

@test "mux: a resolution change splits the output into numbered parts" {
	cp -r "$BATS_FILE_TMPDIR"/rot .
	run --separate-stderr mux rot/stream.h264 rot/stream.mp4
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"rot/stream.h264: picture seq 1062: parameter sets change (320x240 to 240x320); writing rot/stream.part2.mp4"* ]]
	[ "$(probe rot/stream.mp4 stream=width,height | paste -sd x)" = 320x240 ]
	[ "$(probe rot/stream.part2.mp4 stream=width,height | paste -sd x)" = 240x320 ]
	[ "$(probe rot/stream.mp4 stream=nb_frames)" -eq 60 ]
	[ "$(probe rot/stream.part2.mp4 stream=nb_frames)" -eq 30 ]
	diff -u <(want_pts rot/index.tsv 1 60) <(got_pts rot/stream.mp4)
	diff -u <(want_pts rot/index.tsv 61 90) <(got_pts rot/stream.part2.mp4)
}

@test "mux: a stream.h264 cut short stops at the last complete picture" {
	size=$(awk -F'\t' 'NR == 42 { print $4 + $5 - 100 }' s/index.tsv)
	truncate -s "$size" s/stream.h264
	run --separate-stderr mux s/stream.h264 s/stream.mp4
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"index entry 41 and 20 after it lie past the end of the file"* ]]
	[ "$(probe s/stream.mp4 stream=nb_frames)" -eq 39 ]
}

@test "mux: repeated device times are moved 1 ms later" {
	awk -F'\t' -v OFS='\t' 'NR == 6 { $2 = p } { p = $2; print }' s/index.tsv > s/i2
	mv s/i2 s/index.tsv
	run --separate-stderr mux s/stream.h264 s/stream.mp4
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"1 device timestamps not after the one before; moved 1 ms later"* ]]
	[ "$(probe s/stream.mp4 stream=nb_frames)" -eq 60 ]
}

@test "mux: usage errors exit 2" {
	run -2 --separate-stderr mux s/stream.h264
	[ "${stderr_lines[0]}" = "usage: mux [-r fps | -t index] in.h264 out.mp4" ]
	[ "${stderr_lines[1]}" = "       mux -g segments out.mp4" ]
	run -2 --separate-stderr mux -r 30 -t s s/stream.h264 s/x.mp4
	[ "$stderr" = "mux: cannot use -r and -t together" ]
	run -2 --separate-stderr mux -r fast s/stream.h264 s/x.mp4
	[ "$stderr" = "mux: -r fast: not a frame rate between 0.01 and 1000" ]
	rm s/index.tsv
	run -2 --separate-stderr mux s/stream.h264 s/x.mp4
	[ "$stderr" = "mux: s/stream.h264: no index.tsv beside it; give -r FPS or -t INDEX" ]
	run -0 mux --help
	[ "${lines[0]}" = "usage: mux [-r fps | -t index] in.h264 out.mp4" ]
	[ "${lines[1]}" = "       mux -g segments out.mp4" ]
	no_output s/x.mp4
}

@test "mux: ffmpeg not found exits 127, not executable 126" {
	FFMPEG_BIN=/nonexistent/ffmpeg run -127 --separate-stderr mux s/stream.h264 s/stream.mp4
	[ "$stderr" = "mux: /nonexistent/ffmpeg: No such file or directory" ]
	no_output s/stream.mp4
	[ ! -e s/stream.mp4.log ]
	printf '#!/bin/sh\nexit 0\n' > noexec
	chmod 644 noexec
	FFMPEG_BIN=$PWD/noexec run -126 --separate-stderr mux -r 30 s/stream.h264 s/stream.mp4
	[ "$stderr" = "mux: $PWD/noexec: Permission denied" ]
	no_output s/stream.mp4
}

@test "mux: ffmpeg failing exits 4, keeps its messages in the log" {
	printf '#!/bin/sh\necho "fake ffmpeg: cannot do this" >&2\nexit 1\n' > failing
	chmod 755 failing
	for opt in "-t s" "-r 30"; do
		FFMPEG_BIN=$PWD/failing run -4 --separate-stderr mux $opt s/stream.h264 s/stream.mp4
		[ "$stderr" = "mux: s/stream.mp4: ffmpeg failed with exit status 1; its messages are in s/stream.mp4.log" ]
		grep -qx 'fake ffmpeg: cannot do this' s/stream.mp4.log
		no_output s/stream.mp4
	done
}

@test "mux: the real ffmpeg failing exits 4" {
	# A folder squatting on the temporary name (mux's PID, kept by exec)
	# makes ffmpeg fail to open its output.
	run -4 --separate-stderr bash -c 'mkdir s/.stream.mp4.tmp-$$ && exec mux s/stream.h264 s/stream.mp4'
	[ "$stderr" = "mux: s/stream.mp4: ffmpeg failed with exit status 1; its messages are in s/stream.mp4.log" ]
	grep -q 'Is a directory' s/stream.mp4.log
	[ ! -e s/stream.mp4 ]
}

@test "mux: missing, empty or undecodable input exits 3" {
	run -3 --separate-stderr mux -r 30 nothere.h264 s/x.mp4
	[ "$stderr" = "mux: nothere.h264: No such file or directory" ]
	: > empty.h264
	run -3 --separate-stderr mux -r 30 empty.h264 s/x.mp4
	[ "$stderr" = "mux: empty.h264: empty" ]
	# The pictures without the config packet: no SPS/PPS anywhere.
	off=$(awk -F'\t' 'NR == 3 { print $4 }' s/index.tsv)
	tail -c +$((off + 1)) s/stream.h264 > nosps.h264
	run -3 --separate-stderr mux -r 30 nosps.h264 s/x.mp4
	[ "$stderr" = "mux: nosps.h264: no SPS/PPS: no decodable picture" ]
	sed -i '2d' s/index.tsv
	run -3 --separate-stderr mux s/stream.h264 s/x.mp4
	[[ "$stderr" == *"mux: s/stream.h264: no decodable picture (no SPS/PPS before the pictures)" ]]
	no_output s/x.mp4
	[ ! -e s/x.mp4.log ]
}

@test "mux: a malformed index exits 3 naming the line" {
	sed -i '5s/delta/blurry/' s/index.tsv
	run -3 --separate-stderr mux s/stream.h264 s/x.mp4
	[ "$stderr" = "mux: s/index.tsv: line 5: malformed" ]
	no_output s/x.mp4
}

@test "mux: an output folder that cannot be written exits 1" {
	: > notadir
	run -1 --separate-stderr mux s/stream.h264 notadir/stream.mp4
	[ "$stderr" = "mux: notadir/stream.mp4: cannot write notadir/stream.mp4.log: Not a directory" ]
	[ -f notadir ]
	[ ! -s notadir ]
}
