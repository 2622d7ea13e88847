#!/bin/sh
# rclone-upload.sh: a session hook for hookrun(1): copy the finished session
# folder to an rclone remote, check the copy, and only then delete the
# local folder. Any failure leaves the local folder as it was.
set -u
# The number in the top-level VERSION file; make install writes it here.
camrec_version=

synopsis="usage: rclone-upload.sh [-H] [-k] REMOTE:PATH [-- RCLONE_OPTION...]"
usage() {
	echo "$synopsis" >&2
	exit 2
}
say() {
	printf 'rclone-upload.sh: %s\n' "$*" >&2
}

case "${1:-}" in
--help) echo "$synopsis"; exit 0 ;;
--version) echo "rclone-upload.sh (camrec) ${camrec_version:-$(cat "$(dirname "$0")/../../VERSION")}"; exit 0 ;;
esac
download=1 keep=0
while getopts Hk opt; do
	case $opt in
	H) download=0 ;;
	k) keep=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
remote=$1
shift
case $remote in
*:*) ;;
*) say "\"$remote\": expected an rclone remote, NAME:PATH"; exit 2 ;;
esac
if [ $# -gt 0 ]; then
	[ "$1" = -- ] || usage
	shift
fi

# The folder comes from hookrun, as data: only ever one quoted argument.
dir=${CAMREC_SESSION_DIR:-}
if [ -z "$dir" ] || [ ! -d "$dir" ] || [ -L "$dir" ]; then
	say "CAMREC_SESSION_DIR \"$dir\" is not a session folder (run me from hookrun)"
	exit 2
fi
dir=${dir%/}
name=${dir##*/}
case $remote in
*: | */) dest=$remote$name ;;
*) dest=$remote/$name ;;
esac

if ! rclone copy "$@" -- "$dir" "$dest"; then
	say "$name: upload to $dest failed; local copy kept"
	exit 1
fi
# --one-way: every local file is there with the same bytes, read back from
# the remote; with -H, the same size and, where the remote keeps them, the
# same hash (quicker, but size only on remotes without hashes: WebDAV).
if [ "$download" -eq 1 ]; then
	set -- "$@" --download
fi
if ! rclone check --one-way "$@" -- "$dir" "$dest"; then
	say "$name: the copy at $dest differs from the folder; local copy kept"
	exit 1
fi
if [ "$keep" -eq 1 ]; then
	say "$name: uploaded to $dest and checked"
	exit 0
fi
if ! rm -rf -- "$dir"; then
	say "$name: uploaded to $dest and checked, but the local copy could not be deleted"
	exit 1
fi
say "$name: uploaded to $dest and checked; local copy deleted"
