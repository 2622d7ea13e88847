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

synopsis="usage: camrec.sh [-v] [--config FILE] [--print-config] [-H HOST] [-p PORT] [-d DIR] [-j JOBS]
                 [-I IMAGES] [-R RUNDIR] [-w WEBDIR] [--token-file FILE]
                 [--cert FILE --key FILE [--tls-port PORT]] [-- WSRECV_OPTIONS]"
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

# The settings: camconf's defaults, then the file, then the options; each
# remembers where it came from, for --print-config.
declare -A conf=() from=()
declare -a keys=() hook_finalized=() hook_failed=()
set_option() {
	conf[$1]=$2
	from[$1]=option
}
config='' print_config=0 web=''
# -I N: the newest N images of the ESP32 boards also in DIR/images (the old
# server's folder); 0 (the default) leaves it out.
images=0
# Access control and TLS are wsrecv's: passed on as they are.
access=()
# The log: a line for each session opened and ended (sessionwriter -v),
# finalized, hooked, pruned; -v adds wsrecv's line for each connection.
verbose=()
while getopts vH:p:d:j:I:R:w:-: opt; do
	case $opt in
	v) verbose=(-v) ;;
	H) set_option host "$OPTARG" ;;
	p) set_option port "$OPTARG" ;;
	d) set_option recordings "$OPTARG" ;;
	j) set_option finalize_jobs "$OPTARG" ;;
	R) set_option rundir "$OPTARG" ;;
	I) images=$OPTARG ;;
	w) web=$OPTARG ;;
	-)
		case $OPTARG in
		config=*) config=${OPTARG#config=} ;;
		config)
			[ "$OPTIND" -le $# ] || usage
			config=${!OPTIND}
			OPTIND=$((OPTIND + 1))
			;;
		print-config) print_config=1 ;;
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
	*) usage ;;
	esac
done
shift $((OPTIND - 1))

# Tools from $CAMREC_BIN when set, else next to this script (a build
# tree's bin/, or an installed bin/), then PATH.
here=$(cd "$(dirname "$0")" && pwd)
for d in "$here" "$here/../bin" "${CAMREC_BIN:-}"; do
	[ -n "$d" ] && [ -x "$d/wsrecv" ] && PATH=$d:$PATH
done
PATH=$here:$PATH
need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null && continue
		log "$tool not found next to $0 or on PATH"
		exit 127
	done
}
need camconf

# The file named by --config, else the default one when it exists.
default_config=${CAMREC_CONFIG:-/etc/camrec/camrec.json}
if [ -z "$config" ] && [ -e "$default_config" ]; then
	config=$default_config
fi
# camconf checks the whole file before anything starts and hands over
# NUL-separated fields (key, source, value; a command as its length and
# its words): values are only ever assigned, never evaluated.
read_settings() {
	local key source value i word
	local -a words
	while IFS= read -r -d '' key && IFS= read -r -d '' source &&
		IFS= read -r -d '' value; do
		keys+=("$key")
		case $key in
		hooks.on_session_*)
			words=()
			for ((i = 0; i < value; i++)); do
				IFS= read -r -d '' word || return 1
				words+=("$word")
			done
			value=${words[*]}
			[ "$key" = hooks.on_session_finalized ] && hook_finalized=("${words[@]}")
			[ "$key" = hooks.on_session_failed ] && hook_failed=("${words[@]}")
			;;
		esac
		# An option given on the command line wins.
		[ "${from[$key]:-}" = option ] && continue
		conf[$key]=$value
		from[$key]=$source
	done
}
read_settings < <(camconf -0 ${config:+"$config"})
wait $! || exit 2
[ "${#keys[@]}" -gt 0 ] || exit 2

# Options after -- go to wsrecv after the file's, so they win; shown as
# options by --print-config.
wsrecv_option() {
	case $1 in
	-i | --idle-timeout) set_option idle_timeout "$2" ;;
	-m | --max-message) set_option max_message "$2" ;;
	--idle-timeout=*) set_option idle_timeout "${1#*=}" ;;
	--max-message=*) set_option max_message "${1#*=}" ;;
	esac
}
for ((i = 1; i <= $#; i++)); do
	j=$((i + 1))
	wsrecv_option "${!i}" "${!j:-}"
done

if [ "$print_config" -eq 1 ]; then
	for key in "${keys[@]}"; do
		case $key in
		hooks.on_session_finalized) set -- "${hook_finalized[@]}" ;;
		hooks.on_session_failed) set -- "${hook_failed[@]}" ;;
		*) set -- ${conf[$key]:+"${conf[$key]}"} ;;
		esac
		if [ $# -eq 0 ]; then
			printf '%s = unset (%s)\n' "$key" "${from[$key]}"
		else
			printf '%s =' "$key"
			printf ' %q' "$@"
			printf ' (%s)\n' "${from[$key]}"
		fi
	done
	exit 0
fi

[ -z "$config" ] || log "settings from $config"
host=${conf[host]} port=${conf[port]} dir=${conf[recordings]}
jobs=${conf[finalize_jobs]} rundir=${conf[rundir]}
case $jobs in
'' | *[!0-9]* | 0) log "bad -j \"$jobs\": expected a whole number of finalize jobs from 1 up"; exit 2 ;;
esac
case $images in
'' | *[!0-9]*) log "bad -I \"$images\": expected a whole number of images (0: none)"; exit 2 ;;
esac
images_opt=
[ "$images" -eq 0 ] || images_opt=--images=$images
# What the file sets for the programs; their defaults are their own.
wsrecv_args=() sessionwriter_args=()
[ "${from[idle_timeout]}" = file ] && wsrecv_args+=(--idle-timeout "${conf[idle_timeout]}")
[ "${from[max_message]}" = file ] && wsrecv_args+=(--max-message "${conf[max_message]}")
[ "${from[fsync_interval]}" = file ] && sessionwriter_args+=(-s "${conf[fsync_interval]}")
prune_args=()
[ -n "${conf[retention.keep_free]}" ] && prune_args+=(--keep-free "${conf[retention.keep_free]}")
[ -n "${conf[retention.max_age]}" ] && prune_args+=(--max-age "${conf[retention.max_age]}")
[ -n "${conf[retention.max_total]}" ] && prune_args+=(--max-total "${conf[retention.max_total]}")

need wsrecv frameparse sessionwriter sessionrecover ctl fpsest mux thumb finalize.sh setpriv flock
if [ "${#hook_finalized[@]}" -gt 0 ] || [ "${#hook_failed[@]}" -gt 0 ]; then
	need hookrun
fi
[ "${#prune_args[@]}" -eq 0 ] || need prune
[ "${conf[metrics.enabled]}" != true ] || need metrics

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
fifos=("$rundir/records" "$rundir/frames" "$rundir/ended" "$rundir/finished" "$rundir/never")
rm -f "${fifos[@]}" "$rundir"/*.counts "$rundir/wsrecv.counters"
mkfifo -m 600 "${fifos[@]}" || exit 1

# Whether this script still runs, asked from a subshell: a subshell whose
# parent died has been handed to another process.
script_alive() {
	local stat
	read -r stat <"/proc/$BASHPID/stat" || return 1
	stat=${stat##*) }
	stat=${stat#* }
	[ "${stat%% *}" = "$$" ]
}

# Run a job for each "WORD DIR" line on stdin, at most $1 at a time: the
# function $2 starts one for WORD DIR in the background, the function $3
# hears WORD DIR STATUS MICROSECONDS when it ends. Lines are read on while
# jobs run, so a burst of them never backs up into their writer. A folder
# name is data: it is only ever passed as one quoted argument, and only if
# it lies in $dir. Should the script die, the jobs are stopped (each runs
# in a session of its own) and a restart does them again.
job_loop() {
	local limit=$1 start=$2 finish=$3 word path eof=0 rc p left
	local -a queue=()
	local -A job=() since=()
	# A ^C is for the script, which lets this loop finish its jobs.
	trap '' INT
	while [ "$eof" -eq 0 ] || [ "${#queue[@]}" -gt 0 ] || [ "${#job[@]}" -gt 0 ]; do
		if ! script_alive; then
			for p in "${!job[@]}"; do
				kill -TERM -- "-$p" 2>/dev/null
			done
			exit 1
		fi
		if [ "${#job[@]}" -gt 0 ]; then
			left=" $(jobs -pr | tr '\n' ' ') "
			for p in "${!job[@]}"; do
				[[ $left == *" $p "* ]] && continue
				wait "$p"
				rc=$?
				"$finish" "${job[$p]%% *}" "${job[$p]#* }" "$rc" \
					$((${EPOCHREALTIME//[!0-9]/} - since[$p]))
				unset "job[$p]" "since[$p]"
			done
		fi
		while [ "${#queue[@]}" -gt 0 ] && [ "${#job[@]}" -lt "$limit" ]; do
			"$start" "${queue[0]%% *}" "${queue[0]#* }"
			job[$!]=${queue[0]}
			since[$!]=${EPOCHREALTIME//[!0-9]/}
			queue=("${queue[@]:1}")
		done
		if [ "$eof" -eq 1 ]; then
			sleep 0.2
			continue
		fi
		read -r -t 0.5 word path
		rc=$?
		if [ "$rc" -eq 0 ]; then
			case $path in
			"$dir"/*) queue+=("$word $path") ;;
			*) log "ignoring unexpected session path: $path" ;;
			esac
		elif [ "$rc" -le 128 ]; then
			eof=1
		fi
	done
}

# Counters for metrics(1), one "NAME VALUE" a line, each file rewritten
# whole so that a reader never sees half of it.
write_counts() {
	local file=$1
	shift
	printf '%s\n' "$@" >"$file.tmp" && mv -f -- "$file.tmp" "$file"
}

# Finalizing: "closed DIR", "failed DIR", "unfinished DIR" in; out, for
# the hooks, "finalized DIR" or "failed DIR" once stream.mp4 and
# thumbnail.jpg are made (or could not be).
finalize_buckets=(1 2 5 10 30 60 120 300 600 1800)
finalize_runs=0 finalize_failures=0 finalize_us=0
finalize_in=()
# shellcheck disable=SC2317 # called by job_loop
start_finalize() {
	# Its own session: a ^C must not stop ffmpeg half-way.
	setsid setpriv --pdeathsig TERM finalize.sh "$2" >&2 &
}
# shellcheck disable=SC2317 # called by job_loop
finish_finalize() {
	local event=finalized i
	local -a lines
	if [ "$1" = failed ] || [ "$3" -ne 0 ]; then
		event=failed
	fi
	finalize_runs=$((finalize_runs + 1))
	[ "$3" -eq 0 ] || finalize_failures=$((finalize_failures + 1))
	finalize_us=$((finalize_us + $4))
	lines=("runs $finalize_runs" "failures $finalize_failures" "microseconds $finalize_us")
	for i in "${!finalize_buckets[@]}"; do
		[ "$4" -le $((finalize_buckets[i] * 1000000)) ] &&
			finalize_in[i]=$((${finalize_in[i]:-0} + 1))
		lines+=("le ${finalize_buckets[i]} ${finalize_in[i]:-0}")
	done
	write_counts "$rundir/finalize.counts" "${lines[@]}"
	case $event in
	finalized) [ "${#hook_finalized[@]}" -eq 0 ] && return ;;
	failed) [ "${#hook_failed[@]}" -eq 0 ] && return ;;
	esac
	# The marker outlives a crash: the next start runs the hook.
	printf '%s\n' "$event" >"$2/$hook_marker" ||
		log "$2: cannot mark its hook as due"
	printf '%s %s\n' "$event" "$2"
}

# Hooks: one hookrun for each finished session, hooks.concurrency at a
# time, each bounded by hooks.timeout; hookrun logs the outcome. A session
# is marked in its folder while its hook is due, from the end of its
# finalizing until its hook ended (well or not), so that a hook lost to a
# crash or a kill -9 of this script runs at the next start; prune leaves a
# marked session alone.
hook_marker=.hook-due
hook_runs=0 hook_failures=0
# shellcheck disable=SC2317 # called by job_loop
start_hook() {
	if [ "$1" = finalized ]; then
		setsid setpriv --pdeathsig TERM hookrun -t "${conf[hooks.timeout]}" \
			-e finalized "$2" -- "${hook_finalized[@]}" >&2 &
	else
		setsid setpriv --pdeathsig TERM hookrun -t "${conf[hooks.timeout]}" \
			-e failed "$2" -- "${hook_failed[@]}" >&2 &
	fi
}
# shellcheck disable=SC2317 # called by job_loop
finish_hook() {
	# A hook stopped because this script died is due again.
	script_alive || return
	rm -f -- "$2/$hook_marker"
	hook_runs=$((hook_runs + 1))
	[ "$3" -eq 0 ] || hook_failures=$((hook_failures + 1))
	write_counts "$rundir/hooks.counts" "runs $hook_runs" "failures $hook_failures"
}

# "20G" in bytes (K, M, G, T, P are powers of 1024, as for prune).
bytes() {
	local n=${1%[KMGTP]} shift=0
	case $1 in
	*K) shift=10 ;; *M) shift=20 ;; *G) shift=30 ;; *T) shift=40 ;; *P) shift=50 ;;
	esac
	echo $((n << shift))
}

# Whether the recordings' filesystem has less room than keep_free asks.
short_of_room() {
	local goal=${conf[retention.keep_free]} free block total
	[ -n "$goal" ] || return 1
	read -r free block total < <(stat -f -c '%a %S %b' "$dir") || return 1
	case $goal in
	*%) [ $((free * 100)) -lt $((total * ${goal%\%})) ] ;;
	*) [ $((free * block)) -lt "$(bytes "$goal")" ] ;;
	esac
}

# Retention: prune every retention.interval seconds, and as soon as the
# disk is short of room: the room is looked at every few seconds, so the
# next session opens on a disk that has it. prune leaves every session
# that is open or not yet finalized alone.
prune_runs=0 prune_failures=0
retention_loop() {
	local last=-1000000000 rc=0 gap
	trap '' INT
	while script_alive; do
		gap=$((EPOCHSECONDS - last))
		# After a run that could not reach the goal (everything left
		# is open or unfinished), the next waits longer.
		if [ "$gap" -ge "${conf[retention.interval]}" ] ||
			{ [ "$gap" -ge $((rc == 0 ? 5 : 60)) ] && short_of_room; }; then
			setpriv --pdeathsig TERM prune "${prune_args[@]}" "$dir" >&2
			rc=$?
			prune_runs=$((prune_runs + 1))
			[ "$rc" -eq 0 ] || prune_failures=$((prune_failures + 1))
			[ "$rc" -eq 0 ] || log "prune exited with status $rc"
			write_counts "$rundir/prune.counts" "runs $prune_runs" "failures $prune_failures"
			last=$EPOCHSECONDS
		fi
		# A wait with no process to leave behind.
		read -r -t 2 _ <>"$rundir/never"
	done
}

stopping=0 running='' ctl_pid='' helpers=' '
trap 'stopping=1' INT TERM
# Should this script itself fail, it still takes its children with it:
# wsrecv first, so the others drain what they have and end on their own.
# shellcheck disable=SC2317 # run by the EXIT trap
on_exit() {
	local p
	for p in $running $ctl_pid $helpers; do
		kill -TERM "$p" 2>/dev/null
	done
	wait
}
trap on_exit EXIT

# Sessions an earlier run left unfinished are recovered before recording
# starts (sessionrecover must never touch a live session), and finalized
# with the new ones.
recovered=$(find "$dir" -mindepth 2 -maxdepth 2 -name session.json -printf '%h\0' |
	xargs -0 -r sessionrecover)
[ -z "$recovered" ] || printf '%s\n' "$recovered" >&2
write_counts "$rundir/recover.counts" "runs $(grep -c '^recovered ' <<<"$recovered")"

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

# Hooks a crash or a kill left due: run first. A marker whose event has no
# hook any more is dropped, said once.
hooks_due() {
	local m d event
	for m in "$dir"/*/"$hook_marker"; do
		[ -f "$m" ] || continue
		d=${m%/*}
		read -r event <"$m" || event=
		case $event in
		finalized) [ "${#hook_finalized[@]}" -gt 0 ] || event= ;;
		failed) [ "${#hook_failed[@]}" -gt 0 ] || event= ;;
		*) event= ;;
		esac
		if [ -z "$event" ]; then
			log "$d: no hook for it any more; dropping its due mark"
			rm -f -- "$m"
			continue
		fi
		log "$d: its hook did not finish in an earlier run; running it again"
		printf '%s %s\n' "$event" "$d"
	done
}
hooks_due >"$rundir/hooks-due"

# Every child runs in its own session so a ^C at the terminal reaches only
# this script, which then shuts the pipeline down in order. Each dies with
# this script: wsrecv, frameparse and sessionwriter get SIGTERM, and end as
# they would at the end of their input.
# Metrics on the recorder's own port unless they have a port of their
# own: wsrecv answers GET /metrics by running metrics(1) once per scrape.
# Either way wsrecv keeps its counters in the run folder for metrics.
wsrecv_args+=(--counters "$rundir/wsrecv.counters")
if [ "${conf[metrics.enabled]}" = true ] && [ -z "${conf[metrics.port]}" ]; then
	wsrecv_args+=(--metrics "$rundir")
fi
setsid setpriv --pdeathsig TERM wsrecv ${verbose[@]+"${verbose[@]}"} -H "$host" -p "$port" -c "$CAMREC_CTL" \
	"${console[@]}" --status "$CAMREC_STATUS" ${access[@]+"${access[@]}"} \
	"${wsrecv_args[@]}" "$@" >"$rundir/records" &
wsrecv_pid=$!
setsid setpriv --pdeathsig TERM frameparse <"$rundir/records" >"$rundir/frames" &
frameparse_pid=$!
setsid setpriv --pdeathsig TERM sessionwriter -v -d "$dir" --status "$CAMREC_STATUS" \
	${images_opt:+"$images_opt"} "${sessionwriter_args[@]}" <"$rundir/frames" >"$rundir/ended" &
sessionwriter_pid=$!
setpriv --pdeathsig KILL cat "$rundir/unfinished" "$rundir/ended" |
	job_loop "$jobs" start_finalize finish_finalize >"$rundir/finished" &
finalize_pid=$!
setpriv --pdeathsig KILL cat "$rundir/hooks-due" "$rundir/finished" |
	job_loop "${conf[hooks.concurrency]}" start_hook finish_hook &
hook_pid=$!
running=" $wsrecv_pid $frameparse_pid $sessionwriter_pid $finalize_pid $hook_pid "
# Helpers run beside the pipeline until it has ended.
if [ "${#prune_args[@]}" -gt 0 ]; then
	retention_loop &
	helpers="$helpers$! "
fi
if [ "${conf[metrics.enabled]}" = true ] && [ -n "${conf[metrics.port]}" ]; then
	setsid setpriv --pdeathsig TERM metrics -H "${conf[metrics.host]}" \
		-p "${conf[metrics.port]}" -d "$dir" -R "$rundir" &
	metrics_pid=$!
	helpers="$helpers$metrics_pid "
	log "metrics at http://${conf[metrics.host]}:${conf[metrics.port]}/metrics"
fi
printf '%s\n' "$wsrecv_pid" >"$rundir/wsrecv.pid"
printf '%s %s %s %s\n' "$wsrecv_pid" "$frameparse_pid" "$sessionwriter_pid" "$finalize_pid" >"$rundir/pids"
log "recording to $dir, listening on $host:$port (control: $CAMREC_CTL)"
# A wildcard address is nothing a browser can open.
case $host in
0.0.0.0 | '*' | '') url=http://127.0.0.1:$port other=" (from other machines: http://THIS-HOST'S-ADDRESS:$port/)" ;;
::) url="http://[::1]:$port" other=" (from other machines: http://THIS-HOST'S-ADDRESS:$port/)" ;;
*:*) url="http://[$host]:$port" other= ;;
*) url=http://$host:$port other= ;;
esac
[ -z "$web" ] || log "console: $url/$other"
if [ "${conf[metrics.enabled]}" = true ] && [ -z "${conf[metrics.port]}" ]; then
	log "metrics: $url/metrics"
fi

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
	wait -n -p pid $running $helpers 2>/dev/null
	rc=$?
	if [ -z "${pid:-}" ]; then
		# A signal interrupted the wait, or a child ended while a
		# foreground command ran and bash no longer knows it as a job
		# ("no such job"): drop the ones gone, lest this loop spin.
		for p in $running $helpers; do
			kill -0 "$p" 2>/dev/null && continue
			running=${running/ $p / }
			helpers=${helpers/ $p / }
			[ "$stopping" -eq 0 ] || continue
			log "a program of the pipeline (pid $p) ended; stopping the recorder"
			status=1
			stopping=1
		done
		continue
	fi
	running=${running/ $pid / }
	helpers=${helpers/ $pid / }
	[ "$stopping" -eq 0 ] || continue
	if [ "$rc" -ne 0 ]; then
		case $pid in
		"$wsrecv_pid") name=wsrecv ;;
		"$frameparse_pid") name=frameparse ;;
		"$sessionwriter_pid") name=sessionwriter ;;
		"$finalize_pid") name="finalize loop" ;;
		"$hook_pid") name="hook loop" ;;
		"${metrics_pid:-}") name=metrics ;;
		*) name="retention loop" ;;
		esac
		log "$name exited with status $rc; stopping the recorder"
		status=1
		stopping=1
	elif [ "$pid" = "$wsrecv_pid" ]; then
		stopping=2
	fi
done
for p in $helpers; do
	kill -TERM "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
helpers=''
if [ -n "$ctl_pid" ]; then
	kill "$ctl_pid" 2>/dev/null
	wait "$ctl_pid" 2>/dev/null
fi
running='' ctl_pid=''
rm -f "${fifos[@]}" "$rundir/unfinished" "$rundir/hooks-due" "$rundir/pids" "$rundir/wsrecv.pid"
[ "$own_rundir" -eq 1 ] && rm -rf "$rundir"
log "stopped"
exit "$status"
