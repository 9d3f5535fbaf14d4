#!/usr/bin/env bats
# Scale (make check-long): a download from 200 peers (btpeer --listen
# seeders on 127.0.0.2-5) beside one from 4, through
# scripts/bench-scale.sh; the figures go to the TAP output.

load ../helpers

@test "scale: 200 peers: complete and exact, one small process each, descriptors bounded" {
	run env BENCH_MIB=64 sh "$BATS_TEST_DIRNAME/../../scripts/bench-scale.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	sed 's/^/# /' <<<"$output" >&3
	row=$(awk '$1 == 200' <<<"$output")
	read -r _ _ _ _ _ peer _ fds procs _ <<<"$row"
	# Many ran at once (how many depends on how fast the first finish:
	# 4 peers make 7 processes).
	[ "$procs" -ge 50 ]
	# The largest btpeer (goal 8 MiB, most of it shared libraries).
	[ "${peer%.*}" -lt 12 ]
	# A handful of descriptors a process.
	[ "$fds" -le $((procs * 16)) ]
}
