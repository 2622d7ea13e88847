#!/usr/bin/env bats
# frameparse on the current phone app's MP4 segments (JSON text messages):
# MP4s made by ffmpeg now, messages made by an independent Python writer,
# records read back by an independent Python reader.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	load helper
	cd "$BATS_FILE_TMPDIR"
	ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=30:duration=2 \
		-pix_fmt yuv420p -c:v libx264 -profile:v baseline -g 30 seg.mp4
	make_clip old.h264
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	cp "$BATS_FILE_TMPDIR"/seg.mp4 "$BATS_FILE_TMPDIR"/old.h264 .
}

seg() {
	"$BATS_TEST_DIRNAME/segment.py" "$@"
}

@test "frameparse: a segment becomes a segment record with the MP4 byte-exact" {
	{
		echo "open 1 path=/android-cam"
		echo "text 1 $(seg msg seg.mp4 20251221_195713_00 'qr=[{"confidence":0.5,"user_id":"u1"}]')"
		echo "text 1 {\"status\":\"capture_stopped\",\"message\":\"stopped\"}"
		echo "close 1"
	} | "$BATS_TEST_DIRNAME/mkrec.py" >in.rec
	run --separate-stderr frameparse in.rec
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	frameparse in.rec >out.rec
	run seg list out.rec
	[ "$output" = "segment 1 '20251221_195713_00' $(stat -c %s seg.mp4) $(stat -c %s seg.mp4) [{\"confidence\":0.5,\"user_id\":\"u1\"}]" ]
	seg mp4 out.rec 1 got.mp4
	cmp got.mp4 seg.mp4
	# The status text goes on; the segment's text does not.
	[ "$(recdump out.rec | grep -c ' text ')" -eq 1 ]
	recdump out.rec | grep -q 'text "{\\"status\\":\\"capture_stopped\\"'
}

@test "frameparse: escaped slashes, spaces and a nested data key still decode" {
	b64=$(base64 -w0 seg.mp4)
	esc=${b64//\//\\/}
	size=$(stat -c %s seg.mp4)
	{
		echo "open 1 path=/android-cam"
		echo "text 1 {\"type\":\"mp4_segment\",\"segment_id\":\"a\",\"data\":\"$esc\",\"size\":$size}"
		echo "text 1 { \"type\" : \"mp4_segment\", \"segment_id\" : \"b\", \"data\" : \"$b64\", \"size\" : $size }"
		echo "text 1 {\"qr_results\":[{\"data\":\"x\"}],\"type\":\"mp4_segment\",\"segment_id\":\"c\",\"data\":\"$b64\",\"size\":$size}"
		echo "close 1"
	} | "$BATS_TEST_DIRNAME/mkrec.py" >in.rec
	frameparse in.rec >out.rec
	run seg list out.rec
	[ "${lines[0]}" = "segment 1 'a' $size $size []" ]
	[ "${lines[1]}" = "segment 1 'b' $size $size []" ]
	[ "${lines[2]}" = "segment 1 'c' $size $size [{\"data\":\"x\"}]" ]
	for k in 1 2 3; do
		seg mp4 out.rec "$k" "got$k.mp4"
		cmp "got$k.mp4" seg.mp4
	done
}

@test "frameparse: broken segments become badsegment records, one stderr line each" {
	head -c 5000 /dev/urandom >junk.bin
	{
		echo "open 1 path=/android-cam"
		echo "open 2 path=/android-cam"
		echo "text 1 $(seg msg seg.mp4 s1 size=5)"
		echo "text 1 $(seg msg seg.mp4 s2 data='QUJD$$$$')"
		echo "text 1 $(seg msg seg.mp4 s3 data='QUJ')"
		echo "text 1 $(seg msg junk.bin s4)"
		echo 'text 1 {"type":"mp4_segment","segment_id":"s5","data":"QUJD'
		echo 'text 1 {"type":"mp4_segment","segment_id":7,"data":"","size":0}'
		echo "text 1 $(seg msg seg.mp4 $'../../x\n\x01')"
		echo "clip 2 old.h264 count=3"
		echo "text 1 $(seg msg seg.mp4 good)"
		echo "close 1"
		echo "close 2"
	} | "$BATS_TEST_DIRNAME/mkrec.py" >in.rec
	run --separate-stderr frameparse in.rec
	[ "$status" -eq 0 ]
	echo "$stderr"
	[ "${stderr_lines[0]}" = "frameparse: conn 1 segment s1: size 5 but data decodes to $(stat -c %s seg.mp4) bytes" ]
	[ "${stderr_lines[1]}" = "frameparse: conn 1 segment s2: data: not base64 at character 4" ]
	[ "${stderr_lines[2]}" = "frameparse: conn 1 segment s3: data: base64 length 3 is not a multiple of 4" ]
	[[ "${stderr_lines[3]}" == "frameparse: conn 1 segment s4: data is not an MP4 file: "* ]]
	[[ "${stderr_lines[4]}" == "frameparse: conn 1 segment (no id): not JSON: "* ]]
	[ "${stderr_lines[5]}" = "frameparse: conn 1 segment (no id): segment_id missing or not a string" ]
	[ "${#stderr_lines[@]}" -eq 6 ]
	frameparse in.rec 2>/dev/null >out.rec
	run seg list out.rec
	[ "${#lines[@]}" -eq 8 ]
	[[ "${lines[0]}" == "badsegment 1 's1' 4 size 5 but data decodes to "* ]]
	[[ "${lines[3]}" == "badsegment 1 's4' 5 data is not an MP4 file: "* ]]
	[[ "${lines[4]}" == "badsegment 1 '' 1 not JSON: "* ]]
	# A hostile id is kept as the phone sent it: making a name of it is
	# sessionwriter's business.
	[ "${lines[6]}" = "segment 1 '../../x\\n\\x01' $(stat -c %s seg.mp4) $(stat -c %s seg.mp4) []" ]
	[ "${lines[7]}" = "segment 1 'good' $(stat -c %s seg.mp4) $(stat -c %s seg.mp4) []" ]
	# The old-protocol phone beside it is untouched.
	[ "$("$BATS_TEST_DIRNAME/mkrec.py" --frames out.rec | grep -c '^frame 2 ')" -eq 3 ]
}

@test "frameparse: texts of ESP32 boards and other texts pass through" {
	{
		echo "open 1 path=/esp"
		echo "text 1 $(seg msg seg.mp4 s1)"
		echo "open 2 path=/android-cam"
		echo 'text 2 {"status":"error","message":"mp4_segment too large"}'
		echo "close 1"
		echo "close 2"
	} | "$BATS_TEST_DIRNAME/mkrec.py" >in.rec
	run --separate-stderr frameparse in.rec
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	frameparse in.rec >out.rec
	[ "$(recdump out.rec | grep -c ' text ')" -eq 2 ]
	run seg list out.rec
	[ -z "$output" ]
}

# segdir DIR FILE...: a session folder of segments with its segments.tsv.
segdir() {
	local d=$1 f i=0
	shift
	mkdir -p "$d"
	printf '#camrec-segments 1\tseq\tfile\tarrival_us\tsize\tsha256\tid\n' >"$d/segments.tsv"
	for f in "$@"; do
		i=$((i + 1))
		[ -e "$d/$f" ] || cp seg.mp4 "$d/$f"
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$i" "$f" $((i * 2000000)) \
			"$(stat -c %s "$d/$f" 2>/dev/null || echo 0)" \
			"$(sha256sum "$d/$f" 2>/dev/null | cut -c1-64)" "${f%.mp4}" >>"$d/segments.tsv"
	done
}

@test "mux -g: segments joined in order, every frame, without re-encoding" {
	segdir s a_00.mp4 a_01.mp4 a_02.mp4
	run --separate-stderr mux -g s s/stream.mp4
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames \
		-of csv=p=0 s/stream.mp4)" -eq 180 ]
	[ "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 s/stream.mp4)" = h264 ]
	# Stream copy: the pictures are the segment's, bit for bit.
	ffmpeg -nostdin -v error -i seg.mp4 -c copy -f h264 one.h264
	ffmpeg -nostdin -v error -i s/stream.mp4 -c copy -f h264 all.h264
	cat one.h264 one.h264 one.h264 | cmp - all.h264
	mux -g s/segments.tsv s/again.mp4
	cmp s/stream.mp4 s/again.mp4
}

@test "mux -g: names that leave the folder or do not exist are refused" {
	segdir s a_00.mp4
	printf '2\t../seg.mp4\t1\t1\tx\tx\n' >>s/segments.tsv
	run --separate-stderr mux -g s s/stream.mp4
	[ "$status" -eq 3 ]
	[ "$stderr" = "mux: s/segments.tsv: line 3: not a plain file name" ]
	segdir t a_00.mp4
	printf '2\tgone.mp4\t1\t1\tx\tx\n' >>t/segments.tsv
	run --separate-stderr mux -g t t/stream.mp4
	[ "$status" -eq 3 ]
	[ "$stderr" = "mux: t/segments.tsv: line 3: no such segment file" ]
	segdir u
	run --separate-stderr mux -g u u/stream.mp4
	[ "$status" -eq 3 ]
	[ "$stderr" = "mux: u/segments.tsv: no segment" ]
	run -2 mux -g u -r 30 u/stream.mp4
	[ ! -e s/stream.mp4 ]
	[ ! -e t/stream.mp4 ]
	[ ! -e u/stream.mp4 ]
}

@test "fpsest: a folder of segments gets its rate from the MP4 headers" {
	ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=15:duration=3 \
		-pix_fmt yuv420p -c:v libx264 -g 15 slow.mp4
	mkdir s
	cp slow.mp4 s/b_00.mp4
	cp slow.mp4 s/b_01.mp4
	segdir s b_00.mp4 b_01.mp4
	run --separate-stderr fpsest -v s
	[ "$status" -eq 0 ]
	[ "$output" = 15 ]
	[[ "$stderr" == *"segments: used: 90 pictures over 6.000 s in 2 of 2 segments"* ]]
	run fpsest s/segments.tsv
	[ "$output" = 15 ]
	printf 'x\n' >>s/segments.tsv
	run --separate-stderr fpsest s
	[ "$status" -eq 3 ]
	[ "$stderr" = "fpsest: s/segments.tsv: line 4: too few fields" ]
}

@test "finalize.sh: a folder of segments gets stream.mp4 and thumbnail.jpg" {
	segdir s c_00.mp4 c_01.mp4
	run finalize.sh s
	[ "$status" -eq 0 ]
	[ "$output" = "s segments=2 fps=30 mp4=ok thumbnail=ok" ]
	[ "$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames \
		-of csv=p=0 s/stream.mp4)" -eq 120 ]
	[ "$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 s/thumbnail.jpg)" = 320,240 ]
	mkdir empty
	run --separate-stderr finalize.sh empty
	[ "$status" -eq 3 ]
	[ "$stderr" = "finalize.sh: empty: neither stream.h264, segments.tsv nor stream.mjpeg" ]
}
