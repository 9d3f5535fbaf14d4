#!/bin/sh
# bench-peer.sh: btpeer alone (one process into a spool, no btassemble)
# against aria2c, ctorrent and a python3-libtorrent leecher, from one local
# libtorrent seeder: bench-download.sh with these clients and btpeer as
# the reference. BENCH_SIZE, BENCH_RUNS, BENCH_PEER_ARGS and BENCH_DIR
# are passed through (see bench-download.sh).
exec env BENCH_SEEDERS=1 BENCH_REF=btpeer \
    BENCH_CLIENTS="${BENCH_CLIENTS:-btpeer aria2c ctorrent libtorrent}" \
    bash "$(dirname "$0")/bench-download.sh"
