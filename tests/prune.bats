#!/usr/bin/env bats
# prune: real session folders (one recorded by sessionwriter and finalized
# by finalize.sh, then copied with other end times and states), real
# flock(2) locks held by sessionwriter, finalize.sh and flock(1), and a
# small tmpfs for --keep-free.

load helper
load sw_helper

setup_file() {
	clip_setup_file
	mkrec -o base.rec <<-EOF
	open 7 addr=10.0.0.5 port=40000
	caps 7 Pixel 7
	started 7
	clip 7 $BATS_FILE_TMPDIR/clip.h264
	stopped 7
	close 7
	EOF
	frameparse base.rec | sessionwriter -d base -s 0 > base.out
	read -r _ dir < base.out
	finalize.sh -q "$dir"
	mv "$dir" session
}

setup() {
	clip_setup
	BASE=$BATS_FILE_TMPDIR/session
	PIDS=()
	MOUNTED=
	R=rec
	mkdir rec
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "$MOUNTED" ]; then
		umount "$MOUNTED" || umount -l "$MOUNTED"
	fi
}

# sess NAME DAYS_AGO [STATE [nomp4]]: a copy of the finalized session in
# $R (rec/ unless set), ended DAYS_AGO days ago, with another state and
# without stream.mp4 when asked.
sess() {
	cp -a "$BASE" "$R/$1"
	$PY - "$R/$1/session.json" "$2" "${3:-closed}" <<-'EOF'
	import json, sys, time
	p, days, state = sys.argv[1], float(sys.argv[2]), sys.argv[3]
	o = json.load(open(p))
	o["state"] = state
	o["ended_wall_us"] = int((time.time() - days * 86400) * 1e6)
	open(p, "w").write(json.dumps(o))
	EOF
	[ "${4:-}" != nomp4 ] || rm "$R/$1/stream.mp4"
}

# Folder names left in $R, sorted, on one line.
left() {
	ls -A "$R" | sort | tr '\n' ' '
}

@test "usage: --help, --version, no goal, bad sizes and ages exit 2 with one line" {
	run -0 prune --help
	[ "$output" = "usage: prune [-nv] [--keep-free percent%|size] [--max-age age] [--max-total size] dir" ]
	run -0 prune --version
	[ "$output" = "prune (camrec) $(cat "$REPO/VERSION")" ]
	run -2 --separate-stderr prune rec
	[ "$stderr" = "prune: no goal: give --keep-free, --max-age or --max-total" ]
	run -2 --separate-stderr prune --keep-free 20X rec
	[ "$stderr" = 'prune: --keep-free "20X": expected a size: bytes, or a number with K, M, G, T or P' ]
	run -2 --separate-stderr prune --keep-free 120% rec
	[ "$stderr" = 'prune: --keep-free "120%": expected a percentage from 0% to 100%' ]
	run -2 --separate-stderr prune --max-age 3y rec
	[ "$stderr" = 'prune: --max-age "3y": expected an age: a number with s, m, h, d or w' ]
	run -2 --separate-stderr prune --max-total -5G rec
	[ "${stderr%%:*}" = prune ]
	run -2 prune --max-age 1d rec rec
	run -2 prune --max-age 1d
	run -1 --separate-stderr prune --max-age 1d nowhere
	[ "$stderr" = "prune: nowhere: No such file or directory" ]
}

@test "--max-age deletes the finalized sessions older than the age, oldest first, one log line each; nothing to do is exit 0" {
	sess a_old 40
	sess b_older 50
	sess c_new 2
	run -0 --separate-stderr prune --max-age 30d rec
	[ "$output" = "" ]
	[ "$(echo "$stderr" | wc -l)" -eq 2 ]
	[[ "$(echo "$stderr" | sed -n 1p)" == "prune: deleted rec/b_older: "*", ended "*" (50.0 days ago)" ]]
	[[ "$(echo "$stderr" | sed -n 2p)" == "prune: deleted rec/a_old: "*" (40.0 days ago)" ]]
	[ "$(left)" = "c_new " ]
	# the one left is intact
	diff -r "$BASE" rec/c_new -x session.json
	run -0 --separate-stderr prune --max-age 30d rec
	[ "$stderr" = "" ]
	[ "$(left)" = "c_new " ]
}

@test "-n prints what would go and deletes nothing" {
	sess a 40
	sess b 10
	before=$(find rec -printf '%p %s %T@\n' | sort | md5sum)
	run -0 --separate-stderr prune -n --max-age 5d rec
	[ "$stderr" = "" ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "would delete rec/a: "*"(40.0 days ago)" ]]
	[[ "${lines[1]}" == "would delete rec/b: "*"(10.0 days ago)" ]]
	[ "$(find rec -printf '%p %s %T@\n' | sort | md5sum)" = "$before" ]
}

@test "sessions open, ended but not finalized, or recovered but not finalized are never deleted" {
	sess open 60 recording
	sess closed_nomp4 60 closed nomp4
	sess failed_nomp4 60 failed nomp4
	sess recovered_nomp4 60 recovered nomp4
	sess recovered_done 60 recovered
	sess failed_done 61 failed
	sess weird 60 paused
	run -0 --separate-stderr prune -v --max-age 1d rec
	[ "$(left)" = "closed_nomp4 failed_nomp4 open recovered_nomp4 weird " ]
	echo "$stderr" | grep -q "^prune: deleted rec/failed_done: "
	echo "$stderr" | grep -q "^prune: deleted rec/recovered_done: "
	echo "$stderr" | grep -q "^prune: kept rec/open: .*: open (recording)$"
	echo "$stderr" | grep -q "^prune: kept rec/recovered_nomp4: .*: not finalized (no stream.mp4)$"
	echo "$stderr" | grep -q "^prune: kept rec/weird: .*: unknown state in session.json$"
	# a goal that needs them cannot be met: said, exit 1
	run -1 --separate-stderr prune --max-total 1K rec
	[[ "$stderr" == "prune: rec: cannot bring the total to 1.0K: "*" after deleting what could be deleted (5 folders kept: open, not finalized or in use)" ]]
	[ "$(left)" = "closed_nomp4 failed_nomp4 open recovered_nomp4 weird " ]
}

@test "a session a live sessionwriter writes is left alone, and its recording goes on" {
	sess done 60
	mkfifo pipe
	sessionwriter -d rec -s 0 pipe > out 2> err &
	pid=$!
	PIDS+=("$pid")
	printf 'open 7\nstarted 7\nclip 7 %s count=10\n' "$CLIP" > d1
	{ cat d1; echo "clip 7 $CLIP from=10"; echo "close 7"; } > d2
	mkrec d1 | frameparse > f1
	mkrec d2 | frameparse > f2
	exec 7> pipe
	cat f1 >&7
	S=rec/127.0.0.1_50007_20251121_165222
	wait_for "[ \$(tail -n +2 $BATS_TEST_TMPDIR/$S/index.tsv 2>/dev/null | wc -l) -eq 10 ]" 20
	sum=$(cat $S/* | md5sum)
	run -1 --separate-stderr prune -v --max-age 0s --max-total 0 rec
	echo "$stderr" | grep -q "^prune: deleted rec/done: "
	echo "$stderr" | grep -q "^prune: kept $S: .*: open (recording)$"
	[ "$(cat $S/* | md5sum)" = "$sum" ]
	# even when session.json no longer says so, the writer's lock keeps it
	cp $S/session.json saved.json
	$PY -c 'import json,sys; p=sys.argv[1]; o=json.load(open(p)); o["state"]="closed"; open(p,"w").write(json.dumps(o))' $S/session.json
	touch $S/stream.mp4
	run -1 --separate-stderr prune -v --max-total 0 rec
	echo "$stderr" | grep -q "^prune: kept $S: .*: being written or recovered$"
	rm $S/stream.mp4
	cp saved.json $S/session.json
	tail -c +"$(($(stat -c %s f1) + 1))" f2 >&7
	exec 7>&-
	wait "$pid"
	[ "$(cat out)" = "closed $S" ]
	cmp "$CLIP" $S/stream.h264
}

@test "a folder being finalized is left alone: finalize.sh's lock, a running mux's temporary" {
	sess locked 60
	sess tmp_live 61
	sess tmp_dead 62
	sess free 63
	# the lock on the descriptor sleep inherits, as finalize.sh's programs do
	(exec 8<rec/locked && flock -s 8 && exec sleep 60) &
	PIDS+=("$!")
	wait_for "! flock -n -x $BATS_TEST_TMPDIR/rec/locked true" 10
	sleep 60 &
	live=$!
	PIDS+=("$live")
	touch "rec/tmp_live/.stream.mp4.tmp-$live"
	# a temporary whose process is gone is stale, not a sign of work
	bash -c 'exit 0' &
	dead=$!
	wait "$dead"
	touch "rec/tmp_dead/.thumbnail.jpg.tmp-$dead"
	run -1 --separate-stderr prune -v --max-total 0 rec
	[ "$(left)" = "locked tmp_live " ]
	echo "$stderr" | grep -q "^prune: kept rec/locked: .*: in use (being finalized, or a hook runs)$"
	echo "$stderr" | grep -q "^prune: kept rec/tmp_live: .*: being finalized (temporaries of a running mux or thumb)$"
}

@test "finalize.sh holds the folder's lock while it runs" {
	cp -a "$BASE" rec/s
	rm rec/s/stream.mp4 rec/s/thumbnail.jpg
	# mux stays in ffmpeg long enough to be seen: a slow ffmpeg wrapper
	mkdir slow
	printf '#!/bin/sh\nsleep 2\nexec ffmpeg "$@"\n' > slow/ffmpeg
	chmod +x slow/ffmpeg
	FFMPEG_BIN=$PWD/slow/ffmpeg finalize.sh -q rec/s &
	PIDS+=("$!")
	wait_for "! flock -n -x $BATS_TEST_TMPDIR/rec/s true" 10
	run -1 --separate-stderr prune -v --max-total 0 rec
	echo "$stderr" | grep -q "^prune: kept rec/s: .*: in use (being finalized, or a hook runs)$"
	wait "${PIDS[0]}"
	[ -s rec/s/stream.mp4 ]
	run -0 prune --max-total 0 rec
	[ "$(left)" = "" ]
}

@test "symlinks are never followed: not into a folder outside, not out of a session" {
	mkdir outside
	cp -a "$BASE" outside/victim
	echo precious > outside/file
	sum=$(find outside -type f -exec md5sum {} + | sort | md5sum)
	# a link in the recordings folder to a session elsewhere
	ln -s ../outside/victim rec/linked
	# links inside a session, to a file and to a folder outside
	sess with_links 80
	ln -s "$PWD/outside/file" rec/with_links/evil
	ln -s "$PWD/outside" rec/with_links/evildir
	# a session whose session.json is a link to a finalized one outside
	mkdir rec/json_link
	cp "$BASE/stream.h264" rec/json_link/
	ln -s "$PWD/outside/victim/session.json" rec/json_link/session.json
	touch rec/json_link/stream.mp4
	run -1 --separate-stderr prune -v --max-total 0 rec
	[ "$(left)" = "json_link linked " ]
	echo "$stderr" | grep -q "^prune: deleted rec/with_links: "
	echo "$stderr" | grep -q "^prune: kept rec/json_link: .*: session.json cannot be read$"
	[ "$(find outside -type f -exec md5sum {} + | sort | md5sum)" = "$sum" ]
	[ -L rec/linked ]
}

@test "old-layout folders (only stream.h264) go by the age of stream.h264; a fresh one, or an empty folder, stays" {
	for n in old1 old2 fresh; do
		mkdir rec/$n
		cp "$BASE/stream.h264" rec/$n/
	done
	touch -d '40 days ago' rec/old1/stream.h264
	touch -d '20 days ago' rec/old2/stream.h264
	mkdir rec/empty
	touch rec/.camrec.lock
	run -0 --separate-stderr prune --max-age 30d rec
	[[ "$stderr" == "prune: deleted rec/old1: "*", last written "*" (40.0 days ago)" ]]
	[ "$(left)" = ".camrec.lock empty fresh old2 " ]
	run -1 --separate-stderr prune -v --max-total 0 rec
	[ "$(left)" = ".camrec.lock empty fresh " ]
	echo "$stderr" | grep -q "^prune: kept rec/fresh: .*: no session.json, stream.h264 written in the last 10 minutes$"
	echo "$stderr" | grep -q "^prune: kept rec/empty: .*: not a session (neither session.json nor stream.h264)$"
}

@test "--max-total deletes oldest first until the folder fits" {
	for i in 1 2 3 4 5; do sess s$i $((10 - i)); done
	one=$(du -s -B1 rec/s1 | cut -f1)
	all=$(du -s -B1 rec | cut -f1)
	run -0 --separate-stderr prune --max-total $((all - one - one / 2)) rec
	[ "$(echo "$stderr" | wc -l)" -eq 2 ]
	[ "$(left)" = "s3 s4 s5 " ]
	[ "$(du -s -B1 rec | cut -f1)" -le $((all - one - one / 2)) ]
}

@test "a deletion a killed prune left half done is finished by the next run, and hidden meanwhile" {
	sess a 3
	sess b 2
	mv rec/a rec/.a.pruning
	rm rec/.a.pruning/session.json
	run -0 --separate-stderr prune --max-age 30d rec
	[[ "$stderr" == "prune: deleted rec/.a.pruning: "*", left half deleted" ]]
	[ "$(left)" = "b " ]
}

@test "folder names are logged escaped" {
	sess "$(printf 'bad\nname\033[2J')" 40
	run -0 --separate-stderr prune --max-age 1d rec
	[[ "$stderr" == 'prune: deleted rec/bad\x0aname\x1b[2J: '* ]]
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[ "$(left)" = "" ]
}

@test "--keep-free on a small tmpfs: the oldest go until the goal holds; -n predicts it; an impossible goal says so" {
	mkdir tm
	mount -t tmpfs -o size=8m tmpfs tm 2>/dev/null ||
		skip "cannot mount an 8 MiB tmpfs here (needs root and mount permission)"
	MOUNTED=$BATS_TEST_TMPDIR/tm
	R=tm/rec
	mkdir tm/rec
	i=0
	# fill to under 40% free
	while [ "$(df --output=pcent tm | tail -1 | tr -dc 0-9)" -lt 60 ]; do
		i=$((i + 1))
		sess "$(printf 's%02d' $i)" $((100 - i))
	done
	sess open 200 recording
	[ "$i" -ge 4 ]
	run -0 prune -n --keep-free 50% tm/rec/
	would=$(printf '%s\n' "${lines[@]}" | sed 's/^would delete tm\/rec\/\([^:]*\):.*/\1/' | tr '\n' ' ')
	[ -n "$would" ]
	run -0 --separate-stderr prune --keep-free 50% tm/rec/
	did=$(echo "$stderr" | sed 's/^prune: deleted tm\/rec\/\([^:]*\):.*/\1/' | tr '\n' ' ')
	[ "$did" = "$would" ]
	[ "${did%% *}" = s01 ]
	avail=$(df -B1 --output=avail tm | tail -1)
	size=$(df -B1 --output=size tm | tail -1)
	[ $((avail * 2)) -ge "$size" ]
	# the goal did not hold before the last deletion: no more went than needed
	[ $(((avail - $(du -s -B1 "$BASE" | cut -f1)) * 2)) -lt "$size" ]
	[ -d tm/rec/open ]
	# by size, and impossible: everything finalized goes, the open one stays
	run -1 --separate-stderr prune --keep-free 8M tm/rec
	[[ "${stderr##*$'\n'}" == "prune: tm/rec: cannot keep 8.0M free: "*" free after deleting what could be deleted (1 folders kept: open, not finalized or in use)" ]]
	[ "$(ls tm/rec)" = open ]
}

@test "prune does not cross into another file system mounted in the folder" {
	sess a 40
	mkdir rec/mnt
	mount -t tmpfs -o size=1m tmpfs rec/mnt 2>/dev/null ||
		skip "cannot mount a tmpfs here (needs root and mount permission)"
	MOUNTED=$BATS_TEST_TMPDIR/rec/mnt
	cp -a rec/a rec/mnt/inner
	run -0 prune --max-age 1d rec
	[ "$(left)" = "mnt " ]
	[ -f rec/mnt/inner/stream.mp4 ]
}

@test "continuous recording into a small tmpfs: finalize and prune after each session, while the next is written; nothing fails, no open session is touched" {
	mkdir tm
	one=$(du -s -B1 "$BASE" | cut -f1)
	mount -t tmpfs -o size=$((one * 5)) tmpfs tm 2>/dev/null ||
		skip "cannot mount a small tmpfs here (needs root and mount permission)"
	MOUNTED=$BATS_TEST_TMPDIR/tm
	mkdir tm/rec
	N=10
	# One record stream of N sessions; chunk k ends session k-1 and holds
	# all of session k but its end, so session k is open while k-1 is
	# finalized and pruned.
	echo "open 7" > desc
	: > prev
	for k in $(seq 1 $((N + 1))); do
		[ "$k" -eq 1 ] || echo "stopped 7" >> desc
		if [ "$k" -le "$N" ]; then
			echo "started 7" >> desc
			echo "clip 7 $CLIP seq=$((k * 1000))" >> desc
		else
			echo "close 7" >> desc
		fi
		mkrec desc | frameparse > cur
		head -c "$(stat -c %s prev)" cur | cmp - prev
		tail -c +"$(($(stat -c %s prev) + 1))" cur > "chunk$k"
		mv cur prev
	done
	mkfifo feed ended
	sessionwriter -d tm/rec -s 0 feed > ended 2> sw.err &
	PIDS+=("$!")
	sw=$!
	(
		while read -r what dir; do
			echo "$what $dir" >> seen
			finalize.sh -q "$dir" || echo "finalize failed: $dir" >> seen
			prune -v --keep-free 50% tm/rec 2>> prune.log || echo "prune failed" >> seen
			echo done >> progress
		done
	) < ended &
	loop=$!
	PIDS+=("$loop")
	exec 7> feed
	: > progress
	for k in $(seq 1 $((N + 1))); do
		cat "chunk$k" >&7
		wait_for "[ \$(wc -l < $BATS_TEST_TMPDIR/progress) -ge $((k - 1)) ]" 60
	done
	exec 7>&-
	wait "$sw"
	wait "$loop"
	cat seen prune.log sw.err >&2
	[ "$(grep -c '^closed ' seen)" -eq "$N" ]
	run -1 grep -v '^closed ' seen
	[ ! -s sw.err ]
	run -1 grep -q 'cannot keep' prune.log
	# prune had work to do, oldest first, and left the open session alone
	# every time it ran while one was open
	deleted=$(sed -n 's/^prune: deleted tm\/rec\/\([^:]*\):.*/\1/p' prune.log)
	[ "$(echo "$deleted" | wc -l)" -ge $((N - 5)) ]
	[ "$deleted" = "$(sed 's/^closed tm\/rec\///' seen | head -n "$(echo "$deleted" | wc -l)")" ]
	[ "$(grep -c ': open (recording)$' prune.log)" -ge $((N - 1)) ]
	# what is left is whole
	for d in tm/rec/*/; do
		cmp "$CLIP" "$d/stream.h264"
		[ "$(jget "$d/session.json" state)" = closed ]
		[ -s "$d/stream.mp4" ]
	done
	[ -d "$(sed -n '$s/^closed //p' seen)" ]
}
