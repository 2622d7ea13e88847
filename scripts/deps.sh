#!/bin/sh
# Install the Debian packages camrec needs to build, test and run, when missing.
set -eu
# The number in the top-level VERSION file; make install writes it here.
camrec_version=

case "${1:-}" in
--help) echo "usage: deps.sh"; exit 0 ;;
--version) echo "deps.sh (camrec) ${camrec_version:-$(cat "$(dirname "$0")/../VERSION")}"; exit 0 ;;
"") ;;
*) echo "usage: deps.sh" >&2; exit 2 ;;
esac

packages="gcc make pkg-config libwebsockets-dev libjansson-dev ffmpeg bats
python3 python3-websockets mandoc shellcheck util-linux procps time"
packages="$packages rclone"   # scripts/hooks/rclone-upload.sh and its test
packages="$packages clang openssl iproute2"   # make fuzz (libFuzzer); tests/access.bats: a certificate, ss
packages="$packages curl"   # camlive.sh status, liverelay.bats
packages="$packages prometheus systemd man-db"   # promtool checks the metrics scrape (tests/metrics.bats); systemd-analyze verifies camrec.service and its man pages (tests/service.bats)
packages="$packages chromium chromium-driver python3-selenium"   # the console's tests in a real browser
packages="$packages python3-fusepy valgrind"   # tests/diskfull.bats: a FUSE file system that fails writes with EIO; valgrind memcheck of a recording (make soak)

# npm for the console's jmuxer (below); a Node.js from elsewhere that
# brings its own npm is left alone.
command -v npm >/dev/null 2>&1 || packages="$packages npm"

missing=
for p in $packages; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -n "$missing" ]; then
	echo "deps: installing$missing" >&2
	if [ "$(id -u)" -eq 0 ]; then
		sudo=
	elif command -v sudo >/dev/null 2>&1; then
		sudo=sudo
	else
		echo "deps: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The console page's MSE preview (phones, where the browser has no
# WebCodecs) uses jmuxer from npm, installed beside the page, not in git.
web=$(dirname "$0")/../web
if [ ! -f "$web/node_modules/jmuxer/dist/jmuxer.min.js" ]; then
	if command -v npm >/dev/null 2>&1; then
		npm install --prefix "$web" --no-save --no-package-lock --no-audit \
			--no-fund --silent jmuxer@2.1.1 >&2 ||
			echo "deps: npm could not install jmuxer; the console previews phones only with WebCodecs" >&2
	else
		echo "deps: no npm; the console previews phones only with WebCodecs" >&2
	fi
fi
