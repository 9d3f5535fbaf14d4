#!/bin/sh
# bench-scale.sh: bittorrent downloading from 4 and from 200 peers (our
# own btpeer --listen seeders on 127.0.0.2-5): wall time, CPU per GiB,
# peak total RSS of the tree, its largest process, descriptors,
# processes. Ratios of the two runs are the figure; absolute numbers
# depend on the machine. BENCH_MIB sets the payload (default 64);
# BT_BIN the tools (default build/bin).
set -eu
cd "$(dirname "$0")/.."
PATH=${BT_BIN:-$(pwd)/build/bin}:$(pwd)/scripts:$PATH
export PATH LC_ALL=C
mib=${BENCH_MIB:-64}
w=$(mktemp -d)
pids=
# shellcheck disable=SC2086 # the pids are meant to split
trap 'kill $pids 2>/dev/null; rm -rf "$w"' EXIT INT TERM
mkdir -p "$w/src"
openssl enc -aes-128-ctr -nosalt -pass pass:scale -pbkdf2 </dev/zero \
    2>/dev/null | head -c $((mib << 20)) >"$w/src/data.bin"
mktorrent -l 17 -o "$w/s.torrent" "$w/src/data.bin" >/dev/null
# 200 listeners, 50 on each of four loopback addresses.
k=0
while [ "$k" -lt 200 ]; do
	a=127.0.0.$((2 + k / 50))
	btpeer --listen "$a:0" -o "$w/src" "$w/s.torrent" >"$w/l.$k" 2>&1 &
	pids="$pids $!"
	k=$((k + 1))
done
k=0
while [ "$k" -lt 200 ]; do
	i=0
	until grep -q '^listening' "$w/l.$k" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -gt 100 ] && { echo "listener $k did not start" >&2; exit 1; }
		sleep 0.1
	done
	printf -- '--peer\n127.0.0.%d:%s\n' $((2 + k / 50)) \
	    "$(awk '/^listening/ { print $2 }' "$w/l.$k")" >>"$w/peers"
	k=$((k + 1))
done
run() {	# run N: a download from the first N peers
	rm -rf "$w/out" "$w/sp"
	# shellcheck disable=SC2046 # one --peer, one address a line
	/usr/bin/python3 tests/helpers/tree_stats.py 600 bittorrent -q \
	    -t "$w/s.torrent" -o "$w/out" --spool "$w/sp" --port 0 \
	    --max-peers "$1" $(head -n $(($1 * 2)) "$w/peers") >"$w/stats.$1"
	cmp "$w/src/data.bin" "$w/out/data.bin"
}
run 4
run 200
printf '%-6s %7s %9s %8s %8s %9s %12s %6s %6s\n' peers wall_s \
    cpu_s/GiB rss_MiB pss_MiB peer_MiB max_rss_MiB fds procs
for n in 4 200; do
	awk -v n="$n" -v mib="$mib" '{ v[$1] = $2 } END {
	    printf "%-6d %7.1f %9.1f %8.1f %8.1f %9.1f %12.1f %6d %6d  (%s)\n",
	    n, v["wall_s"], v["cpu_s"] * 1024 / mib, v["rss_kib"] / 1024,
	    v["pss_kib"] / 1024, v["peer_rss_kib"] / 1024,
	    v["max_rss_kib"] / 1024, v["fds"], v["procs"], v["max_rss_comm"] }' \
	    "$w/stats.$n"
done
