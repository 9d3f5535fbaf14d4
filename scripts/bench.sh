#!/bin/sh
# bench.sh: every benchmark, one after the other (make bench). Each prints
# its own table of medians and ratios against a peer tool in the same run.
# BENCH_ONLY=name runs one of them (verify, peer, download, webseed, make, mse, utp).
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0
for b in verify peer download webseed make mse utp; do
	[ -n "${BENCH_ONLY:-}" ] && [ "$BENCH_ONLY" != "$b" ] && continue
	s=$here/bench-$b.sh
	[ -f "$s" ] || { echo "bench: $b: not written yet"; continue; }
	echo "== bench-$b"
	sh "$s" || status=1
done
exit $status
