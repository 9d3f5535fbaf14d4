#!/usr/bin/env bash
# bench-mse.sh: what MSE/PE with RC4 costs. One payload from two local
# python3-libtorrent seeders of the same data, one forcing RC4 and one
# plaintext only; btpeer downloads it from each in turn into a fresh
# spool (--encryption require, then off), runs alternating. Prints the
# median wall time, MB/s and btpeer's CPU seconds per GiB of each, and
# the ratios RC4 / plain: the cost of encryption in the same run.
#
# BENCH_SIZE (bytes, default 1 GiB), BENCH_RUNS (default 3), BENCH_DIR
# (default build/bench; the payload is cached there).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top/build/bin:$PATH
H=$top/tests/helpers
size=${BENCH_SIZE:-1073741824}
runs=${BENCH_RUNS:-3}
dir=${BENCH_DIR:-$top/build/bench}
limit=600	# seconds any one download may take

# shellcheck source=bench-lib.sh
. "$top/scripts/bench-lib.sh"
bench_setup mse
mktorrent -l 18 -o "$work/b.torrent" "$work/seed/payload" >/dev/null || exit 1

# seed ENC: a libtorrent seeder with that policy; sets addr.
seed() {
	local out=$work/seed-$1.out
	rm -f "$out"	# not the last seeder's lines (see bench-download.sh)
	LT_TIMEOUT=$limit /usr/bin/python3 "$H/lt_mse.py" seed "$1" \
	    "$work/b.torrent" "$work/seed" >"$out" 2>&1 &
	pids+=($!)
	bench_wait "$out" '^seeding' "$limit" ||
	    { echo "bench: seeder $1 did not start" >&2; exit 1; }
	addr=127.0.0.1:$(awk '/^listening/ { print $2 }' "$out")
}
seed forced
rc4=$addr
seed disabled
plain=$addr

: >"$work/results"
for _ in $(seq 1 "$runs"); do
	for how in rc4 plain; do
		if [ "$how" = rc4 ]; then a=$rc4 e=require; else a=$plain e=off; fi
		rm -rf "$work/sp"
		if /usr/bin/time -f '%e %U %S' -o "$work/time" timeout "$limit" \
		    btpeer --encryption "$e" --spool "$work/sp" "$work/b.torrent" \
		    "$a" >"$work/events" 2>&1; then
			read -r w u s <"$work/time"
			echo "$how $w $u $s" >>"$work/results"
			echo "bench: $how: $w s, $u + $s CPU-s" >&2
		else
			echo "bench: $how: FAILED ($(tail -n 1 "$work/events"))" >&2
		fi
	done
done

awk -v size="$size" '
function median(s,   a, k, i, j, t) {
	k = split(s, a, " ")
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{ wall[$1] = wall[$1] " " $2; cpu[$1] = cpu[$1] " " ($3 + $4) }
END {
	gib = size / 1073741824
	printf "%-8s %9s %9s %10s\n", "stream", "median_s", "MB/s", "cpu_s/GiB"
	for (h in wall) {
		w[h] = median(wall[h]); c[h] = median(cpu[h])
	}
	split("rc4 plain", order, " ")
	for (i = 1; i <= 2; i++) {
		h = order[i]
		if (!(h in w)) continue
		printf "%-8s %9.2f %9.1f %10.2f\n", h, w[h], size / w[h] / 1e6, c[h] / gib
	}
	if (("rc4" in w) && ("plain" in w) && w["plain"] > 0 && c["plain"] > 0)
		printf "rc4/plain: time %.2f, cpu %.2f\n", w["rc4"] / w["plain"],
		    c["rc4"] / c["plain"]
}' "$work/results"
