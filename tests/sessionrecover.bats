#!/usr/bin/env bats
# sessionrecover: session folders left "recording" by a crash.

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
}

# A closed session made from the whole clip, then marked "recording" again
# as a crash would leave it.
crashed_session() {
	mkrec -o in.rec <<-EOF
	open 7
	started 7
	clip 7 $CLIP
	close 7
	EOF
	frameparse in.rec | sessionwriter -d rec -s 0 > /dev/null
	S=rec/$NAME
	$PY -c 'import json,sys; p=sys.argv[1]; o=json.load(open(p)); o["state"]="recording"; o["ended_by"]=None; open(p,"w").write(json.dumps(o, indent=2))' $S/session.json
}

@test "kill -9 mid-recording, then recover: index and stream agree, ffmpeg decodes it" {
	{
		echo "open 7"
		echo "started 7"
		for i in $(seq 0 9); do
			echo "clip 7 $CLIP seq=$((i * 100 + 1)) from=$((i > 0 ? 1 : 0))"
			echo "pause 0.3"
		done
		echo "close 7"
	} > desc
	mkfifo pipe
	sessionwriter -d rec -s 1 pipe > out 2> err &
	pid=$!
	(mkrec desc | frameparse > pipe) &
	feeder=$!
	wait_for "[ \$(tail -n +2 $BATS_TEST_TMPDIR/rec/$NAME/index.tsv 2>/dev/null | wc -l) -gt 150 ]" 15
	kill -9 $pid
	wait $pid || true
	kill $feeder 2>/dev/null || true
	wait $feeder 2>/dev/null || true
	S=rec/$NAME
	[ "$(jget $S/session.json state)" = recording ]
	[ ! -s out ]
	# whatever the moment, the index never points past the stream
	end=$(tail -1 $S/index.tsv | awk -F'\t' '{print $4 + $5}')
	[ "$end" -le "$(stat -c %s $S/stream.h264)" ]
	run --separate-stderr sessionrecover $S
	[ "$status" -eq 0 ]
	[ "$output" = "recovered $S" ]
	[ "$(jget $S/session.json state)" = recovered ]
	[ "$(jget $S/session.json ended_by)" = recovered ]
	end=$(tail -1 $S/index.tsv | awk -F'\t' '{print $4 + $5}')
	[ "$end" -eq "$(stat -c %s $S/stream.h264)" ]
	[ "$(jget $S/session.json bytes)" -eq "$end" ]
	frames=$(tail -n +2 $S/index.tsv | grep -vc 'config$')
	[ "$(jget $S/session.json frames)" -eq "$frames" ]
	[ "$(decoded_frames $S/stream.h264)" -eq "$frames" ]
}

@test "a torn index line and a torn payload are cut off" {
	crashed_session
	tail -n +2 $S/index.tsv | head -40 > keep
	head -c "$(tail -1 keep | awk -F'\t' '{print $4 + $5}')" $S/stream.h264 > want.h264
	{ head -1 $S/index.tsv; cat keep; printf '42\t8341'; } > $S/index.tsv.new
	mv $S/index.tsv.new $S/index.tsv
	# the next payload half written
	{ cat want.h264; mkrec --cat "$CLIP" 40 1 | head -c 300; } > $S/stream.h264
	run --separate-stderr sessionrecover -v $S
	[ "$status" -eq 0 ]
	[ "$output" = "recovered $S" ]
	[ "$stderr" = "sessionrecover: $S: kept 40 of 40 index entries, $(stat -c %s want.h264) bytes" ]
	cmp want.h264 $S/stream.h264
	tail -n +2 $S/index.tsv | diff - keep
	[ "$(jget $S/session.json frames)" -eq 39 ]
	[ "$(jget $S/session.json config_packets)" -eq 1 ]
	[ "$(jget $S/session.json last_device_ms)" -eq $((83412345 + 38 * 33)) ]
}

@test "a malformed line in the middle of the index: recovered up to the line before it" {
	crashed_session
	sed -i '22s/.*/21\t83413005\tgarbage/' $S/index.tsv
	size=$(sed -n 21p $S/index.tsv | awk -F'\t' '{print $4 + $5}')
	run --separate-stderr sessionrecover $S
	[ "$status" -eq 0 ]
	[ "$output" = "recovered $S" ]
	[ "$stderr" = "sessionrecover: $S/index.tsv: line 22: malformed index line, it and the lines after it dropped" ]
	[ "$(index_lines $S)" -eq 20 ]
	[ "$(stat -c %s $S/stream.h264)" -eq "$size" ]
	mkrec --cat "$CLIP" 0 20 | cmp - $S/stream.h264
	[ "$(jget $S/session.json state)" = recovered ]
	[ "$(jget $S/session.json frames)" -eq 19 ]
	[ "$(jget $S/session.json bytes)" -eq "$size" ]
	[ "$(decoded_frames $S/stream.h264)" -eq 19 ]
	# a broken header is still no index at all
	rm -r rec
	crashed_session
	sed -i '1s/.*/#something else/' $S/index.tsv
	run --separate-stderr sessionrecover $S
	[ "$status" -eq 3 ]
	[ "$stderr" = "sessionrecover: $S/index.tsv: line 1: not an index" ]
	[ "$(jget $S/session.json state)" = recording ]
}

@test "entries naming bytes that never reached the disk are dropped" {
	crashed_session
	size=$(tail -n +2 $S/index.tsv | sed -n 20p | awk -F'\t' '{print $4 + $5}')
	truncate -s $((size + 100)) $S/stream.h264
	run --separate-stderr sessionrecover $S
	[ "$status" -eq 0 ]
	[ "$(index_lines $S)" -eq 20 ]
	[ "$(stat -c %s $S/stream.h264)" -eq "$size" ]
	mkrec --cat "$CLIP" 0 20 | cmp - $S/stream.h264
	[ "$(jget $S/session.json bytes)" -eq "$size" ]
	[ ! -e $S/.index.tsv.tmp ]
	[ ! -e $S/.session.json.tmp ]
}

@test "a session a live sessionwriter is writing is left untouched: exit 4" {
	mkfifo pipe
	sessionwriter -d rec -s 0 pipe > out 2> err &
	pid=$!
	PIDS+=("$pid")
	# one record stream in two parts: 10 units, then the rest of the clip
	printf 'open 7\nstarted 7\nclip 7 %s count=10\n' "$CLIP" > d1
	{ cat d1; echo "clip 7 $CLIP from=10"; echo "close 7"; } > d2
	mkrec d1 | frameparse > f1
	mkrec d2 | frameparse > f2
	head -c "$(stat -c %s f1)" f2 | cmp - f1
	exec 7> pipe
	cat f1 >&7
	S=rec/$NAME
	wait_for "[ \$(tail -n +2 $BATS_TEST_TMPDIR/$S/index.tsv 2>/dev/null | wc -l) -eq 10 ]" 10
	sum=$(cat $S/* | md5sum)
	# a crashed session beside it is still recovered
	mkdir crashed
	cp $S/* crashed/
	run --separate-stderr sessionrecover $S crashed
	[ "$status" -eq 4 ]
	[ "$output" = "recovered crashed" ]
	[ "$stderr" = "sessionrecover: $S: being written by a live process, left untouched" ]
	[ "$(cat $S/* | md5sum)" = "$sum" ]
	[ "$(jget $S/session.json state)" = recording ]
	# the writer goes on and ends the session as usual
	tail -c +"$(($(stat -c %s f1) + 1))" f2 >&7
	exec 7>&-
	wait "$pid"
	[ "$(cat out)" = "closed $S" ]
	[ "$(jget $S/session.json state)" = closed ]
	cmp "$CLIP" $S/stream.h264
	# once nobody writes it, a folder left recording is recovered
	$PY -c 'import json,sys; p=sys.argv[1]; o=json.load(open(p)); o["state"]="recording"; open(p,"w").write(json.dumps(o))' $S/session.json
	run --separate-stderr sessionrecover $S
	[ "$status" -eq 0 ]
	[ "$output" = "recovered $S" ]
}

@test "closed folders are left untouched; -v says so" {
	mkrec -o in.rec <<-EOF
	open 7
	started 7
	clip 7 $CLIP count=5
	close 7
	EOF
	frameparse in.rec | sessionwriter -d rec -s 0 > /dev/null
	S=rec/$NAME
	sum=$(cat $S/* | md5sum)
	run --separate-stderr sessionrecover $S
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	run --separate-stderr sessionrecover -v $S
	[ "$status" -eq 0 ]
	[ "$stderr" = "sessionrecover: $S: state closed, left untouched" ]
	[ "$(cat $S/* | md5sum)" = "$sum" ]
}

@test "a folder that is no session: exit 3 with a message, the others still recovered" {
	crashed_session
	mkdir old
	cp "$CLIP" old/stream.h264
	mkdir badjson
	echo '{"state":' > badjson/session.json
	run --separate-stderr sessionrecover old $S badjson
	[ "$status" -eq 3 ]
	[ "$output" = "recovered $S" ]
	grep -qx 'sessionrecover: old: not a session folder (session.json: No such file or directory)' <<<"$stderr"
	grep -q '^sessionrecover: badjson: not a session folder (session.json: ' <<<"$stderr"
	cmp "$CLIP" old/stream.h264
	# a session.json without its index
	crashed_session
	rm $S/index.tsv
	run --separate-stderr sessionrecover $S
	[ "$status" -eq 3 ]
	[ "$stderr" = "sessionrecover: $S/index.tsv: not a session folder: No such file or directory" ]
}

@test "usage: --help, --version, no operands" {
	run sessionrecover --help
	[ "$status" -eq 0 ]
	[ "$output" = "usage: sessionrecover [-v] session_dir ..." ]
	run sessionrecover --version
	[ "$status" -eq 0 ]
	[[ "$output" == "sessionrecover (camrec) "* ]]
	run --separate-stderr sessionrecover
	[ "$status" -eq 2 ]
	[ "$stderr" = "usage: sessionrecover [-v] session_dir ..." ]
}
