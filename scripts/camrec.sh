#!/usr/bin/env bash
# camrec.sh: the whole recorder in one command. Runs wsrecv | frameparse |
# sessionwriter, finalizes every session that ends (a bounded number at a
# time, off the ingest path), and takes operator commands on stdin via ctl.
#
# bash, not sh: wait -n -p tells which child ended, which is how a crashed
# child stops the whole pipeline instead of leaving orphans.
set -u
# The number in the top-level VERSION file; make install writes it here.
camrec_version=

synopsis="usage: camrec.sh [-H HOST] [-p PORT] [-d DIR] [-j JOBS] [-R RUNDIR] [-- WSRECV_OPTIONS]"
usage() {
	echo "$synopsis" >&2
	exit 2
}
log() {
	printf 'camrec: %s\n' "$*" >&2
}

case "${1:-}" in
--help) echo "$synopsis"; exit 0 ;;
--version) echo "camrec.sh (camrec) ${camrec_version:-$(cat "$(dirname "$0")/../VERSION")}"; exit 0 ;;
esac

host=0.0.0.0 port=50001 dir=./recordings jobs=2 rundir=
while getopts H:p:d:j:R: opt; do
	case $opt in
	H) host=$OPTARG ;;
	p) port=$OPTARG ;;
	d) dir=$OPTARG ;;
	j) jobs=$OPTARG ;;
	R) rundir=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
case $jobs in
'' | *[!0-9]* | 0) log "bad -j \"$jobs\": expected a whole number of finalize jobs from 1 up"; exit 2 ;;
esac

# Tools from $CAMREC_BIN when set, else next to this script (a build
# tree's bin/, or an installed bin/), then PATH.
here=$(cd "$(dirname "$0")" && pwd)
for d in "$here" "$here/../bin" "${CAMREC_BIN:-}"; do
	[ -n "$d" ] && [ -x "$d/wsrecv" ] && PATH=$d:$PATH
done
PATH=$here:$PATH
for tool in wsrecv frameparse sessionwriter sessionrecover ctl fpsest mux thumb finalize.sh; do
	if ! command -v "$tool" >/dev/null; then
		log "$tool not found next to $0 or on PATH"
		exit 127
	fi
done

mkdir -p "$dir" || exit 1
dir=$(cd "$dir" && pwd) || exit 1
if [ -z "$rundir" ]; then
	rundir=$(mktemp -d "${TMPDIR:-/tmp}/camrec.XXXXXX") || exit 1
	own_rundir=1
else
	mkdir -p "$rundir" || exit 1
	rundir=$(cd "$rundir" && pwd) || exit 1
	own_rundir=0
fi
export CAMREC_CTL=$rundir/ctl.fifo CAMREC_STATUS=$rundir/status.json
rm -f "$rundir/records" "$rundir/frames" "$rundir/ended"
mkfifo -m 600 "$rundir/records" "$rundir/frames" "$rundir/ended" || exit 1

# Finalize each folder named on stdin ("closed DIR", "failed DIR",
# "recovered DIR"), at most $jobs at a time. Lines are read on while jobs
# run, so a burst of ended sessions never backs up into sessionwriter. A
# folder name is data: it is only ever passed as one quoted argument, and
# only if it lies in $dir.
finalize_loop() {
	local path eof=0 rc
	local -a queue=()
	while [ "$eof" -eq 0 ] || [ "${#queue[@]}" -gt 0 ]; do
		while [ "${#queue[@]}" -gt 0 ] && [ "$(jobs -pr | wc -l)" -lt "$jobs" ]; do
			# Its own session: a ^C must not stop ffmpeg half-way.
			setsid finalize.sh "${queue[0]}" >&2 &
			queue=("${queue[@]:1}")
		done
		if [ "$eof" -eq 1 ]; then
			wait -n
			continue
		fi
		read -r -t 0.5 _ path
		rc=$?
		if [ "$rc" -eq 0 ]; then
			case $path in
			"$dir"/*) queue+=("$path") ;;
			*) log "ignoring unexpected session path: $path" ;;
			esac
		elif [ "$rc" -le 128 ]; then
			eof=1
		fi
	done
	wait
}

stopping=0 running='' ctl_pid=''
trap 'stopping=1' INT TERM
# Should this script itself fail, it still takes its children with it:
# wsrecv first, so the others drain what they have and end on their own.
# shellcheck disable=SC2317 # run by the EXIT trap
on_exit() {
	local p
	for p in $running $ctl_pid; do
		kill -TERM "$p" 2>/dev/null
	done
	wait
}
trap on_exit EXIT

# Sessions an earlier run left unfinished are recovered before recording
# starts (sessionrecover must never touch a live session), and finalized
# with the new ones.
find "$dir" -mindepth 2 -maxdepth 2 -name session.json -printf '%h\0' |
	xargs -0 -r sessionrecover >"$rundir/recovered"

# Every child runs in its own session so a ^C at the terminal reaches only
# this script, which then shuts the pipeline down in order.
setsid wsrecv -H "$host" -p "$port" -c "$CAMREC_CTL" "$@" >"$rundir/records" &
wsrecv_pid=$!
setsid frameparse <"$rundir/records" >"$rundir/frames" &
frameparse_pid=$!
setsid sessionwriter -d "$dir" --status "$CAMREC_STATUS" <"$rundir/frames" >"$rundir/ended" &
sessionwriter_pid=$!
cat "$rundir/recovered" "$rundir/ended" | finalize_loop &
finalize_pid=$!
running=" $wsrecv_pid $frameparse_pid $sessionwriter_pid $finalize_pid "
printf '%s\n' "$wsrecv_pid" >"$rundir/wsrecv.pid"
printf '%s %s %s %s\n' "$wsrecv_pid" "$frameparse_pid" "$sessionwriter_pid" "$finalize_pid" >"$rundir/pids"
log "recording to $dir, listening on $host:$port (control: $CAMREC_CTL)"

# Operator commands: ctl reads what this script was given on stdin.
exec 3<&0
ctl <&3 &
ctl_pid=$!
exec 3<&-

status=0
while [ -n "${running// /}" ]; do
	if [ "$stopping" -eq 1 ]; then
		stopping=2
		log "stopping: ending every session"
		# Waiting for the cameras to confirm means their last frames,
		# sent before capture_stopped, are in before wsrecv closes.
		ctl -w 3 stop >/dev/null 2>&1 </dev/null
		kill -TERM "$wsrecv_pid" 2>/dev/null
	fi
	pid=
	# shellcheck disable=SC2086
	wait -n -p pid $running
	rc=$?
	[ -n "${pid:-}" ] || continue	# a signal interrupted the wait
	running=${running/ $pid / }
	[ "$stopping" -eq 0 ] || continue
	if [ "$rc" -ne 0 ]; then
		case $pid in
		"$wsrecv_pid") name=wsrecv ;;
		"$frameparse_pid") name=frameparse ;;
		"$sessionwriter_pid") name=sessionwriter ;;
		*) name="finalize loop" ;;
		esac
		log "$name exited with status $rc; stopping the recorder"
		status=1
		stopping=1
	elif [ "$pid" = "$wsrecv_pid" ]; then
		stopping=2
	fi
done
if [ -n "$ctl_pid" ]; then
	kill "$ctl_pid" 2>/dev/null
	wait "$ctl_pid" 2>/dev/null
fi
running='' ctl_pid=''
rm -f "$rundir/records" "$rundir/frames" "$rundir/ended" "$rundir/recovered" "$rundir/pids" "$rundir/wsrecv.pid"
[ "$own_rundir" -eq 1 ] && rm -rf "$rundir"
log "stopped"
exit "$status"
