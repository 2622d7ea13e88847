# shellcheck shell=bash
# Shared setup for the bats suite: programs from this tree first on PATH,
# Debian's python3 (for python3-websockets), small fixtures made on demand.
REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
CAMREC_BIN=${CAMREC_BIN:-$REPO/bin}
PATH=$CAMREC_BIN:$REPO/scripts:$PATH
PY=/usr/bin/python3
export REPO CAMREC_BIN PATH PY
export TZ=UTC
bats_require_minimum_version 1.5.0

# A TCP port nobody listens on now.
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Wait up to $2 seconds (default 10) for a TCP port on 127.0.0.1 to accept.
wait_port() {
	local _
	for _ in $(seq 1 $((${2:-10} * 20))); do
		$PY -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "port $1 never opened" >&2
	return 1
}

# gone PID...: every PID has exited (or is a zombie nobody reaped yet), each
# within GONE_WAIT seconds (default 5); names the first that has not.
gone() {
	local p _ state
	for p in "$@"; do
		for _ in $(seq 1 $((${GONE_WAIT:-5} * 10))); do
			state=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue 2
			case $state in Z*) continue 2 ;; esac
			sleep 0.1
		done
		echo "process $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)) still running" >&2
		return 1
	done
}

# descendants PID: every process below PID, one pid a line.
descendants() {
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

# no_temporaries [DIR]: no .NAME.tmp-PID left behind in DIR (default .).
no_temporaries() {
	local left
	left=$(find "${1:-.}" -mindepth 1 -maxdepth 1 -name '.*.tmp-*')
	[ -z "$left" ] && return
	echo "temporaries left in ${1:-.}: $left" >&2
	return 1
}

# Wait up to $2 seconds for a command (a string run by bash) to succeed.
wait_for() {
	local _
	for _ in $(seq 1 $((${2:-10} * 10))); do
		bash -c "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timed out waiting for: $1" >&2
	return 1
}

# The setup of the files that work on one phone-shaped clip (frameparse,
# sessionwriter, sessionrecover; android_clip is in sw_helper.bash):
# clip_setup_file makes it once per file, clip_setup enters the test's own
# folder with the clip in $CLIP.
clip_setup_file() {
	cd "$BATS_FILE_TMPDIR" && android_clip clip.h264
}
# shellcheck disable=SC2034 # CLIP is for the test files
clip_setup() {
	cd "$BATS_TEST_TMPDIR" && CLIP=$BATS_FILE_TMPDIR/clip.h264
}

# aud_clip FILE SIZE SECONDS: an x264 clip with an AUD opening every access
# unit and SPS/PPS before every key frame (a key frame a second).
aud_clip() {
	ffmpeg -nostdin -loglevel error -y -f lavfi \
		-i "testsrc2=size=$2:rate=30:duration=$3" -pix_fmt yuv420p -c:v libx264 \
		-profile:v baseline -g 30 -x264-params aud=1 -f h264 "$1"
}

# make_clip FILE [ffmpeg x264 options...]: a short H.264 Annex-B clip made
# now with libx264. With options, exactly what x264 writes with them. Without,
# an Android-like clip: 2 s of 320x240 at 30 fps, baseline, a key frame every
# 30 frames, SPS/PPS only once at the start (as many phone encoders do).
make_clip() {
	local out=$1
	shift
	if [ $# -gt 0 ]; then
		ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=30:duration=2 \
			-pix_fmt yuv420p -c:v libx264 "$@" -f h264 "$out"
		return
	fi
	make_clip "$out.raw" -profile:v baseline -g 30 &&
		$PY "$REPO/tests/mkrec.py" --headers-once "$out.raw" >"$out" &&
		rm -f "$out.raw"
}
