#!/usr/bin/env bats
# Choosing files: bittorrent --files/--include/--exclude against an aria2c
# seeder; btinfo's numbers and selected sizes; btverify on a selection;
# btassemble keeping straddling pieces. Loopback only.

load helpers
bats_require_minimum_version 1.5.0

# Four files of sizes that make pieces (32 KiB) straddle every boundary.
setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/bt.XXXXXX")
	mkdir -p "$T/src/multi"
	mkpayload "$T/src/multi/a.bin" 100000 a
	mkpayload "$T/src/multi/b.bin" 70001 b
	mkpayload "$T/src/multi/c.txt" 50003 c
	mkpayload "$T/src/multi/d.bin" 90007 d
	mktorrent -l 15 -a http://127.0.0.1:1/announce -o "$T/m.torrent" \
	    "$T/src/multi" >/dev/null
}

# ariaseed PORT: aria2c seeding $T/m.torrent from $T/src.
ariaseed() {
	aria2c -q -d "$T/src" -V --seed-ratio=0.0 --enable-dht=false \
	    --enable-dht6=false --bt-enable-lpd=false \
	    --enable-peer-exchange=false --disable-ipv6=true \
	    --interface=127.0.0.1 --listen-port="$1" --bt-external-ip=127.0.0.1 \
	    "$T/m.torrent" >"$T/aria.log" 2>&1 &
	echo $! >>"$T/pids"
	waitfor "(: </dev/tcp/127.0.0.1/$1)" 20
}

# pieces_of N: the pieces file number N overlaps, one a line.
pieces_of() {
	btinfo "$T/m.torrent" | jq -r --argjson n "$1" '.piece_length as $pl |
	    .files[] | select(.index == $n) |
	    range((.offset / $pl | floor); ((.offset + .length - 1) / $pl | floor) + 1)'
}

# The regular files under DIR, the spool left out.
files_in() {
	(cd "$1" && find . -type f -not -path './.bt-*' | sort)
}

@test "btinfo: numbers files for --files and sums a selection" {
	run btinfo -s "$T/m.torrent"
	[[ "$output" == *"   1   "*"a.bin"* ]]
	[[ "$output" == *"   4   "*"d.bin"* ]]
	[ "$(btinfo "$T/m.torrent" | jq '[.files[].index] == [1,2,3,4]')" = true ]
	run btinfo --lines --files 2 "$T/m.torrent"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'selected_length\t70001'* ]]
	run btinfo --lines --include '*.bin' --exclude '*/d.bin' "$T/m.torrent"
	[[ "$output" == *$'selected_length\t170001'* ]]
	run btinfo --lines --files 5 "$T/m.torrent"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--files '5'"* ]]
	run btinfo --lines --files 2-1 "$T/m.torrent"
	[ "$status" -eq 2 ]
	run btinfo --lines --exclude '*' "$T/m.torrent"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no file"* ]]
}

@test "bittorrent --files 1,3 from aria2c: exactly those files; a second run adds 2, fetching only its missing pieces" {
	ap=$(freeport)
	ariaseed "$ap"
	run timeout 120 bittorrent -q --files 1,3 --peer "127.0.0.1:$ap" \
	    -o "$T/out" "$T/m.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(files_in "$T/out")" = "$(printf './multi/a.bin\n./multi/c.txt')" ]
	cmp "$T/src/multi/a.bin" "$T/out/multi/a.bin"
	cmp "$T/src/multi/c.txt" "$T/out/multi/c.txt"
	# The spool stays, holding whole the pieces that straddle into b.
	sp=$(echo "$T"/out/.bt-*)
	for i in $(comm -12 <(pieces_of 1 | sort) <(pieces_of 2 | sort)); do
		[ -f "$sp/pieces/$i" ]
	done
	run btverify --files 1,3 --parts "$sp" "$T/m.torrent" "$T/out"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"not-selected multi/b.bin"* ]]
	[[ "$output" == *"not-selected multi/d.bin"* ]]
	# Without the selection the same data is incomplete.
	run btverify "$T/m.torrent" "$T/out"
	[ "$status" -eq 1 ]
	# Now b as well: only b's pieces not fetched already; --recheck runs
	# the final btverify --parts (pieces straddling into d in the spool).
	run timeout 120 bittorrent -q --recheck --files 1-3 --peer "127.0.0.1:$ap" \
	    -o "$T/out" "$T/m.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(files_in "$T/out")" = "$(printf './multi/a.bin\n./multi/b.bin\n./multi/c.txt')" ]
	diff <(cd "$T/src" && cat multi/a.bin multi/b.bin multi/c.txt) \
	    <(cd "$T/out" && cat multi/a.bin multi/b.bin multi/c.txt)
	want=$(comm -23 <(pieces_of 2 | sort) <({ pieces_of 1; pieces_of 3; } | sort -u) | sort -n)
	got=$(sed -n 's/^piece \([0-9]*\) ok$/\1/p' "$sp/run/events.log" | sort -n)
	echo "want: $want"
	echo "got:  $got"
	[ -n "$want" ]
	[ "$got" = "$want" ]
}

@test "bittorrent: --include/--exclude, left counts the wanted bytes; bad selections exit 2" {
	ap=$(freeport)
	ariaseed "$ap"
	# The same info-hash announcing to a tracker that logs the requests.
	mkdir "$T/ft"
	/usr/bin/python3 "$HELPERS/fake_tracker.py" http ok "$T/ft" \
	    2>"$T/ft.err" &
	echo $! >>"$T/pids"
	waitfor "[ -s '$T/ft/port' ]" 10
	mktorrent -l 15 -a "http://127.0.0.1:$(cat "$T/ft/port")/announce" \
	    -o "$T/t.torrent" "$T/src/multi" >/dev/null
	run timeout 120 bittorrent -q --include '*.bin' --exclude '*/a.bin' \
	    --peer "127.0.0.1:$ap" -o "$T/out" "$T/t.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	# b.bin and d.bin: 70001 + 90007 bytes left at the start.
	grep 'left=' "$T/ft/log"
	grep -q 'left=160008&' "$T/ft/log"
	! grep -q 'left=310011' "$T/ft/log"
	[ "$(files_in "$T/out")" = "$(printf './multi/b.bin\n./multi/d.bin')" ]
	cmp "$T/src/multi/d.bin" "$T/out/multi/d.bin"
	run bittorrent --files 9 --peer 127.0.0.1:1 -o "$T/x" "$T/m.torrent"
	[ "$status" -eq 2 ]
	run bittorrent --upload-slots x --peer 127.0.0.1:1 -o "$T/x" "$T/m.torrent"
	[ "$status" -eq 2 ]
}
