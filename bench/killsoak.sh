#!/usr/bin/env bash
# killsoak.sh [ROUNDS [CAMERAS]]: while CAMERAS camsim phones record
# through camrec.sh, kill one of the recorder's processes with SIGKILL at a
# random moment (wsrecv, frameparse, sessionwriter, a finalize.sh, or
# camrec.sh itself), start camrec.sh again on the same folder, and so on
# for ROUNDS rounds (default 10, 3 cameras). Then one last start finalizes
# what is left, and every session folder is checked: not left "recording",
# index.tsv and stream.h264 agree byte for byte, and a session with pictures
# has a stream.mp4 in which ffprobe decodes as many frames as the index
# lists. Also checked after every kill: no process of the killed recorder
# outlives it. What the phones sent (camsim --sent-log) is compared with the
# folders by bench/sentcheck.py: every recorded frame byte for byte one that
# was sent, no hole within a session, and every frame sent more than
# KILLSOAK_TOLERANCE seconds (default 2: sessionwriter's index lines and
# fsync go once a second) before a kill recorded, unless sent between a kill
# and the restart. Prints the counts, and exits 1 when any check failed.
# Tools from $CAMREC_BIN when set, else bin/. KILLSOAK_SEED fixes $RANDOM;
# KILLSOAK_SECONDS starts no round after so many seconds.
set -u
rounds=${1:-10} cams=${2:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
export PATH="${CAMREC_BIN:-$top/bin}:$top/scripts:$PATH"
RANDOM=${KILLSOAK_SEED:-$$}
work=$(mktemp -d "${TMPDIR:-/tmp}/killsoak.XXXXXX")
rec=$work/rec run=$work/run
camsim_pid='' camrec_pid=''
problems=0
say() { printf 'killsoak: %s\n' "$*"; }
problem() { say "PROBLEM: $*"; problems=$((problems + 1)); }
cleanup() {
	[ -n "$camsim_pid" ] && kill "$camsim_pid" 2>/dev/null
	[ -n "$camrec_pid" ] && kill "$camrec_pid" 2>/dev/null
	wait 2>/dev/null
	[ "$problems" -eq 0 ] && [ -z "${KILLSOAK_KEEP:-}" ] && rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=size=320x240:rate=30:duration=2 \
	-pix_fmt yuv420p -c:v libx264 -profile:v baseline -g 30 -f h264 "$work/clip.h264" || exit 1

# pids of the processes below $1, one a line.
below() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			below[root] = 1
			do {
				more = 0
				for (p in parent)
					if (!(p in below) && (parent[p] in below)) { below[p] = 1; more = 1 }
			} while (more)
			for (p in below) if (p != root) print p
		}'
}
# The finalize.sh processes of the recorder, by their command line.
finalizers() {
	local p
	for p in $(below "$camrec_pid"); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q '^bash [^ ]*finalize\.sh ' && echo "$p"
	done
}
start_camrec() {
	local i
	rm -f "$run/pids"
	camrec.sh -p "$port" -d "$rec" -R "$run" </dev/null 2>>"$work/camrec.log" &
	camrec_pid=$!
	# Recovery and finalizing left-overs come first: minutes on a loaded machine.
	for i in $(seq 1200); do
		[ -s "$run/pids" ] && return 0
		kill -0 "$camrec_pid" 2>/dev/null || break
		sleep 0.1
	done
	problem "camrec.sh did not start (see $work/camrec.log)"
	return 1
}
# Whether process $1 runs (a zombie has ended).
alive() {
	local state
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case $state in Z*) return 1 ;; esac
}
# Wait up to $2 seconds for every pid in $1 to be gone.
all_gone() {
	local p i
	for i in $(seq $(($2 * 10))); do
		for p in $1; do
			alive "$p" && { sleep 0.1; continue 2; }
		done
		return 0
	done
	return 1
}

declare -A kills=()
mkdir -p "$rec"
start_camrec || exit 1
camsim -n "$cams" -u "ws://127.0.0.1:$port/android-cam" --clip "$work/clip.h264" \
	--autostart --retry --sent-log "$work/sent.tsv" 2>/dev/null &
camsim_pid=$!
t0=$(date +%s)
done_rounds=0
for round in $(seq "$rounds"); do
	# KILLSOAK_SECONDS bounds the time: no new round after it.
	if [ -n "${KILLSOAK_SECONDS:-}" ] && [ $(($(date +%s) - t0)) -ge "$KILLSOAK_SECONDS" ]; then
		say "time is up after $done_rounds rounds"
		break
	fi
	kinds=(wsrecv frameparse sessionwriter finalize camrec.sh)
	kind=${kinds[RANDOM % 5]}
	# A random moment from 0.5 to 4 s into the round's recording.
	sleep "$((RANDOM % 8 / 2)).$((RANDOM % 2 * 5))"
	sleep 0.5
	read -r wsrecv_pid frameparse_pid sessionwriter_pid _ <"$run/pids"
	family="$camrec_pid $(below "$camrec_pid" | tr '\n' ' ')"
	case $kind in
	wsrecv) victim=$wsrecv_pid ;;
	frameparse) victim=$frameparse_pid ;;
	sessionwriter) victim=$sessionwriter_pid ;;
	camrec.sh) victim=$camrec_pid ;;
	finalize)
		victim=$(finalizers | head -n 1)
		if [ -z "$victim" ]; then
			kind="sessionwriter (no finalize running)"
			victim=$sessionwriter_pid
		fi
		;;
	esac
	killed_at=$(date +%s.%N)
	kill -KILL "$victim"
	kills[$kind]=$((${kills[$kind]:-0} + 1))
	if [ "${kind}" = finalize ]; then
		# camrec.sh goes on; stop it as an operator would.
		kill -TERM "$camrec_pid"
	fi
	# The recorder stops by itself once a program of it died (finishing
	# the finalize jobs it has started), and nothing of it outlives it.
	if ! all_gone "$camrec_pid" 180; then
		problem "round $round ($kind killed): camrec.sh did not stop"
	elif ! all_gone "$family" 5; then
		problem "round $round ($kind killed): outlived camrec.sh: $(for p in $family; do alive "$p" && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null; done)"
	fi
	wait "$camrec_pid" 2>/dev/null
	start_camrec || break
	echo "$killed_at $(date +%s.%N)" >>"$work/kills"
	done_rounds=$round
done
kill "$camsim_pid" 2>/dev/null
wait "$camsim_pid" 2>/dev/null
camsim_pid=''
# The last start recovers and finalizes; give it until nothing is left.
# Stopping the recorder counts as a kill for the frames sent then.
stopped_at=$(date +%s.%N)
kill -TERM "$camrec_pid"
wait "$camrec_pid" 2>/dev/null
start_camrec
echo "$stopped_at $(date +%s.%N)" >>"$work/kills"
for i in $(seq 300); do
	[ -z "$(finalizers)" ] && [ "$i" -gt 20 ] && break
	sleep 0.5
done
kill -TERM "$camrec_pid"
wait "$camrec_pid"
camrec_pid=''

sessions=0 consistent=0 finalized=0 empty=0 frames_match=0
for d in "$rec"/*/; do
	d=${d%/}
	[ -f "$d/session.json" ] || continue
	sessions=$((sessions + 1))
	if grep -q '"state": *"recording"' "$d/session.json"; then
		problem "$d: still recording"
		continue
	fi
	# Payload sizes in the index add up, in order, to stream.h264.
	if awk -F '\t' -v size="$(stat -c %s "$d/stream.h264")" '
		NR == 1 { next }
		$4 != sum { bad = 1 }
		{ sum += $5 }
		END { exit bad || sum != size }' "$d/index.tsv"; then
		consistent=$((consistent + 1))
	else
		problem "$d: index.tsv and stream.h264 disagree"
	fi
	pics=$(awk -F '\t' '$6 == "key" || $6 == "delta"' "$d/index.tsv" | wc -l)
	if [ "$pics" -eq 0 ]; then
		empty=$((empty + 1))
		continue
	fi
	if [ ! -s "$d/stream.mp4" ]; then
		problem "$d: $pics pictures, no stream.mp4"
		continue
	fi
	finalized=$((finalized + 1))
	n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
		-of csv=p=0 "$d/stream.mp4")
	if [ "$n" = "$pics" ]; then
		frames_match=$((frames_match + 1))
	else
		problem "$d: index lists $pics pictures, stream.mp4 decodes $n"
	fi
done
"$top/bench/sentcheck.py" "$work/sent.tsv" "$rec" "$work/kills" "${KILLSOAK_TOLERANCE:-2}" \
	>"$work/sentcheck.out"
sent_status=$?
grep -v '^sentcheck: kill at ' "$work/sentcheck.out"
# Per kill: frames lost, and how long before the kill the oldest was sent.
awk '/^sentcheck: kill at / { n++; lost += $(NF-10); if ($(NF-10) > max) max = $(NF-10)
	a = $(NF-4); if (a > age) age = a }
	END { printf "killsoak: losses per kill: %d kills, %d frames in all, at most %d, the oldest sent %.3f s before its kill\n", n, lost, max, age }' \
	"$work/sentcheck.out"
[ "$sent_status" -eq 0 ] || problem "sentcheck: recorded frames differ from those sent (see above)"
line="kills:"
for k in "${!kills[@]}"; do
	line="$line $k ${kills[$k]},"
done
say "rounds $done_rounds of $rounds, $cams cameras, $(($(date +%s) - t0)) s; ${line%,}"
say "sessions $sessions: consistent $consistent, with pictures and a stream.mp4 $finalized (frames = index pictures: $frames_match), without pictures $empty; problems $problems"
[ "$problems" -eq 0 ]
