#!/usr/bin/env bats
# The fuzz harnesses (fuzz/, clang's libFuzzer under ASan + UBSan): the
# corpus in tests/fuzz/ replayed, then two seconds of new inputs each.
# make fuzz runs them for longer; RELIABILITY.md has the figures.

bats_require_minimum_version 1.5.0
load helper

setup_file() {
	command -v clang >/dev/null || skip "no clang"
	export FUZZ_O=$BATS_FILE_TMPDIR/o
	make -s -C "$REPO" O="$FUZZ_O" fuzz-build >"$BATS_FILE_TMPDIR/build.log" 2>&1
}

fuzz_briefly() {
	local n=$1
	command -v clang >/dev/null || skip "no clang"
	# The corpus, every input once, then 2 s of mutations (a copy, so
	# the tree's corpus stays as committed).
	run -0 "$FUZZ_O/fuzz/fuzz_$n" -runs=0 "$REPO/tests/fuzz/$n"
	mkdir -p corpus
	cp "$REPO/tests/fuzz/$n"/* corpus/
	run -0 "$FUZZ_O/fuzz/fuzz_$n" -max_total_time=2 -close_fd_mask=2 -timeout=10 -rss_limit_mb=1024 corpus
	[[ $output == *"Done "*" runs in "* ]]
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "fuzz: record stream reader and record parsers" { fuzz_briefly rec; }
@test "fuzz: H.264 reader" { fuzz_briefly h264; }
@test "fuzz: MP4 boxes" { fuzz_briefly mp4; }
@test "fuzz: index.tsv and segments.tsv readers" { fuzz_briefly index; }
@test "fuzz: base64, segment names, segments.tsv lines, token parameter" { fuzz_briefly text; }
@test "fuzz: ESP32 JPEG check" { fuzz_briefly jpeg; }
@test "fuzz: ctl's command grammar and status file reader" { fuzz_briefly ctl; }
@test "fuzz: frameparse's segment message parser" { fuzz_briefly segment; }
@test "fuzz: camconf's settings file schema and error positions" { fuzz_briefly conf; }
@test "fuzz: session.json readers (prune, the console's recordings list)" { fuzz_briefly session; }
@test "fuzz: wsrecv's control FIFO lines" { fuzz_briefly wsctl; }
@test "fuzz: frameparse's frame headers, board images and phone texts" { fuzz_briefly frameparse; }
