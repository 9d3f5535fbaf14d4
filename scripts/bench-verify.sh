#!/bin/sh
# bench-verify.sh: btverify on a 1 GiB torrent against the single-core
# SHA-1 limit (`openssl speed -evp sha1`, measured in the same run) and
# against aria2c's integrity check of the same data. The data is read
# once first, so every run hashes from the page cache: this measures CPU,
# not the disk. Prints medians of BENCH_RUNS runs and the ratios.
#
# BENCH_SIZE (bytes, default 1 GiB), BENCH_RUNS (default 3), BENCH_DIR
# (default build/bench; the payload and torrent are cached there).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top/build/bin:$PATH
size=${BENCH_SIZE:-1073741824}
runs=${BENCH_RUNS:-3}
dir=${BENCH_DIR:-$top/build/bench}
limit=600	# seconds any one run may take

mkdir -p "$dir/verify-$size" || exit 1
payload=$dir/payload-$size
if [ ! -s "$payload" ]; then
	echo "bench: generating $size bytes" >&2
	openssl enc -aes-128-ctr -nosalt -pass pass:bench -pbkdf2 </dev/zero \
	    2>/dev/null | head -c "$size" >"$payload.tmp" &&
	    mv "$payload.tmp" "$payload" || exit 1
fi
data=$dir/verify-$size
[ -e "$data/payload" ] || ln "$payload" "$data/payload" 2>/dev/null ||
    cp "$payload" "$data/payload" || exit 1
torrent=$dir/verify-$size.torrent
# 256 KiB pieces: what mktorrent picks for this size, and a common choice.
if [ ! -s "$torrent" ]; then
	mktorrent -l 18 -o "$torrent.tmp" "$data/payload" >/dev/null &&
	    mv "$torrent.tmp" "$torrent" || exit 1
fi
cat "$data/payload" >/dev/null	# into the page cache

now() { date +%s.%N; }

# median of the numbers in $1 (separated by spaces)
median() {
	printf '%s\n' "$1" | tr ' ' '\n' | grep . | sort -g |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# timeit CMD...: "wall cpu" seconds the command took (it must succeed);
# cpu is user+sys of the command, from time(1).
timeit() {
	t0=$(now)
	timeout "$limit" /usr/bin/time -f '%U %S' -o "$dir/time.$$" "$@" \
	    >/dev/null 2>&1 || { echo fail; return; }
	t1=$(now)
	echo "$t0 $t1 $(cat "$dir/time.$$")" |
	    awk '{ printf "%.4f:%.2f\n", $2 - $1, $3 + $4 }'
	rm -f "$dir/time.$$"
}

set -- --check-integrity=true --seed-time=0 --enable-dht=false \
	    --enable-dht6=false --bt-enable-lpd=false \
	    --enable-peer-exchange=false --disable-ipv6=true \
	    --interface=127.0.0.1 --summary-interval=0 \
	    --console-log-level=error -d "$data" "$torrent"

sha=""; shaw=""; j1=""; j2=""; ar=""
for _ in $(seq 1 "$runs"); do
	# bytes per second, 1 MiB blocks, one core: per CPU-second (the
	# default) and per wall-second (-elapsed, which a busy machine slows
	# down just as it slows btverify)
	s=$(openssl speed -mr -evp sha1 -bytes 1048576 -seconds 2 2>/dev/null |
	    awk -F: '/^\+F:/ { print $4 }')
	sha="$sha $s"
	s=$(openssl speed -elapsed -mr -evp sha1 -bytes 1048576 -seconds 2 \
	    2>/dev/null | awk -F: '/^\+F:/ { print $4 }')
	shaw="$shaw $s"
	j1="$j1 $(timeit btverify -j 1 "$torrent" "$data")"
	j2="$j2 $(timeit btverify -j 2 "$torrent" "$data")"
	ar="$ar $(timeit aria2c "$@")"
done
case "$j1$j2$ar" in *fail*)
	echo "bench-verify: a run failed (j1:$j1 j2:$j2 aria2c:$ar)" >&2
	exit 1 ;;
esac
sha=$(median "$sha")
shaw=$(median "$shaw")
wall() { median "$(echo "$1" | tr ' ' '\n' | cut -d: -f1 | tr '\n' ' ')"; }
cpu() { median "$(echo "$1" | tr ' ' '\n' | cut -d: -f2 | tr '\n' ' ')"; }
awk -v size="$size" -v sha="$sha" -v shaw="$shaw" -v runs="$runs" -v cores="$(nproc)" \
    -v j1="$(wall "$j1")" -v j2="$(wall "$j2")" -v ar="$(wall "$ar")" \
    -v c1="$(cpu "$j1")" -v c2="$(cpu "$j2")" -v ca="$(cpu "$ar")" \
    -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
	r1 = size / j1; r2 = size / j2; ra = size / ar
	printf "verify %d MiB, 256 KiB pieces, page cache warm, medians of %d, %d cores, load %s\n", \
	    size / 1048576, runs, cores, load
	printf "  %-32s %6.0f MB/s per CPU-second\n", "openssl speed -evp sha1 (1 core)", sha / 1e6
	printf "  %-32s %6.0f MB/s per wall-second\n", "  the same, -elapsed", shaw / 1e6
	printf "  %-32s %6s %8s %8s %9s\n", "", "MB/s", "wall s", "CPU s", "MB/CPU-s"
	printf "  %-32s %6.0f %8.3f %8.2f %9.0f\n", "btverify -j1", r1 / 1e6, j1, c1, size / c1 / 1e6
	printf "  %-32s %6.0f %8.3f %8.2f %9.0f\n", "btverify -j2", r2 / 1e6, j2, c2, size / c2 / 1e6
	printf "  %-32s %6.0f %8.3f %8.2f %9.0f\n", "aria2c --check-integrity", ra / 1e6, ar, ca, size / ca / 1e6
	printf "  btverify -j1 / SHA-1 limit, wall   %5.1f%%  (target >= 90%%)\n", 100 * r1 / shaw
	printf "  btverify -j1 / SHA-1 limit, CPU    %5.1f%%  (reads included)\n", 100 * size / c1 / sha
	printf "  btverify -j2 / -j1                 %5.2fx\n", r2 / r1
	printf "  btverify -j1 / aria2c              %5.2fx (CPU per byte: %.2fx less)\n", \
	    r1 / ra, ca / c1
}'
