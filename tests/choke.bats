#!/usr/bin/env bats
# Choking and rate limits in btpeer, quick checks against libtorrent
# leechers (the long ones, with six leechers, kill -9 and 20 s rate
# windows, are in tests/long). Loopback only.

load helpers

# seeder ARGS...: a complete spool over final files, btpeer --listen
# with ARGS on $port, events in $T/ev, traces in $T/err.
seeder() {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" $((2 << 20))
	mktorrent -l 15 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	bits=$(btverify --bitfield "$T/s.torrent" "$T/src")
	btassemble --mark "$bits" --spool "$T/sp" -o "$T/src" "$T/s.torrent" \
	    >/dev/null
	btpeer -v --listen 127.0.0.1:0 "$@" --spool "$T/sp" -o "$T/src" \
	    "$T/s.torrent" >"$T/ev" 2>"$T/err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/ev'" 10
	port=$(awk '/^listening/ { print $2 }' "$T/ev")
}

# swarm N [DRATE]: N libtorrent leechers on $port.
swarm() {
	LT_DRATE=${2:-0} LT_TIMEOUT=60 /usr/bin/python3 "$HELPERS/lt_swarm.py" \
	    "$1" "$T/s.torrent" "$T/dl" "127.0.0.1:$port" >"$T/swarm" 2>&1 3>&- &
	echo $! >>"$T/pids"
}

@test "choke: one slot and the optimistic one for three leechers" {
	seeder --upload-slots 1
	swarm 3 50000
	# The first comer at once; the optimistic one at the first evaluation.
	waitfor "grep -q '^unchoke 0\$' '$T/ev'" 20
	waitfor "grep -q '^unchoke optimistic\$' '$T/ev'" 20
	# The third stays choked: two unchoked, never a slot taken twice.
	[ "$(grep -c '^unchoke' "$T/ev")" -eq 2 ]
	awk '$1 == "unchoke" { if ($2 in h) exit 1; h[$2] = 1 }
	    $1 == "choke" { delete h[$2] }' "$T/ev"
	# -v shows each evaluation's ranking.
	grep -q 'choke evaluation entry' "$T/err"
}

@test "choke: --upload-slots 0 unchokes everyone, and all complete" {
	seeder --upload-slots 0
	swarm 6
	waitfor "grep -q complete '$T/swarm'" 60
	! grep -q '^unchoke' "$T/ev"
	cmp "$T/src/data.bin" "$T/dl/5/data.bin"
}

@test "choke: bad --upload-slots and rates exit 2" {
	: >"$T/x.torrent"
	for a in "--upload-slots 257" "--upload-slots x" \
	    "--max-download-rate 1.5" "--max-upload-rate 2G" \
	    "--max-upload-rate -1" "--max-download-rate k"; do
		# shellcheck disable=SC2086 # option and value, split on purpose
		run btpeer $a --spool "$T/sp" "$T/x.torrent" 127.0.0.1:1
		echo "$a: $output"
		[ "$status" -eq 2 ]
	done
	run btpeer --max-download-rate 1.5 --spool "$T/sp" "$T/x.torrent" 127.0.0.1:1
	[[ "$output" == *"--max-download-rate: want bytes/s"* ]]
}
