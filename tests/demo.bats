#!/usr/bin/env bats
# make demo's script: the whole job on loopback, and nothing left behind.

load helpers

@test "demo: seeds with btpeer --listen, downloads with bittorrent, verifies, cleans up" {
	run env TMPDIR="$T" timeout 300 sh "$TOP/scripts/demo.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"complete: $T/btdemo."*"/down/sample"* ]]
	[[ "$output" == *"sample: 257 pieces: 257 good, 0 bad, 0 missing"* ]]
	# Its temporary directory and its seeder are gone.
	[ -z "$(ls -A "$T")" ]
	! pgrep -f "btpeer --listen 127.0.0.1:0 -o $T/" >/dev/null
}
