#!/usr/bin/env bats
# bittorrent over uTP (BEP 29) with real uTP-only python3-libtorrent peers
# on loopback (tests/helpers/lt_utp.py; their TCP resets every
# connection): the download falls back from TCP to uTP, the seed serves
# through its btutp listener, and --no-utp starts none.

load helpers
bats_require_minimum_version 1.5.0

# 20 pieces of 64 KiB, the last one short.
single() {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" 1300000 bu
	mktorrent -l 16 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
}

# lt NAME seed|leech [PEER]: a uTP-only libtorrent peer; sets PORT.
lt() {
	local name=$1 mode=$2 dir=$T/src
	shift 2
	[ "$mode" = leech ] && dir=$T/$name && mkdir -p "$dir"
	env LT_TIMEOUT=100 /usr/bin/python3 "$HELPERS/lt_utp.py" "$mode" \
	    "$T/s.torrent" "$dir" "$@" >"$T/$name.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/$name.out'" 30
	PORT=$(awk '/^listening/ { print $2 }' "$T/$name.out")
	[ "$mode" = leech ] || waitfor "grep -q seeding '$T/$name.out'" 30
}

# seeder ARGS...: bittorrent --seed of $T/src in the background; sets
# BPID and LPORT once it listens.
seeder() {
	bittorrent -v --seed --no-dht --port 0 "$@" -o "$T/src" "$T/s.torrent" \
	    >"$T/bt.out" 2>"$T/bt.err" 3>&- &
	BPID=$!
	echo "$BPID" >>"$T/pids"
	waitfor "grep -q 'listening on port' '$T/bt.err'" 30
	LPORT=$(sed -n 's/.*listening on port \([0-9]*\)$/\1/p' "$T/bt.err")
}

@test "bittorrent: TCP reset by a uTP-only libtorrent seeder, retried over uTP" {
	single
	lt seed seed
	run --separate-stderr env BT_RETRY_SECONDS=1 timeout 120 bittorrent -v \
	    --no-dht --port 0 --peer "127.0.0.1:$PORT" -o "$T/out" "$T/s.torrent"
	echo "$stderr"
	[ "$status" -eq 0 ]
	cmp "$T/out/data.bin" "$T/src/data.bin"
	[[ "$stderr" == *"peer 127.0.0.1:$PORT: next try over utp"* ]]
	waitfor "grep -q '^peer 127.0.0.1:[0-9]* utp' '$T/seed.out'" 10
}

@test "bittorrent --utp: uTP first, no TCP try" {
	single
	lt seed seed
	run --separate-stderr timeout 120 bittorrent -v --utp --no-dht --port 0 \
	    --peer "127.0.0.1:$PORT" -o "$T/out" "$T/s.torrent"
	[ "$status" -eq 0 ]
	cmp "$T/out/data.bin" "$T/src/data.bin"
	[[ "$stderr" != *"next try over"* ]]
	waitfor "grep -q '^peer 127.0.0.1:[0-9]* utp' '$T/seed.out'" 10
}

@test "bittorrent --seed: a uTP-only libtorrent leecher through our btutp" {
	single
	seeder
	grep -q "uTP: listening on UDP port $LPORT " "$T/bt.err"
	upid=$(sed -n 's/.*uTP: listening on UDP port [0-9]* (pid \([0-9]*\))$/\1/p' "$T/bt.err")
	[ "$(cat "/proc/$upid/comm")" = btutp ]
	lt leech leech "127.0.0.1:$LPORT"
	waitfor "grep -q '^complete' '$T/leech.out'" 90
	cmp "$T/leech/data.bin" "$T/src/data.bin"
	grep -q "^peer 127.0.0.1:$LPORT utp" "$T/leech.out"
	# Stopped with the other children.
	kill "$BPID"
	waitfor "! kill -0 $BPID 2>/dev/null" 30
	! kill -0 "$upid" 2>/dev/null
}

@test "bittorrent --no-utp: no btutp" {
	single
	seeder --no-utp
	! grep -q "uTP:" "$T/bt.err"
	run pgrep -P "$BPID" -x btutp
	[ "$status" -eq 1 ]
	kill "$BPID"
	waitfor "! kill -0 $BPID 2>/dev/null" 30
}

@test "bittorrent: a busy UDP port is a warning" {
	single
	port=$(freeport)
	/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
print("bound", flush=True)
time.sleep(100)' "$port" >"$T/udp.out" &
	echo $! >>"$T/pids"
	waitfor "grep -q bound '$T/udp.out'" 10
	seeder --port "$port"
	[ "$LPORT" = "$port" ]
	grep -q "uTP: not listening" "$T/bt.err"
	kill -0 "$BPID"
	kill "$BPID"
	waitfor "! kill -0 $BPID 2>/dev/null" 30
}

@test "bittorrent: killed with -9, its btutp goes too" {
	single
	seeder
	upid=$(sed -n 's/.*uTP: listening on UDP port [0-9]* (pid \([0-9]*\))$/\1/p' "$T/bt.err")
	echo "$upid" >>"$T/pids"
	kill -0 "$upid"
	kill -9 "$BPID"
	waitfor "! kill -0 $upid 2>/dev/null" 20
}
