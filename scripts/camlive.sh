#!/bin/sh
# camlive.sh: the live relay from its JSON config file. "camlive.sh CONFIG"
# runs liverelay with it (options after -- override the file); "camlive.sh
# status CONFIG" prints the running relay's status JSON.
set -u
# The number in the top-level VERSION file; make install writes it here.
camrec_version=

synopsis="usage: camlive.sh CONFIG [-- LIVERELAY_OPTIONS]
       camlive.sh status CONFIG"
usage() {
	echo "$synopsis" >&2
	exit 2
}

case "${1:-}" in
--help) echo "$synopsis"; exit 0 ;;
--version) echo "camlive.sh (camrec) ${camrec_version:-$(cat "$(dirname "$0")/../VERSION")}"; exit 0 ;;
'' | -*) usage ;;
esac

# liverelay from $CAMREC_BIN when set, else next to this script (a build
# tree's bin/, or an installed bin/), then PATH.
here=$(cd "$(dirname "$0")" && pwd)
for d in "$here" "$here/../bin" "${CAMREC_BIN:-}"; do
	[ -n "$d" ] && [ -x "$d/liverelay" ] && PATH=$d:$PATH
done
if ! command -v liverelay >/dev/null; then
	echo "camlive: liverelay not found next to $0 or on PATH" >&2
	exit 127
fi

if [ "$1" = status ]; then
	[ $# -eq 2 ] || usage
	# liverelay checks the file and says where its status is.
	url=$(liverelay -u -c "$2") || exit $?
	if ! curl -fs --max-time 5 "$url"; then
		echo "camlive: no relay answers at $url" >&2
		exit 1
	fi
	echo
	exit 0
fi

config=$1
shift
if [ $# -gt 0 ]; then
	[ "$1" = -- ] || usage
	shift
fi
exec liverelay -c "$config" "$@"
