#!/usr/bin/env bats
# A short kill soak (bench/killsoak.sh, two rounds): SIGKILL to a random
# process of a recorder while camsim phones record, a restart, and every
# session folder checked. make soak runs it for 100 rounds.

bats_require_minimum_version 1.5.0
load helper

@test "killsoak: two rounds of SIGKILL and restart leave every session consistent and finalized" {
	cd "$BATS_TEST_TMPDIR"
	run -0 timeout 600 env TMPDIR="$BATS_TEST_TMPDIR" "$REPO/bench/killsoak.sh" 2 2
	echo "# ${lines[*]: -2}" >&3
	[[ ${lines[-1]} == *"problems 0" ]]
	[[ ${lines[-1]} != "killsoak: sessions 0:"* ]]
}
