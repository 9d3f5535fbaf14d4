#!/usr/bin/env bats
# btmake: torrents equal to mktorrent's, transmission-create's and
# libtorrent's for the same files and options; accepted, verified and
# seeded by real clients on loopback.

load helpers

ARIA=(--enable-dht=false --enable-dht6=false --bt-enable-lpd=false
    --enable-peer-exchange=false --disable-ipv6=true --interface=127.0.0.1
    --console-log-level=warn --summary-interval=0 --file-allocation=none)

# A tree with the awkward cases: a 0-byte file, UTF-8 names, spaces, a
# name sorting before '/' ("sub dir" against "sub/"), a file of exactly
# one 32 KiB piece, an empty directory, files across piece boundaries.
tree() {
	local d=$T/src/tree
	mkdir -p "$d/sub dir" "$d/sub" "$d/é" "$d/empty dir"
	mkpayload "$d/a" 100000 a
	: >"$d/zero"
	mkpayload "$d/sub dir/x y" 262145 x
	mkpayload "$d/sub/z" 5 z
	mkpayload "$d/é/ü.bin" 70000 u
	mkpayload "$d/one" 32768 o
}

ih() {
	btinfo "$1" | jq -r .info_hash
}

@test "btmake: v1 info-hash equals mktorrent's (multi-file, single file, private, source)" {
	tree
	for l in 15 16 18 20; do
		mktorrent -l "$l" -a http://127.0.0.1/a -o "$T/m$l.torrent" \
		    "$T/src/tree" >/dev/null
		btmake -l $((1 << l)) -a http://127.0.0.1/a -o "$T/b$l.torrent" \
		    "$T/src/tree"
		echo "$l: $(ih "$T/m$l.torrent") $(ih "$T/b$l.torrent")"
		[ "$(ih "$T/m$l.torrent")" = "$(ih "$T/b$l.torrent")" ]
	done
	mktorrent -p -s SRC -l 15 -a http://127.0.0.1/a -o "$T/mp.torrent" \
	    "$T/src/tree" >/dev/null
	btmake -p -s SRC -l 32K "$T/src/tree" >"$T/bp.torrent"
	[ "$(ih "$T/mp.torrent")" = "$(ih "$T/bp.torrent")" ]
	for f in "sub dir/x y" "é/ü.bin" one; do
		rm -f "$T/ms.torrent"
		mktorrent -l 15 -a http://127.0.0.1/a -o "$T/ms.torrent" \
		    "$T/src/tree/$f" >/dev/null
		btmake -l 32K "$T/src/tree/$f" >"$T/bs.torrent"
		[ "$(ih "$T/ms.torrent")" = "$(ih "$T/bs.torrent")" ]
	done
	# The info dictionaries are the same bytes, not just the same hash.
	cmp <(bencode -d <"$T/mp.torrent" | jq -S .info) \
	    <(bencode -d <"$T/bp.torrent" | jq -S .info)
	# mktorrent takes hidden files: so does btmake --hidden.
	mkpayload "$T/src/tree/.hidden" 1000 h
	mkpayload "$T/src/tree/B" 1000 b	# 'B' sorts before 'a'
	rm -f "$T/m.torrent"
	mktorrent -l 15 -o "$T/m.torrent" "$T/src/tree" >/dev/null
	btmake --hidden -l 32K "$T/src/tree" >"$T/b.torrent"
	[ "$(ih "$T/m.torrent")" = "$(ih "$T/b.torrent")" ]
}

@test "btmake: v1 info-hash equals transmission-create's" {
	# transmission-create drops 0-byte files and sorts names by locale,
	# so this tree has neither empty files nor names that order apart.
	mkdir -p "$T/src/t/b dir" "$T/src/t/c"
	mkpayload "$T/src/t/a" 100000 a
	mkpayload "$T/src/t/b dir/x y" 262145 x
	mkpayload "$T/src/t/c/z" 5 z
	for kib in 32 256; do
		rm -f "$T/t.torrent"
		transmission-create -p -t http://127.0.0.1/a -s "$kib" \
		    -o "$T/t.torrent" "$T/src/t" >/dev/null
		btmake -p -l "${kib}K" "$T/src/t" >"$T/b.torrent"
		[ "$(ih "$T/t.torrent")" = "$(ih "$T/b.torrent")" ]
	done
}

@test "btmake: the same bytes with -j1 and -j2 and on every --no-date run" {
	tree
	btmake --no-date -j1 -l 32K "$T/src/tree" >"$T/1.torrent"
	btmake --no-date -j2 -l 32K "$T/src/tree" >"$T/2.torrent"
	cmp "$T/1.torrent" "$T/2.torrent"
	btmake --no-date -j64 -l 32K "$T/src/tree" >"$T/2.torrent"
	cmp "$T/1.torrent" "$T/2.torrent"
	for m in --v2 --hybrid; do
		btmake --no-date -j1 "$m" -l 16K "$T/src/tree" >"$T/1.torrent"
		btmake --no-date -j2 "$m" -l 16K "$T/src/tree" >"$T/2.torrent"
		cmp "$T/1.torrent" "$T/2.torrent"
	done
	run bencode -d <"$T/2.torrent"
	[ "$(jq 'has("creation date")' <<<"$output")" = false ]
	btmake -l 32K "$T/src/tree" | bencode -d | jq -e '."creation date" > 0'
}

@test "btmake: to stdout into btinfo -; tiers, web seeds, comment, private" {
	tree
	run bash -c "btmake -p -c 'a comment' -a http://127.0.0.1/a,http://127.0.0.1/b \
	    -a udp://127.0.0.1:1 -w http://127.0.0.1/ws/ '$T/src/tree' | btinfo -"
	[ "$status" -eq 0 ]
	[ "$(jq -c .trackers <<<"$output")" = '[["http://127.0.0.1/a","http://127.0.0.1/b"],["udp://127.0.0.1:1"]]' ]
	[ "$(jq -c .web_seeds <<<"$output")" = '["http://127.0.0.1/ws/"]' ]
	[ "$(jq -r .comment <<<"$output")" = "a comment" ]
	[ "$(jq -r .private <<<"$output")" = true ]
	[ "$(jq -r .name <<<"$output")" = tree ]
	[[ "$(jq -r .created_by <<<"$output")" == "btmake "* ]]
	# -o - is stdout too; the trailing slash and "." name the directory.
	(cd "$T/src/tree" && btmake -o - .) | btinfo - | jq -e '.name == "tree"'
	btmake "$T/src/tree/" | btinfo - | jq -e '.name == "tree"'
	# One tracker: announce only.
	btmake -a http://127.0.0.1/a "$T/src/tree" | bencode -d |
	    jq -e '.announce == "http://127.0.0.1/a" and (has("announce-list") | not)'
}

@test "btmake: auto piece size: at most 2048 pieces, 16 KiB to 16 MiB" {
	mkdir -p "$T/src"
	mkpayload "$T/src/small" 1000 s
	btmake "$T/src/small" | btinfo - | jq -e '.piece_length == 16384'
	truncate -s 100M "$T/src/sparse"
	btmake -j2 "$T/src/sparse" | btinfo - |
	    jq -e '.piece_length == 65536 and .piece_count == 1600'
	truncate -s 64M "$T/src/sparse"
	btmake -l auto -j2 "$T/src/sparse" | btinfo - |
	    jq -e '.piece_length == 32768 and .piece_count == 2048'
}

@test "btmake: hidden files and symbolic links only when asked" {
	mkdir -p "$T/src/d/.git" "$T/src/other"
	mkpayload "$T/src/d/f" 1000 f
	mkpayload "$T/src/d/.hidden" 1000 h
	mkpayload "$T/src/d/.git/x" 1000 g
	mkpayload "$T/src/other/o" 1000 o
	ln -s ../other "$T/src/d/link"
	ln -s f "$T/src/d/flink"
	run btmake -o "$T/a.torrent" "$T/src/d"
	[ "$status" -eq 0 ]
	[[ "$output" == *"skipped 2 symbolic links"* ]]
	[ "$(btinfo "$T/a.torrent" | jq -c '[.files[].path_string]')" = '["d/f"]' ]
	btmake --hidden --follow "$T/src/d" >"$T/b.torrent"
	[ "$(btinfo "$T/b.torrent" | jq -c '[.files[].path_string]')" = '["d/.git/x","d/.hidden","d/f","d/flink","d/link/o"]' ]
	# A loop through a link is refused.
	ln -s .. "$T/src/d/up"
	run btmake --follow -o "$T/c.torrent" "$T/src/d"
	[ "$status" -eq 2 ]
	[[ "$output" == *"symbolic link loop"* ]]
	[ ! -e "$T/c.torrent" ]
}

@test "btmake: bad input exits 2, I/O failure 1, nothing half-written" {
	mkdir -p "$T/src/emptydir/sub" "$T/src/zeros"
	: >"$T/src/zeros/z"
	mkpayload "$T/src/f" 1000 f
	run btmake -o "$T/x.torrent" "$T/src/nonexistent"
	[ "$status" -eq 2 ]
	[[ "$output" == "btmake: $T/src/nonexistent: No such file"* ]]
	run btmake -o "$T/x.torrent" "$T/src/emptydir"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no files"* ]]
	run btmake -o "$T/x.torrent" "$T/src/zeros"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no data"* ]]
	for l in 1000 8K 512M x -16K; do
		run btmake -l "$l" -o "$T/x.torrent" "$T/src/f"
		[ "$status" -eq 2 ]
	done
	run btmake -j 0 -o "$T/x.torrent" "$T/src/f"
	[ "$status" -eq 2 ]
	run btmake -a "" -o "$T/x.torrent" "$T/src/f"
	[ "$status" -eq 2 ]
	run btmake -o "$T/x.torrent" /
	[ "$status" -eq 2 ]
	# A name a downloader would refuse: not UTF-8.
	mkdir "$T/src/bad"
	mkpayload "$T/src/bad/$(printf 'x\377y')" 10 b
	run btmake -o "$T/x.torrent" "$T/src/bad"
	[ "$status" -eq 2 ]
	[[ "$output" == *"not valid UTF-8"* ]]
	[ ! -e "$T/x.torrent" ]
	run bash -c "btmake '$T/src/f' >/dev/full"
	[ "$status" -eq 1 ]
	run btmake -o "$T/nodir/x.torrent" "$T/src/f"
	[ "$status" -eq 1 ]
	[ -z "$(find "$T" -name 'x.torrent*')" ]
}

@test "btmake: a file that reads short or not at all is exit 1" {
	mkdir -p "$T/src/d"
	mkpayload "$T/src/d/f" 1000 f
	# A sysfs file says 4096 bytes and reads a few dozen: as if it shrank.
	s=/sys/kernel/mm/transparent_hugepage/enabled
	if [ -r "$s" ] && [ "$(stat -L -c %s "$s")" -eq 4096 ]; then
		ln -s "$s" "$T/src/d/sys"
		run btmake --follow -o "$T/x.torrent" "$T/src/d"
		[ "$status" -eq 1 ]
		[[ "$output" == *"sys: shrank while btmake ran"* ]]
		[ -z "$(find "$T" -name 'x.torrent*')" ]
		rm "$T/src/d/sys"
	fi
	# Root reads everything.
	if [ "$(id -u)" -ne 0 ]; then
		chmod 000 "$T/src/d/f"
		run btmake -o "$T/x.torrent" "$T/src/d"
		[ "$status" -eq 1 ]
		[[ "$output" == *"Permission denied"* ]]
	fi
}

@test "btmake: v2 and hybrid info-hashes equal libtorrent's create_torrent" {
	tree
	for kind in v2 hybrid; do
		for pl in 16384 65536 1048576; do
			for p in "$T/src/tree" "$T/src/tree/a" "$T/src/tree/one"; do
				want=$(/usr/bin/python3 "$HELPERS/lt_mktorrent.py" \
				    "$p" "$T/lt.torrent" "$kind" "$pl")
				btmake "--$kind" -l "$pl" -o "$T/b.torrent" "$p"
				got=$(/usr/bin/python3 "$HELPERS/lt_hashes.py" \
				    "$T/b.torrent")
				echo "$kind $pl $p: $want / $got"
				[ "$want" = "$got" ]
			done
		done
	done
}

aria_hash() {
	aria2c -S "$1" | sed -n 's/^Info Hash: //p'
}

@test "btmake: transmission-show and aria2c -S accept v1, aria2c hybrid; btverify passes the data" {
	tree
	btmake -l 32K -o "$T/b.torrent" "$T/src/tree"
	ours=$(ih "$T/b.torrent")
	[ "$(transmission-show "$T/b.torrent" | sed -n 's/^ *Hash: //p')" = "$ours" ]
	[ "$(aria_hash "$T/b.torrent")" = "$ours" ]
	btverify "$T/b.torrent" "$T/src"
	# Hybrid: transmission 3.00 refuses every hybrid torrent (libtorrent's
	# too), and aria2c 1.36 reads it but hashes its own re-encoding of the
	# info: the same wrong hash for libtorrent's torrent as for ours.
	btmake --hybrid -l 32K -o "$T/b.torrent" "$T/src/tree"
	/usr/bin/python3 "$HELPERS/lt_mktorrent.py" "$T/src/tree" \
	    "$T/lt.torrent" hybrid 32768 >/dev/null
	a=$(aria_hash "$T/b.torrent")
	[ "${#a}" -eq 40 ]
	[ "$a" = "$(aria_hash "$T/lt.torrent")" ]
	run btverify "$T/b.torrent" "$T/src"
	echo "$output"
	[ "$status" -eq 0 ]
	# A damaged byte is caught: the hashes are of the data.
	printf 'X' | dd of="$T/src/tree/a" bs=1 seek=5000 conv=notrunc 2>/dev/null
	run btverify "$T/b.torrent" "$T/src"
	[ "$status" -eq 1 ]
}

# lt_seed TORRENT: a libtorrent seeder of $T/src that has checked the data
# against TORRENT; sets PORT.
lt_seed() {
	/usr/bin/python3 "$HELPERS/lt_peer.py" seed "$1" "$T/src" \
	    >"$T/seed.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q -e seeding -e error '$T/seed.out'" 60
	grep -q seeding "$T/seed.out"
	PORT=$(awk '/^listening/ { print $2 }' "$T/seed.out")
}

@test "btmake: libtorrent seeds v1, v2 and hybrid torrents to a libtorrent leecher" {
	tree
	for m in --v1 --v2 --hybrid; do
		btmake "$m" -l 16K -o "$T/b.torrent" "$T/src/tree"
		lt_seed "$T/b.torrent"
		rm -rf "$T/dl"
		mkdir "$T/dl"
		LT_TIMEOUT=60 run timeout 90 /usr/bin/python3 \
		    "$HELPERS/lt_peer.py" leech "$T/b.torrent" "$T/dl" \
		    "127.0.0.1:$PORT"
		echo "$m: $output"
		[ "$status" -eq 0 ]
		[ "${lines[-1]}" = complete ]
		# libtorrent creates no empty file; everything else is equal.
		diff -r -x zero -x "empty dir" "$T/src/tree" "$T/dl/tree"
		kill "$(tail -1 "$T/pids")"
	done
}

@test "btmake: aria2c seeds a v1 torrent to libtorrent" {
	tree
	for m in --v1; do
		btmake "$m" -l 32K -o "$T/b.torrent" "$T/src/tree"
		PORT=$(freeport)
		# -V: aria2c checks the data against our hashes before seeding.
		timeout 120 aria2c -V --seed-ratio=0 --seed-time=30 \
		    -d "$T/src" --listen-port="$PORT" "${ARIA[@]}" \
		    "$T/b.torrent" >"$T/aria.out" 2>&1 3>&- &
		echo $! >>"$T/pids"
		waitfor "ss -Htln 'sport = :$PORT' | grep -q LISTEN" 30
		rm -rf "$T/dl"
		mkdir "$T/dl"
		LT_TIMEOUT=60 run timeout 90 /usr/bin/python3 \
		    "$HELPERS/lt_peer.py" leech "$T/b.torrent" "$T/dl" \
		    "127.0.0.1:$PORT"
		echo "$m: $output"
		[ "$status" -eq 0 ]
		[ "${lines[-1]}" = complete ]
		diff -r -x zero -x "empty dir" "$T/src/tree" "$T/dl/tree"
		kill "$(tail -1 "$T/pids")" 2>/dev/null || true
	done
}

@test "btmake: btpeer (v1 only) downloads a hybrid torrent from libtorrent" {
	tree
	btmake --hybrid -l 16K -o "$T/b.torrent" "$T/src/tree"
	lt_seed "$T/b.torrent"
	run timeout 60 btpeer --spool "$T/sp" "$T/b.torrent" "127.0.0.1:$PORT"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = done ]
	btassemble --spool "$T/sp" -o "$T/dl" "$T/b.torrent" >/dev/null
	btverify "$T/b.torrent" "$T/dl"
	diff -r -x "empty dir" "$T/src/tree" "$T/dl/tree"
}

@test "btinfo: v2-only torrents, libtorrent's and ours, with libtorrent's hashes" {
	tree
	for pl in 16384 65536; do
		read -r _ want < <(/usr/bin/python3 "$HELPERS/lt_mktorrent.py" \
		    "$T/src/tree" "$T/lt.torrent" v2 "$pl")
		btmake --v2 -l "$pl" -o "$T/b.torrent" "$T/src/tree"
		for t in "$T/lt.torrent" "$T/b.torrent"; do
			run btinfo "$t"
			[ "$status" -eq 0 ]
			[ "$(jq -r .info_hash_v2 <<<"$output")" = "$want" ]
			# The v2 swarm's 20-byte id is the v2 hash cut short.
			[ "$(jq -r .info_hash <<<"$output")" = "${want:0:40}" ]
			[ "$(jq -r .total_length <<<"$output")" -gt 0 ]
			[ "$(jq -c '[.files[].path_string]' <<<"$output")" = '["tree/a","tree/one","tree/sub/z","tree/sub dir/x y","tree/zero","tree/é/ü.bin"]' ]
			[ "$(jq -c '[.files[].length]' <<<"$output")" = '[100000,32768,5,262145,0,70000]' ]
		done
	done
	btmake --v2 "$T/src/tree/a" | btinfo -s - | grep -q '^v2 hash: '
	# The magnet link names the v2 swarm only, as libtorrent reads it.
	m=$(btinfo "$T/b.torrent" | jq -r .magnet)
	[[ "$m" == "magnet:?xt=urn:btmh:1220$want&dn=tree" ]]
	[ "$(/usr/bin/python3 -c 'import sys, libtorrent as lt
p = lt.parse_magnet_uri(sys.argv[1]).info_hashes
print(p.has_v1(), p.v2)' "$m")" = "False $want" ]
}

@test "btverify --v2: good, damaged, missing and short data by SHA-256 trees" {
	tree
	/usr/bin/python3 "$HELPERS/lt_mktorrent.py" "$T/src/tree" \
	    "$T/lt.torrent" v2 16384 >/dev/null
	btmake --v2 -l 16K -o "$T/v2.torrent" "$T/src/tree"
	btmake --hybrid -l 64K -o "$T/h.torrent" "$T/src/tree"
	btverify "$T/lt.torrent" "$T/src"
	btverify -j1 "$T/v2.torrent" "$T/src"
	btverify -j3 "$T/v2.torrent" "$T/src"
	btverify --v2 "$T/h.torrent" "$T/src"
	# Without piece layers (as from a magnet link) files are judged whole.
	/usr/bin/python3 -c 'import sys, libtorrent as lt
t = lt.bdecode(open(sys.argv[1], "rb").read())
del t[b"piece layers"]
open(sys.argv[2], "wb").write(lt.bencode(t))' "$T/v2.torrent" "$T/nolayers.torrent"
	btverify "$T/nolayers.torrent" "$T/src"
	run btverify --v2 "$T/v2.torrent" "$T/src"
	[ "$status" -eq 0 ]
	[[ "$output" == "tree: 32 pieces: 32 good, 0 bad, 0 missing"* ]]
	printf 'X' | dd of="$T/src/tree/sub dir/x y" bs=1 seek=40000 \
	    conv=notrunc 2>/dev/null
	rm "$T/src/tree/sub/z"
	printf 'X' | dd of="$T/src/tree/a" bs=1 seek=3 conv=notrunc 2>/dev/null
	run btverify --json "$T/v2.torrent" "$T/src"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(jq -c .bad_pieces <<<"$output")" = "[0,12]" ]
	[ "$(jq -r '.files[] | select(.path_string == "tree/sub/z") | .status' <<<"$output")" = missing ]
	[ "$(jq -r '.files[] | select(.path_string == "tree/a") | .status' <<<"$output")" = bad ]
	run btverify --v2 "$T/h.torrent" "$T/src"
	[ "$status" -eq 1 ]
	run btverify --json "$T/nolayers.torrent" "$T/src"
	[ "$status" -eq 1 ]
	# "a" (7 pieces) and "x y" (17) are bad as wholes.
	[ "$(jq -c '[.bad_pieces | length, .[0], .[-1]]' <<<"$output")" = "[24,0,26]" ]
	run btverify "$T/h.torrent" "$T/src"
	[ "$status" -eq 1 ]
	# A v1 torrent has no trees; a spool has no v2 pieces.
	btmake -o "$T/v1.torrent" "$T/src/tree"
	run btverify --v2 "$T/v1.torrent" "$T/src"
	[ "$status" -eq 2 ]
	run btverify --spool "$T/sp" "$T/v2.torrent"
	[ "$status" -eq 2 ]
}

@test "lib/metainfo_v2: refuses a wrong piece layer, a file with siblings, '..', a hybrid whose halves differ" {
	tree
	btmake --v2 -l 16K --no-date -o "$T/v2.torrent" "$T/src/tree"
	btmake --hybrid -l 16K --no-date -o "$T/h.torrent" "$T/src/tree"
	/usr/bin/python3 - "$T" <<'PY'
import sys
import libtorrent as lt
d = sys.argv[1]
def load(n):
    return lt.bdecode(open("%s/%s" % (d, n), "rb").read())
def save(t, n):
    open("%s/%s" % (d, n), "wb").write(lt.bencode(t))
t = load("v2.torrent")
k = sorted(t[b"piece layers"])[0]
v = bytearray(t[b"piece layers"][k]); v[0] ^= 1
t[b"piece layers"][k] = bytes(v); save(t, "layer.torrent")
t = load("v2.torrent")
t[b"piece layers"][k] = t[b"piece layers"][k][:-32]; save(t, "short.torrent")
t = load("v2.torrent")
t[b"info"][b"file tree"][b"sub"][b"z"][b"x"] = {b"": {b"length": 1}}
save(t, "sibling.torrent")
t = load("v2.torrent")
t[b"info"][b"file tree"][b".."] = t[b"info"][b"file tree"][b"a"]
save(t, "dotdot.torrent")
t = load("v2.torrent")
t[b"info"][b"file tree"][b"a"][b""][b"pieces root"] = b"x" * 31
save(t, "root.torrent")
t = load("h.torrent")
t[b"info"][b"file tree"][b"zz"] = t[b"info"][b"file tree"][b"a"]
save(t, "hyb.torrent")
t = load("h.torrent")
t[b"info"][b"files"][0][b"length"] += 1	# "a", then its pad file
t[b"info"][b"files"][1][b"length"] -= 1
save(t, "hyb2.torrent")
PY
	for c in layer:"does not give its pieces root" short:"wrong length" \
	    sibling:siblings dotdot:"'..'" root:"not 32 bytes" \
	    hyb:"hybrid: " hyb2:"differ"; do
		run btinfo "$T/${c%%:*}.torrent"
		echo "$c: $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"${c#*:}"* ]]
	done
}

@test "btmake: progress on a terminal only; no torrent onto a terminal" {
	tree
	run sh -c 'btmake -o "$1" "$2" 2>&1' sh "$T/x.torrent" "$T/src/tree"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	timeout 30 script -qec "btmake -o '$T/y.torrent' '$T/src/tree'" \
	    /dev/null >"$T/tty"
	grep -q 'MiB hashed, .* MB/s' "$T/tty"
	cmp <(bencode -d <"$T/x.torrent" | jq .info) \
	    <(bencode -d <"$T/y.torrent" | jq .info)
	run timeout 30 script -qec "btmake '$T/src/tree'; echo status \$?" \
	    /dev/null
	[[ "$output" == *"not writing a torrent to a terminal"* ]]
	[[ "$output" == *"status 2"* ]]
}

@test "btmake: a torrent made into its own directory is left out next time" {
	tree
	btmake --no-date -o "$T/src/tree/self.torrent" "$T/src/tree"
	cp "$T/src/tree/self.torrent" "$T/first.torrent"
	btmake --no-date -o "$T/src/tree/self.torrent" "$T/src/tree"
	cmp "$T/first.torrent" "$T/src/tree/self.torrent"
	! btinfo "$T/first.torrent" | jq -r '.files[].path_string' | grep -q self
}
