#!/usr/bin/env bash
# bench-download.sh: one torrent over loopback from the same local
# seeder(s), downloaded by bittorrent, aria2c, ctorrent, transmission-cli
# and a python3-libtorrent leecher, rounds alternating between clients;
# once with one seeder and once with four. Prints per client the median
# time to completion, MB/s, the CPU seconds per GiB of its whole process
# tree, its peak memory (PSS summed over the tree: shared pages divided
# among the processes that map them; also summed RSS, which counts a
# shared library once per process, and RSS without shared and
# file-backed pages) and the ratios to bittorrent (time and CPU). Every
# client's memory is measured the same way (tests/helpers/bench_run.py).
#
# Every client is timed the same way: to the moment its download is
# complete, through its own completion hook, not to its exit:
#   bittorrent    its "complete: PATH" line on stdout (printed once
#                 btassemble has placed every piece and the final btverify
#                 passed; it exits right after)
#   aria2c        --on-bt-download-complete=CMD
#   ctorrent      -X CMD
#   transmission  -f SCRIPT
#   libtorrent    lt_seed.py --leech's "done" line, at its torrent_finished
#                 alert
#   btpeer        its exit (it exits as the last piece is in the spool)
# The CPU is the tree's user+system time up to that moment (see
# tests/helpers/bench_run.py: the tree is stopped there and counted). While
# it is stopped the output is compared with the payload: the @done column
# counts the runs whose data was all in the files at the moment the clock
# stopped. The median time to the client's exit is printed too (exit_s),
# as a check of the timing points; a client gets BENCH_GRACE seconds
# (default 30) after completion to exit before it is killed.
# transmission-cli 3.00 says it is interested in a new peer only at its
# next rechoke (every 10 s): 10-15 s of each of its runs is that wait.
#
# BENCH_SIZE (bytes, default 1 GiB), BENCH_RUNS (default 3),
# BENCH_SEEDERS (default "1 4"), BENCH_CLIENTS (default: bittorrent
# aria2c ctorrent transmission libtorrent; "btpeer" is one btpeer process
# into a spool, no btassemble), BENCH_REF (the client the ratios are to;
# default the first one), BENCH_PIECES (piece sizes as powers of two,
# default 18: 256 KiB; several give a table of each against the largest),
# BENCH_SEEDER (lt: python3-libtorrent, the default; btpeer: our own
# `btpeer --listen` over a spool of the complete payload, as bittorrent
# seeds, which only leechers that dial out can use: bittorrent,
# btpeer, libtorrent), BENCH_PEER_ARGS (more btpeer options),
# BENCH_BTPEER_OLD (another btpeer binary, run as client "btpeer-old":
# an old build against the new in the same run), BENCH_CHECK (0: no
# comparison at completion), BENCH_DIR (default build/bench; the payload
# is cached there).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top/build/bin:$top/scripts:$PATH
H=$top/tests/helpers
size=${BENCH_SIZE:-1073741824}
runs=${BENCH_RUNS:-3}
seeders=${BENCH_SEEDERS:-1 4}
clients=${BENCH_CLIENTS:-bittorrent aria2c ctorrent transmission libtorrent}
ref=${BENCH_REF:-${clients%% *}}
plens=${BENCH_PIECES:-18}
seeder=${BENCH_SEEDER:-lt}
btpeer_args=${BENCH_PEER_ARGS:-}
grace=${BENCH_GRACE:-30}
check=${BENCH_CHECK:-1}
dir=${BENCH_DIR:-$top/build/bench}
limit=600	# seconds any one download may take

# shellcheck source=bench-lib.sh
. "$top/scripts/bench-lib.sh"
bench_setup run
# 256 KiB pieces by default: what mktorrent picks for 1 GiB, a common choice.
# mktorrent makes pieces from 32 KiB up; our btmake the smaller ones.
for l in $plens; do
	if [ "$l" -ge 15 ]; then
		mktorrent -l "$l" -a http://127.0.0.1:9/announce \
		    -o "$work/b$l.torrent" "$work/seed/payload" >/dev/null
	else
		btmake --v1 -l $((1 << l)) -a http://127.0.0.1:9/announce \
		    -o "$work/b$l.torrent" "$work/seed/payload"
	fi || exit 1
done
cat >"$work/transmission.json" <<'JSON'
{"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
 "encryption": 0,
 "utp-enabled": false, "port-forwarding-enabled": false,
 "speed-limit-down-enabled": false, "speed-limit-up-enabled": false,
 "bind-address-ipv4": "127.0.0.1", "rpc-enabled": false,
 "peer-port-random-on-start": false}
JSON
# The completion hooks: each makes the done file appear.
done=$work/done
printf '#!/bin/sh\n: >"%s"\n' "$done" >"$work/hook.sh"
# transmission's also ends it (it would seed on).
# shellcheck disable=SC2016 # expanded by the finish script
printf '#!/bin/sh\n: >"%s"\nkill -TERM "$(cat "%s")"\n' "$done" "$work/tr.pid" \
    >"$work/fin.sh"
chmod +x "$work/hook.sh" "$work/fin.sh"
atdone=()
[ "$check" = 1 ] && atdone=(--at-done "cmp -s '$payload' '$work/out/payload'")

# start_seeders N TORRENT CONNECT: start N seeders; each libtorrent one
# connects to CONNECT (a leecher's listening address) if given, as soon as
# it listens and with a plain handshake: libtorrent dials MSE first, and
# when that fails (ctorrent has no MSE) dials again a second later; others
# would take the RC4 it offers. The leechers that dial get plaintext from
# it too. libtorrent makes the dial on its next tick: 0.1-0.25 s counted
# against aria2c, ctorrent and transmission (a shorter tick_interval made
# it later, not sooner). Sets seedaddrs.
seedaddrs=()
# seedspool TORRENT: our seeder as bittorrent runs it once a download is
# complete: over a spool that says every piece is placed (btverify
# --bitfield, btassemble --mark), so that pieces go out by sendfile
# unhashed. The check is made once per torrent before any run, as
# libtorrent's seeder checks its files before it listens. (Without a
# spool, btpeer -o hashes each piece of the files before its first block
# goes: about a CPU-second per GiB on the two cores the leecher shares.)
seedspool() {
	local sp=$work/sp.${1##*/} bits
	[ -d "$sp" ] && return 0
	bits=$(btverify --bitfield -- "$1" "$work/seed") &&
	    btassemble --mark "$bits" --spool "$sp" -o "$work/seed" -- "$1" \
	    >/dev/null
}
start_seeders() {
	local n=$1 torrent=$2 connect=$3 i port
	seedaddrs=()
	for i in $(seq 1 "$n"); do
		# The last run's file goes first: a seeder's shell truncates it
		# only once started, and bench_wait must not read the old port.
		rm -f "$work/seed$i.out"
		if [ "$seeder" = btpeer ]; then
			seedspool "$torrent" || exit 1
			btpeer --listen 127.0.0.1:0 --spool "$work/sp.${torrent##*/}" \
			    -o "$work/seed" "$torrent" \
			    >"$work/seed$i.out" 2>/dev/null </dev/null &
		else
			/usr/bin/python3 "$H/lt_seed.py" "$torrent" "$work/seed" \
			    --seconds $((limit + 60)) \
			    ${connect:+--wait-listen --plain-out --connect "$connect"} \
			    >"$work/seed$i.out" 2>/dev/null </dev/null &
		fi
		pids+=("$!")
		# Each prints "listening PORT" once bound; wait at most 30 s.
		bench_wait "$work/seed$i.out" '^listening [0-9]+$' 30 ||
		    { echo "bench: seeder $i did not start" >&2; exit 1; }
		port=$(awk '$1 == "listening" { print $2; exit }' "$work/seed$i.out")
		seedaddrs+=("127.0.0.1:$port")
	done
}
stop_seeders() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	pids=()
}

# run CMD...: bench_run.py with the done marker and the check; the
# client's diagnostics go to $work/err.
run() {
	/usr/bin/python3 "$H/bench_run.py" --grace "$grace" "${atdone[@]}" \
	    "$@" </dev/null 2>"$work/err"
}

port=17000
run_client() {
	local c=$1 n=$2 l=$3 out=$work/out res peerargs=() a i np bin
	local tor=$work/b$l.torrent
	rm -rf "$out" "$work/cfg" "$done" "$work/err"
	mkdir -p "$out"
	port=$((port + 1))
	case $seeder:$c in
	btpeer:aria2c | btpeer:ctorrent | btpeer:transmission)
		echo "bench: $c needs seeders that connect to it: not with BENCH_SEEDER=btpeer" >&2
		return ;;
	esac
	case $c in
	bittorrent)
		start_seeders "$n" "$tor" ""
		for a in "${seedaddrs[@]}"; do peerargs+=(--peer "$a"); done
		res=$(run --done-line '^complete: ' $limit bittorrent \
		    -t "$tor" -o "$out" "${peerargs[@]}")
		;;
	btpeer | btpeer-old)
		bin=btpeer
		[ "$c" = btpeer-old ] && bin=${BENCH_BTPEER_OLD:?}
		start_seeders "$n" "$tor" ""
		# Timed to its exit: it exits as the last piece is in the spool.
		# shellcheck disable=SC2086 # split on purpose
		res=$(/usr/bin/python3 "$H/bench_run.py" $limit \
		    "$bin" $btpeer_args --spool "$out/sp" "$tor" "${seedaddrs[0]}" \
		    </dev/null 2>"$work/err")
		# The spool's pieces in order are the payload.
		np=$(btinfo "$tor" | jq .piece_count)
		for ((i = 0; i < np; i++)); do cat "$out/sp/pieces/$i"; done \
		    >"$out/payload" 2>/dev/null
		;;
	aria2c)
		start_seeders "$n" "$tor" "127.0.0.1:$port"
		res=$(run --done-file "$done" $limit aria2c -q \
		    -d "$out" --seed-time=0 --enable-dht=false \
		    --enable-dht6=false --bt-enable-lpd=false \
		    --enable-peer-exchange=false --disable-ipv6=true \
		    --interface=127.0.0.1 --listen-port=$port \
		    --file-allocation=none --bt-stop-timeout=0 \
		    --on-bt-download-complete="$work/hook.sh" "$tor")
		;;
	ctorrent)
		# ctorrent ignores peers on its own address: give it another.
		start_seeders "$n" "$tor" "127.0.0.2:$port"
		res=$(cd "$out" && run --done-file "$done" $limit \
		    ctorrent -i 127.0.0.2 -p $port -s "$out/payload" -e 0 \
		    -X "$work/hook.sh" "$tor")
		;;
	transmission)
		# transmission 3.00 ignores 127.x peers it is told about: the
		# seeders connect to it. Its finish script ends it.
		mkdir -p "$work/cfg"
		cp "$work/transmission.json" "$work/cfg/settings.json"
		start_seeders "$n" "$tor" "127.0.0.1:$port"
		# shellcheck disable=SC2016 # expanded by sh -c
		res=$(run --done-file "$done" $limit sh -c \
		    'echo $$ >"$1"; exec transmission-cli -g "$2" -p "$3" -w "$4" -f "$5" "$6" 2>/dev/null' \
		    sh "$work/tr.pid" "$work/cfg" $port "$out" "$work/fin.sh" "$tor")
		;;
	libtorrent)
		start_seeders "$n" "$tor" ""
		for a in "${seedaddrs[@]}"; do peerargs+=(--connect "$a"); done
		res=$(run --done-line '^done' $limit /usr/bin/python3 \
		    "$H/lt_seed.py" --leech --seconds $limit "${peerargs[@]}" \
		    "$tor" "$out")
		;;
	*)
		echo "bench: no client $c" >&2
		return ;;
	esac
	stop_seeders
	# wall cpu peak status exit_wall exit_cpu exit_status check peak_anon
	# peak_pss
	# shellcheck disable=SC2086 # the fields
	set -- $res
	if [ "${4:-1}" = 0 ] && cmp -s "$payload" "$out/payload"; then
		echo "$n $l $c $res" >>"$work/results"
		case ${8:-} in 0) a=yes ;; -) a=unchecked ;; *) a=NO ;; esac
		echo "bench: $c, $n seeder(s), 2^$l pieces: complete ${1}s ${2}" \
		    "CPU-s ${10} KiB PSS (${3} RSS, ${9} anon), exit ${5}s" \
		    "${6} CPU-s" \
		    "(status ${7}), files complete at completion: $a" >&2
	else
		echo "bench: $c, $n seeder(s), 2^$l pieces: FAILED ($res):" \
		    "$(tail -n 3 "$work/err")" >&2
	fi
	rm -rf "$out"
}

: >"$work/results"
for n in $seeders; do
	for _ in $(seq 1 "$runs"); do
		for l in $plens; do
			for c in $clients; do
				run_client "$c" "$n" "$l"
			done
		done
	done
done

# Medians per seeder count, piece size and client, and ratios to the
# reference client; then, with several piece sizes, each against the
# largest.
echo "download $((size >> 20)) MiB over loopback, seeder: $seeder," \
    "medians of $runs, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
awk -v size="$size" -v ref="$ref" -v plens="$plens" -v seeder="$seeder" '
function median(s,   a, k, i, j, t) {
	k = split(s, a, " ")
	for (i = 2; i <= k; i++)	# insertion sort: a handful of runs
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
function kib(l) { return 2 ^ l / 1024 }
{ key = $1 " " $2 " " $3; wall[key] = wall[key] " " $4; cpu[key] = cpu[key] " " $5
  mem[key] = mem[key] " " $6; ewall[key] = ewall[key] " " $8
  anon[key] = anon[key] " " $12; pss[key] = pss[key] " " $13
  nrun[key]++; if ($11 == "0") ok[key]++; if ($11 != "-") checked[key]++
  if (!(key in seen)) { order[++n] = key; seen[key] = 1 } }
END {
	gib = size / 1073741824
	printf "%-7s %-6s %-13s %8s %7s %9s %8s %8s %8s %8s %8s %7s %6s\n", "seeders",
	    "piece", "client", "time_s", "MB/s", "cpu_s/GiB", "pss_MiB", "rss_MiB",
	    "anon_MiB", "time/" ref, "cpu/" ref, "exit_s", "@done"
	for (i = 1; i <= n; i++) {
		split(order[i], k, " ")
		r = k[1] " " k[2] " " ref
		w = median(wall[order[i]]); c = median(cpu[order[i]])
		m = median(mem[order[i]])
		wb = (r in seen) ? median(wall[r]) : 0
		cb = (r in seen) ? median(cpu[r]) : 0
		printf "%-7s %-6s %-13s %8.2f %7.1f %9.2f %8.1f %8.1f %8.1f %8s %8s %7.2f %6s\n",
		    k[1], kib(k[2]) "K", k[3], w, size / w / 1e6, c / gib,
		    median(pss[order[i]]) / 1024, m / 1024,
		    median(anon[order[i]]) / 1024,
		    wb ? sprintf("%.2f", w / wb) : "-", cb ? sprintf("%.2f", c / cb) : "-",
		    median(ewall[order[i]]),
		    checked[order[i]] ? (ok[order[i]] + 0) "/" nrun[order[i]] : "-"
	}
	# Issue 17 targets 1, 2 and 5 (libtorrent seeders) or 3 (ours), where
	# the run has the clients for them.
	for (i = 1; i <= n; i++) {
		split(order[i], k, " ")
		if (k[3] != "bittorrent") continue
		if (seeder == "btpeer") {
			printf "target 3, %s seeder(s), %s pieces: bittorrent from" \
			    " btpeer --listen %.0f MB/s (>= 600)\n", k[1], kib(k[2]) "K",
			    size / median(wall[order[i]]) / 1e6
			continue
		}
		b = order[i]; ct = k[1] " " k[2] " ctorrent"; lt = k[1] " " k[2] " libtorrent"
		line = ""
		if (ct in seen)
			line = line sprintf("  time/ctorrent %.2f (<= 1.00), CPU/ctorrent %.2f (<= 0.60)",
			    median(wall[b]) / median(wall[ct]), median(cpu[b]) / median(cpu[ct]))
		if (lt in seen)
			line = line sprintf("  time/libtorrent %.2f (<= 0.90)",
			    median(wall[b]) / median(wall[lt]))
		if (k[1] == 4)
			line = line sprintf("  peak PSS %.1f MiB (< 64; RSS %.1f MiB)",
			    median(pss[b]) / 1024, median(mem[b]) / 1024)
		if (line != "")
			printf "targets, %s seeder(s), %s pieces: bittorrent%s\n", k[1], kib(k[2]) "K", line
	}
	np = split(plens, pl, " ")
	if (np < 2)
		exit
	big = pl[1]
	for (j = 2; j <= np; j++) if (pl[j] + 0 > big + 0) big = pl[j]
	printf "\nper piece: each piece size against %d KiB pieces (%d pieces)\n",
	    kib(big), size / 2 ^ big
	printf "%-7s %-13s %-7s %8s %14s %10s\n", "seeders", "client", "piece",
	    "pieces", "throughput_x", "cpu_x"
	print "(issue 17, target 4: 16K pieces at throughput_x >= 0.90, cpu_x <= 1.20)"
	for (i = 1; i <= n; i++) {
		split(order[i], k, " ")
		if (k[2] == big) continue
		r = k[1] " " big " " k[3]
		if (!(r in seen)) continue
		printf "%-7s %-13s %-7s %8d %14.2f %10.2f\n", k[1], k[3],
		    kib(k[2]) "K", size / 2 ^ k[2],
		    median(wall[r]) / median(wall[order[i]]),
		    median(cpu[order[i]]) / median(cpu[r])
	}
}' "$work/results"
echo "time_s: to completion (each client's hook); exit_s: to its exit;" \
    "@done: runs whose files were complete when the clock stopped;" \
    "peaks of sums over the tree's processes, sampled every 50 ms (PSS" \
    "within 2% of a core) and at completion:" \
    "pss_MiB: proportional set size (a page shared by k processes counts" \
    "1/k in each: the memory the tree really holds); rss_MiB: resident" \
    "set (a shared library counted once per process); anon_MiB: RSS less" \
    "shared and file-backed pages (libraries; libtorrent maps the files" \
    "it writes)"
