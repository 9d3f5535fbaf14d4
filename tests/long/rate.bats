#!/usr/bin/env bats
# Rate limits shared by the processes of one spool, against real peers:
# three btpeer downloading from three libtorrent seeders under one
# --max-download-rate, and the children of one btpeer --listen uploading
# to three libtorrent leechers under one --max-upload-rate. Each is
# measured over a 20 s window after a warm-up and must be within 10%
# of the limit. About 70 s.

load long

LIMIT=204800	# 200k
WINDOW=20

setup_payload() {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" $((12 << 20))
	mktorrent -l 15 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
}

# now: seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }

# within MEASURED: within 10% of LIMIT.
within() {
	echo "measured $1 bytes/s, limit $LIMIT"
	awk -v m="$1" -v l="$LIMIT" 'BEGIN { exit !(m >= 0.9 * l && m <= 1.1 * l) }'
}

@test "rate: --max-download-rate 200k holds across three btpeer processes" {
	setup_payload
	for k in 1 2 3; do
		/usr/bin/python3 "$HELPERS/lt_peer.py" seed "$T/s.torrent" \
		    "$T/src" >"$T/seed$k" 2>&1 3>&- &
		echo $! >>"$T/pids"
	done
	for k in 1 2 3; do
		waitfor "grep -q seeding '$T/seed$k'" 30
		port=$(awk '/^listening/ { print $2 }' "$T/seed$k")
		btpeer --max-download-rate 200k --spool "$T/sp" "$T/s.torrent" \
		    "127.0.0.1:$port" >"$T/ev$k" 2>"$T/err$k" 3>&- &
		echo $! >>"$T/pids"
	done
	# Warm-up: every process has stored something.
	waitfor "grep -q 'ok\$' '$T/ev1' && grep -q 'ok\$' '$T/ev2' && grep -q 'ok\$' '$T/ev3'" 30
	n0=$(cat "$T"/ev? | grep -c ' ok$')
	t0=$(now)
	sleep "$WINDOW"
	n1=$(cat "$T"/ev? | grep -c ' ok$')
	t1=$(now)
	# Still running: the window measured the limit, not the end.
	[ "$(cat "$T"/ev? | grep -c '^done')" -eq 0 ]
	rate=$(awk -v a="$n0" -v b="$n1" -v t0="$t0" -v t1="$t1" \
	    'BEGIN { printf "%d", (b - a) * 32768 / (t1 - t0) }')
	within "$rate"
}

@test "rate: --max-upload-rate 200k holds across the --listen children" {
	setup_payload
	bits=$(btverify --bitfield "$T/s.torrent" "$T/src")
	btassemble --mark "$bits" --spool "$T/sp" -o "$T/src" "$T/s.torrent" \
	    >/dev/null
	btpeer --listen 127.0.0.1:0 --max-upload-rate 200k --spool "$T/sp" \
	    -o "$T/src" "$T/s.torrent" >"$T/ev" 2>"$T/err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/ev'" 10
	port=$(awk '/^listening/ { print $2 }' "$T/ev")
	LT_TIMEOUT=200 /usr/bin/python3 "$HELPERS/lt_swarm.py" 3 \
	    "$T/s.torrent" "$T/dl" "127.0.0.1:$port" >"$T/swarm" 2>&1 3>&- &
	echo $! >>"$T/pids"
	# Warm-up: three connections unchoked and sending.
	waitfor "[ \$(grep -c '^unchoke' '$T/ev') -ge 3 ]" 30
	waitfor "[ \$(grep -c '^sent' '$T/ev') -ge 6 ]" 30
	s0=$(awk '/^sent/ { s += $2 } END { print s + 0 }' "$T/ev")
	t0=$(now)
	sleep "$WINDOW"
	s1=$(awk '/^sent/ { s += $2 } END { print s + 0 }' "$T/ev")
	t1=$(now)
	! grep -q complete "$T/swarm"
	rate=$(awk -v a="$s0" -v b="$s1" -v t0="$t0" -v t1="$t1" \
	    'BEGIN { printf "%d", (b - a) / (t1 - t0) }')
	within "$rate"
}
