#!/usr/bin/env bash
# bench-download.sh: one torrent over loopback from the same local
# libtorrent seeder(s), downloaded by bittorrent, aria2c, ctorrent,
# transmission-cli and a python3-libtorrent leecher, runs alternating.
# Prints each client's median wall time, the CPU seconds of its whole
# process tree, its peak memory (summed RSS of the tree) and the ratios
# to bittorrent; once with one seeder and once with four.
#
# BENCH_SIZE (bytes, default 1 GiB), BENCH_RUNS (default 3),
# BENCH_SEEDERS (default "1 4"), BENCH_CLIENTS (default: bittorrent
# aria2c ctorrent transmission libtorrent; "btpeer" is one btpeer process
# into a spool, no btassemble), BENCH_REF (the client the ratios are to;
# default the first one), BENCH_PEER_ARGS (more btpeer options),
# BENCH_BTPEER_OLD (another btpeer binary, run as client "btpeer-old":
# an old build against the new in the same run),
# BENCH_DIR (default build/bench; the payload is cached there).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top/build/bin:$top/scripts:$PATH
H=$top/tests/helpers
size=${BENCH_SIZE:-1073741824}
runs=${BENCH_RUNS:-3}
seeders=${BENCH_SEEDERS:-1 4}
clients=${BENCH_CLIENTS:-bittorrent aria2c ctorrent transmission libtorrent}
ref=${BENCH_REF:-${clients%% *}}
btpeer_args=${BENCH_PEER_ARGS:-}
dir=${BENCH_DIR:-$top/build/bench}
limit=600	# seconds any one download may take

mkdir -p "$dir"
payload=$dir/payload-$size
if [ ! -s "$payload" ]; then
	echo "bench: generating $size bytes" >&2
	openssl enc -aes-128-ctr -nosalt -pass pass:bench -pbkdf2 </dev/zero \
	    2>/dev/null | head -c "$size" >"$payload.tmp" && mv "$payload.tmp" "$payload"
fi
work=$(mktemp -d "$dir/run.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$work/seed"
ln -f "$payload" "$work/seed/payload" 2>/dev/null || cp "$payload" "$work/seed/payload"
# 256 KiB pieces: what mktorrent picks for this size, and a common choice.
mktorrent -l 18 -a http://127.0.0.1:9/announce -o "$work/b.torrent" \
    "$work/seed/payload" >/dev/null || exit 1
cat >"$work/transmission.json" <<'JSON'
{"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
 "utp-enabled": false, "port-forwarding-enabled": false,
 "speed-limit-down-enabled": false, "speed-limit-up-enabled": false,
 "bind-address-ipv4": "127.0.0.1", "rpc-enabled": false,
 "peer-port-random-on-start": false}
JSON

# seeders N CONNECT: start N libtorrent seeders; each connects to CONNECT
# (a leecher's listening address) if given. Sets seedaddrs.
seedaddrs=()
start_seeders() {
	local n=$1 connect=$2 i line t
	seedaddrs=()
	for i in $(seq 1 "$n"); do
		/usr/bin/python3 "$H/lt_seed.py" "$work/b.torrent" "$work/seed" \
		    --seconds $((limit + 60)) ${connect:+--connect "$connect"} \
		    >"$work/seed$i.out" 2>/dev/null &
		pids+=("$!")
		# It prints "listening PORT" once bound; wait at most 30 s.
		for t in $(seq 300); do
			line=$(head -n 1 "$work/seed$i.out")
			[ -n "$line" ] && break
			sleep 0.1
		done
		[ -n "$line" ] || { echo "bench: seeder $i did not start ($t)" >&2; exit 1; }
		seedaddrs+=("127.0.0.1:${line#listening }")
	done
}
stop_seeders() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	pids=()
}

port=17000
run_client() {
	local c=$1 n=$2 out res peerargs=() a i np bin
	out=$work/out-$c
	rm -rf "$out" "$work/cfg"
	mkdir -p "$out"
	port=$((port + 1))
	case $c in
	bittorrent)
		start_seeders "$n" ""
		for a in "${seedaddrs[@]}"; do peerargs+=(--peer "$a"); done
		res=$(/usr/bin/python3 "$H/bench_run.py" $limit bittorrent \
		    -t "$work/b.torrent" -o "$out" "${peerargs[@]}")
		;;
	btpeer | btpeer-old)
		bin=btpeer
		[ "$c" = btpeer-old ] && bin=${BENCH_BTPEER_OLD:?}
		start_seeders "$n" ""
		# shellcheck disable=SC2086 # split on purpose
		res=$(/usr/bin/python3 "$H/bench_run.py" $limit "$bin" $btpeer_args \
		    --spool "$out/sp" "$work/b.torrent" "${seedaddrs[0]}")
		# The spool's pieces in order are the payload.
		np=$(btinfo "$work/b.torrent" | jq .piece_count)
		for ((i = 0; i < np; i++)); do cat "$out/sp/pieces/$i"; done \
		    >"$out/payload" 2>/dev/null
		;;
	aria2c)
		start_seeders "$n" "127.0.0.1:$port"
		res=$(/usr/bin/python3 "$H/bench_run.py" $limit aria2c -q \
		    -d "$out" --seed-time=0 --enable-dht=false \
		    --enable-dht6=false --bt-enable-lpd=false \
		    --enable-peer-exchange=false --disable-ipv6=true \
		    --interface=127.0.0.1 --listen-port=$port \
		    --file-allocation=none --bt-stop-timeout=0 "$work/b.torrent")
		;;
	ctorrent)
		# ctorrent ignores peers on its own address: give it another.
		start_seeders "$n" "127.0.0.2:$port"
		res=$(cd "$out" && /usr/bin/python3 "$H/bench_run.py" $limit \
		    ctorrent -i 127.0.0.2 -p $port -s "$out/payload" -e 0 \
		    "$work/b.torrent")
		;;
	transmission)
		# transmission 3.00 ignores 127.x peers it is told about: the
		# seeders connect to it. Its finish script ends it.
		mkdir -p "$work/cfg"
		cp "$work/transmission.json" "$work/cfg/settings.json"
		# shellcheck disable=SC2016 # expanded by the finish script
		printf '#!/bin/sh\nkill -TERM "$(cat %s)"\n' "$work/tr.pid" >"$work/fin.sh"
		chmod +x "$work/fin.sh"
		start_seeders "$n" "127.0.0.1:$port"
		# shellcheck disable=SC2016 # expanded by sh -c
		res=$(/usr/bin/python3 "$H/bench_run.py" $limit sh -c \
		    'echo $$ >"$1"; exec transmission-cli -g "$2" -p "$3" -w "$4" -f "$5" "$6" 2>/dev/null' \
		    sh "$work/tr.pid" "$work/cfg" $port "$out" "$work/fin.sh" "$work/b.torrent")
		;;
	libtorrent)
		start_seeders "$n" ""
		for a in "${seedaddrs[@]}"; do peerargs+=(--connect "$a"); done
		res=$(/usr/bin/python3 "$H/bench_run.py" $limit /usr/bin/python3 \
		    "$H/lt_seed.py" --leech --seconds $limit "${peerargs[@]}" \
		    "$work/b.torrent" "$out")
		;;
	esac
	stop_seeders
	if cmp -s "$payload" "$out/payload"; then
		echo "$c $n $res" >>"$work/results"
		echo "bench: $c, $n seeder(s): $res" >&2
	else
		echo "bench: $c, $n seeder(s): FAILED ($res)" >&2
	fi
	rm -rf "$out"
}

: >"$work/results"
for n in $seeders; do
	for _ in $(seq 1 "$runs"); do
		for c in $clients; do
			run_client "$c" "$n"
		done
	done
done

# Medians per client and seeder count, and ratios to the reference.
awk -v size="$size" -v ref="$ref" '
function median(s,   a, k, i, j, t) {
	k = split(s, a, " ")
	for (i = 2; i <= k; i++)	# insertion sort: a handful of runs
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{ key = $2 " " $1; wall[key] = wall[key] " " $3; cpu[key] = cpu[key] " " $4
  mem[key] = mem[key] " " $5; if (!(key in seen)) { order[++n] = key; seen[key] = 1 } }
END {
	gib = size / 1073741824
	printf "%-8s %-13s %9s %9s %10s %9s %10s %10s\n", "seeders", "client",
	    "median_s", "MB/s", "cpu_s/GiB", "peak_MiB", "time/ref", "cpu/ref"
	for (i = 1; i <= n; i++) {
		split(order[i], k, " ")
		bt = k[1] " " ref
		w = median(wall[order[i]]); c = median(cpu[order[i]])
		m = median(mem[order[i]])
		wb = (bt in seen) ? median(wall[bt]) : 0
		cb = (bt in seen) ? median(cpu[bt]) : 0
		printf "%-8s %-13s %9.2f %9.1f %10.2f %9.1f %10s %10s\n", k[1], k[2],
		    w, size / w / 1e6, c / gib, m / 1024,
		    wb ? sprintf("%.2f", w / wb) : "-", cb ? sprintf("%.2f", c / cb) : "-"
	}
}' "$work/results"
