#!/usr/bin/env bash
# camrec.sh: the whole recorder in one command. Runs wsrecv | frameparse |
# sessionwriter, finalizes every session that ends (a bounded number at a
# time, off the ingest path), and takes operator commands on stdin via ctl.
#
# bash, not sh: wait -n -p tells which child ended, which is how a crashed
# child stops the whole pipeline instead of leaving orphans. Should the
# script itself be killed, every child learns it from the kernel: each is
# started through setpriv --pdeathsig directly by this process (not by a
# subshell, whose death would be the wrong trigger), and the finalize loop,
# which is a subshell, watches for the script's death itself.
set -u
# The number in the top-level VERSION file; make install writes it here.
camrec_version=

synopsis="usage: camrec.sh [-H HOST] [-p PORT] [-d DIR] [-j JOBS] [-I IMAGES] [-R RUNDIR] [-w WEBDIR]
                 [--token-file FILE] [--cert FILE --key FILE [--tls-port PORT]] [-- WSRECV_OPTIONS]"
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

host=0.0.0.0 port=50001 dir=./recordings jobs=2 rundir='' web=''
# -I N: the newest N images of the ESP32 boards also in DIR/images (the old
# server's folder); 0 (the default) leaves it out.
images=0
# Access control and TLS are wsrecv's: passed on as they are.
access=()
while getopts H:p:d:j:I:R:w:-: opt; do
	case $opt in
	-)
		case $OPTARG in
		token-file | cert | key | tls-port)
			if [ "$OPTIND" -gt $# ]; then
				log "--$OPTARG needs a value"
				usage
			fi
			access+=("--$OPTARG" "${!OPTIND}")
			OPTIND=$((OPTIND + 1))
			;;
		token-file=* | cert=* | key=* | tls-port=*) access+=("--$OPTARG") ;;
		*) usage ;;
		esac
		;;
	H) host=$OPTARG ;;
	p) port=$OPTARG ;;
	d) dir=$OPTARG ;;
	j) jobs=$OPTARG ;;
	I) images=$OPTARG ;;
	R) rundir=$OPTARG ;;
	w) web=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
case $jobs in
'' | *[!0-9]* | 0) log "bad -j \"$jobs\": expected a whole number of finalize jobs from 1 up"; exit 2 ;;
esac
case $images in
'' | *[!0-9]*) log "bad -I \"$images\": expected a whole number of images (0: none)"; exit 2 ;;
esac
images_opt=
[ "$images" -eq 0 ] || images_opt=--images=$images

# Tools from $CAMREC_BIN when set, else next to this script (a build
# tree's bin/, or an installed bin/), then PATH.
here=$(cd "$(dirname "$0")" && pwd)
for d in "$here" "$here/../bin" "${CAMREC_BIN:-}"; do
	[ -n "$d" ] && [ -x "$d/wsrecv" ] && PATH=$d:$PATH
done
PATH=$here:$PATH
for tool in wsrecv frameparse sessionwriter sessionrecover ctl fpsest mux thumb finalize.sh setpriv flock; do
	if ! command -v "$tool" >/dev/null; then
		log "$tool not found next to $0 or on PATH"
		exit 127
	fi
done

mkdir -p "$dir" || exit 1
dir=$(cd "$dir" && pwd) || exit 1
# The console page: the tree's web/ or the installed one, unless -w.
if [ -z "$web" ]; then
	for d in "$here/../web" "$here/../share/camrec/web"; do
		[ -f "$d/index.html" ] && web=$d && break
	done
fi
console=()
[ -n "$web" ] && console=(--www "$web" --recordings "$dir")
# One recorder per folder. The lock is on an open file that every child
# inherits, so the folder stays locked while any process of a recorder
# lives, even one that outlived its script; those end within a second or
# two of the script's death, hence the short wait.
lock=$dir/.camrec.lock
exec {lock_fd}>>"$lock" || exit 1
if ! flock -w 3 "$lock_fd"; then
	log "$dir: in use by another recorder (it holds $lock)"
	exit 3
fi
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

# Whether this script still runs, asked from a subshell: a subshell whose
# parent died has been handed to another process.
script_alive() {
	local stat
	read -r stat <"/proc/$BASHPID/stat" || return 1
	stat=${stat##*) }
	stat=${stat#* }
	[ "${stat%% *}" = "$$" ]
}

# Finalize each folder named on stdin ("closed DIR", "failed DIR",
# "unfinished DIR"), at most $jobs at a time. Lines are read on while jobs
# run, so a burst of ended sessions never backs up into sessionwriter. A
# folder name is data: it is only ever passed as one quoted argument, and
# only if it lies in $dir. Should the script die, the jobs are stopped
# (mux and thumb remove their temporaries) and a restart does them again.
finalize_loop() {
	local path eof=0 rc p
	local -a queue=()
	# A ^C is for the script, which lets this loop finish its jobs.
	trap '' INT
	while [ "$eof" -eq 0 ] || [ "${#queue[@]}" -gt 0 ] || [ -n "$(jobs -pr)" ]; do
		if ! script_alive; then
			for p in $(jobs -pr); do
				kill -TERM -- "-$p" 2>/dev/null
			done
			exit 1
		fi
		while [ "${#queue[@]}" -gt 0 ] && [ "$(jobs -pr | wc -l)" -lt "$jobs" ]; do
			# Its own session: a ^C must not stop ffmpeg half-way.
			setsid setpriv --pdeathsig TERM finalize.sh "${queue[0]}" >&2 &
			queue=("${queue[@]:1}")
		done
		if [ "$eof" -eq 1 ]; then
			sleep 0.2
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
	xargs -0 -r sessionrecover >&2

# Sessions that ended but were never finalized, because a recorder died
# first or its mux or thumb was killed: every folder with a session.json
# not "recording" and no stream.mp4, or with temporaries of a mux or thumb
# that no longer runs (removed here). Folders without session.json are
# old recordings, left to finalize.sh by hand.
unfinished() {
	local d t pid stale
	for d in "$dir"/*/; do
		d=${d%/}
		[ -f "$d/session.json" ] || continue
		[ -f "$d/stream.h264" ] || [ -f "$d/stream.mjpeg" ] || continue
		stale=0
		for t in "$d"/.*.tmp-*; do
			[ -e "$t" ] || continue
			pid=${t##*.tmp-}
			case $pid in '' | *[!0-9]*) continue ;; esac
			kill -0 "$pid" 2>/dev/null && continue
			rm -rf -- "$t"
			stale=1
		done
		[ "$stale" -eq 1 ] || [ ! -e "$d/stream.mp4" ] || continue
		grep -q '"state": *"recording"' "$d/session.json" && continue
		printf 'unfinished %s\n' "$d"
	done
}
unfinished >"$rundir/unfinished"

# Every child runs in its own session so a ^C at the terminal reaches only
# this script, which then shuts the pipeline down in order. Each dies with
# this script: wsrecv, frameparse and sessionwriter get SIGTERM, and end as
# they would at the end of their input.
setsid setpriv --pdeathsig TERM wsrecv -H "$host" -p "$port" -c "$CAMREC_CTL" "${console[@]}" --status "$CAMREC_STATUS" ${access[@]+"${access[@]}"} "$@" >"$rundir/records" &
wsrecv_pid=$!
setsid setpriv --pdeathsig TERM frameparse <"$rundir/records" >"$rundir/frames" &
frameparse_pid=$!
setsid setpriv --pdeathsig TERM sessionwriter -d "$dir" --status "$CAMREC_STATUS" ${images_opt:+"$images_opt"} <"$rundir/frames" >"$rundir/ended" &
sessionwriter_pid=$!
setpriv --pdeathsig KILL cat "$rundir/unfinished" "$rundir/ended" | finalize_loop &
finalize_pid=$!
running=" $wsrecv_pid $frameparse_pid $sessionwriter_pid $finalize_pid "
printf '%s\n' "$wsrecv_pid" >"$rundir/wsrecv.pid"
printf '%s %s %s %s\n' "$wsrecv_pid" "$frameparse_pid" "$sessionwriter_pid" "$finalize_pid" >"$rundir/pids"
log "recording to $dir, listening on $host:$port (control: $CAMREC_CTL)"
[ -n "$web" ] && log "console: http://$host:$port/"

# Operator commands: ctl reads what this script was given on stdin.
exec 3<&0
setpriv --pdeathsig TERM ctl <&3 &
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
	wait -n -p pid $running 2>/dev/null
	rc=$?
	if [ -z "${pid:-}" ]; then
		# A signal interrupted the wait, or a child ended while a
		# foreground command ran and bash no longer knows it as a job
		# ("no such job"): drop the ones gone, lest this loop spin.
		for p in $running; do
			kill -0 "$p" 2>/dev/null && continue
			running=${running/ $p / }
			[ "$stopping" -eq 0 ] || continue
			log "a program of the pipeline (pid $p) ended; stopping the recorder"
			status=1
			stopping=1
		done
		continue
	fi
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
rm -f "$rundir/records" "$rundir/frames" "$rundir/ended" "$rundir/unfinished" "$rundir/pids" "$rundir/wsrecv.pid"
[ "$own_rundir" -eq 1 ] && rm -rf "$rundir"
log "stopped"
exit "$status"
