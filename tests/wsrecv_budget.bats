#!/usr/bin/env bats
# wsrecv's memory budget (--rx-budget): phones that start at the same
# instant, recorded byte for byte through the whole pipeline while wsrecv
# holds no more than the budget allows; and clients that hold part of a
# message while wsrecv is not reading them are dropped in bounded time.
# Memory and timing figures are bench/memory.sh's business, not these.

bats_require_minimum_version 1.5.0
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
}

@test "50 phones starting at once under a small budget: held within it, every recording byte-exact" {
	make_clip clip.h264
	mkfifo a b
	PORT=$(free_port)
	budget=262144
	wsrecv -v --rx-budget "$budget" -p "$PORT" > a 2> err & W=$!; PIDS+=($W)
	frameparse < a > b & PIDS+=($!)
	sessionwriter -s 0 -d rec < b > ended & PIDS+=($!)
	wait_port "$PORT"
	# Each phone's first picture is a key frame of 185,000 bytes: 50 of
	# them are 9 MB, 35 times the budget.
	run -0 timeout 180 $PY "$REPO/tests/wsburst.py" --key 185000 "$PORT" 50 clip.h264
	[ "${lines[0]}" = "connected 50" ]
	sha=${lines[1]##* }
	[ "${lines[1]}" = "done 50 $sha" ]
	wait_for "[ \$(wc -l < ended) -eq 50 ]" 60
	kill -TERM "$W"
	wait "$W"
	# The budget was reached and held: at most the budget, one message
	# over it (the one connection let finish) and one 16 KiB read per
	# connection.
	grep -q "memory budget of $budget bytes in use" err
	held=$(sed -n 's/^wsrecv: messages held at most \([0-9]*\) bytes.*/\1/p' err)
	echo "# held at most $held bytes, budget $budget" >&3
	[ -n "$held" ]
	[ "$held" -le $((budget + 185000 + 50 * 16384)) ]
	[ "$(ls rec | wc -l)" -eq 50 ]
	for d in rec/*/; do
		[ "$(sha256sum < "$d/stream.h264" | cut -d' ' -f1)" = "$sha" ]
		# 61 units: the config packet and 60 pictures, none missing.
		[ "$(grep -vc '^#' "$d/index.tsv")" -eq 61 ]
	done
}

@test "a client holding part of a message while not read is dropped after the idle limit, and the budget comes back" {
	PORT=$(free_port)
	wsrecv -i 2 --rx-budget 150000 -p "$PORT" > out.rec 2> err & W=$!; PIDS+=($W)
	wait_port "$PORT"
	# Three connections, 64 KiB each of a message never finished: the
	# budget is spent, so wsrecv stops reading all but the one it lets
	# finish. They keep their sockets open for 60 s.
	timeout 90 $PY "$REPO/tests/wshog.py" "$PORT" 3 65536 60 > hog.out & H=$!; PIDS+=($H)
	wait_for "[ \$(recdump out.rec | grep -c ' close ') -eq 3 ]" 40
	run -0 recdump out.rec
	echo "# $(grep ' close ' <<<"$output")" >&3
	[ "$(grep -c ' close .*by_server=1' <<<"$output")" -eq 3 ]
	[[ $output == *'reason="unfinished message held too long"'* ]]
	# The budget is free again: a camera's frame gets through.
	run -0 timeout 30 $PY "$REPO/tests/wsclient.py" --timeout 20 "ws://127.0.0.1:$PORT/cam" \
		randx:1:30000 close
	wait_for "[ \$(recdump out.rec | grep -c ' binary len=30000') -eq 1 ]" 20
	kill "$H"
	kill -TERM "$W"
	wait "$W"
}
