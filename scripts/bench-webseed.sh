#!/bin/sh
# bench-webseed.sh: btwebseed fetching a torrent from one webfsd on
# loopback, against curl fetching the same file from the same server (the
# HTTP ceiling: one stream, no hashing) and aria2c downloading the same
# torrent from the same web seed (url-list), alternating, same run. All
# write the payload to disk: btwebseed alone into a spool, and with
# `btassemble -f --nosync` beside it into the final file, as aria2c and
# curl do (none of them syncs). The payload is
# read once first, so the server reads from the page cache. Prints
# medians of BENCH_RUNS runs: wall seconds, CPU seconds of the client,
# MB/s and CPU-s per GiB, and the ratios.
#
# BENCH_SIZE (bytes, default 256 MiB), BENCH_RUNS (default 3), BENCH_DIR
# (default build/bench), BENCH_JOBS (btwebseed -j, default 4).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top/build/bin:$PATH
size=${BENCH_SIZE:-268435456}
runs=${BENCH_RUNS:-3}
jobs=${BENCH_JOBS:-4}
dir=${BENCH_DIR:-$top/build/bench}
limit=600	# seconds any one run may take
work=$dir/webseed-$size

mkdir -p "$work/www" || exit 1
payload=$dir/payload-$size
if [ ! -s "$payload" ]; then
	echo "bench: generating $size bytes" >&2
	openssl enc -aes-128-ctr -nosalt -pass pass:bench -pbkdf2 </dev/zero \
	    2>/dev/null | head -c "$size" >"$payload.tmp" &&
	    mv "$payload.tmp" "$payload" || exit 1
fi
[ -e "$work/www/payload" ] || ln "$payload" "$work/www/payload" \
    2>/dev/null || cp "$payload" "$work/www/payload" || exit 1
cat "$work/www/payload" >/dev/null	# into the page cache

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
webfsd -F -p "$port" -r "$work/www" -i 127.0.0.1 -t 60 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work/out" "$work/sp" "$work/time"' EXIT
trap 'exit 1' INT TERM
i=0
until ss -Htln "sport = :$port" | grep -q LISTEN; do
	i=$((i + 1))
	[ "$i" -gt 100 ] && { echo "bench-webseed: webfsd did not start" >&2; exit 1; }
	sleep 0.1
done
url=http://127.0.0.1:$port/payload
torrent=$work/payload.torrent
# 256 KiB pieces, as mktorrent picks for this size; url-list is the file.
mktorrent -l 18 -w "$url" -o "$torrent.tmp" "$work/www/payload" \
    >/dev/null && mv "$torrent.tmp" "$torrent" || exit 1

now() { date +%s.%N; }

median() {
	printf '%s\n' "$1" | tr ' ' '\n' | grep . | sort -g |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# timeit CMD...: "wall:cpu" seconds (cpu = user+sys of the command), or
# "fail". The output directories are emptied first.
timeit() {
	rm -rf "$work/out" "$work/sp"
	mkdir -p "$work/out"
	t0=$(now)
	timeout "$limit" /usr/bin/time -f '%U %S' -o "$work/time" "$@" \
	    >/dev/null 2>&1 || { echo fail; return; }
	t1=$(now)
	echo "$t0 $t1 $(cat "$work/time")" |
	    awk '{ printf "%.4f:%.2f\n", $2 - $1, $3 + $4 }'
}

ws=""; wa=""; cu=""; ar=""
for _ in $(seq 1 "$runs"); do
	ws="$ws $(timeit btwebseed -j "$jobs" --spool "$work/sp" "$torrent" \
	    "$url")"
	# shellcheck disable=SC2016 # expanded by that sh
	wa="$wa $(timeit sh -c 'mkdir -p "$1" && btassemble -f --nosync \
	    --spool "$1" -o "$2" "$3" & btwebseed -j "$4" --spool "$1" "$3" "$5" \
	    && wait $!' sh "$work/sp" "$work/out" "$torrent" "$jobs" "$url")"
	cu="$cu $(timeit curl -sSf -o "$work/out/payload" "$url")"
	ar="$ar $(timeit aria2c --seed-time=0 --enable-dht=false \
	    --enable-dht6=false --bt-enable-lpd=false \
	    --enable-peer-exchange=false --disable-ipv6=true \
	    --interface=127.0.0.1 --summary-interval=0 \
	    --file-allocation=none --console-log-level=error \
	    -d "$work/out" "$torrent")"
done
case "$ws$wa$cu$ar" in *fail*)
	echo "bench-webseed: a run failed (btwebseed:$ws +btassemble:$wa curl:$cu aria2c:$ar)" >&2
	exit 1 ;;
esac
wall() { median "$(echo "$1" | tr ' ' '\n' | cut -d: -f1 | tr '\n' ' ')"; }
cpu() { median "$(echo "$1" | tr ' ' '\n' | cut -d: -f2 | tr '\n' ' ')"; }
awk -v size="$size" -v runs="$runs" -v jobs="$jobs" -v cores="$(nproc)" \
    -v ws="$(wall "$ws")" -v cu="$(wall "$cu")" -v ar="$(wall "$ar")" \
    -v cw="$(cpu "$ws")" -v cc="$(cpu "$cu")" -v ca="$(cpu "$ar")" \
    -v wa="$(wall "$wa")" -v caa="$(cpu "$wa")" \
    -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
	gib = size / 1073741824
	printf "web seed %d MiB from webfsd on loopback, 256 KiB pieces, medians of %d, %d cores, load %s\n", \
	    size / 1048576, runs, cores, load
	printf "  %-28s %6s %8s %8s %10s\n", "", "MB/s", "wall s", "CPU s", "CPU-s/GiB"
	printf "  %-28s %6.0f %8.3f %8.2f %10.2f\n", "btwebseed -j" jobs, size / ws / 1e6, ws, cw, cw / gib
	printf "  %-28s %6.0f %8.3f %8.2f %10.2f\n", "  + btassemble -f --nosync", size / wa / 1e6, wa, caa, caa / gib
	printf "  %-28s %6.0f %8.3f %8.2f %10.2f\n", "curl (one GET, no hashing)", size / cu / 1e6, cu, cc, cc / gib
	printf "  %-28s %6.0f %8.3f %8.2f %10.2f\n", "aria2c (url-list)", size / ar / 1e6, ar, ca, ca / gib
	printf "  btwebseed / curl speed     %5.2fx\n", cu / ws
	printf "  btwebseed / aria2c speed   %5.2fx (aria2c CPU / ours %.2fx)\n", ar / ws, ca / cw
	printf "  with btassemble / aria2c   %5.2fx (aria2c CPU / ours %.2fx)\n", ar / wa, ca / caa
}'
