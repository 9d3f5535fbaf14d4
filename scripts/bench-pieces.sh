#!/bin/sh
# bench-pieces.sh: the cost per piece (issue 17, target 4): bittorrent
# downloading the same payload made into 16 KiB pieces (65,536 for 1 GiB)
# and into 1 MiB pieces (1,024), from one local libtorrent seeder, rounds
# alternating; prints the throughput and CPU of the small pieces as
# ratios to the large ones (target: at least 0.9x the throughput, at most
# 1.2x the CPU). bench-download.sh with these settings: BENCH_SIZE,
# BENCH_RUNS, BENCH_CLIENTS (default bittorrent) and BENCH_DIR pass through.
exec env BENCH_SEEDERS=1 BENCH_PIECES="14 20" \
    BENCH_CLIENTS="${BENCH_CLIENTS:-bittorrent}" \
    bash "$(dirname "$0")/bench-download.sh"
