#!/usr/bin/env bats
# sessionwriter: session folders from record streams made by mkrec.py and
# parsed by the real frameparse, with clips made now by libx264.

load helper
load sw_helper

setup_file() {
	clip_setup_file
}

setup() {
	clip_setup
	NAME=127.0.0.1_50007_20251121_165222
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [ -n "${MOUNTED:-}" ]; then
		for p in "${PIDS[@]}"; do
			wait "$p" 2>/dev/null || true
		done
		umount "$MOUNTED" || umount -l "$MOUNTED"
	fi
}

# The live pipeline on a free port: wsrecv > fifo, frameparse | sessionwriter,
# the traffic kept in traffic.rec. WPID, SPID: the ends to signal and wait for.
start_pipeline() {
	PORT=$(free_port)
	mkfifo w.fifo
	wsrecv -p "$PORT" > w.fifo 2> ws.err &
	WPID=$!
	PIDS+=("$WPID")
	tee traffic.rec < w.fifo | frameparse 2> fp.err | sessionwriter -d rec "$@" > out 2> sw.err &
	SPID=$!
	PIDS+=("$SPID")
	wait_port "$PORT"
	URL=ws://127.0.0.1:$PORT/android-cam
}

camera() {
	timeout 30 $PY "$REPO/tests/androidcam.py" "$@"
}

# record DESC-on-stdin: mkrec | frameparse | sessionwriter -d rec -s 0
record() {
	mkrec -o in.rec
	frameparse in.rec 2>fp.err | sessionwriter -d rec -s 0 "$@" > out 2> err
}

@test "one capture: stream.h264 is the payloads byte for byte, index and session.json agree" {
	record <<-EOF
	open 7
	text 7 {"status":"ready","message":"Client is ready to stream"}
	caps 7 Pixel 7
	started 7 Streaming H.264 at 16:9
	clip 7 $CLIP seq=100 ms=5000 dt=33
	stopped 7
	close 7
	EOF
	[ -z "$(cat err)" ]
	[ "$(cat out)" = "closed rec/$NAME" ]
	s=rec/$NAME
	cmp "$CLIP" $s/stream.h264
	head -1 $s/index.tsv | grep -qx "$(printf '#camrec-index 1\tseq\tdevice_ms\tarrival_us\toffset\tsize\tkind')"
	[ "$(index_lines $s)" -eq 61 ]
	sed -n 2p $s/index.tsv | grep -qP '^100\t0\t\d+\t0\t37\tconfig$'
	sed -n 3p $s/index.tsv | grep -qP '^101\t5000\t\d+\t37\t\d+\tkey$'
	# offsets are cumulative sizes and the last one ends the stream
	awk -F'\t' 'NR > 1 { if ($4 != off) exit 1; off += $5 } END { if (off != '"$(stat -c %s $s/stream.h264)"') exit 1 }' off=0 $s/index.tsv
	# the sizes are those of the units sent
	tail -n +2 $s/index.tsv | cut -f5 | diff - <(mkrec --split "$CLIP" | cut -d' ' -f2)
	[ "$(jget $s/session.json state)" = closed ]
	[ "$(jget $s/session.json ended_by)" = capture_stopped ]
	[ "$(jget $s/session.json started_by)" = capture_started ]
	[ "$(jget $s/session.json frames)" -eq 60 ]
	[ "$(jget $s/session.json config_packets)" -eq 1 ]
	[ "$(jget $s/session.json bytes)" -eq "$(stat -c %s "$CLIP")" ]
	[ "$(jget $s/session.json first_device_ms)" -eq 5000 ]
	[ "$(jget $s/session.json last_device_ms)" -eq $((5000 + 59 * 33)) ]
	[ "$(jget $s/session.json gaps)" -eq 0 ]
	[ "$(jget $s/session.json config_injected)" = False ]
	[ "$(jget $s/session.json device_model)" = "Pixel 7" ]
	[ "$(jget $s/session.json capture_message)" = "Streaming H.264 at 16:9" ]
	[ "$(jget $s/session.json connection)" -eq 7 ]
	[ "$(jget $s/session.json path)" = /android-cam ]
	[[ "$(jget $s/session.json started)" == 2025-11-21T16:52:22.*+00:00 ]]
	[ "$(decoded_frames $s/stream.h264)" -eq 60 ]
	[ ! -e $s/.session.json.tmp ]
}

@test "config and frames that race ahead of capture_started land in the session" {
	record <<-EOF
	open 7
	clip 7 $CLIP count=8
	started 7
	clip 7 $CLIP from=8
	close 7
	EOF
	s=$(only_session rec)
	cmp "$CLIP" $s/stream.h264
	[ "$(jget $s/session.json config_injected)" = False ]
	[ "$(jget $s/session.json ended_by)" = close ]
}

@test "frames held for longer than 2 s before capture_started are dropped as stale" {
	record <<-EOF
	open 7
	clip 7 $CLIP count=4
	at 9000000
	started 7
	clip 7 $CLIP from=4
	close 7
	EOF
	s=$(only_session rec)
	# the remembered config is put back at the head, the stale pictures are not
	{ mkrec --cat "$CLIP" 0 1; mkrec --cat "$CLIP" 4; } | cmp - $s/stream.h264
	[ "$(jget $s/session.json config_injected)" = True ]
	# pictures up to the next key frame lack their references; those after it decode
	[ "$(decoded_frames $s/stream.h264)" -ge 30 ]
}

@test "frames trickling in after capture_stopped create no session" {
	record <<-EOF
	open 7
	started 7
	clip 7 $CLIP count=20
	stopped 7
	clip 7 $CLIP from=20 count=10
	at 20000000
	clip 7 $CLIP from=30
	close 7
	EOF
	[ "$(cat out)" = "closed rec/$NAME" ]
	s=$(only_session rec)
	mkrec --cat "$CLIP" 0 20 | cmp - $s/stream.h264
	[ "$(jget $s/session.json ended_by)" = capture_stopped ]
}

@test "capture_started twice: two sessions, the second gets the remembered config" {
	record <<-EOF
	open 7
	started 7
	clip 7 $CLIP count=31 every=10000
	started 7 second
	clip 7 $CLIP from=31
	close 7
	EOF
	printf 'closed rec/%s\nclosed rec/%s_2\n' $NAME $NAME | diff -u - out
	mkrec --cat "$CLIP" 0 31 | cmp - rec/$NAME/stream.h264
	{ mkrec --cat "$CLIP" 0 1; mkrec --cat "$CLIP" 31; } | cmp - rec/${NAME}_2/stream.h264
	[ "$(jget rec/$NAME/session.json ended_by)" = capture_started ]
	[ "$(jget rec/$NAME/session.json config_injected)" = False ]
	[ "$(jget rec/${NAME}_2/session.json config_injected)" = True ]
	[ "$(jget rec/${NAME}_2/session.json capture_message)" = second ]
	[ "$(jget rec/${NAME}_2/session.json frames)" -eq 30 ]
	[ "$(jget rec/${NAME}_2/session.json config_packets)" -eq 1 ]
	# the injected config keeps its own seq and device time 0
	sed -n 2p rec/${NAME}_2/index.tsv | grep -qP '^1\t0\t\d+\t0\t37\tconfig$'
	[ "$(decoded_frames rec/${NAME}_2/stream.h264)" -eq 30 ]
}

@test "a phone that vanishes: CLOSE without a close frame, or no CLOSE at all" {
	record <<-EOF
	open 7
	open 8
	started 7
	started 8
	clip 7 $CLIP count=10
	clip 8 $CLIP count=10
	close 7 1006 0
	EOF
	[ "$(jget rec/$NAME/session.json ended_by)" = close ]
	[ "$(jget rec/127.0.0.1_50008_20251121_165222/session.json ended_by)" = end_of_input ]
	[ "$(jget rec/127.0.0.1_50008_20251121_165222/session.json state)" = closed ]
	[ "$(wc -l < out)" -eq 2 ]
}

@test "two cameras at once, interleaved, each gets its own exact stream" {
	record <<-EOF
	open 1 port=40001
	open 2 port=40002 addr=::1
	caps 1 Cam One
	started 1
	started 2
	clip 1 $CLIP count=20
	clip 2 $CLIP count=25
	clip 1 $CLIP from=20
	clip 2 $CLIP from=25
	close 2
	close 1
	EOF
	cmp "$CLIP" rec/127.0.0.1_40001_20251121_165222/stream.h264
	cmp "$CLIP" rec/--1_40002_20251121_165222/stream.h264
	[ "$(jget rec/--1_40002_20251121_165222/session.json device_model)" = None ]
	[ "$(jget rec/127.0.0.1_40001_20251121_165222/session.json device_model)" = "Cam One" ]
	printf 'closed rec/--1_40002_20251121_165222\nclosed rec/127.0.0.1_40001_20251121_165222\n' | diff -u - out
}

@test "gaps and malformed frames are counted, good frames all recorded" {
	record <<-EOF
	open 7
	started 7
	clip 7 $CLIP count=10
	badlen 7 11 5000 20
	raw 7 00
	clip 7 $CLIP from=10 skip=14,15,16
	close 7
	EOF
	s=$(only_session rec)
	{ mkrec --cat "$CLIP" 0 14; mkrec --cat "$CLIP" 17; } | cmp - $s/stream.h264
	[ "$(jget $s/session.json bad_frames)" -eq 2 ]
	[ "$(jget $s/session.json gaps)" -eq 1 ]
	[ "$(jget $s/session.json missing_frames)" -eq 3 ]
	[ "$(jget $s/session.json frames)" -eq 57 ]
	grep -q '^frameparse: conn 7 seq 11: length field 5000' fp.err
}

@test "replaying a saved stream gives identical folders" {
	record <<-EOF
	open 1
	open 2 addr=fe80::1%eth0
	caps 2 Pixel 7
	started 1
	clip 2 $CLIP count=5
	started 2
	clip 1 $CLIP count=31
	started 1
	clip 1 $CLIP from=31
	clip 2 $CLIP from=5
	stopped 2
	close 1
	EOF
	mv rec first
	frameparse in.rec 2>/dev/null | sessionwriter -d again -s 1 > out2
	diff -r first again
	sed 's|^closed rec/|closed again/|' out | diff - out2
	[ "$(ls again | wc -l)" -eq 3 ]
}

@test "an existing folder is never overwritten: the next suffix is used" {
	mkdir -p rec/$NAME rec/${NAME}_2
	echo keep > rec/$NAME/stream.h264
	record <<-EOF
	open 7
	started 7
	clip 7 $CLIP count=3
	close 7
	EOF
	[ "$(cat rec/$NAME/stream.h264)" = keep ]
	[ "$(cat out)" = "closed rec/${NAME}_3" ]
	mkrec --cat "$CLIP" 0 3 | cmp - rec/${NAME}_3/stream.h264
}

@test "a flood of capture_started: a session with no frame is kept, new sessions are bounded" {
	# 3,000 in 60 ms of stream time, no frame between them: one session
	{
		echo "open 7"
		echo "step 20"
		for i in $(seq 3000); do echo "started 7 take $i"; done
		echo "clip 7 $CLIP count=3"
		echo "close 7"
	} | mkrec -o in.rec
	frameparse in.rec | timeout 120 sessionwriter -d rec -s 1 > out 2> err
	[ "$(find rec -mindepth 1 -maxdepth 1 | wc -l)" -eq 1 ]
	[ "$(cat out)" = "closed rec/$NAME" ]
	[ -z "$(cat err)" ]
	mkrec --cat "$CLIP" 0 3 | cmp - rec/$NAME/stream.h264
	[ "$(jget rec/$NAME/session.json capture_message)" = "take 3000" ]
	# a frame after each one, 6 s of stream time: 5 sessions, every frame kept
	{
		echo "open 7"
		for i in $(seq 3000); do echo "started 7"; echo "frame 7 $i 1000 00000001658880"; done
		echo "close 7"
	} | mkrec -o in2.rec
	frameparse in2.rec | timeout 120 sessionwriter -d rec2 -s 1 > out2 2> err2
	[ "$(find rec2 -mindepth 1 -maxdepth 1 | wc -l)" -eq 5 ]
	[ "$(grep -c '^closed rec2/' out2)" -eq 5 ]
	[ "$(cat err2)" = "sessionwriter: conn 7: more than 5 sessions in 10 s, capture_started deferred" ]
	[ "$(cat rec2/*/index.tsv | grep -vc '^#')" -eq 3000 ]
	[ "$(jget rec2/${NAME}_5/session.json frames)" -eq 2996 ]
}

@test "client text never reaches a path: hostile device model and messages" {
	sed "s|CLIPFILE|$CLIP|" > desc <<-'EOF'
	open 7 path=/../../etc
	caps 7 ../../$(touch pwned);`touch pwned2`|rm -rf / "x"
	text 7 not json at all
	text 7 {"status":"capture_started","message":"../../x; $(touch pwned3)","extra":[1,2]}
	clip 7 CLIPFILE count=5
	close 7
	EOF
	record < desc
	[ -z "$(cat err)" ]
	[ "$(cat out)" = "closed rec/$NAME" ]
	s=rec/$NAME
	[ "$(jget $s/session.json device_model)" = '../../$(touch pwned);`touch pwned2`|rm -rf / "x"' ]
	[ "$(jget $s/session.json capture_message)" = '../../x; $(touch pwned3)' ]
	[ "$(jget $s/session.json path)" = /../../etc ]
	find . -name 'pwned*' | grep -c . | grep -qx 0
	find rec -mindepth 1 | sort | diff - <(printf '%s\n' rec/$NAME rec/$NAME/index.tsv rec/$NAME/session.json rec/$NAME/stream.h264)
}

@test "text that is not UTF-8, or cut inside a character, still lands in session.json" {
	model=$(printf '\xe2\x82\xac%.0s' $(seq 100))	# 100 euro signs, 300 bytes
	{
		# An OPEN record by hand: its request path holds bytes 0xff 0xfe.
		echo "record 1 7 $($PY -c 'import struct,sys; sys.stdout.write((struct.pack(">qHHHH", 1763743942123456, 50007, 9, 6, 0) + b"127.0.0.1/cam\xff\xfe").hex())')"
		echo "caps 7 $model"
		echo 'started 7'
		echo "clip 7 $CLIP count=3"
		echo 'close 7'
	} > desc
	record < desc
	s=rec/$NAME
	# The model is kept to 256 bytes: 85 whole signs and a cut one.
	[ "$(jget $s/session.json device_model)" = "$(printf '\xe2\x82\xac%.0s' $(seq 85))?" ]
	[ "$(jget $s/session.json path)" = '/cam??' ]
}

@test "a wall clock out of range in a damaged stream is held to years 1970-9999, with a warning" {
	# Under the sanitizer build an unchecked sum of these aborts.
	record <<-EOF
	open 7 wall=9223372036854775000
	started 7
	clip 7 $CLIP count=3
	close 7
	at 5000000
	open 8 wall=-9223372036854775000
	at 1000
	started 8
	close 8
	EOF
	printf 'closed rec/127.0.0.1_50007_99991231_235959\nclosed rec/127.0.0.1_50008_19700101_000000\n' | diff -u - out
	printf 'sessionwriter: conn %s: wall clock out of range, held to years 1970-9999\n' 7 8 | diff -u - err
	s=rec/127.0.0.1_50007_99991231_235959
	mkrec --cat "$CLIP" 0 3 | cmp - $s/stream.h264
	[ "$(jget $s/session.json started)" = 9999-12-31T23:59:59.999999+00:00 ]
	[ "$(jget $s/session.json ended_wall_us)" -eq 253402300799999999 ]
	[ "$(jget rec/127.0.0.1_50008_19700101_000000/session.json started_wall_us)" -eq 0 ]
}

@test "frames with no capture_started at all start a session after 3 s" {
	record <<-EOF
	open 7
	clip 7 $CLIP count=20
	at 5000000
	clip 7 $CLIP count=61 every=66666
	close 7
	EOF
	s=$(only_session rec)
	[ "$(jget $s/session.json started_by)" = frames ]
	[ "$(jget $s/session.json capture_message)" = None ]
	cmp "$CLIP" $s/stream.h264
	[[ "$s" == rec/127.0.0.1_50007_20251121_165226 ]]
}

@test "status file: cameras, recording flag, session, rates, last text" {
	cat > desc <<-EOF
	open 7
	open 9 path=/esp
	caps 7 Pixel 7
	started 7
	clip 7 $CLIP count=61
	pause 3
	close 7
	EOF
	(mkrec desc | frameparse | sessionwriter -d rec -s 0 --status st.json > out) &
	pid=$!
	wait_for "grep -q '\"recording\":true' $BATS_TEST_TMPDIR/st.json && grep -q '\"fps\":[1-9]' $BATS_TEST_TMPDIR/st.json" 10
	$PY - st.json "$NAME" <<-'PY'
	import json, sys
	st = json.load(open(sys.argv[1]))
	assert st["format"] == "camrec-status 1", st
	cams = {c["conn"]: c for c in st["cameras"]}
	c = cams[7]
	assert c["recording"] is True and c["session"] == "rec/" + sys.argv[2], c
	assert c["kind"] == "android" and c["device_model"] == "Pixel 7", c
	assert c["last_status"] == "capture_started" and c["last_status_us"] > 0, c
	assert json.loads(c["last_text"])["status"] == "capture_started", c
	assert 15 < c["fps"] < 35 and c["kbps"] > 50, c
	assert cams[9]["kind"] == "esp" and cams[9]["recording"] is False, cams[9]
	assert st["t_us"] >= c["last_text_us"]
	PY
	wait $pid
	[ "$(cat out)" = "closed rec/$NAME" ]
	run -1 grep -q '"recording":true' st.json
}

@test "an unreadable stream ends open sessions properly, then exit 3" {
	mkrec -o in.rec <<-EOF
	open 7
	started 7
	clip 7 $CLIP count=10
	trunc 50
	EOF
	run --separate-stderr sessionwriter -d rec -s 0 in.rec
	[ "$status" -eq 3 ]
	[[ "$stderr" =~ ^sessionwriter:\ in.rec:\ offset\ [0-9]+:\ truncated\ record\ body$ ]]
	[ "$output" = "closed rec/$NAME" ]
	[ "$(jget rec/$NAME/session.json ended_by)" = end_of_input ]
	run --separate-stderr sessionwriter -d rec2 /dev/null
	[ "$status" -eq 3 ]
	[ "$stderr" = "sessionwriter: /dev/null: empty input, no stream header" ]
}

@test "usage: --help, --version, bad options" {
	run sessionwriter --help
	[ "$status" -eq 0 ]
	[ "$output" = "usage: sessionwriter [-v] [-d dir] [-s seconds] [--segment-grace seconds] [--esp-idle seconds] [--images[=N]] [--status file] [file]" ]
	run sessionwriter --version
	[ "$status" -eq 0 ]
	[[ "$output" == "sessionwriter (camrec) "* ]]
	run --separate-stderr sessionwriter -s abc
	[ "$status" -eq 2 ]
	[ "$stderr" = "sessionwriter: -s abc: not a number of seconds 0-86400" ]
	run --separate-stderr sessionwriter -q
	[ "$status" -eq 2 ]
	run -2 --separate-stderr sessionwriter --esp-idle x
	[ "$stderr" = "sessionwriter: --esp-idle x: not a number of seconds 0-86400" ]
	run -2 --separate-stderr sessionwriter --images=0
	[ "$stderr" = "sessionwriter: --images=0: not a number of images 1-1000000" ]
	run --separate-stderr sessionwriter -d /nonexistent/a/b /dev/null
	[ "$status" -eq 1 ]
	[ "$stderr" = "sessionwriter: /nonexistent/a/b: No such file or directory" ]
}

@test "a full disk fails that session cleanly: message, failed line, nothing damaged" {
	unshare -m true 2>/dev/null || skip "unshare -m not permitted"
	{
		echo "open 7"
		echo "open 8 port=50008"
		echo "started 7"
		for i in $(seq 0 29); do echo "clip 7 $CLIP seq=$((i * 100 + 1)) from=1"; done
		echo "started 7 again"
		echo "clip 7 $CLIP count=3"
		echo "close 7"
		echo "started 8"
		echo "close 8"
	} | mkrec -o in.rec
	mkdir tm copy
	unshare -m sh -c 'mount -t tmpfs -o size=2m tmpfs tm || exit 99
		frameparse in.rec | sessionwriter -d tm/rec -s 1 > out 2> err
		echo $? > rc
		cp -a tm/rec copy/' || skip "cannot mount a tmpfs here"
	[ "$(cat rc)" -eq 1 ]
	# the payload or the batch of index lines after it, whichever found no room
	grep -qxE "sessionwriter: tm/rec/$NAME: (stream\.h264|index\.tsv): No space left on device" err
	[ "$(head -1 out)" = "failed tm/rec/$NAME" ]
	s=copy/rec/$NAME
	# best effort: session.json says failed, or still recording if even that had no room
	state=$(jget $s/session.json state)
	[ "$state" = failed ] || [ "$state" = recording ]
	if [ "$state" = failed ]; then
		[ "$(jget $s/session.json ended_by)" = write_error ]
		[[ "$(jget $s/session.json error)" == *"No space left on device" ]]
	fi
	# the index never points past the stream, and the bytes it names are the clip's
	end=$(tail -1 $s/index.tsv | awk -F'\t' '{print $4 + $5}')
	[ "$end" -le "$(stat -c %s $s/stream.h264)" ]
	[ "$(index_lines $s)" -gt 100 ]
	mkrec --cat "$CLIP" 1 1 > unit1
	head -c "$(stat -c %s unit1)" $s/stream.h264 | cmp - unit1
	# the process went on to the end of the stream, trying conn 8 too; the
	# folders of sessions that never got a frame were taken away
	grep -q "^sessionwriter: tm/rec/127.0.0.1_50008_20251121_1653[0-9][0-9]/" err
	[ -z "$(find copy/rec -maxdepth 1 -name '127.0.0.1_50008_*')" ]
	# conn 7's second session stays only if the room its first one gave back
	# (cut to its last written index line) let it write frames
	for d in copy/rec/*; do [ "$(index_lines "$d")" -gt 0 ]; done
}

@test "after a full disk, recording resumes on the next key frame, the failed session consistent" {
	mkdir tm
	mount -t tmpfs -o size=1m tmpfs tm 2>/dev/null ||
		skip "cannot mount a 1 MiB tmpfs here (needs root and mount permission)"
	MOUNTED=$BATS_TEST_TMPDIR/tm
	# Three parts of one record stream: 10 pictures; 30 more, while the disk
	# is full; 30 s later, the clip again (a key frame without SPS/PPS first).
	printf 'open 7\nstarted 7 16:9 4MB\nclip 7 %s count=11\n' "$CLIP" > d1
	{ cat d1; echo "clip 7 $CLIP from=11 count=30"; } > d2
	{ cat d2; echo "at 30000000"; echo "clip 7 $CLIP from=1 seq=1001"; echo "close 7"; } > d3
	for i in 1 2 3; do mkrec d$i | frameparse > f$i; done
	head -c "$(stat -c %s f1)" f2 | cmp - f1
	head -c "$(stat -c %s f2)" f3 | cmp - f2
	mkfifo pipe
	sessionwriter -d tm/rec -s 1 pipe > out 2> err &
	SPID=$!
	PIDS+=("$SPID")
	exec 7> pipe
	cat f1 >&7
	wait_for "[ \$(tail -n +2 $BATS_TEST_TMPDIR/tm/rec/$NAME/index.tsv 2>/dev/null | wc -l) -eq 11 ]" 10
	dd if=/dev/zero of=tm/fill bs=4k 2>/dev/null || true
	tail -c +"$(($(stat -c %s f1) + 1))" f2 >&7
	wait_for "grep -q '^failed ' $BATS_TEST_TMPDIR/out" 10
	rm tm/fill
	tail -c +"$(($(stat -c %s f2) + 1))" f3 >&7
	exec 7>&-
	rc=0
	wait "$SPID" || rc=$?
	[ "$rc" -eq 1 ]
	grep -qx "sessionwriter: tm/rec/$NAME: stream.h264: No space left on device" err
	[ "$(wc -l < out)" -eq 2 ]
	[ "$(sed -n 1p out)" = "failed tm/rec/$NAME" ]
	new=$(sed -n 2p out)
	[[ "$new" == "closed tm/rec/127.0.0.1_50007_20251121_1652"* ]]
	new=${new#closed }
	[ "$(ls tm/rec | wc -l)" -eq 2 ]
	# the failed session: marked, and stream and index agree to the byte
	s=tm/rec/$NAME
	[ "$(jget $s/session.json state)" = failed ]
	[ "$(jget $s/session.json ended_by)" = write_error ]
	[[ "$(jget $s/session.json error)" == "stream.h264: No space left on device" ]]
	[ "$(tail -c 1 $s/index.tsv | od -An -c | tr -d ' ')" = '\n' ]
	n=$(index_lines $s)
	[ "$n" -ge 11 ]
	[ "$n" -lt 41 ]
	end=$(tail -1 $s/index.tsv | awk -F'\t' '{print $4 + $5}')
	[ "$end" -eq "$(stat -c %s $s/stream.h264)" ]
	[ "$(jget $s/session.json bytes)" -eq "$end" ]
	[ "$(jget $s/session.json frames)" -eq $((n - 1)) ]
	mkrec --cat "$CLIP" 0 "$n" | cmp - $s/stream.h264
	# and finalize.sh makes its MP4
	cp -a $s failed
	finalize.sh -q failed
	[ "$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 failed/stream.mp4)" -eq $((n - 1)) ]
	# the new session: the remembered codec config first, then the clip
	[ "$(jget $new/session.json state)" = closed ]
	[ "$(jget $new/session.json started_by)" = resumed ]
	[ "$(jget $new/session.json capture_message)" = "16:9 4MB" ]
	[ "$(jget $new/session.json config_injected)" = True ]
	sed -n 2p $new/index.tsv | grep -qP '^1\t0\t\d+\t0\t37\tconfig$'
	{ mkrec --cat "$CLIP" 0 1; mkrec --cat "$CLIP" 1; } | cmp - $new/stream.h264
	[ "$(decoded_frames $new/stream.h264)" -eq 60 ]
}

@test "end to end: two phones through wsrecv, status racing frames, replay identical" {
	start_pipeline
	camera --race 4 --model "Pixel 7" "$URL" "$CLIP" > cam1.out &
	c1=$!
	camera --model "Galaxy S23" --end vanish "$URL" "$CLIP" > cam2.out
	wait $c1
	wait_for "[ \$(wc -l < $BATS_TEST_TMPDIR/out) -eq 2 ]" 15
	kill -TERM "$WPID"
	wait "$WPID"
	wait "$SPID"
	[ -z "$(cat sw.err fp.err)" ]
	[ "$(ls rec | wc -l)" -eq 2 ]
	for s in rec/*; do
		[[ "$s" =~ ^rec/127\.0\.0\.1_[0-9]+_[0-9]{8}_[0-9]{6}$ ]]
		cmp "$CLIP" $s/stream.h264
		[ "$(jget $s/session.json state)" = closed ]
		[ "$(jget $s/session.json frames)" -eq 60 ]
		[ "$(jget $s/session.json config_injected)" = False ]
		[ "$(decoded_frames $s/stream.h264)" -eq 60 ]
		case $(jget $s/session.json device_model) in
		"Pixel 7") [ "$(jget $s/session.json ended_by)" = capture_stopped ] ;;
		"Galaxy S23") [ "$(jget $s/session.json ended_by)" = close ] ;;
		*) false ;;
		esac
	done
	grep -c '^closed rec/' out | grep -qx 2
	frameparse traffic.rec | sessionwriter -d again -s 0 > out2
	diff -r rec again
}

@test "end to end: SIGTERM to wsrecv mid-recording ends with closed sessions" {
	start_pipeline -s 1
	camera --fps 10 --end wait "$URL" "$CLIP" > cam.out &
	PIDS+=($!)
	wait_for "[ \$(tail -n +2 $BATS_TEST_TMPDIR/rec/*/index.tsv 2>/dev/null | wc -l) -ge 10 ]" 15
	kill -TERM "$WPID"
	wait "$WPID"
	wait "$SPID"
	s=$(only_session rec)
	[ "$(cat out)" = "closed $s" ]
	[ "$(jget $s/session.json state)" = closed ]
	ended=$(jget $s/session.json ended_by)
	[ "$ended" = close ] || [ "$ended" = end_of_input ]
	n=$(index_lines $s)
	[ "$n" -ge 10 ]
	[ "$n" -lt 61 ]
	mkrec --cat "$CLIP" 0 "$n" | cmp - $s/stream.h264
	[ "$(decoded_frames $s/stream.h264)" -eq $((n - 1)) ]
}
