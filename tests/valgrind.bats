#!/usr/bin/env bats
# One recording end to end under valgrind memcheck: wsrecv | frameparse |
# sessionwriter with a camsim phone, then finalize.sh with its C tools
# (fpsest, mux, thumb) under memcheck too, through wrappers first on PATH.
# Any memory error or definite/indirect leak fails it (--error-exitcode).

load helper

setup() {
	command -v valgrind >/dev/null || skip "valgrind is not installed (scripts/deps.sh)"
	if grep -q __asan_init "$CAMREC_BIN/wsrecv"; then
		skip "an AddressSanitizer build does not run under valgrind (the normal build's run is the one)"
	fi
	cd "$BATS_TEST_TMPDIR"
	make_clip clip.h264
	port=$(free_port)
	pids=
	mkdir vg wrap
	VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect"
	for t in fpsest mux thumb; do
		printf '#!/bin/sh\nexec %s --log-file=%s/vg/%s.%%p "%s/%s" "$@"\n' \
			"$VG" "$BATS_TEST_TMPDIR" "$t" "$CAMREC_BIN" "$t" >"wrap/$t"
		chmod +x "wrap/$t"
	done
}

teardown() {
	local p
	for p in $pids; do
		kill "$p" 2>/dev/null || :
	done
	wait 2>/dev/null || :
}

@test "valgrind: a recording through wsrecv, frameparse, sessionwriter and finalize.sh has no memory error and no leak" {
	{ { echo "$BASHPID" >ws.pid; exec $VG --log-file=vg/wsrecv.%p wsrecv -p "$port" 2>ws.err; } |
		$VG --log-file=vg/frameparse.%p frameparse 2>fp.err |
		$VG --log-file=vg/sessionwriter.%p sessionwriter -d rec -s 1 >out 2>sw.err
		echo "${PIPESTATUS[*]}" >status; } &
	pipeline=$!
	pids="$pipeline"
	wait_for "[ -s $BATS_TEST_TMPDIR/ws.pid ]"
	pids="$pids $(cat ws.pid)"
	wait_port "$port" 60
	run -0 timeout 120 camsim -n 2 -u "ws://127.0.0.1:$port/android-cam" --clip clip.h264 \
		--autostart --frames 60 --sent-log sent.tsv
	wait_for "[ \$(wc -l < $BATS_TEST_TMPDIR/out) -eq 2 ]" 60
	kill -TERM "$(cat ws.pid)"
	wait "$pipeline"
	[ "$(cat status)" = "0 0 0" ]
	run -0 "$REPO/bench/sentcheck.py" sent.tsv rec
	[[ $output == *"recorded 122 in 2 sessions, damaged 0, holes 0, unknown 0, lost 0"* ]]
	for d in rec/*/; do
		PATH=$BATS_TEST_TMPDIR/wrap:$PATH run -0 finalize.sh "${d%/}"
		[[ $output == *"frames=60 "*"mp4=ok thumbnail=ok" ]]
	done
	# every tool ran under memcheck, and none said anything
	for t in wsrecv frameparse sessionwriter fpsest mux thumb; do
		ls vg/$t.* >/dev/null
	done
	for f in vg/*; do
		[ ! -s "$f" ] || { cat "$f"; false; }
	done
}
