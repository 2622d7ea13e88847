#!/bin/sh
# mkclip.sh: make a test clip shaped like a phone's H.264 stream (for
# camsim): libx264 baseline, a key frame every second, SPS/PPS once at the
# start only, as many Android encoders send them.
set -eu
# The number in the top-level VERSION file; make install writes it here.
camrec_version=

synopsis="usage: mkclip.sh [-s WxH] [-t SECONDS] [-b BITRATE] out.h264"
size=1280x720 seconds=6 bitrate=4M
case "${1:-}" in
--help) echo "$synopsis"; exit 0 ;;
--version) echo "mkclip.sh (camrec) ${camrec_version:-$(cat "$(dirname "$0")/../VERSION")}"; exit 0 ;;
esac
while getopts s:t:b: opt; do
	case $opt in
	s) size=$OPTARG ;;
	t) seconds=$OPTARG ;;
	b) bitrate=$OPTARG ;;
	*) echo "$synopsis" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "$synopsis" >&2; exit 2; }
out=$1
tmp=$(mktemp "${TMPDIR:-/tmp}/mkclip.XXXXXX")
trap 'rm -f "$tmp"' EXIT

ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc2=size=$size:rate=30:duration=$seconds" \
	-pix_fmt yuv420p -c:v libx264 -preset veryfast -profile:v baseline -g 30 -b:v "$bitrate" \
	-f h264 "$tmp"
# x264 repeats SPS/PPS before every key frame: keep the first ones only.
ffmpeg -nostdin -loglevel error -y -f h264 -i "$tmp" -frames:v 1 -c copy \
	-bsf:v 'filter_units=pass_types=7|8' -f h264 "$out"
ffmpeg -nostdin -loglevel error -y -f h264 -i "$tmp" -c copy \
	-bsf:v 'filter_units=remove_types=7|8' -f h264 - >>"$out"
