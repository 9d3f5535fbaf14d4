#!/bin/sh
# bench.sh: every benchmark, one after the other (make bench). Each prints
# its own table of medians and ratios against a peer tool in the same run.
# BENCH_ONLY=name runs one of them (verify, peer, download, pieces, self,
# webseed, make, mse, utp); BENCH_SIZE and BENCH_RUNS apply to each.
#
# With the defaults (1 GiB, 3 rounds; 5 for make) the whole run takes
# about 20-30 minutes on the project's 2-core machine, most of it in
# download (about 10 minutes: five clients, one and four seeders,
# transmission-cli alone about 50 s a round); every download is bounded
# (600 s), so a stuck client cannot hang it. (At BENCH_SIZE=67108864
# BENCH_RUNS=1 all of it takes about 3 minutes.) Quiet machine wanted:
# the ratios are only as good as the machine is idle.
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0
for b in verify peer download pieces self webseed make mse utp; do
	[ -n "${BENCH_ONLY:-}" ] && [ "$BENCH_ONLY" != "$b" ] && continue
	s=$here/bench-$b.sh
	[ -f "$s" ] || { echo "bench: $b: not written yet"; continue; }
	echo "== bench-$b"
	t0=$(date +%s)
	# Each by the shell its first line names (download and mse are bash).
	case $(head -n 1 "$s") in
	*bash*) bash "$s" ;;
	*) sh "$s" ;;
	esac || status=1
	echo "(bench-$b: $(($(date +%s) - t0)) s)"
done
exit $status
