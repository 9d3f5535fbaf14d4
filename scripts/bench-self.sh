#!/bin/sh
# bench-self.sh: our seeder to our leecher (issue 17, target 3): bittorrent
# --peer fetching from one `btpeer --listen` seeder, and a python3-
# libtorrent leecher from the same seeder for comparison, rounds
# alternating; MB/s to completion and CPU per GiB of each leecher's tree
# (the seeder's CPU is not counted). bench-download.sh with these
# settings: BENCH_SIZE, BENCH_RUNS, BENCH_SEEDERS (default 1), BENCH_CLIENTS
# and BENCH_DIR pass through.
exec env BENCH_SEEDER=btpeer BENCH_SEEDERS="${BENCH_SEEDERS:-1}" \
    BENCH_CLIENTS="${BENCH_CLIENTS:-bittorrent libtorrent}" \
    bash "$(dirname "$0")/bench-download.sh"
