#!/usr/bin/env bats
# Who may talk to wsrecv, and for how long before saying anything: the
# token (--token-file), TLS (--cert/--key, with a self-signed certificate
# made here and a client that verifies it), the handshake timeout and the
# request size limit, and a flood of connections that never finish a
# handshake while a camera records. Real sockets, python3-websockets.

bats_require_minimum_version 1.5.0
load helper

TOKEN=Qx7-kp2.Zt_9wLm4~vB8nR3s

setup() {
	cd "$BATS_TEST_TMPDIR"
	PIDS=()
	printf '%s\n' "$TOKEN" > token
	chmod 600 token
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
}

knock() {
	timeout 30 $PY "$REPO/tests/authclient.py" "$@"
}

# start_wsrecv [OPTIONS...]: wsrecv on a free port, records in out.rec.
start_wsrecv() {
	PORT=$(free_port)
	wsrecv -p "$PORT" "$@" > out.rec 2> err &
	WPID=$!
	PIDS+=("$WPID")
	wait_port "$PORT"
}

stop_wsrecv() {
	kill -TERM "$WPID"
	wait "$WPID"
}

# A self-signed certificate for 127.0.0.1, made now.
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem \
		-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
}

@test "wsrecv: bad --token-file, --cert, --key and --tls-port are refused" {
	run -2 --separate-stderr wsrecv --token-file missing
	[ "$stderr" = "wsrecv: token file missing: No such file or directory" ]
	echo short > t1
	run -2 --separate-stderr wsrecv --token-file t1
	[ "$stderr" = "wsrecv: token file t1: the first line is not a token: shorter than 16 characters" ]
	echo 'has spaces in it, so no' > t2
	run -2 --separate-stderr wsrecv --token-file t2
	[[ $stderr == *"t2: the first line is not a token: has a character other than"* ]]
	: > t3
	run -2 --separate-stderr wsrecv --token-file t3
	[[ $stderr == *"t3: the first line is not a token: empty" ]]
	run -2 --separate-stderr wsrecv --cert cert.pem
	[ "$stderr" = "wsrecv: --cert and --key go together" ]
	run -2 --separate-stderr wsrecv --tls-port 4443
	[ "$stderr" = "wsrecv: --tls-port needs --cert and --key" ]
	run -1 --separate-stderr wsrecv --cert nocert.pem --key nokey.pem
	[ "$stderr" = "wsrecv: nocert.pem: No such file or directory" ]
	echo junk > cert.pem
	echo junk > key.pem
	run -1 --separate-stderr wsrecv -p "$(free_port)" --cert cert.pem --key key.pem
	[[ $stderr == *"cannot listen with TLS on 0.0.0.0 port"*"(is cert.pem a certificate and key.pem its key, both PEM?)" ]]
	run -2 --separate-stderr wsrecv --handshake-timeout 0
	[[ $stderr == *"--handshake-timeout: 0: want a number from 1 to 3600"* ]]
	run -2 --separate-stderr wsrecv --max-request 100
	[[ $stderr == *"--max-request: 100: want a number from 1024 to 65535"* ]]
}

@test "wsrecv --token-file: the token in the query or as Bearer lets a client in; anything else gets 401" {
	start_wsrecv --token-file token
	U=ws://127.0.0.1:$PORT
	run -0 knock --send one "$U/android-cam?token=$TOKEN"
	[ "$output" = open ]
	run -0 knock --send two "$U/esp?res=VGA&token=$TOKEN&x=1"
	[ "$output" = open ]
	run -0 knock --send three --bearer "$TOKEN" "$U/cam"
	[ "$output" = open ]
	run -0 knock "$U/android-cam"
	[ "$output" = "status 401" ]
	run -0 knock "$U/android-cam?token=${TOKEN%?}"
	[ "$output" = "status 401" ]
	run -0 knock "$U/android-cam?token=${TOKEN}x"
	[ "$output" = "status 401" ]
	run -0 knock "$U/android-cam?token="
	[ "$output" = "status 401" ]
	run -0 knock --bearer "${TOKEN%?}" "$U/cam"
	[ "$output" = "status 401" ]
	# Plain HTTP on any path, too.
	run -0 knock "http://127.0.0.1:$PORT/"
	[ "$output" = "status 401" ]
	run -0 knock "http://127.0.0.1:$PORT/dev/x?token=nope"
	[ "$output" = "status 401" ]
	run -0 knock "http://127.0.0.1:$PORT/dev?token=$TOKEN"
	[ "$output" != "status 401" ]
	stop_wsrecv
	# The three that got in are recorded, their paths without the token.
	run -0 recdump out.rec
	[ "$(grep -c ' open ' <<<"$output")" -eq 3 ]
	[[ $output == *'path="/android-cam" '* ]]
	[[ $output == *'path="/esp?res=VGA&x=1" '* ]]
	[[ $output == *'path="/cam" '* ]]
	[[ $output == *'text "one"'* ]]
	# Seven refusals from one address: one line, no token.
	[ "$(grep -c 'refused' err)" -eq 1 ]
	grep -q '^wsrecv: 127.0.0.1: refused: wrong or missing token$' err
	run ! grep -q -e "$TOKEN" -e "${TOKEN%?}" out.rec err
}

@test "camrec.sh --token-file: a phone with the token is recorded, one without is refused; the token is in no file" {
	make_clip clip.h264
	port=$(free_port)
	camrec.sh -p "$port" -d rec -R run --token-file token </dev/null 2>camrec.log &
	camrec_pid=$!
	PIDS+=("$camrec_pid")
	wait_for "[ -s run/status.json ]" 10
	wait_port "$port"
	run -0 knock "ws://127.0.0.1:$port/android-cam"
	[ "$output" = "status 401" ]
	timeout 60 $PY "$REPO/tests/androidcam.py" "ws://127.0.0.1:$port/android-cam?token=$TOKEN" clip.h264 >phone.out
	wait_for "grep -q 'mp4=ok' camrec.log" 30
	kill -TERM "$camrec_pid"
	wait "$camrec_pid"
	[ "$(find rec -name session.json | wc -l)" -eq 1 ]
	grep -q '"path": *"/android-cam"' rec/*/session.json
	run ! grep -rq -e "$TOKEN" rec camrec.log
	[ -z "$(find rec -name "*$TOKEN*")" ]
}

@test "wsrecv --cert/--key: wss and https with a certificate the client verifies; plain beside it with --tls-port" {
	make_cert
	TLS=$(free_port)
	start_wsrecv --cert cert.pem --key key.pem --tls-port "$TLS" --token-file token
	wait_port "$TLS"
	run -0 knock --ca cert.pem --send secure "wss://127.0.0.1:$TLS/android-cam?token=$TOKEN"
	[ "$output" = open ]
	run -0 knock --send plain "ws://127.0.0.1:$PORT/android-cam?token=$TOKEN"
	[ "$output" = open ]
	# A client that does not trust the certificate does not go on.
	run -0 knock --send nope "wss://127.0.0.1:$TLS/android-cam?token=$TOKEN"
	[ "$output" = "error SSLCertVerificationError" ]
	# The token is asked for over TLS too, on WebSocket and HTTP paths.
	run -0 knock --ca cert.pem "wss://127.0.0.1:$TLS/android-cam"
	[ "$output" = "status 401" ]
	run -0 knock --ca cert.pem "https://127.0.0.1:$TLS/"
	[ "$output" = "status 401" ]
	stop_wsrecv
	run -0 recdump out.rec
	[ "$(grep -c ' open ' <<<"$output")" -eq 2 ]
	[[ $output == *'text "secure"'* ]]
	[[ $output == *'text "plain"'* ]]
	[[ $output != *'"nope"'* ]]
}

@test "wsrecv --cert/--key without --tls-port: TLS only, on -p" {
	make_cert
	start_wsrecv --cert cert.pem --key key.pem
	run -0 knock --ca cert.pem --send hi "wss://127.0.0.1:$PORT/cam"
	[ "$output" = open ]
	run -0 knock "ws://127.0.0.1:$PORT/cam"
	[[ $output == "error "* ]]
	stop_wsrecv
	[ "$(recdump out.rec | grep -c ' open ')" -eq 1 ]
}

@test "wsrecv -H 127.0.0.1 listens on loopback only" {
	start_wsrecv -H 127.0.0.1
	run -0 ss -ltnH "sport = :$PORT"
	[[ $output == *"127.0.0.1:$PORT "* ]]
	[[ $output != *"0.0.0.0:$PORT"* ]]
	stop_wsrecv
}

@test "wsrecv --handshake-timeout, --max-request: silent, slow and oversized requests are dropped, one line in the log" {
	start_wsrecv --handshake-timeout 2 --max-request 2048
	run -0 timeout 60 $PY "$REPO/tests/flood.py" --deadline 20 "$PORT" 5 5
	echo "# $output" >&3
	[ "${lines[1]%%,*}" = "closed 10 of 10" ]
	# One request over the limit: closed at once, without an answer.
	run -0 timeout 20 $PY - "$PORT" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
s.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 3000 + b"\r\n\r\n")
print(len(s.recv(100)))
PYEOF
	[ "$output" = 0 ]
	stop_wsrecv
	# The timed-out ones in one line (the first is told at once, the
	# others with the next after 10 s); the large request in lws's own.
	grep -Eq '^wsrecv: (1 connection|10 connections) closed for not completing a request within 2 s$' err
	grep -q '^wsrecv: libwebsockets: .*Ran out of header data space' err
	[ "$(wc -l < err)" -eq 2 ]
}

@test "flood: 2000 idle connections and 200 slow handshakes while a camera sends; its messages arrive byte for byte, the flood is gone in time" {
	start_wsrecv --handshake-timeout 3
	timeout 90 $PY "$REPO/tests/flood.py" --deadline 30 "$PORT" 2000 200 > flood.out &
	F=$!
	PIDS+=("$F")
	wait_for "[ -s flood.out ]" 30
	timeout 60 $PY "$REPO/tests/wsclient.py" "ws://127.0.0.1:$PORT/android-cam" randx:200:20000 close >phone.out 2>sent
	wait "$F"
	hwm=$(awk '/VmHWM/ {print $2}' "/proc/$WPID/status")
	echo "# $(tail -1 flood.out); wsrecv VmHWM $hwm kB" >&3
	stop_wsrecv
	grep -q '^closed 2200 of 2200' flood.out
	[ "$($PY "$REPO/tests/recbody.py" --type binary --conn 1 out.rec | sha256sum | cut -d' ' -f1)" = "$(awk '{print $3}' sent)" ]
	# wsrecv.1: a few MiB, plus a header buffer per socket in handshake.
	[ "$hwm" -lt 64000 ]
}

@test "limits: each address over --max-per-address is logged once per 10 s, each on its own line; a phone within the limits is recorded whole" {
	make_clip clip.h264
	PORT=$(free_port)
	{ { echo "$BASHPID" >ws.pid; exec wsrecv -p "$PORT" --max-per-address 2 \
		--handshake-timeout 3 2>err; } | frameparse | sessionwriter -d rec -s 1 >out; } &
	PIPE=$!
	PIDS+=($PIPE)
	wait_for "[ -s $BATS_TEST_TMPDIR/ws.pid ]"
	PIDS+=("$(cat ws.pid)")
	wait_port "$PORT"
	camsim -u "ws://127.0.0.1:$PORT/android-cam" --clip clip.h264 --autostart --frames 90 \
		--sent-log sent.tsv 2>camsim.log &
	CAM=$!
	PIDS+=($CAM)
	# Two addresses, three bursts each of 6 connections that send nothing
	# (2 let in, 4 refused each time), all within 10 s.
	run -0 timeout 60 $PY - "$PORT" <<-'PYEOF'
	import socket, sys, time
	port = int(sys.argv[1])
	held = []
	for burst in range(3):
	    for src in ("127.0.0.2", "127.0.0.3"):
	        for _ in range(6):
	            s = socket.socket()
	            s.bind((src, 0))
	            s.connect(("127.0.0.1", port))
	            held.append(s)
	    time.sleep(1)
	print("opened", len(held))
	PYEOF
	wait "$CAM"
	wait_for "grep -q '^closed ' $BATS_TEST_TMPDIR/out" 30
	kill -TERM "$(cat ws.pid)"
	wait "$PIPE"
	[ "$(grep -c '127.0.0.2: at the per-address cap (2)' err)" -eq 1 ]
	[ "$(grep -c '127.0.0.3: at the per-address cap (2)' err)" -eq 1 ]
	[ "$(grep -c 'per-address cap' err)" -eq 2 ]
	run -0 "$REPO/bench/sentcheck.py" sent.tsv rec
	[[ $output == *"recorded 91 in 1 sessions, damaged 0, holes 0, unknown 0, lost 0"* ]]
}
