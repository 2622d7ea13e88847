#!/usr/bin/env bats
# sessionwriter on the current phone app's MP4 segments: record streams made
# by mkrec.py carrying segment.py's messages, with MP4s made now by ffmpeg,
# through the real frameparse into sessionwriter.

load helper
load sw_helper

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	for n in 1 2 3; do
		ffmpeg -nostdin -loglevel error -y -f lavfi \
			-i "testsrc2=size=320x240:rate=30:duration=2,drawtext=text=$n:x=10:y=10:fontsize=40" \
			-pix_fmt yuv420p -c:v libx264 -profile:v baseline -g 30 "seg$n.mp4" 2>/dev/null ||
			ffmpeg -nostdin -loglevel error -y -f lavfi \
				-i "testsrc2=size=320x240:rate=30:duration=2,hue=h=$((n * 90))" \
				-pix_fmt yuv420p -c:v libx264 -profile:v baseline -g 30 "seg$n.mp4"
	done
	android_clip clip.h264
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	cp "$BATS_FILE_TMPDIR"/seg?.mp4 .
	CLIP=$BATS_FILE_TMPDIR/clip.h264
	NAME=127.0.0.1_50007_20251121_165222
}

seg() {
	"$BATS_TEST_DIRNAME/segment.py" "$@"
}

# record [sessionwriter options]: the description on stdin through
# mkrec | frameparse | sessionwriter -d rec -s 1
record() {
	mkrec -o in.rec
	frameparse in.rec 2>fp.err | sessionwriter -d rec -s 1 "$@" >out 2>err
}

# check_tsv DIR: every line of segments.tsv names a file of that size and
# sha256, seq rising.
check_tsv() {
	local seq file arr size sha id k=0
	head -1 "$1/segments.tsv" | grep -qx "$(printf '#camrec-segments 1\tseq\tfile\tarrival_us\tsize\tsha256\tid')"
	while IFS=$'\t' read -r seq file arr size sha id; do
		[ "$seq" -gt "$k" ]
		k=$seq
		[ "$size" -eq "$(stat -c %s "$1/$file")" ]
		[ "$sha" = "$(sha256sum "$1/$file" | cut -c1-64)" ]
	done < <(tail -n +2 "$1/segments.tsv")
}

@test "segments: byte-exact files, segments.tsv, session.json; the last one after capture_stopped kept" {
	record <<-EOF
	open 7
	caps 7 Pixel 8
	started 7 Streaming
	step 2000000
	text 7 $(seg msg seg1.mp4 20251221_195713_00 'qr=[{"confidence":0.5,"user_id":"u1"}]')
	text 7 $(seg msg seg2.mp4 20251221_195715_01)
	step 1000
	stopped 7
	at 7000000
	text 7 $(seg msg seg3.mp4 20251221_195717_02)
	at 30000000
	text 7 {"status":"ready"}
	close 7
	EOF
	[ -z "$(cat err)" ]
	[ "$(cat out)" = "closed rec/$NAME" ]
	s=rec/$NAME
	cmp seg1.mp4 $s/20251221_195713_00.mp4
	cmp seg2.mp4 $s/20251221_195715_01.mp4
	cmp seg3.mp4 $s/20251221_195717_02.mp4
	[ "$(cat $s/20251221_195713_00_qr.json)" = '[{"confidence":0.5,"user_id":"u1"}]' ]
	[ "$(cat $s/20251221_195715_01_qr.json)" = '[]' ]
	[ ! -e $s/stream.h264 ]
	[ ! -e $s/index.tsv ]
	[ -z "$(find $s -name '.*')" ]
	check_tsv $s
	[ "$(tail -n +2 $s/segments.tsv | cut -f1 | tr '\n' ' ')" = "1 2 3 " ]
	[ "$(tail -n +2 $s/segments.tsv | cut -f2,6)" = "$(printf '20251221_195713_00.mp4\t20251221_195713_00\n20251221_195715_01.mp4\t20251221_195715_01\n20251221_195717_02.mp4\t20251221_195717_02')" ]
	[ "$(jget $s/session.json kind)" = segments ]
	[ "$(jget $s/session.json state)" = closed ]
	[ "$(jget $s/session.json segments)" -eq 3 ]
	[ "$(jget $s/session.json bytes)" -eq $(($(stat -c %s seg1.mp4) + $(stat -c %s seg2.mp4) + $(stat -c %s seg3.mp4))) ]
	[ "$(jget $s/session.json first_segment_id)" = 20251221_195713_00 ]
	[ "$(jget $s/session.json last_segment_id)" = 20251221_195717_02 ]
	[ "$(jget $s/session.json started_by)" = capture_started ]
	[ "$(jget $s/session.json device_model)" = "Pixel 8" ]
	# It ended as of capture_stopped, not when the grace ran out.
	[ "$(jget $s/session.json ended_by)" = capture_stopped ]
	[ "$(jget $s/session.json ended_wall_us)" -eq $(($(jget $s/session.json started_wall_us) + 4001000)) ]
	# finalize.sh joins them: every frame of the three decodes.
	run finalize.sh $s
	[ "$status" -eq 0 ]
	[ "$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 $s/stream.mp4)" -eq 180 ]
	[ -s $s/thumbnail.jpg ]
}

@test "segments: one after the grace starts a new session; --segment-grace widens it; close ends at once" {
	desc() {
		cat <<-EOF
		open 7
		started 7
		text 7 $(seg msg seg1.mp4 a_00)
		stopped 7
		at $1
		text 7 $(seg msg seg2.mp4 a_01)
		close 7
		EOF
	}
	desc 8000000 | record
	[ -z "$(cat err)" ]
	[ "$(wc -l <out)" -eq 2 ]
	[ "$(sed -n 1p out)" = "closed rec/$NAME" ]
	s2=$(sed -n 2p out | cut -d' ' -f2)
	[ "$s2" = "rec/127.0.0.1_50007_20251121_165229" ]
	[ "$(jget rec/$NAME/session.json segments)" -eq 1 ]
	[ "$(jget $s2/session.json segments)" -eq 1 ]
	[ "$(jget $s2/session.json started_by)" = segments ]
	[ "$(jget $s2/session.json ended_by)" = close ]
	cmp seg2.mp4 $s2/a_01.mp4
	rm -rf rec
	desc 8000000 | record --segment-grace 10
	[ "$(cat out)" = "closed rec/$NAME" ]
	[ "$(jget rec/$NAME/session.json segments)" -eq 2 ]
	run -2 sessionwriter --segment-grace x /dev/null
	[ "${lines[0]}" = "sessionwriter: --segment-grace x: not a number of seconds 0-3600" ]
}

@test "segments: a segment with no capture_started opens a session; bad segments counted, never stored" {
	record <<-EOF
	open 7
	text 7 $(seg msg seg1.mp4 s1 size=5)
	text 7 $(seg msg seg1.mp4 s2)
	text 7 $(seg msg seg2.mp4 s3 data='QUJD$$$$')
	close 7
	EOF
	s=rec/$NAME
	[ "$(cat out)" = "closed $s" ]
	[ "$(jget $s/session.json started_by)" = segments ]
	[ "$(jget $s/session.json segments)" -eq 1 ]
	[ "$(jget $s/session.json bad_segments)" -eq 1 ]
	[ "$(find $s -name '*.mp4')" = "$s/s2.mp4" ]
	[ "$(wc -l <fp.err)" -eq 2 ]
}

@test "segments: hostile ids give plain names inside the session, a repeated id is kept twice" {
	long=$(head -c 10240 /dev/zero | tr '\0' y)
	record <<-EOF
	open 7
	started 7
	text 7 $(seg msg seg1.mp4 ../../x)
	text 7 $(seg msg seg1.mp4 /etc/passwd)
	text 7 $(seg msg seg1.mp4 "$long")
	text 7 $(seg msg seg1.mp4 $'a\nb\x01c')
	text 7 $(seg msg seg1.mp4 "\$(touch $BATS_TEST_TMPDIR/pwned)")
	text 7 $(seg msg seg1.mp4 ....)
	text 7 $(seg msg seg1.mp4 '')
	text 7 $(seg msg seg1.mp4 same)
	text 7 $(seg msg seg2.mp4 same)
	text 7 $(seg msg seg3.mp4 same_2)
	stopped 7
	close 7
	EOF
	[ -z "$(cat err)" ]
	s=rec/$NAME
	[ "$(cat out)" = "closed $s" ]
	[ ! -e pwned ]
	# Nothing outside the session folder but what was there.
	[ "$(find . -newer in.rec -type f | grep -v "^\./$s/" | sort)" = "$(printf './err\n./fp.err\n./out')" ]
	cat >want <<-EOF
	______x.mp4
	_etc_passwd.mp4
	$(head -c 64 /dev/zero | tr '\0' y).mp4
	a_b_c.mp4
	__touch_${BATS_TEST_TMPDIR//[^A-Za-z0-9_-]/_}_pwned_.mp4
	____.mp4
	segment.mp4
	same.mp4
	same_2.mp4
	same_2_2.mp4
	EOF
	# (the pwned name is cut to 64 bytes)
	sed -i "5s/^\(.\{64\}\).*\.mp4$/\1.mp4/" want
	tail -n +2 $s/segments.tsv | cut -f2 | diff -u want -
	check_tsv $s
	cmp seg1.mp4 $s/same.mp4
	cmp seg2.mp4 $s/same_2.mp4
	# "same_2" was taken by the second "same": never overwritten.
	cmp seg3.mp4 $s/same_2_2.mp4
	[ "$(find $s -name '*_qr.json' | wc -l)" -eq 10 ]
	# The ids as sent, escaped, in segments.tsv.
	[ "$(sed -n 5p $s/segments.tsv | cut -f6)" = 'a\x0ab\x01c' ]
	[ "$(jget $s/session.json first_segment_id)" = ../../x ]
	[ "$(jget $s/session.json last_segment_id)" = same_2 ]
}

@test "segments: a connection switching between frames and segments gets a session for each" {
	record <<-EOF
	open 7
	started 7
	clip 7 $CLIP
	text 7 $(seg msg seg1.mp4 s1)
	clip 7 $CLIP seq=100
	close 7
	EOF
	[ -z "$(cat err)" ]
	[ "$(wc -l <out)" -eq 3 ]
	a=$(sed -n 1p out | cut -d' ' -f2)
	b=$(sed -n 2p out | cut -d' ' -f2)
	c=$(sed -n 3p out | cut -d' ' -f2)
	cmp "$CLIP" "$a/stream.h264"
	[ "$(jget "$a/session.json" ended_by)" = switched ]
	[ "$(jget "$a/session.json" kind)" = frames ]
	cmp seg1.mp4 "$b/s1.mp4"
	[ ! -e "$b/stream.h264" ]
	[ "$(jget "$b/session.json" ended_by)" = switched ]
	cmp "$CLIP" "$c/stream.h264"
	[ "$(jget "$c/session.json" started_by)" = frames ]
}

@test "segments: a capture with nothing in it still ends, at capture_stopped time, when the grace is over" {
	record <<-EOF
	open 7
	started 7
	stopped 7
	at 20000000
	text 7 {"status":"ready"}
	close 7
	EOF
	s=rec/$NAME
	[ "$(cat out)" = "closed $s" ]
	[ "$(jget $s/session.json ended_by)" = capture_stopped ]
	[ "$(jget $s/session.json ended_wall_us)" -eq $(($(jget $s/session.json started_wall_us) + 1000)) ]
}

@test "sessionrecover: a crashed session of segments loses its temporaries and the lines of broken files" {
	record <<-EOF
	open 7
	started 7
	text 7 $(seg msg seg1.mp4 a_00)
	text 7 $(seg msg seg2.mp4 a_01)
	text 7 $(seg msg seg3.mp4 a_02)
	text 7 $(seg msg seg1.mp4 a_03)
	close 7
	EOF
	s=rec/$NAME
	# As a crash would leave it: recording, a segment half written, one
	# file short, one gone, a torn last line.
	$PY -c 'import json,sys; p=sys.argv[1]; o=json.load(open(p)); o["state"]="recording"; o["ended_by"]=None; o["segments"]=0; open(p,"w").write(json.dumps(o, indent=2))' $s/session.json
	head -c 1000 seg2.mp4 >$s/.segment.tmp
	echo '[]' >$s/.qr.tmp
	truncate -s 5000 $s/a_01.mp4
	rm $s/a_02.mp4
	printf '5\ta_04.mp4\t1\t2' >>$s/segments.tsv
	run --separate-stderr sessionrecover $s
	[ "$status" -eq 0 ]
	[ "$output" = "recovered $s" ]
	[ -z "$stderr" ]
	[ -z "$(find $s -name '.*')" ]
	[ "$(tail -n +2 $s/segments.tsv | cut -f2 | tr '\n' ' ')" = "a_00.mp4 a_03.mp4 " ]
	check_tsv $s
	[ "$(jget $s/session.json state)" = recovered ]
	[ "$(jget $s/session.json segments)" -eq 2 ]
	[ "$(jget $s/session.json bytes)" -eq $((2 * $(stat -c %s seg1.mp4))) ]
	[ "$(jget $s/session.json last_segment_id)" = a_03 ]
	run finalize.sh $s
	[ "$status" -eq 0 ]
	[ "$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 $s/stream.mp4)" -eq 120 ]
	# Once recovered, left alone.
	run sessionrecover $s
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "sessionrecover: a session of segments a live sessionwriter writes is left untouched: exit 4" {
	mkrec -o part.rec <<-EOF
	open 7
	started 7
	text 7 $(seg msg seg1.mp4 a_00)
	EOF
	frameparse part.rec >part.out
	mkfifo pipe
	sessionwriter -d rec -s 0 pipe >out 2>err &
	pid=$!
	{ cat part.out; sleep 10; } >pipe &
	feeder=$!
	wait_for "[ \$(wc -l < $BATS_TEST_TMPDIR/rec/$NAME/segments.tsv 2>/dev/null) -eq 2 ]" 10
	run --separate-stderr sessionrecover rec/$NAME
	kill $feeder
	wait $pid || true
	[ "$status" -eq 4 ]
	[ "$stderr" = "sessionrecover: rec/$NAME: being written by a live process, left untouched" ]
	[ "$(jget rec/$NAME/session.json state)" = closed ]
	cmp seg1.mp4 rec/$NAME/a_00.mp4
}

@test "segments: with no input at all, the grace ends by sessionwriter's own clock" {
	mkrec -o part.rec <<-EOF
	open 7
	started 7
	text 7 $(seg msg seg1.mp4 a_00)
	stopped 7
	EOF
	frameparse part.rec >part.out
	mkfifo pipe
	sessionwriter -d rec -s 0 --segment-grace 1 pipe >out 2>err &
	pid=$!
	{ cat part.out; sleep 8; } >pipe &
	feeder=$!
	wait_for "[ -s $BATS_TEST_TMPDIR/out ]" 5
	[ "$(cat out)" = "closed rec/$NAME" ]
	[ "$(jget rec/$NAME/session.json state)" = closed ]
	[ "$(jget rec/$NAME/session.json ended_by)" = capture_stopped ]
	kill $feeder
	wait $pid
}
