#!/usr/bin/env bats
# ESP32 boards recorded: real sockets (camsim --esp, python3-websockets
# boards), wsrecv | frameparse | sessionwriter or the whole camrec.sh, and
# the real ffmpeg for the MP4.
load helper
load sw_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	mkdir jpeg
	# Real JPEG images of changing content, as a board's camera gives.
	ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=size=320x240:rate=10:duration=1 \
		-q:v 5 jpeg/i%02d.jpg
	port=$(free_port)
	pids=
}

teardown() {
	local p
	for p in $pids ${camrec_pid:-}; do
		kill "$p" 2>/dev/null || :
	done
	wait 2>/dev/null || :
}

# wsrecv | frameparse | sessionwriter on $port into ./rec, with the
# sessionwriter options given.
pipeline() {
	mkfifo records frames
	wsrecv -H 127.0.0.1 -p "$port" -c ctl.fifo >records 2>wsrecv.err &
	wsrecv_pid=$!
	pids="$pids $!"
	tee traffic.rec <records | frameparse >frames 2>frameparse.err &
	pids="$pids $!"
	sessionwriter -d rec --status status.json "$@" <frames >ended 2>sw.err &
	sw_pid=$!
	pids="$pids $sw_pid"
	wait_port "$port"
}

board() {
	$PY "$REPO/tests/espsend.py" "ws://127.0.0.1:$port/esp" jpeg/i01.jpg "$@" >board.out
}

# camrec.sh in the background on $port, recordings in ./rec.
start_camrec() {
	camrec.sh -p "$port" -d rec -R run "$@" </dev/null 2>camrec.log &
	camrec_pid=$!
	wait_for "[ -s run/status.json ]" 10
	wait_port "$port"
}

stop_camrec() {
	kill -TERM "$camrec_pid"
	wait_for "! kill -0 $camrec_pid" 20
	wait "$camrec_pid"
	local rc=$?
	camrec_pid=
	return $rc
}

c() {
	ctl -c run/ctl.fifo -s run/status.json "$@"
}

@test "esp: a message that is no whole JPEG is an error record and a stderr line, never stored" {
	pipeline
	board good nosoi noeoi tiny good
	grep -qx done board.out
	kill "$wsrecv_pid"
	wait_for "[ -s ended ]" 10
	wait "$sw_pid"
	bport=$(awk '$1 == "open" { print $2 }' board.out)
	recdump traffic.rec >/dev/null
	frameparse traffic.rec 2>/dev/null | recdump >dump
	grep -c ' image number=' dump | grep -qx 2
	grep -q ' image number=1 size=320x240 ' dump
	grep -q ' image number=2 size=320x240 ' dump
	[ "$(grep -c ' badimage ' dump)" -eq 3 ]
	grep -q 'badimage len=[0-9]* reason="image of [0-9]* bytes does not start with a JPEG SOI (FF D8)"' dump
	grep -q 'badimage len=[0-9]* reason="image of [0-9]* bytes does not end with a JPEG EOI (FF D9): cut short?"' dump
	grep -q 'badimage len=3 reason="image of 3 bytes too short for a JPEG"' dump
	# One line each on stderr, naming the connection.
	[ "$(wc -l <frameparse.err)" -eq 3 ]
	grep -q '^frameparse: conn 1: image of [0-9]* bytes does not start with a JPEG SOI' frameparse.err
	# The session holds the two good images and nothing else.
	dir=$(only_session rec)
	[[ "$dir" == rec/127.0.0.1_${bport}_[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]_[0-9][0-9][0-9][0-9][0-9][0-9] ]]
	cat jpeg/i01.jpg jpeg/i01.jpg | cmp - "$dir/stream.mjpeg"
	[ "$(index_lines "$dir")" -eq 2 ]
	[ "$(jget "$dir/session.json" kind)" = images ]
	[ "$(jget "$dir/session.json" frames)" -eq 2 ]
	[ "$(jget "$dir/session.json" bad_frames)" -eq 3 ]
	[ "$(jget "$dir/session.json" width)" -eq 320 ]
	[ "$(jget "$dir/session.json" ended_by)" = close ]
}

@test "esp: a gap longer than --esp-idle ends the session by the clock; the next image opens another" {
	pipeline --esp-idle 1
	board good good sleep:5 good &
	pids="$pids $!"
	# The first session closes while the board is silent.
	wait_for "grep -q '^closed ' ended" 4
	[ "$(find rec -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 1 ]
	run ! grep -q done board.out
	wait_for "grep -qx done board.out" 10
	wait_for "[ \$(grep -c '^closed ' ended) -eq 2 ]" 10
	first=$(sed -n 's/^closed //p' ended | head -1)
	second=$(sed -n 's/^closed //p' ended | tail -1)
	[ "$(jget "$first/session.json" ended_by)" = idle ]
	[ "$(jget "$first/session.json" frames)" -eq 2 ]
	[ "$(jget "$second/session.json" frames)" -eq 1 ]
	[ "$(jget "$second/session.json" ended_by)" = close ]
}

@test "esp: an acknowledged stop ends the session, a start begins the next one" {
	pipeline
	# The commands go through wsrecv's control FIFO, as ctl writes them;
	# the board answers as the real sketch does.
	$PY "$REPO/tests/espsend.py" "ws://127.0.0.1:$port/esp" jpeg/i01.jpg \
		good good reply:"ACK: 停止采集" reply:"ACK: 开始采集 (分辨率: HD, 质量: 12)" \
		good sleep:1 >board.out &
	pids="$pids $!"
	wait_for "grep -q open board.out" 10
	wait_for "[ \$(grep -c . rec/*/index.tsv 2>/dev/null) -eq 3 ]" 10
	# A text that answers no command ends nothing.
	[ ! -s ended ]
	ctl -c ctl.fifo -w 0 esp stop >/dev/null
	wait_for "grep -q '^closed ' ended" 10
	ctl -c ctl.fifo -w 0 esp start HD 12 >/dev/null
	wait_for "grep -qx done board.out" 10
	wait_for "[ \$(grep -c '^closed ' ended) -eq 2 ]" 10
	first=$(sed -n 's/^closed //p' ended | head -1)
	second=$(sed -n 's/^closed //p' ended | tail -1)
	[ "$(jget "$first/session.json" ended_by)" = stop ]
	[ "$(jget "$first/session.json" frames)" -eq 2 ]
	[ "$(jget "$second/session.json" started_by)" = start ]
	$PY -c 'import json,sys; m = json.load(open(sys.argv[1]))["capture_message"]
assert m == "ACK: 开始采集 (分辨率: HD, 质量: 12)", ascii(m)' "$second/session.json"
	[ "$(jget "$first/session.json" capture_message)" = None ]
	[ "$(jget "$second/session.json" frames)" -eq 1 ]
}

@test "esp: --images keeps the newest N across runs, numbers going on, older ones deleted" {
	hex=$(od -An -tx1 -v jpeg/i01.jpg | tr -d ' \n')
	for run in 1 2; do
		{
			echo "open 1 path=/esp"
			for i in 1 2 3 4; do echo "raw 1 $hex"; done
			echo "raw 1 ffd8ff"
			echo "close 1"
		} | mkrec -o "in$run.rec"
		frameparse "in$run.rec" 2>/dev/null | sessionwriter -d rec -s 0 --images=3 >/dev/null
	done
	ls rec/images >names
	[ "$(wc -l <names)" -eq 3 ]
	sed 's/^frame_[0-9]\{8\}_[0-9]\{6\}_\([0-9]*\)\.jpg$/\1/' names | sort -n | tr '\n' ' ' >seqs
	[ "$(cat seqs)" = "6 7 8 " ]
	for f in rec/images/*; do cmp "$f" jpeg/i01.jpg; done
	# Each run made its own session of the four good images.
	[ "$(find rec -name stream.mjpeg | wc -l)" -eq 2 ]
	run -0 ls -A rec/images
	[ "$(wc -l <<<"$output")" -eq 3 ]
}

@test "esp: kill -9 mid-session, then sessionrecover: a torn image cut off, the rest finalized" {
	hex=$(od -An -tx1 -v jpeg/i01.jpg | tr -d ' \n')
	{
		echo "open 1 path=/esp"
		for i in 1 2 3; do echo "raw 1 $hex"; done
		echo "pause 30"
	} >desc
	mkfifo pipe
	sessionwriter -d rec -s 1 pipe >out 2>err &
	sw=$!
	pids="$pids $sw"
	(mkrec desc | frameparse >pipe) &
	pids="$pids $!"
	wait_for "[ \$(cat rec/*/index.tsv 2>/dev/null | wc -l) -eq 4 ]" 15
	dir=$(only_session rec)
	# The lock keeps sessionrecover away from a live session.
	run -4 sessionrecover "$dir"
	kill -9 "$sw"
	wait "$sw" || :
	[ "$(jget "$dir/session.json" state)" = recording ]
	# A crash in the middle of the fourth image's write.
	head -c 1000 jpeg/i01.jpg >>"$dir/stream.mjpeg"
	run -0 sessionrecover "$dir"
	[ "$(jget "$dir/session.json" state)" = recovered ]
	[ "$(jget "$dir/session.json" frames)" -eq 3 ]
	[ "$(jget "$dir/session.json" first_device_ms)" = None ]
	cat jpeg/i01.jpg jpeg/i01.jpg jpeg/i01.jpg | cmp - "$dir/stream.mjpeg"
	run -0 finalize.sh "$dir"
	[[ "$output" == *"images=3 "*"mp4=ok thumbnail=ok" ]]
	ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
		-of csv=p=0 "$dir/stream.mp4" | grep -qx 3
	# Finalized, it is a session prune may delete; the images folder is none.
	mkdir rec/images
	cp jpeg/i02.jpg rec/images/frame_20261201_000000_1.jpg
	run -0 prune --max-total "$(($(du -sk rec | cut -f1) - $(du -sk "$dir" | cut -f1) + 4))K" rec
	[ ! -e "$dir" ]
	[ -f rec/images/frame_20261201_000000_1.jpg ]
}

@test "esp: invalid board commands are refused before anything is sent" {
	pipeline
	$PY "$REPO/tests/fakephone.py" --esp "ws://127.0.0.1:$port/esp" >fake.out &
	pids="$pids $!"
	wait_for "grep -q '\"kind\":\"esp\"' status.json" 10
	run -2 --separate-stderr ctl -c ctl.fifo -s status.json esp start VGAA 12
	[[ "$stderr" == *'bad ESP frame size "VGAA": expected one of QQVGA QCIF HQVGA 240X240 QVGA CIF HVGA VGA SVGA XGA HD SXGA UXGA FHD P_HD P_3MP QXGA'* ]]
	run -2 --separate-stderr ctl -c ctl.fifo -s status.json esp start HD 64
	[[ "$stderr" == *'bad ESP quality "64": expected a whole number from 1 to 63 (lower is better)'* ]]
	run -2 --separate-stderr ctl -c ctl.fifo -s status.json esp start HD 0
	run -2 --separate-stderr ctl -c ctl.fifo -s status.json esp start '{"command":"start"}'
	# Then a good one, which the board answers: it is the only command it saw.
	run -0 ctl -c ctl.fifo -s status.json -w 5 esp start hd 12
	[[ "$output" == *'esp: confirmed: "ACK: start HD 12"'* ]]
	diff -u - <(grep '^text' fake.out) <<'EOF'
text start HD 12
EOF
	recdump traffic.rec | grep -c ' sent ' | grep -qx 1
}

@test "esp: recorded end to end through camrec.sh with camsim --esp: folder, index, stream.mp4 timed by arrival, thumbnail, newest images, fps in ctl list" {
	start_camrec -I 5
	camsim --esp -u "ws://127.0.0.1:$port/esp" --jpeg jpeg --fps 10 --jitter 60 2>camsim.log &
	pids="$pids $!"
	wait_for "ctl -s run/status.json list | grep -q ' esp '" 10
	run -0 c -w 5 esp start HD 12
	[[ "$output" == *'esp: confirmed: "ACK: streaming started HD quality 12"'* ]]
	wait_for "[ \$(cat rec/*/index.tsv 2>/dev/null | wc -l) -ge 26 ]" 20
	# Received fps, measured by sessionwriter from arrival times.
	run -0 c list
	fps=$(awk '$4 == "esp" { print $6 }' <<<"$output")
	[ "$(awk -v f="$fps" 'BEGIN { print (f >= 4 && f <= 16) }')" -eq 1 ]
	run -0 c -w 5 esp stop
	[[ "$output" == *'esp: confirmed: "ACK: streaming stopped"'* ]]
	wait_for "grep -q 'mp4=ok thumbnail=ok' camrec.log" 60
	dir=$(find rec -mindepth 1 -maxdepth 1 -type d -name '127.0.0.1_*')
	[[ "$dir" == rec/127.0.0.1_[0-9]*_[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]_[0-9][0-9][0-9][0-9][0-9][0-9] ]]
	[ "$(jget "$dir/session.json" state)" = closed ]
	[ "$(jget "$dir/session.json" kind)" = images ]
	[ "$(jget "$dir/session.json" started_by)" = start ]
	[ "$(jget "$dir/session.json" ended_by)" = stop ]
	n=$(index_lines "$dir")
	[ "$n" -ge 25 ]
	# The index covers stream.mjpeg exactly, image after image.
	covered=$(awk -F '\t' 'NR > 1 { if ($4 != off || $6 != "jpeg") exit 1; off += $5 }
		END { print off }' "$dir/index.tsv")
	[ "$covered" -eq "$(stat -c %s "$dir/stream.mjpeg")" ]
	# stream.mp4: H.264 yuv420p, moov first, one frame per image, each
	# starting when its image arrived (to the millisecond).
	ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,pix_fmt,width,height \
		-of csv=p=0 "$dir/stream.mp4" | grep -qx 'h264,320,240,yuv420p'
	head -c 64 "$dir/stream.mp4" | grep -q moov || $PY - "$dir/stream.mp4" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, order = 0, []
while off + 8 <= len(d):
    size, kind = struct.unpack(">I4s", d[off:off + 8])
    order.append(kind)
    off += size if size else len(d)
assert order.index(b"moov") < order.index(b"mdat"), order
EOF
	ffprobe -v error -select_streams v:0 -show_entries packet=pts_time,duration_time \
		-of csv=p=0 "$dir/stream.mp4" >packets
	[ "$(wc -l <packets)" -eq "$n" ]
	$PY - "$dir/index.tsv" packets <<'EOF'
import statistics, sys
arr = [int(l.split("\t")[2]) for l in open(sys.argv[1]) if not l.startswith("#")]
pk = [tuple(map(float, l.split(","))) for l in open(sys.argv[2])]
pk.sort()
gaps = [b - a for a, b in zip(arr, arr[1:])]
assert max(gaps) - min(gaps) > 20000, "camsim --jitter should make the spacing irregular"
for i, (pts, dur) in enumerate(pk):
    want = (arr[i] - arr[0]) / 1e6
    assert abs(pts - want) <= 0.0015, (i, pts, want)
    if i + 1 < len(pk):
        assert abs(dur - gaps[i] / 1e6) <= 0.0025, (i, dur, gaps[i])
# The last image lasts the median spacing (either middle one of an even count).
lo, hi = statistics.median_low(gaps) / 1e6, statistics.median_high(gaps) / 1e6
assert lo - 0.0025 <= pk[-1][1] <= hi + 0.0025, (pk[-1], lo, hi)
EOF
	ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
		-of csv=p=0 "$dir/stream.mp4" | grep -qx "$n"
	ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 \
		"$dir/thumbnail.jpg" | grep -qx 'mjpeg,320,240'
	# The newest 5 images, as the old server kept them, are the session's last 5.
	[ "$(find rec/images -type f | wc -l)" -eq 5 ]
	for f in rec/images/*; do
		[[ "$f" =~ ^rec/images/frame_[0-9]{8}_[0-9]{6}_[0-9]+\.jpg$ ]]
	done
	$PY - "$dir" rec/images <<'EOF'
import os, re, sys
d, imgs = sys.argv[1], sys.argv[2]
data = open(os.path.join(d, "stream.mjpeg"), "rb").read()
ix = [l.split("\t") for l in open(os.path.join(d, "index.tsv")) if not l.startswith("#")]
last = [data[int(e[3]):int(e[3]) + int(e[4])] for e in ix[-5:]]
names = sorted(os.listdir(imgs), key=lambda n: int(re.search(r"_(\d+)\.jpg$", n).group(1)))
assert [open(os.path.join(imgs, n), "rb").read() for n in names] == last
EOF
	stop_camrec
}
