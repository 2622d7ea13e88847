# Shared by frameparse.bats, sessionwriter.bats and sessionrecover.bats:
# an Android-like clip (SPS/PPS only once) and the record stream writer.

# android_clip FILE: make_clip's phone-shaped clip: 2 s at 30 fps, a key
# frame every 30, SPS/PPS only at the start; 61 units: config + 60 pictures.
android_clip() {
	make_clip "$1"
}

mkrec() {
	$PY "$REPO/tests/mkrec.py" "$@"
}

# jget FILE KEY: one top-level value of a JSON file, as Python prints it
# (None, True, numbers, strings).
jget() {
	$PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# The only folder under DIR (fails unless there is exactly one).
only_session() {
	local n
	n=$(find "$1" -mindepth 1 -maxdepth 1 -type d | wc -l)
	[ "$n" -eq 1 ] || { echo "expected 1 session in $1, found $n" >&2; return 1; }
	find "$1" -mindepth 1 -maxdepth 1 -type d
}

# Lines of index.tsv after the header.
index_lines() {
	tail -n +2 "$1/index.tsv" | wc -l
}

# Decodable frames in an H.264 file, by ffprobe.
decoded_frames() {
	ffprobe -v error -count_frames -select_streams v:0 \
		-show_entries stream=nb_read_frames -of csv=p=0 -f h264 "$1"
}
