#!/bin/sh
# finalize.sh: turn one session folder into stream.mp4 and thumbnail.jpg.
# Works on camrec folders (index.tsv: per-frame timestamps), on old
# folders that hold only stream.h264 (a constant rate from fpsest), and on
# folders of MP4 segments from phones on the current app (segments.tsv),
# and on an ESP32 board's JPEG images (stream.mjpeg: encoded to H.264,
# each image shown until the next arrived).
set -u
# The number in the top-level VERSION file; make install writes it here.
camrec_version=

usage() {
	echo "usage: finalize.sh [-q] SESSION_DIR" >&2
	exit 2
}

case "${1:-}" in
--help) echo "usage: finalize.sh [-q] SESSION_DIR"; exit 0 ;;
--version) echo "finalize.sh (camrec) ${camrec_version:-$(cat "$(dirname "$0")/../VERSION")}"; exit 0 ;;
esac
quiet=0
while getopts q opt; do
	case $opt in
	q) quiet=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
dir=${1%/}
if [ -f "$dir/stream.h264" ]; then
	kind=frames
elif [ -f "$dir/segments.tsv" ]; then
	kind=segments
elif [ -f "$dir/stream.mjpeg" ]; then
	kind=images
else
	echo "finalize.sh: $dir: neither stream.h264, segments.tsv nor stream.mjpeg" >&2
	exit 3
fi

# mux and thumb die with this script, however it dies, and remove their
# temporaries when they do.
with_me() {
	setpriv --pdeathsig TERM "$@"
}

# The folder stays locked (shared) while this script and the programs it
# starts work in it: prune(1) leaves a locked folder alone.
if ! command exec 9<"$dir" 2>/dev/null || ! flock -s 9; then
	echo "finalize.sh: $dir: cannot lock the folder" >&2
	exit 1
fi

status=0
fps=
[ "$kind" = images ] || fps=$(fpsest -- "$dir" 2>/dev/null) || fps=
if [ "$kind" = images ]; then
	with_me mux -j "$dir" -- "$dir/stream.mjpeg" "$dir/stream.mp4" || status=$?
elif [ "$kind" = segments ]; then
	with_me mux -g "$dir" -- "$dir/stream.mp4" || status=$?
elif [ -f "$dir/index.tsv" ]; then
	with_me mux -t "$dir" -- "$dir/stream.h264" "$dir/stream.mp4" || status=$?
else
	with_me mux -r "${fps:-10}" -- "$dir/stream.h264" "$dir/stream.mp4" || status=$?
fi
if [ "$status" -eq 0 ]; then
	mp4=ok
	with_me thumb -- "$dir/stream.mp4" "$dir/thumbnail.jpg" || status=$?
else
	mp4="failed($status)"
	# A thumbnail is still worth having when the MP4 could not be made.
	src=$dir/stream.h264
	if [ "$kind" = images ]; then
		src=
	elif [ "$kind" = segments ]; then
		src=$dir/$(awk -F '\t' '!/^#/ { print $2; exit }' "$dir/segments.tsv")
	fi
	[ -z "$src" ] || with_me thumb -- "$src" "$dir/thumbnail.jpg" >/dev/null 2>&1 || :
fi
[ -f "$dir/thumbnail.jpg" ] && jpg=ok || jpg=missing

# Pictures and span from the index when there is one.
if [ "$kind" = segments ]; then
	summary=$(awk -F '\t' '!/^#/ { n++ } END { printf "segments=%d", n }' \
		"$dir/segments.tsv")
elif [ "$kind" = images ]; then
	# The board sends no time: the span is that of the arrivals.
	summary=$(awk -F '\t' '
		/^#/ { next }
		$6 == "jpeg" { if (!n++) first = $3; last = $3 }
		END { printf "images=%d duration=%.1fs", n, n ? (last - first) / 1e6 : 0 }
	' "$dir/index.tsv" 2>/dev/null)
	fps=$(awk -F '\t' '
		$6 == "jpeg" { if (!n++) first = $3; last = $3 }
		END { if (n > 1 && last > first) printf "%.2f", (n - 1) * 1e6 / (last - first) }
	' "$dir/index.tsv" 2>/dev/null)
elif [ -f "$dir/index.tsv" ]; then
	summary=$(awk -F '\t' '
		/^#/ { next }
		$6 == "key" || $6 == "delta" { if (!n++) first = $2; last = $2 }
		END { printf "frames=%d duration=%.1fs", n, n ? (last - first) / 1000 : 0 }
	' "$dir/index.tsv")
else
	summary="frames=? duration=?"
fi
[ "$quiet" -eq 1 ] || echo "$dir $summary fps=${fps:-?} mp4=$mp4 thumbnail=$jpg"
exit "$status"
