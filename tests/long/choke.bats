#!/usr/bin/env bats
# Choking across processes against six python3-libtorrent leechers: the
# btpeer --listen children of one seeder share 4 upload slots and one
# optimistic unchoke through DIR/choke (btspool(5)). About 100 s.

load long

# A seeder: a spool marked complete over final files, listening with
# -v (its traces name the pid holding each slot) on $port.
seeder() {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" $((4 << 20))
	mktorrent -l 16 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	bits=$(btverify --bitfield "$T/s.torrent" "$T/src")
	btassemble --mark "$bits" --spool "$T/sp" -o "$T/src" "$T/s.torrent" \
	    >/dev/null
	btpeer -v --listen 127.0.0.1:0 --spool "$T/sp" -o "$T/src" \
	    "$T/s.torrent" >"$T/ev" 2>"$T/err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/ev'" 10
	port=$(awk '/^listening/ { print $2 }' "$T/ev")
	# 20 kB/s each: 4 MiB lasts far longer than the test.
	LT_DRATE=20000 LT_TIMEOUT=200 /usr/bin/python3 "$HELPERS/lt_swarm.py" \
	    6 "$T/s.torrent" "$T/dl" "127.0.0.1:$port" >"$T/swarm" 2>&1 3>&- &
	echo $! >>"$T/pids"
}

# Replays the event lines in order: no slot taken while held, never more
# than 4 + 1 held. Prints the most held at once.
check_slots() {
	awk -v killed="${1:-}" '
	$1 == "unchoke" {
		if (($2 in held) && $2 != killed) {
			print "slot " $2 " taken twice at line " NR; bad = 1
		}
		held[$2] = 1; n = 0; for (s in held) n++
		if (n > max) max = n
		if (n > 5) { print "more than 5 held at line " NR; bad = 1 }
	}
	$1 == "choke" { delete held[$2] }
	END { print max; exit bad }' "$T/ev"
}

@test "choke: 6 libtorrent leechers, 4 slots + 1 optimistic, rotating" {
	seeder
	# Two optimistic unchokes of different processes: a rotation.
	waitfor "[ \$(grep 'unchoke optimistic' '$T/err' | sed 's/.*pid //' | sort -u | wc -l) -ge 2 ]" 90
	run check_slots
	echo "$output"
	[ "$status" -eq 0 ]
	# All the slots were in use at some point.
	[ "${lines[-1]}" -eq 5 ]
	# Regular slots went to the first comers at once.
	[ "$(grep -c '^unchoke [0-3]$' "$T/ev")" -ge 4 ]
}

@test "choke: kill -9 of an unchoked process frees its slot within one period" {
	seeder
	waitfor "grep -q 'unchoke optimistic' '$T/ev'" 30
	# Every regular slot is held: kill the holder of slot 0.
	pid=$(grep 'unchoke 0 (entry' "$T/err" | tail -n 1 | sed 's/.*pid \([0-9]*\))/\1/')
	[ -n "$pid" ]
	kill -9 "$pid"
	# Another process takes slot 0 within one re-evaluation (10 s) and
	# a little: its process evaluates on the next 10 s boundary.
	n=$(grep -c '^unchoke 0$' "$T/ev")
	waitfor "[ \$(grep -c '^unchoke 0\$' '$T/ev') -gt $n ]" 12
	run check_slots 0
	echo "$output"
	[ "$status" -eq 0 ]
}
