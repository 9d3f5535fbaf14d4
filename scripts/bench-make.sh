#!/bin/sh
# bench-make.sh: btmake -j1 and -j2 against mktorrent (-t1 and -t2) and
# transmission-create, making a v1 torrent of the same 1 GiB file with
# 256 KiB pieces, and against the single-core SHA-1 limit (`openssl speed
# -evp sha1`, in the same run); then btmake --hybrid -j2 against
# python3-libtorrent's create_torrent making the same hybrid torrent. The file is read once first, so every run
# hashes from the page cache: this measures CPU, not the disk. The tools
# take turns inside each round, so a change in the machine's load falls on
# all of them alike. Prints medians of BENCH_RUNS rounds and the ratios,
# after checking that every tool made the same info-hash.
#
# BENCH_SIZE (bytes, default 1 GiB), BENCH_RUNS (default 5), BENCH_DIR
# (default build/bench; the payload is cached there).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top/build/bin:$PATH
size=${BENCH_SIZE:-1073741824}
runs=${BENCH_RUNS:-5}
dir=${BENCH_DIR:-$top/build/bench}
limit=600	# seconds any one run may take

mkdir -p "$dir/make-$size" || exit 1
payload=$dir/payload-$size
if [ ! -s "$payload" ]; then
	echo "bench: generating $size bytes" >&2
	openssl enc -aes-128-ctr -nosalt -pass pass:bench -pbkdf2 </dev/zero \
	    2>/dev/null | head -c "$size" >"$payload.tmp" &&
	    mv "$payload.tmp" "$payload" || exit 1
fi
data=$dir/make-$size/payload
[ -e "$data" ] || ln "$payload" "$data" 2>/dev/null || cp "$payload" "$data" ||
    exit 1
out=$dir/make-$size
cat "$data" >/dev/null	# into the page cache

now() { date +%s.%N; }

# median of the numbers in $1 (separated by spaces)
median() {
	printf '%s\n' "$1" | tr ' ' '\n' | grep . | sort -g |
	    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# timeit NAME CMD...: "wall:cpu" seconds the command took (it must
# succeed) writing $out/NAME.torrent; cpu is user+sys, from time(1).
timeit() {
	name=$1
	shift
	rm -f "$out/$name.torrent"	# mktorrent will not overwrite
	t0=$(now)
	timeout "$limit" /usr/bin/time -f '%U %S' -o "$dir/time.$$" "$@" \
	    >/dev/null 2>&1 || { echo fail; return; }
	t1=$(now)
	echo "$t0 $t1 $(cat "$dir/time.$$")" |
	    awk '{ printf "%.4f:%.2f\n", $2 - $1, $3 + $4 }'
	rm -f "$dir/time.$$"
}

# Private, so that transmission-create (which writes "private" 0
# otherwise) makes the same info dictionary; it wants a tracker for that.
url=http://127.0.0.1:1/announce
sha=""; b1=""; b2=""; m1=""; m2=""; tc=""; bh=""; lh=""
for _ in $(seq 1 "$runs"); do
	s=$(openssl speed -elapsed -mr -evp sha1 -bytes 1048576 -seconds 2 \
	    2>/dev/null | awk -F: '/^\+F:/ { print $4 }')
	sha="$sha $s"
	b1="$b1 $(timeit b1 btmake -p -j1 -l 256K -o "$out/b1.torrent" "$data")"
	m1="$m1 $(timeit m1 mktorrent -p -a "$url" -t1 -l 18 \
	    -o "$out/m1.torrent" "$data")"
	b2="$b2 $(timeit b2 btmake -p -j2 -l 256K -o "$out/b2.torrent" "$data")"
	m2="$m2 $(timeit m2 mktorrent -p -a "$url" -t2 -l 18 \
	    -o "$out/m2.torrent" "$data")"
	tc="$tc $(timeit tc transmission-create -p -t "$url" -s 256 \
	    -o "$out/tc.torrent" "$data")"
	bh="$bh $(timeit bh btmake --hybrid -j2 -l 256K -o "$out/bh.torrent" \
	    "$data")"
	lh="$lh $(timeit lh /usr/bin/python3 "$top/tests/helpers/lt_mktorrent.py" \
	    "$data" "$out/lh.torrent" hybrid 262144)"
done
case "$b1$b2$m1$m2$tc$bh$lh" in *fail*)
	echo "bench-make: a run failed (b1:$b1 b2:$b2 m1:$m1 m2:$m2 tc:$tc" \
	    "bh:$bh lh:$lh)" >&2
	exit 1 ;;
esac
want=$(btinfo "$out/m1.torrent" | jq -r .info_hash)
for t in b1 b2 m2 tc; do
	got=$(btinfo "$out/$t.torrent" | jq -r .info_hash)
	[ "$got" = "$want" ] || {
		echo "bench-make: $t made info-hash $got, mktorrent $want" >&2
		exit 1
	}
done
hashes() { /usr/bin/python3 "$top/tests/helpers/lt_hashes.py" "$1"; }
if [ "$(hashes "$out/bh.torrent")" != "$(hashes "$out/lh.torrent")" ]; then
	echo "bench-make: btmake and libtorrent made different hybrids" >&2
	exit 1
fi
sha=$(median "$sha")
wall() { median "$(echo "$1" | tr ' ' '\n' | cut -d: -f1 | tr '\n' ' ')"; }
cpu() { median "$(echo "$1" | tr ' ' '\n' | cut -d: -f2 | tr '\n' ' ')"; }
awk -v size="$size" -v sha="$sha" -v runs="$runs" -v cores="$(nproc)" \
    -v b1="$(wall "$b1")" -v b2="$(wall "$b2")" -v m1="$(wall "$m1")" \
    -v m2="$(wall "$m2")" -v tc="$(wall "$tc")" \
    -v cb1="$(cpu "$b1")" -v cb2="$(cpu "$b2")" -v cm1="$(cpu "$m1")" \
    -v cm2="$(cpu "$m2")" -v ctc="$(cpu "$tc")" \
    -v bh="$(wall "$bh")" -v lh="$(wall "$lh")" \
    -v cbh="$(cpu "$bh")" -v clh="$(cpu "$lh")" \
    -v load="$(cut -d' ' -f1 /proc/loadavg)" '
function row(name, w, c) {
	printf "  %-28s %6.0f %8.3f %8.2f\n", name, size / w / 1e6, w, c
}
BEGIN {
	printf "make %d MiB, v1, 256 KiB pieces, page cache warm, medians of %d, %d cores, load %s\n", \
	    size / 1048576, runs, cores, load
	printf "  %-28s %6.0f MB/s per wall-second\n", "openssl speed -evp sha1", sha / 1e6
	printf "  %-28s %6s %8s %8s\n", "", "MB/s", "wall s", "CPU s"
	row("btmake -j1", b1, cb1)
	row("btmake -j2", b2, cb2)
	row("mktorrent -t1", m1, cm1)
	row("mktorrent -t2", m2, cm2)
	row("transmission-create", tc, ctc)
	row("btmake --hybrid -j2", bh, cbh)
	row("libtorrent create_torrent", lh, clh)
	printf "  btmake -j1 / SHA-1 limit       %5.1f%%  (target >= 90%%)\n", 100 * size / b1 / sha
	printf "  btmake -j2 / -j1               %5.2fx  (target >= 1.8x)\n", b1 / b2
	printf "  btmake -j1 / mktorrent -t1     %5.2fx faster\n", m1 / b1
	printf "  btmake -j2 / mktorrent -t2     %5.2fx faster\n", m2 / b2
	printf "  btmake -j1 / transmission-create %5.2fx faster\n", tc / b1
	printf "  btmake --hybrid / libtorrent   %5.2fx faster\n", lh / bh
}'
