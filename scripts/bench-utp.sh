#!/bin/sh
# bench-utp.sh: uTP on loopback, in the same run. Download: from one
# uTP-only python3-libtorrent seeder, by btpeer --utp (lib/utp.c) and by
# a uTP-only libtorrent leecher. Upload: a libtorrent
# leecher downloads from btpeer --serve behind utp_cat -l, against the
# libtorrent leecher's download from the libtorrent seeder above. Prints
# each run, then the medians (MB/s; CPU seconds per GiB of our side,
# btpeer and its uTP child, or btpeer --serve and utp_cat, and of the
# libtorrent leecher's process) and ratios.
# BENCH_SIZE (bytes, default 64 MiB), BENCH_RUNS (default 3), BENCH_DIR
# (default a temporary directory, removed afterwards).
# Needs `make bins units` (build/bin, build/tests/bin).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${BT_BIN:-$top/build/bin}
utp_cat=$bin/../tests/bin/utp_cat
helpers=$top/tests/helpers
size=${BENCH_SIZE:-67108864}
runs=${BENCH_RUNS:-3}
dir=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bench-utp.XXXXXX")}
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	[ -n "${BENCH_DIR:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# Waits up to $2 seconds for a line matching $1 in file $3.
await() {
	i=0
	while ! grep -q "$1" "$3" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -gt $(($2 * 10)) ] && { echo "bench-utp: no '$1' in $3" >&2;
		    exit 1; }
		sleep 0.1
	done
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

mkdir -p "$dir/src"
openssl enc -aes-128-ctr -nosalt -pass pass:utp -pbkdf2 </dev/zero \
    2>/dev/null | head -c "$size" >"$dir/src/data.bin"
mktorrent -l 18 -o "$dir/b.torrent" "$dir/src/data.bin" >/dev/null
LT_TIMEOUT=3600 /usr/bin/python3 "$helpers/lt_utp.py" seed "$dir/b.torrent" \
    "$dir/src" >"$dir/seed.out" 2>&1 &
pids="$pids $!"
await seeding 120 "$dir/seed.out"
port=$(awk '/^listening/ { print $2 }' "$dir/seed.out")
npieces=$(( (size + 262143) / 262144 ))
: >"$dir/ours"
: >"$dir/lt"
: >"$dir/up"
r=1
while [ "$r" -le "$runs" ]; do
	rm -rf "$dir/sp" "$dir/dl"
	/usr/bin/time -f '%e %U %S' -o "$dir/bt.time" "$bin/btpeer" --utp \
	    --spool "$dir/sp" "$dir/b.torrent" "127.0.0.1:$port" >/dev/null
	n=$(find "$dir/sp/pieces" -type f | wc -l)
	[ "$n" -eq "$npieces" ] || { echo "bench-utp: btpeer got $n pieces" >&2;
	    exit 1; }
	# btpeer's time includes its uTP child's.
	read -r e u s <"$dir/bt.time"
	awk -v b="$size" -v e="$e" -v u="$u" -v s="$s" 'BEGIN {
	    printf "%.2f %.2f\n", b / e / 1e6, (u + s) / (b / 1073741824) }' \
	    >>"$dir/ours"
	echo "run $r btpeer --utp: $(tail -1 "$dir/ours") (MB/s, CPU s/GiB)"
	mkdir -p "$dir/dl"
	/usr/bin/time -f '%U %S' -o "$dir/lt.time" env LT_TIMEOUT=600 \
	    /usr/bin/python3 "$helpers/lt_utp.py" leech "$dir/b.torrent" \
	    "$dir/dl" "127.0.0.1:$port" >"$dir/leech.out" 2>&1
	t=$(awk '/^complete/ { print $2 }' "$dir/leech.out")
	read -r u s <"$dir/lt.time"
	awk -v b="$size" -v t="$t" -v u="$u" -v s="$s" 'BEGIN {
	    printf "%.2f %.2f\n", b / t / 1e6, (u + s) / (b / 1073741824) }' \
	    >>"$dir/lt"
	echo "run $r libtorrent: $(tail -1 "$dir/lt") (MB/s, CPU s/GiB)"
	rm -rf "$dir/dl" "$dir/srv.out"
	mkdir -p "$dir/dl"
	/usr/bin/time -f '%U %S' -o "$dir/up.time" "$utp_cat" -w 60 -l 0 \
	    "$bin/btpeer" --serve -o "$dir/src" "$dir/b.torrent" \
	    2>"$dir/srv.out" &
	spid=$!
	await '^listening' 10 "$dir/srv.out"
	lport=$(awk '/^listening/ { print $2 }' "$dir/srv.out")
	env LT_TIMEOUT=600 /usr/bin/python3 "$helpers/lt_utp.py" leech \
	    "$dir/b.torrent" "$dir/dl" "127.0.0.1:$lport" >"$dir/leech.out" 2>&1
	wait "$spid" || true
	cmp -s "$dir/dl/data.bin" "$dir/src/data.bin" ||
	    { echo "bench-utp: upload differs" >&2; exit 1; }
	t=$(awk '/^complete/ { print $2 }' "$dir/leech.out")
	read -r u s <"$dir/up.time"
	awk -v b="$size" -v t="$t" -v u="$u" -v s="$s" 'BEGIN {
	    printf "%.2f %.2f\n", b / t / 1e6, (u + s) / (b / 1073741824) }' \
	    >>"$dir/up"
	echo "run $r upload btpeer --serve+utp_cat -l: $(tail -1 "$dir/up")" \
	    "(MB/s, CPU s/GiB)"
	r=$((r + 1))
done
om=$(cut -d' ' -f1 "$dir/ours" | median)
oc=$(cut -d' ' -f2 "$dir/ours" | median)
lm=$(cut -d' ' -f1 "$dir/lt" | median)
lc=$(cut -d' ' -f2 "$dir/lt" | median)
um=$(cut -d' ' -f1 "$dir/up" | median)
uc=$(cut -d' ' -f2 "$dir/up" | median)
echo "uTP download of $size bytes from a libtorrent uTP seeder, median of $runs:"
echo "  btpeer --utp    $om MB/s  $oc CPU s/GiB"
echo "  libtorrent      $lm MB/s  $lc CPU s/GiB"
awk -v a="$om" -v b="$lm" -v c="$oc" -v d="$lc" 'BEGIN {
    printf "  ratio ours/libtorrent: speed %.2f, CPU per GiB %.2f\n",
    a / b, c / d }'
echo "libtorrent uTP leecher's download, median of $runs:"
echo "  from btpeer --serve+utp_cat -l  $um MB/s  ($uc CPU s/GiB on our side)"
echo "  from libtorrent                 $lm MB/s"
awk -v a="$um" -v b="$lm" 'BEGIN {
    printf "  ratio ours/libtorrent as the seeder: speed %.2f\n", a / b }'
