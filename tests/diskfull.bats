#!/usr/bin/env bats
# A recorder writing into a small file system that fills up: a tmpfs of
# its own (needs root and mount permission), wsrecv | frameparse |
# sessionwriter, and camsim phones that log what they sent (--sent-log),
# checked against every folder by bench/sentcheck.py. EIO comes from a
# FUSE file system that passes writes through until told to fail them
# (tests/eiofs.py, python3-fusepy): the kernel here has no device-mapper,
# so no dm "error" target.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	make_clip clip.h264
	port=$(free_port)
	pids=
	MOUNTED=
}

teardown() {
	local p
	for p in $pids; do
		kill "$p" 2>/dev/null || :
	done
	wait 2>/dev/null || :
	# (the FUSE file system unmounts itself when killed)
	if [ -n "$MOUNTED" ] && mountpoint -q "$MOUNTED"; then
		umount "$MOUNTED" || umount -l "$MOUNTED"
	fi
}

# Lines of sessionwriter's output that start with $1, for ports of the cameras.
ports_of() {
	grep "^$1 " out | sed -E 's/.*_([0-9]+)_[0-9]{8}_[0-9]{6}$/\1/' | sort -u
}

# record_phones N: wsrecv | frameparse | sessionwriter into tm/rec ($pipeline,
# its status lines in ./out), and N camsim phones recording into it ($cams),
# each message they send logged in sent.tsv.
record_phones() {
	{ { echo "$BASHPID" >ws.pid; exec wsrecv -p "$port" 2>ws.err; } | frameparse 2>fp.err |
		sessionwriter -d tm/rec -s 1 >out 2>sw.err; } &
	pipeline=$!
	pids="$pids $pipeline"
	wait_for "[ -s $BATS_TEST_TMPDIR/ws.pid ]"
	pids="$pids $(cat ws.pid)"
	wait_port "$port"
	camsim -n "$1" -u "ws://127.0.0.1:$port/android-cam" --clip clip.h264 --autostart \
		--sent-log sent.tsv 2>camsim.log &
	cams=$!
	pids="$pids $cams"
}

@test "a full disk: each session that finds no room fails marked and whole, the recorder goes on, new sessions record once there is room, finalize makes the MP4s" {
	mkdir tm
	mount -t tmpfs -o size=4m tmpfs tm 2>/dev/null ||
		skip "cannot mount a 4 MiB tmpfs here (needs root and mount permission)"
	MOUNTED=$BATS_TEST_TMPDIR/tm
	mkdir tm/rec
	# Leave about 400 KB: three phones at ~45 KB/s fill it within seconds.
	avail=$(df --output=avail -B1 tm | tail -1)
	fallocate -l $((avail - 400 * 1024)) tm/fill
	record_phones 3
	# Every phone's session fails in turn (the room one gives back by being
	# cut to its last index line is soon taken by the others).
	wait_for "[ \$(grep -c '^failed ' $BATS_TEST_TMPDIR/out) -ge 3 ] &&
		[ \$(grep '^failed ' $BATS_TEST_TMPDIR/out | sed -E 's/.*_([0-9]+)_[0-9]{8}_[0-9]{6}\$/\\1/' | sort -u | wc -l) -eq 3 ]" 60
	# The recorder did not stop: wsrecv still takes connections.
	wait_port "$port"
	kill -0 "$cams"
	grep -qE "^sessionwriter: tm/rec/[^/]+: (stream\.h264|index\.tsv|session\.json): No space left on device$" sw.err
	# Room again: each phone, still streaming, gets a new session at its
	# next key frame.
	rm tm/fill
	nfailed=$(grep -c '^failed ' out)
	for p in $(ports_of failed); do
		# a folder of that phone that is not one of those that failed
		wait_for "cd $BATS_TEST_TMPDIR && ls -d tm/rec/*_${p}_* | grep -qvxFf <(cut -d' ' -f2 out)" 30
	done
	sleep 3	# some seconds of recording in the new sessions (not an assertion)
	kill -TERM "$cams"
	wait "$cams" || :
	wait_for "[ \$(grep -c '^closed ' $BATS_TEST_TMPDIR/out) -ge 3 ]" 30
	wait_for "[ -z \"\$(grep -l '\"recording\"' $BATS_TEST_TMPDIR/tm/rec/*/session.json)\" ]" 30
	[ "$(grep -c '^failed ' out)" -eq "$nfailed" ] # nothing failed once there was room
	# Every failed session: marked, its index and stream agree to the byte,
	# and the frames in it are those sent, in order, with no hole.
	for d in $(grep '^failed ' out | cut -d' ' -f2); do
		[ -d "$d" ] || continue # failed before its first picture: removed
		[ "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' "$d/session.json")" = failed ]
		[ "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["ended_by"])' "$d/session.json")" = write_error ]
		$PY -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; sys.exit(not e.endswith("No space left on device"))' "$d/session.json"
		end=$(tail -1 "$d/index.tsv" | awk -F'\t' '{print $4 + $5}')
		[ "$end" -eq "$(stat -c %s "$d/stream.h264")" ]
	done
	# The new sessions: one per phone after the room came back, closed.
	[ "$(ports_of closed | wc -l)" -eq 3 ]
	run "$REPO/bench/sentcheck.py" sent.tsv tm/rec
	echo "# ${lines[-1]}" >&3
	[ "$status" -eq 0 ]
	[[ ${lines[-1]} == *"damaged 0, holes 0, unknown 0,"* ]]
	# finalize.sh makes an MP4 of what every session holds, failed or not.
	for d in tm/rec/*/; do
		d=${d%/}
		pics=$(awk -F '\t' '$6 == "key" || $6 == "delta"' "$d/index.tsv" | wc -l)
		[ "$pics" -gt 0 ]
		finalize.sh -q "$d"
		n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
			-of csv=p=0 "$d/stream.mp4")
		[ "$n" -eq "$pics" ]
	done
	kill -TERM "$(cat ws.pid)"
	rc=0
	wait "$pipeline" || rc=$?
	[ "$rc" -eq 1 ] # sessionwriter's status: sessions failed
	[ -z "$(cat ws.err fp.err)" ]
}

@test "EIO: while the disk fails every write, each session fails marked, what its index names stays whole, new sessions record once it works again" {
	[ -c /dev/fuse ] || skip "no /dev/fuse: no FUSE file system can fail writes here"
	$PY -c 'import fusepy' 2>/dev/null || skip "python3-fusepy is not installed (scripts/deps.sh)"
	mkdir back tm
	$PY "$REPO/tests/eiofs.py" back tm failing 2>fs.err &
	pids="$pids $!"
	wait_for "mountpoint -q $BATS_TEST_TMPDIR/tm" 10 ||
		skip "cannot mount a FUSE file system here: $(cat fs.err)"
	MOUNTED=$BATS_TEST_TMPDIR/tm
	mkdir tm/rec
	record_phones 2
	# Some seconds recorded by both, then the disk fails.
	wait_for "[ \$(cat $BATS_TEST_TMPDIR/tm/rec/*/index.tsv 2>/dev/null | wc -l) -gt 120 ] &&
		[ \$(ls $BATS_TEST_TMPDIR/tm/rec | wc -l) -eq 2 ]" 30
	touch failing
	wait_for "[ \$(grep -c '^failed ' $BATS_TEST_TMPDIR/out) -ge 2 ]" 30
	grep -qE "^sessionwriter: tm/rec/[^/]+: (stream\.h264|index\.tsv): Input/output error$" sw.err
	wait_port "$port"
	kill -0 "$cams"
	nfailed=$(grep -c '^failed ' out)
	rm failing
	for p in $(grep '^failed ' out | sed -E 's/.*_([0-9]+)_[0-9]{8}_[0-9]{6}$/\1/' | sort -u); do
		wait_for "cd $BATS_TEST_TMPDIR && ls -d tm/rec/*_${p}_* | grep -qvxFf <(cut -d' ' -f2 out)" 30
	done
	sleep 2	# some seconds of recording in the new sessions (not an assertion)
	kill -TERM "$cams"
	wait "$cams" || :
	wait_for "[ -z \"\$(grep -l '\"recording\"' $BATS_TEST_TMPDIR/tm/rec/*/session.json)\" ]" 30
	[ "$(grep -c '^failed ' out)" -eq "$nfailed" ]
	for d in $(grep '^failed ' out | cut -d' ' -f2); do
		[ -d "$d" ] || continue
		[ "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' "$d/session.json")" = failed ]
		$PY -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; sys.exit(not e.endswith("Input/output error"))' "$d/session.json"
		# the index never names bytes the stream does not have
		end=$(tail -1 "$d/index.tsv" | awk -F'\t' '{print $4 + $5}')
		[ "$end" -le "$(stat -c %s "$d/stream.h264")" ]
	done
	run "$REPO/bench/sentcheck.py" sent.tsv tm/rec
	echo "# ${lines[-1]}" >&3
	[ "$status" -eq 0 ]
	for d in tm/rec/*/; do
		d=${d%/}
		pics=$(awk -F '\t' '$6 == "key" || $6 == "delta"' "$d/index.tsv" | wc -l)
		finalize.sh -q "$d"
		n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
			-of csv=p=0 "$d/stream.mp4")
		[ "$n" -eq "$pics" ]
	done
	kill -TERM "$(cat ws.pid)"
	rc=0
	wait "$pipeline" || rc=$?
	[ "$rc" -eq 1 ]
	[ -z "$(cat ws.err fp.err)" ]
}
