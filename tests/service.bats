#!/usr/bin/env bats
# camrec as a service: the systemd unit and the installed files, session
# hooks and retention run by camrec.sh beside a real recording.
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	export CAMREC_CONFIG=$BATS_TEST_TMPDIR/none.json
	port=$(free_port)
	camrec_pid=
	mnt=
}

teardown() {
	[ -z "$camrec_pid" ] || kill "$camrec_pid" 2>/dev/null || :
	wait 2>/dev/null || :
	[ -z "$mnt" ] || umount "$mnt" 2>/dev/null || :
}

# settings KEY=JSON...: a settings file c.json for 127.0.0.1:$port,
# recordings in ./rec, run folder ./run, plus the given keys.
settings() {
	$PY - "$port" "$@" >c.json <<'PY'
import json, sys
s = {"host": "127.0.0.1", "port": int(sys.argv[1]), "recordings": "rec", "rundir": "run"}
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    *sec, key = k.split(".")
    (s.setdefault(sec[0], {}) if sec else s)[key] = json.loads(v)
print(json.dumps(s))
PY
}

start_camrec() {
	camrec.sh --config c.json "$@" </dev/null 2>camrec.log &
	camrec_pid=$!
	wait_for "[ -s run/status.json ]" 30
	wait_port "$port"
}

stop_camrec() {
	kill -TERM "$camrec_pid"
	for _ in $(seq 600); do
		kill -0 "$camrec_pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$camrec_pid"
	local rc=$?
	camrec_pid=
	return $rc
}

# One session from a phone-shaped client: the clip, then capture_stopped.
phone() {
	$PY "$REPO/tests/androidcam.py" "$@" "ws://127.0.0.1:$port/android-cam" clip.h264 >/dev/null
}

# install_tree: make install of the scripts, man pages and the unit into
# ./root/usr (the programs are not needed for what is checked here).
install_tree() {
	make -s -C "$REPO" PREFIX="$PWD/root/usr" install-scripts install-man install-service >/dev/null
}

@test "camrec.service: systemd-analyze verify is clean on the installed unit" {
	install_tree
	unit=root/usr/lib/systemd/system/camrec.service
	run -0 env MANPATH="$PWD/root/usr/share/man" systemd-analyze verify "$unit"
	[ "$output" = "" ]
	grep -qx "ExecStart=$PWD/root/usr/bin/camrec.sh --config /etc/camrec/camrec.json" "$unit"
	for line in Type=simple User=camrec KillSignal=SIGTERM KillMode=mixed Restart=on-failure \
		NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes ProtectHome=yes \
		ReadWritePaths=/var/lib/camrec StateDirectory=camrec RuntimeDirectory=camrec \
		RestartPreventExitStatus=2; do
		grep -qx "$line" "$unit"
	done
	# It does find what is wrong with a unit.
	sed 's/^ProtectSystem=strict/ProtectSystem=sometimes/' "$unit" >root/usr/lib/systemd/system/bad.service
	run env MANPATH="$PWD/root/usr/share/man" systemd-analyze verify root/usr/lib/systemd/system/bad.service
	[[ "$output" == *'Failed to parse protect system value'* ]]
	sed 's/^NoNewPrivileges=/NoNewPrivilege=/' "$unit" >root/usr/lib/systemd/system/bad1.service
	run env MANPATH="$PWD/root/usr/share/man" systemd-analyze verify root/usr/lib/systemd/system/bad1.service
	[[ "$output" == *"Unknown key 'NoNewPrivilege'"* ]]
	sed "s|^ExecStart=.*|ExecStart=$PWD/root/usr/bin/nothing|" "$unit" >root/usr/lib/systemd/system/bad2.service
	run ! env MANPATH="$PWD/root/usr/share/man" systemd-analyze verify root/usr/lib/systemd/system/bad2.service
}

@test "camrec.service: what it runs is installed: camrec.sh, the example settings, the pages" {
	install_tree
	run -0 root/usr/bin/camrec.sh --version
	[ "$output" = "camrec.sh (camrec) $(cat "$REPO/VERSION")" ]
	[ -f root/usr/share/camrec/camrec.json ]
	run -0 camconf root/usr/share/camrec/camrec.json
	[[ "$output" == *'metrics.enabled = true (file)'* ]]
	[ -f root/usr/share/man/man5/camrec-config.5 ]
	[ -f root/usr/share/man/man1/camconf.1 ]
	[ -f root/usr/share/man/man1/metrics.1 ]
}

@test "hooks: each finalized session goes to its hook with the facts, nothing evaluated" {
	make_clip clip.h264
	mkdir canary
	printf '#!/bin/sh\n{ echo "event=$CAMREC_EVENT"; echo "dir=$CAMREC_SESSION_DIR"; echo "mp4=$CAMREC_MP4"; echo "model=$CAMREC_DEVICE_MODEL"; echo "arg=$2"; } >>"$1"\n' >hook.sh
	chmod +x hook.sh
	evil='$(touch canary/pwned1); `touch canary/pwned2` "; rm -rf canary'
	settings "hooks.on_session_finalized=[\"$PWD/hook.sh\", \"$PWD/hook.out\", \"\$(touch canary/pwned3)\"]" \
		'hooks.timeout=30'
	start_camrec
	phone --model "$evil"
	wait_for "grep -q '^arg=' hook.out" 90
	stop_camrec
	dir=$(echo "$PWD"/rec/*/)
	dir=${dir%/}
	[ "$(grep -c '^event=' hook.out)" -eq 1 ]
	grep -qx 'event=finalized' hook.out
	grep -qxF "dir=$dir" hook.out
	grep -qxF "mp4=$dir/stream.mp4" hook.out
	grep -qxF "model=$evil" hook.out
	grep -qxF 'arg=$(touch canary/pwned3)' hook.out
	[ -z "$(ls canary)" ]
	grep -q "^hookrun: .*hook.sh: exit 0" camrec.log
	[ "$(cat run/hooks.counts)" = "$(printf 'runs 1\nfailures 0')" ]
}

@test "hooks: a slow hook holds up neither recording nor finalizing, and is killed at its timeout" {
	make_clip clip.h264
	printf '#!/bin/sh\necho "$$" >>"$1"\nexec sleep 600\n' >slow.sh
	chmod +x slow.sh
	settings "hooks.on_session_finalized=[\"$PWD/slow.sh\", \"$PWD/started\"]" \
		'hooks.timeout=45' 'hooks.concurrency=1'
	start_camrec
	phone
	wait_for "[ -s started ]" 90
	read -r first <started
	# A second camera session, recorded and finalized while the hook runs.
	phone
	wait_for "[ \$(ls rec/*/stream.mp4 | wc -l) -eq 2 ]" 90
	kill -0 "$first"
	[ "$(wc -l <started)" -eq 1 ]
	# The timeout ends the first; then the second session's hook starts.
	wait_for "[ \$(wc -l <started) -eq 2 ]" 120
	run -1 kill -0 "$first"
	grep -q "^hookrun: .*slow.sh: timed out after 45s, killed" camrec.log
	stop_camrec
	[ "$(sed -n 2p run/hooks.counts)" = "failures 2" ]
	[ "$(ls -d rec/*/ | wc -l)" -eq 2 ]
}

@test "hooks: hooks.concurrency runs that many at once, and a failed session gets on_session_failed" {
	make_clip clip.h264
	printf '#!/bin/sh\necho "$$ $CAMREC_EVENT" >>"$1"\nexec sleep 600\n' >slow.sh
	chmod +x slow.sh
	settings "hooks.on_session_finalized=[\"$PWD/slow.sh\", \"$PWD/started\"]" \
		"hooks.on_session_failed=[\"$PWD/slow.sh\", \"$PWD/started\"]" \
		'hooks.timeout=40' 'hooks.concurrency=2'
	# No MP4 can be made: finalize.sh fails, each session is "failed".
	FFMPEG_BIN=/bin/false start_camrec
	phone
	phone
	wait_for "[ \$(wc -l <started) -eq 2 ]" 90
	while read -r pid event; do
		kill -0 "$pid"
		[ "$event" = failed ]
	done <started
	[ "$(grep -c 'mp4=failed' camrec.log)" -eq 2 ]
	stop_camrec
	[ "$(sed -n 2p run/hooks.counts)" = "failures 2" ]
}

@test "hooks: a hook lost to a kill -9 of camrec.sh runs at the next start; prune keeps its session meanwhile" {
	make_clip clip.h264
	# Slow until ./release exists.
	printf '#!/bin/sh\necho "$CAMREC_EVENT $CAMREC_SESSION_DIR" >>"$1"\n[ -e "$2" ] || exec sleep 600\n' >hook.sh
	chmod +x hook.sh
	settings "hooks.on_session_finalized=[\"$PWD/hook.sh\", \"$PWD/started\", \"$PWD/release\"]" \
		'hooks.timeout=600'
	start_camrec
	phone
	wait_for "[ -s started ]" 90
	dir=$(echo "$PWD"/rec/*/)
	dir=${dir%/}
	[ "$(cat "$dir/.hook-due")" = finalized ]
	all=$(descendants "$camrec_pid")
	kill -9 "$camrec_pid"
	wait "$camrec_pid" 2>/dev/null || :
	camrec_pid=
	GONE_WAIT=15 gone $all
	[ "$(cat "$dir/.hook-due")" = finalized ]
	# Nothing else would keep the session from prune.
	run -1 prune -v --max-total 1K rec
	[[ "$output" == *"prune: kept rec/${dir##*/}: "*": its hook is due"* ]]
	[ -f "$dir/stream.mp4" ]

	touch release
	start_camrec
	wait_for "[ ! -e '$dir/.hook-due' ]" 60
	[ "$(wc -l <started)" -eq 2 ]
	[ "$(sed -n 2p started)" = "finalized $dir" ]
	grep -qF "camrec: $dir: its hook did not finish in an earlier run; running it again" camrec.log
	grep -q "^hookrun: .*hook.sh: exit 0" camrec.log
	stop_camrec
	[ "$(cat run/hooks.counts)" = "$(printf 'runs 1\nfailures 0')" ]
	# Done: prune may take it now.
	run prune --max-total 1K rec
	[ ! -e "$dir" ]
}

@test "hooks: a due mark with no hook set any more is dropped, said once" {
	mkdir -p rec/s
	printf 'finalized\n' >rec/s/.hook-due
	settings
	start_camrec
	stop_camrec
	[ ! -e rec/s/.hook-due ]
	grep -qF "camrec: $PWD/rec/s: no hook for it any more; dropping its due mark" camrec.log
}

@test "hooks, metrics, retention: everything camrec.sh started dies with it" {
	make_clip clip.h264
	printf '#!/bin/sh\necho "$$" >"$1"\nexec sleep 600\n' >slow.sh
	chmod +x slow.sh
	settings "hooks.on_session_finalized=[\"$PWD/slow.sh\", \"$PWD/started\"]" \
		'retention.max_age="30d"' "metrics.enabled=true" "metrics.port=$(free_port)"
	start_camrec
	phone
	wait_for "[ -s started ]" 90
	wait_for "[ -s run/prune.counts ]" 30
	read -r hook <started
	all=$(descendants "$camrec_pid")
	[[ " $(echo $all) " == *" $hook "* ]]
	kill -9 "$camrec_pid"
	wait "$camrec_pid" 2>/dev/null || :
	camrec_pid=
	GONE_WAIT=15 gone $all
}

@test "retention: a long recording on a small filesystem goes on, oldest finalized sessions deleted" {
	mkdir small
	mount -t tmpfs -o size=6m tmpfs small 2>/dev/null || skip "cannot mount a tmpfs here"
	mnt=$PWD/small
	# About 0.5 MiB of H.264 a session, 1 MiB with its MP4.
	make_clip clip.h264 -b:v 2M -g 30
	settings "recordings=\"$mnt/rec\"" 'retention.keep_free="3M"' 'retention.interval=10'
	start_camrec
	for i in $(seq 10); do
		phone
		wait_for "[ \$(grep -c 'mp4=ok' camrec.log) -ge $i ]" 60
		# The disk is never left short for long: prune keeps up.
	done
	wait_for "[ \$((\$(stat -f -c '%a*%S' '$mnt'))) -ge 3145728 ]" 20
	stop_camrec
	# Every session was recorded and finalized; the oldest went.
	[ "$(grep -c 'mp4=ok' camrec.log)" -eq 10 ]
	grep -q '^prune: deleted ' camrec.log
	left=$(ls -d "$mnt"/rec/*/ | wc -l)
	[ "$left" -ge 1 ] && [ "$left" -lt 10 ]
	for d in "$mnt"/rec/*/; do
		[ -s "$d/stream.mp4" ]
		grep -q '"state": *"closed"' "$d/session.json"
	done
	# No write ever failed for want of room.
	run -1 grep -q 'No space left' camrec.log
}
