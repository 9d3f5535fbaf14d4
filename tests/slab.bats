#!/usr/bin/env bats
# Slab spools (btspool(5)): a torrent of pieces shorter than 32 KiB keeps
# them in slabs/<k>, 64 pieces of 16 KiB a file, not pieces/<i>. Whole
# downloads from a real libtorrent seeder, kill -9 and resume, a damaged
# slab piece caught and fetched again, btverify --spool on a slab spool.
# Loopback only.

load helpers
load helpers/spool
bats_require_minimum_version 1.5.0

setup_file() {
	D=$(mktemp -d "${BATS_TMPDIR:-/tmp}/slab.XXXXXX")
	export D
	# 184 pieces of 16 KiB, the last one short: three slabs.
	mkpayload "$D/single.bin" 3000017 slab
	btmake -a http://127.0.0.1:1/announce -l 16384 -o "$D/s.torrent" \
	    "$D/single.bin" >/dev/null
}

teardown_file() {
	rm -rf "$D"
}

# ltseed TORRENT DATADIR [ARGS...]: a libtorrent seeder; sets LTPORT.
ltseed() {
	local out=$T/lt.$RANDOM
	/usr/bin/python3 "$HELPERS/lt_seed.py" "$@" --seconds 120 >"$out" 2>&1 &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$out'" 20
	LTPORT=$(sed -n 's/^listening //p' "$out")
}

# okpieces LOG: the pieces a run stored, sorted.
okpieces() {
	sed -n 's/^piece \([0-9]*\) ok$/\1/p' "$1" | sort -n
}

@test "slab: 16 KiB pieces from a libtorrent seeder go through slabs, byte-identical" {
	[ "$(btinfo "$D/s.torrent" | jq .piece_length)" = 16384 ]
	ltseed "$D/s.torrent" "$D"
	run timeout 120 bittorrent -t "$D/s.torrent" -o "$T/out" \
	    --spool "$T/sp" --peer "127.0.0.1:$LTPORT"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$D/single.bin" "$T/out/single.bin"
	[ "$(okpieces "$T/sp/run/events.log" | wc -l)" -eq 184 ]
	# No piece file was made; every slab went once its pieces were placed.
	[ -z "$(ls -A "$T/sp/pieces")" ]
	[ -d "$T/sp/slabs" ]
	[ -z "$(ls -A "$T/sp/slabs")" ]
}

@test "slab: kill -9 of the whole tree mid-download, then the same command completes" {
	n=184
	ltseed "$D/s.torrent" "$D" --rate 400000
	setsid bittorrent -t "$D/s.torrent" -o "$T/out" --spool "$T/sp" \
	    --peer "127.0.0.1:$LTPORT" >/dev/null 2>"$T/1.err" &
	pid=$!
	echo "$pid" >>"$T/pids"
	waitfor "[ \$(grep -c ' ok\$' '$T/sp/run/events.log') -ge $((n / 2)) ]" 60
	kids=$(pgrep -P "$pid" | tr '\n' ' ')
	[ -n "$kids" ]
	kill -9 -- "-$pid"
	wait "$pid" || true
	waitfor "! kill -0 $kids 2>/dev/null" 10
	okpieces "$T/sp/run/events.log" >"$T/run1"
	[ "$(wc -l <"$T/run1")" -lt "$n" ]
	# The slabs hold what was fetched.
	[ -n "$(ls -A "$T/sp/slabs")" ]
	run timeout 120 bittorrent -t "$D/s.torrent" -o "$T/out" --spool "$T/sp" \
	    --peer "127.0.0.1:$LTPORT"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$D/single.bin" "$T/out/single.bin"
	okpieces "$T/sp/run/events.log" >"$T/run2"
	echo "first run: $(wc -l <"$T/run1") pieces, second: $(wc -l <"$T/run2") of $n"
	# Nothing stored before the kill is fetched again.
	[ -z "$(comm -12 "$T/run1" "$T/run2")" ]
}

@test "slab: a damaged slab piece is caught by btassemble --recheck, dropped and fetched again" {
	ltseed "$D/s.torrent" "$D"
	# Every piece in the slabs, none placed: as a run killed before
	# btassemble placed anything leaves it.
	run timeout 60 btpeer --spool "$T/sp" "$D/s.torrent" "127.0.0.1:$LTPORT"
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$T/sp/pieces")" ]
	[ "$(ls "$T/sp/slabs" | sort -n | tr '\n' ' ')" = "0 1 2 " ]
	# Piece 67 is the fourth of slab 1; its have bit stays set.
	flip "$T/sp/slabs/1" $((3 * 16384 + 100))
	run timeout 60 btassemble --recheck --spool "$T/sp" -o "$T/out" "$D/s.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"67: SHA-1 mismatch, removed to be fetched again"* ]]
	# The slabs of placed pieces are gone; slab 1 waits for piece 67.
	[ "$(ls "$T/sp/slabs")" = 1 ]
	run timeout 120 bittorrent -t "$D/s.torrent" -o "$T/out" --spool "$T/sp" \
	    --peer "127.0.0.1:$LTPORT"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$D/single.bin" "$T/out/single.bin"
	[ "$(okpieces "$T/sp/run/events.log")" = 67 ]
	[ -z "$(ls -A "$T/sp/slabs")" ]
}

@test "slab: btverify --spool reads a slab spool, and finds a damaged piece" {
	ltseed "$D/s.torrent" "$D"
	run timeout 60 btpeer --spool "$T/sp" "$D/s.torrent" "127.0.0.1:$LTPORT"
	[ "$status" -eq 0 ]
	run btverify --json --spool "$T/sp" "$D/s.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c '[.source, .good, .bad, .missing]')" = '["spool",184,0,0]' ]
	flip "$T/sp/slabs/2" $((5 * 16384))
	run btverify --json --spool "$T/sp" "$D/s.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq -c '.bad_pieces')" = '[133]' ]
}

# setbit STATE PIECE 0|1: clears or sets piece's have bit in a spool's
# state file (the have map starts at byte 128), as a writer would.
setbit() {
	/usr/bin/python3 - "$@" <<'PY'
import sys
path, i, on = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
with open(path, "r+b") as f:
    f.seek(128 + i // 8)
    b = f.read(1)[0]
    b = b | (1 << (i % 8)) if on else b & ~(1 << (i % 8))
    f.seek(128 + i // 8)
    f.write(bytes([b]))
PY
}

@test "slab: --follow places a piece whose have bit comes after its write's event" {
	ltseed "$D/s.torrent" "$D"
	run timeout 60 btpeer --spool "$T/sp" "$D/s.torrent" "127.0.0.1:$LTPORT"
	[ "$status" -eq 0 ]
	# Piece 5's writer "died" between its write and its bit: the bytes
	# are in slab 0, the piece is not had.
	setbit "$T/sp/state" 5 0
	btassemble --follow --spool "$T/sp" -o "$T/out" "$D/s.torrent" \
	    >"$T/as.out" 2>"$T/as.err" &
	pid=$!
	echo "$pid" >>"$T/pids"
	# Everything else is placed (slabs 1 and 2 go); btassemble waits.
	waitfor "[ \"\$(ls '$T/sp/slabs')\" = 0 ]" 20
	kill -0 "$pid"
	# A writer now: its write (an event), then, later, its bit.
	dd if="$D/single.bin" of="$T/sp/slabs/0" bs=16384 skip=5 seek=5 \
	    count=1 conv=notrunc 2>/dev/null
	# Time for the event to be read first: the race under test.
	sleep 0.3
	kill -0 "$pid"
	setbit "$T/sp/state" 5 1
	st=0
	waitfor "! kill -0 $pid 2>/dev/null" 20
	wait "$pid" || st=$?
	cat "$T/as.err"
	[ "$st" -eq 0 ]
	cmp "$D/single.bin" "$T/out/single.bin"
	[ -z "$(ls -A "$T/sp/slabs")" ]
}

@test "slab: btpeer --listen serves pieces from the slabs to a libtorrent leecher" {
	ltseed "$D/s.torrent" "$D"
	run timeout 60 btpeer --spool "$T/sp" "$D/s.torrent" "127.0.0.1:$LTPORT"
	[ "$status" -eq 0 ]
	# Nothing placed: every byte served comes from a slab.
	btpeer --listen 127.0.0.1:0 --spool "$T/sp" "$D/s.torrent" \
	    >"$T/ev" 2>"$T/err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/ev'" 10
	port=$(awk '/^listening/ { print $2 }' "$T/ev")
	mkdir "$T/dl"
	run timeout 90 /usr/bin/python3 "$HELPERS/lt_seed.py" "$D/s.torrent" \
	    "$T/dl" --leech --connect "127.0.0.1:$port" --seconds 80
	echo "$output"
	[[ "$output" == *done* ]]
	cmp "$D/single.bin" "$T/dl/single.bin"
}
