#!/usr/bin/env bats
# camconf and camrec.sh's settings file (camrec-config(5)): every kind of
# bad file refused with file:line:column and key, options over the file,
# values passed to the programs as data, never through a shell.
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	# No settings file of this machine gets in the way.
	export CAMREC_CONFIG=$BATS_TEST_TMPDIR/none.json
	port=$(free_port)
	camrec_pid=
}

teardown() {
	[ -z "$camrec_pid" ] || kill "$camrec_pid" 2>/dev/null || :
	wait 2>/dev/null || :
}

# bad FILE-TEXT EXPECTED-MESSAGE: camconf refuses the text with exit 2,
# exactly that message, nothing on stdout.
bad() {
	printf '%b' "$1" >bad.json
	run -2 --separate-stderr camconf bad.json
	[ "$output" = "" ]
	[ "$stderr" = "camconf: bad.json:$2" ]
}

@test "camconf: without a file, every key with its default" {
	run -0 camconf
	[ "${#lines[@]}" -eq 19 ]
	[ "${lines[0]}" = 'host = "0.0.0.0" (default)' ]
	[ "${lines[1]}" = 'port = 50001 (default)' ]
	[ "${lines[3]}" = 'rundir = unset (default)' ]
	[ "${lines[5]}" = 'max_message = 25165824 (default)' ]
	[ "${lines[8]}" = 'hooks.on_session_finalized = unset (default)' ]
	[ "${lines[17]}" = 'metrics.host = "127.0.0.1" (default)' ]
}

@test "camconf: its ranges are those of wsrecv and sessionwriter, its defaults those they document" {
	for v in 1073741820 1073741821 0; do
		printf '{"max_message": %s}' "$v" >c.json
		run camconf c.json
		c=$status
		run wsrecv -m "$v" --help
		[ "$c" -eq "$status" ]
	done
	for v in 86400 86401; do
		printf '{"idle_timeout": %s, "fsync_interval": 1}' "$v" >c.json
		run camconf c.json
		c=$status
		run wsrecv -i "$v" --help
		[ "$c" -eq "$status" ]
		printf '{"fsync_interval": %s}' "$v" >c.json
		run camconf c.json
		c=$status
		run sessionwriter -s "$v" --help
		[ "$c" -eq "$status" ]
	done
	run -0 camconf
	[[ "$output" == *'idle_timeout = 30 (default)'* ]]
	grep -q '^Default 30, at most 86400' "$REPO/man/wsrecv.1"
	[[ "$output" == *'max_message = 25165824 (default)'* ]]
	grep -q '(default 25165824, 24 MiB' "$REPO/man/wsrecv.1"
	[[ "$output" == *'fsync_interval = 1 (default)'* ]]
	grep -q '^sync (default 1)' "$REPO/man/sessionwriter.1"
}

@test "camconf: a good file: values from the file, the rest defaults" {
	printf '{\n "port": 6000,\n "hooks": {"on_session_finalized": ["/bin/x", "a b"], "timeout": 5},\n "metrics": {"enabled": true},\n "retention": {"keep_free": "10%%", "max_age": "30d", "max_total": "500G"}\n}\n' >c.json
	run -0 camconf c.json
	[ "${lines[1]}" = 'port = 6000 (file)' ]
	[ "${lines[8]}" = 'hooks.on_session_finalized = ["/bin/x","a b"] (file)' ]
	[ "${lines[10]}" = 'hooks.timeout = 5 (file)' ]
	[ "${lines[11]}" = 'hooks.concurrency = 1 (default)' ]
	[ "${lines[12]}" = 'retention.keep_free = "10%" (file)' ]
	[ "${lines[16]}" = 'metrics.enabled = true (file)' ]
	run -0 camconf "$REPO/examples/camrec.json"
}

@test "camconf: syntax errors, with jansson's line and column" {
	bad '{\n "port": 1,,\n}' '2:12: not a valid settings file: string or '"'"'}'"'"' expected near '"'"','"'"''
	bad '{\n "port": 1\n' '3:0: not a valid settings file: '"'"'}'"'"' expected near end of file'
	bad '' '1:0: not a valid settings file: '"'"'['"'"' or '"'"'{'"'"' expected near end of file'
	bad '{"port": 1, "port": 2}' '1:18: not a valid settings file: duplicate object key near '"'"'"port"'"'"''
	bad '{"host": "a\\u0000b"}' '1:19: not a valid settings file: \u0000 is not allowed without JSON_ALLOW_NUL near '"'"'"a\u0000b"'"'"''
}

@test "camconf: unknown keys, pointing at the key, listing what is valid" {
	bad '{\n  "port": 1,\n  "prot": 2\n}' '3:3: prot: unknown key; valid at the top: host, port, recordings, rundir, idle_timeout, max_message, finalize_jobs, fsync_interval, hooks, retention, metrics'
	bad '{"hooks": {\n\t"timeout": 5,\n\t"on_finish": []}}' '3:2: hooks.on_finish: unknown key; valid here: on_session_finalized, on_session_failed, timeout, concurrency'
	# Written with escapes, still named as decoded.
	bad '{"tl\\u0073": {}}' '1:2: tls: unknown key; valid at the top: host, port, recordings, rundir, idle_timeout, max_message, finalize_jobs, fsync_interval, hooks, retention, metrics'
}

@test "camconf: wrong types and ranges, pointing at the value" {
	bad '{\n  "port": 70000\n}' '2:11: port: expected a whole number 1-65535, got 70000'
	bad '{"port": "80"}' '1:10: port: expected a whole number 1-65535, got "80"'
	bad '{"port": 80.0}' '1:10: port: expected a whole number 1-65535, got 80.0'
	bad '{"idle_timeout": -1}' '1:18: idle_timeout: expected a whole number 0-86400, got -1'
	bad '{"finalize_jobs": 0}' '1:19: finalize_jobs: expected a whole number 1-64, got 0'
	bad '{"host": ""}' '1:10: host: expected a non-empty string without control characters, got ""'
	bad '{"recordings": "a\\nb"}' '1:16: recordings: expected a non-empty string without control characters, got "a\nb"'
	bad '{"metrics": {"enabled": "yes"}}' '1:25: metrics.enabled: expected true or false, got "yes"'
	bad '{"metrics": []}' '1:13: metrics: expected an object of settings {...}, got []'
	bad '[]' '1:1: expected an object of settings {...}'
}

@test "camconf: hooks are arrays of strings, retention goals have units" {
	bad '{"hooks": {"on_session_finalized": "upload.sh $DIR"}}' '1:36: hooks.on_session_finalized: expected a command as an array of strings, ["program", "argument", ...], got "upload.sh $DIR"'
	bad '{"hooks": {"on_session_failed": []}}' '1:33: hooks.on_session_failed: expected a command as an array of strings, ["program", "argument", ...], got []'
	bad '{"hooks": {\n  "on_session_finalized": ["a",\n     1]}}' '3:6: hooks.on_session_finalized[1]: expected a non-empty string, got 1'
	bad '{"retention": {"keep_free": "10"}}' '1:29: retention.keep_free: expected a share of the disk from "1%" to "99%" or a size like "20G" (K, M, G, T, P), got "10"'
	bad '{"retention": {"keep_free": "100%"}}' '1:29: retention.keep_free: expected a share of the disk from "1%" to "99%" or a size like "20G" (K, M, G, T, P), got "100%"'
	bad '{"retention": {"max_age": "30 d"}}' '1:27: retention.max_age: expected an age like "30d" (digits, then s, m, h, d or w), got "30 d"'
	bad '{"retention": {"max_total": "0G"}}' '1:29: retention.max_total: expected a size like "500G" (digits, then K, M, G, T or P), got "0G"'
	bad '{"retention": {"interval": 1}}' '1:28: retention.interval: expected a whole number 10-86400, got 1'
}

@test "camconf: the example in camrec-config(5) gives the message the page shows" {
	printf '{\n\t"port": 50001,\n\t"recordings": "/var/lib/camrec/recordings",\n\t"rundir": "/run/camrec",\n\t"hooks": {\n\t\t"on_session_finalized": ["logger", "-t", "camrec", "finalized"],\n\t\t"timeout": 0\n\t}\n}\n' >camrec.json
	run -2 camconf camrec.json
	[ "$output" = 'camconf: camrec.json:7:14: hooks.timeout: expected a whole number 1-86400, got 0' ]
	grep -qF "$output" "$REPO/man/camrec-config.5"
}

@test "camconf: -0 gives NUL-separated fields, hostile words byte for byte" {
	evil='$(touch pwned) `touch pwned2` "; rm -rf / ;'
	printf '{"recordings": "%s", "hooks": {"on_session_finalized": ["/bin/echo", "a\\nb", "%s", "\\u00e9"]}}' \
		"dir with 'quotes' \$HOME" "${evil//\"/\\\"}" >c.json
	declare -A val=()
	words=()
	while IFS= read -r -d '' key && IFS= read -r -d '' src && IFS= read -r -d '' v; do
		val[$key]="$src:$v"
		if [ "$key" = hooks.on_session_finalized ]; then
			for ((i = 0; i < v; i++)); do
				IFS= read -r -d '' w
				words+=("$w")
			done
		fi
	done < <(camconf -0 c.json)
	[ "${val[recordings]}" = "file:dir with 'quotes' \$HOME" ]
	[ "${val[port]}" = "default:50001" ]
	[ "${val[rundir]}" = "default:" ]
	[ "${val[metrics.enabled]}" = "default:true" ]
	[ "${val[metrics.port]}" = "default:" ]
	[ "${val[hooks.on_session_finalized]}" = "file:4" ]
	[ "${val[hooks.on_session_failed]}" = "default:0" ]
	[ "${#words[@]}" -eq 4 ]
	[ "${words[1]}" = $'a\nb' ]
	[ "${words[2]}" = "$evil" ]
	[ "${words[3]}" = $'\xc3\xa9' ]
	[ ! -e pwned ] && [ ! -e pwned2 ]
}

@test "camconf: usage, --help, --version, an unreadable file" {
	run -0 camconf --help
	[ "$output" = "usage: camconf [-0] [file]" ]
	run -0 camconf --version
	[[ "$output" == "camconf (camrec) "* ]]
	run -2 camconf -x
	run -2 camconf a b
	run -1 camconf missing.json
	[ "$output" = "camconf: missing.json: No such file or directory" ]
}

@test "camrec.sh --print-config: each setting from default, file or option" {
	printf '{"port": 6000, "host": "127.0.0.1", "idle_timeout": 5, "finalize_jobs": 3,\n "hooks": {"on_session_finalized": ["/bin/echo", "a b", "$(x)"]}}' >c.json
	run -0 --separate-stderr camrec.sh --config c.json -p 7000 -d 'my rec' --print-config -- --idle-timeout=9
	[ "${lines[0]}" = 'host = 127.0.0.1 (file)' ]
	[ "${lines[1]}" = 'port = 7000 (option)' ]
	[ "${lines[2]}" = 'recordings = my\ rec (option)' ]
	[ "${lines[3]}" = 'rundir = unset (default)' ]
	[ "${lines[4]}" = 'idle_timeout = 9 (option)' ]
	[ "${lines[6]}" = 'finalize_jobs = 3 (file)' ]
	[ "${lines[8]}" = 'hooks.on_session_finalized = /bin/echo a\ b \$\(x\) (file)' ]
	[ "${lines[16]}" = 'metrics.enabled = true (default)' ]
	[ "${lines[18]}" = 'metrics.port = unset (default)' ]
	# Nothing started: no folder made.
	[ ! -e 'my rec' ]
	run -0 camrec.sh --config=c.json --print-config
	[ "${lines[1]}" = 'port = 6000 (file)' ]
	[ "${lines[4]}" = 'idle_timeout = 5 (file)' ]
	run -0 camrec.sh --print-config -- -i 4
	[ "${lines[4]}" = 'idle_timeout = 4 (option)' ]
}

@test "camrec.sh: the default settings file is read when it exists" {
	run -0 camrec.sh --print-config
	[ "${lines[1]}" = 'port = 50001 (default)' ]
	printf '{"port": 6001}' >"$CAMREC_CONFIG"
	run -0 camrec.sh --print-config
	[ "${lines[1]}" = 'port = 6001 (file)' ]
	# --config names another.
	printf '{"port": 6002}' >other.json
	run -0 camrec.sh --config other.json --print-config
	[ "${lines[1]}" = 'port = 6002 (file)' ]
}

@test "camrec.sh: a bad settings file starts nothing, exit 2 with camconf's line" {
	printf '{\n "port": %s,\n "recordings": "rec",\n "rundir": "run",\n "hooks": {"timeout": 0}\n}' "$port" >c.json
	run -2 camrec.sh --config c.json </dev/null
	[ "$output" = 'camconf: c.json:5:23: hooks.timeout: expected a whole number 1-86400, got 0' ]
	[ ! -e rec ] && [ ! -e run ]
	run -1 $PY -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)"
	run -2 camrec.sh --config missing.json </dev/null
	[[ "$output" == *'missing.json: No such file or directory'* ]]
	run -2 camrec.sh --config
	[[ "$output" == usage:* ]]
}

@test "camrec.sh: the file's settings reach the programs, options win, hostile paths stay paths" {
	mkdir canary
	rec='rec $(touch canary/pwned) `touch canary/pwned2`'
	printf '{"host": "127.0.0.1", "port": 1, "recordings": "%s", "rundir": "run",\n "idle_timeout": 7, "fsync_interval": 3, "max_message": 2000000}' "$rec" >c.json
	camrec.sh --config c.json -p "$port" </dev/null 2>camrec.log &
	camrec_pid=$!
	wait_for "[ -s run/status.json ]" 10
	wait_port "$port"
	[ -d "$rec" ]
	[ -z "$(ls canary)" ]
	read -r w _ s _ <run/pids
	run -0 bash -c "tr '\0' ' ' </proc/$w/cmdline"
	[[ "$output" == *"wsrecv -H 127.0.0.1 -p $port "*"--idle-timeout 7 --max-message 2000000 "* ]]
	run -0 bash -c "tr '\0' ' ' </proc/$s/cmdline"
	[[ "$output" == *"sessionwriter -v -d $PWD/$rec --status "*" -s 3 "* ]]
	grep -q "settings from c.json" camrec.log
	kill -TERM "$camrec_pid"
	wait "$camrec_pid"
	camrec_pid=
	[ -z "$(ls canary)" ]
}

@test "camrec.sh: without a settings file, the programs get only what the options say" {
	camrec.sh -H 127.0.0.1 -p "$port" -d rec -R run -- -i 9 </dev/null 2>camrec.log &
	camrec_pid=$!
	wait_for "[ -s run/status.json ]" 10
	read -r w _ s _ <run/pids
	run -0 bash -c "tr '\0' ' ' </proc/$w/cmdline"
	# The console's options are camrec.sh's own; nothing comes from a file.
	[[ "$output" == *"wsrecv -H 127.0.0.1 -p $port -c $PWD/run/ctl.fifo "*"--status $PWD/run/status.json --counters $PWD/run/wsrecv.counters --metrics $PWD/run -i 9 " ]]
	[[ "$output" != *"--idle-timeout"* && "$output" != *"--max-message"* ]]
	run -0 bash -c "tr '\0' ' ' </proc/$s/cmdline"
	[[ "$output" == *"sessionwriter -v -d $PWD/rec --status $PWD/run/status.json " ]]
	kill -TERM "$camrec_pid"
	wait "$camrec_pid"
	camrec_pid=
}
