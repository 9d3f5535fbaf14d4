#!/usr/bin/env bats
# btdht: against real DHT nodes on loopback: a private DHT of
# python3-libtorrent sessions (tests/helpers/lt_dht.py) and aria2c.
# Never the public routers: every run names its nodes or sets
# BTDHT_ROUTERS, and keeps its state file in $T.

load helpers

setup_file() {
	D=$(mktemp -d "${BATS_TMPDIR:-/tmp}/btdht.XXXXXX")
	export D
	mkpayload "$D/data.bin" 200000 dht
	mktorrent -a http://127.0.0.1:1/announce -o "$D/x.torrent" \
	    "$D/data.bin" >/dev/null
	IH=$(/usr/bin/python3 -c 'import libtorrent as lt, sys
print(lt.torrent_info(sys.argv[1]).info_hash())' "$D/x.torrent")
	export IH
}

teardown_file() {
	rm -rf "$D"
}

# Keeps every test off the Internet even when it forgets -n.
export BTDHT_ROUTERS=

# ltdht NAME ARGS...: starts lt_dht.py, waits for "ready" (or for the
# line $READY names); sets NODE (its first session's port) and NAME's
# output file $T/NAME.out.
ltdht() {
	local name=$1
	shift
	/usr/bin/python3 "$HELPERS/lt_dht.py" --seconds 100 "$@" \
	    >"$T/$name.out" 2>"$T/$name.err" &
	echo $! >>"$T/pids"
	waitfor "grep -q '^${READY:-ready}' '$T/$name.out'" 30
	NODE=$(sed -n 's/^node //p' "$T/$name.out" | head -1)
}

@test "btdht: a libtorrent seeder that announced to a loopback DHT is found" {
	ltdht lt --nodes 3 --seed "$D/x.torrent" "$D"
	seeder=$(sed -n 's/^node //p' "$T/lt.out" | head -1)
	# The seeder's announce reached one of the others.
	waitfor "grep -q '^stored $IH 127.0.0.1:$seeder' '$T/lt.out'" 30
	other=$(sed -n 's/^node //p' "$T/lt.out" | sed -n 2p)
	run btdht --state "$T/state" -n "127.0.0.1:$other" peers "$IH"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"127.0.0.1:$seeder"* ]]
	# Every line is a peer, IP:PORT.
	! printf '%s\n' "$output" | grep -qvE '^[0-9.]+:[0-9]+$'
	# The state now holds our id and the nodes that answered...
	grep -qE '^id [0-9a-f]{40}$' "$T/state"
	grep -qE "^node [0-9a-f]{40} 127.0.0.1:$other$" "$T/state"
	id=$(sed -n 's/^id //p' "$T/state")
	# ...so the next run needs no --dht-node, and keeps its id.
	run btdht --state "$T/state" peers "magnet:?xt=urn:btih:$IH"
	[ "$status" -eq 0 ]
	[[ "$output" == *"127.0.0.1:$seeder"* ]]
	[ "$(sed -n 's/^id //p' "$T/state")" = "$id" ]
	# The torrent's own "nodes" key is a way in too.
	/usr/bin/python3 -c 'import libtorrent as lt, sys
d = lt.bdecode(open(sys.argv[1], "rb").read())
d[b"nodes"] = [[b"127.0.0.1", int(sys.argv[2])]]
open(sys.argv[3], "wb").write(lt.bencode(d))' "$D/x.torrent" "$other" \
	    "$T/nodes.torrent"
	run btdht --state "$T/fresh" peers "$T/nodes.torrent"
	[ "$status" -eq 0 ]
	[[ "$output" == *"127.0.0.1:$seeder"* ]]
	# A full standard output is an error, not a success.
	run bash -c "btdht --state '$T/state' peers $IH >/dev/full"
	[ "$status" -eq 1 ]
}

@test "btdht: the default routers are BTDHT_ROUTERS, so tests need no network" {
	ltdht lt --nodes 2 --seed "$D/x.torrent" "$D"
	seeder=$NODE
	other=$(sed -n 's/^node //p' "$T/lt.out" | sed -n 2p)
	waitfor "grep -q '^stored $IH 127.0.0.1:$seeder' '$T/lt.out'" 30
	BTDHT_ROUTERS="localhost:1 127.0.0.1:$other" run btdht \
	    --state "$T/state" peers "$IH"
	[ "$status" -eq 0 ]
	[[ "$output" == *"127.0.0.1:$seeder"* ]]
	BTDHT_ROUTERS= run btdht --state "$T/empty" peers "$IH"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no DHT node to start from"* ]]
}

@test "btdht: announce is stored by libtorrent nodes and their get_peers finds us" {
	ltdht lt --nodes 3 --get-peers "$IH"
	run btdht --state "$T/state" -n "127.0.0.1:$NODE" announce "$IH" 6999
	echo "$output"
	[ "$status" -eq 0 ]
	waitfor "grep -q '^stored $IH 127.0.0.1:6999' '$T/lt.out'" 10
	waitfor "grep -q '^peer 127.0.0.1:6999' '$T/lt.out'" 20
}

@test "btdht -f: a libtorrent node whose only contact is us finds a peer that announced to us" {
	port=$(freeport)
	# A: a seeder that announces itself, knows only us (we know it).
	READY=node ltdht a --nodes 1 --contact "127.0.0.1:$port" \
	    --seed "$D/x.torrent" "$D"
	a=$NODE
	btdht -f --interval 10 --port "$port" --state "$T/state" \
	    -n "127.0.0.1:$NODE" peers "$IH" >"$T/peers" 2>"$T/err" &
	pid=$!
	echo "$pid" >>"$T/pids"
	# B: knows only us.
	ltdht b --nodes 1 --contact "127.0.0.1:$port" --get-peers "$IH"
	waitfor "grep -q '^peer 127.0.0.1:$a' '$T/b.out'" 30
	# We stream what we find too: A's announce, through our own lookup.
	waitfor "grep -q '^127.0.0.1:$a$' '$T/peers'" 30
	kill -TERM "$pid"
	wait "$pid"
	[ -s "$T/state" ]
	[ "$(grep -c "^127.0.0.1:$a\$" "$T/peers")" -eq 1 ]
}

@test "btdht -f -n -: nodes given on standard input while it runs are used" {
	ltdht lt --nodes 2 --seed "$D/x.torrent" "$D"
	seeder=$NODE
	other=$(sed -n 's/^node //p' "$T/lt.out" | sed -n 2p)
	waitfor "grep -q '^stored $IH 127.0.0.1:$seeder' '$T/lt.out'" 30
	mkfifo "$T/in"
	btdht -f -n - --state "$T/state" peers "$IH" <"$T/in" >"$T/peers" \
	    2>"$T/err" &
	pid=$!
	echo "$pid" >>"$T/pids"
	exec 8>"$T/in"
	# Nothing known yet: it waits for nodes instead of giving up.
	echo "not a node" >&8
	kill -0 "$pid"
	echo "127.0.0.1:$other" >&8
	waitfor "grep -q '^127.0.0.1:$seeder$' '$T/peers'" 20
	exec 8>&-
	kill -TERM "$pid"
	wait "$pid"
	grep -q "^node [0-9a-f]* 127.0.0.1:$other$" "$T/state"
	# -n - is for a node that runs on.
	run btdht -n - peers "$IH"
	[ "$status" -eq 2 ]
}

@test "btdht: IPv6 (BEP 32): libtorrent nodes on ::1 find us and we find them" {
	ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128' ||
	    skip "no ::1 here"
	ltdht lt --ip ::1 --nodes 3 --seed "$D/x.torrent" "$D" \
	    --get-peers "$IH"
	seeder=$NODE
	other=$(sed -n 's/^node //p' "$T/lt.out" | sed -n 2p)
	waitfor "grep -q '^stored $IH ::1:$seeder' '$T/lt.out'" 30
	run btdht --state "$T/state" -n "[::1]:$other" peers "$IH"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"[::1]:$seeder"* ]]
	grep -qE "^node [0-9a-f]{40} \[::1\]:[0-9]+$" "$T/state"
	run btdht --state "$T/state" announce "$IH" 6998
	[ "$status" -eq 0 ]
	waitfor "grep -q '^stored $IH ::1:6998' '$T/lt.out'" 10
	waitfor "grep -q '^peer ::1:6998' '$T/lt.out'" 20
}

@test "btdht: an aria2c seeder that announced through the DHT is found" {
	ltdht lt --nodes 2
	dport=$(freeport)
	tport=$(freeport)
	mkdir -p "$T/a2"
	cp "$D/data.bin" "$T/a2/"
	aria2c -q --enable-dht=true --enable-dht6=false \
	    --dht-listen-addr=127.0.0.1 --dht-listen-port="$dport" \
	    --dht-entry-point="127.0.0.1:$NODE" \
	    --dht-file-path="$T/a2/dht.dat" --listen-port="$tport" \
	    --bt-enable-lpd=false --enable-peer-exchange=false \
	    --disable-ipv6=true --interface=127.0.0.1 --seed-time=5 \
	    --check-integrity=true --bt-tracker-connect-timeout=1 \
	    --bt-stop-timeout=100 -d "$T/a2" "$D/x.torrent" \
	    >"$T/a2.out" 2>&1 &
	echo $! >>"$T/pids"
	waitfor "grep -q '^stored $IH 127.0.0.1:$tport' '$T/lt.out'" 40
	run btdht --state "$T/state" -n "127.0.0.1:$NODE" peers "$IH"
	[ "$status" -eq 0 ]
	[[ "$output" == *"127.0.0.1:$tport"* ]]
	# aria2c's own DHT node answers us as well.
	run btdht --state "$T/state2" ping "127.0.0.1:$dport"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{40}\ 127.0.0.1:$dport$ ]]
}

@test "btdht -f: an aria2c seeder whose only DHT contact is us announces to us" {
	port=$(freeport)
	dport=$(freeport)
	tport=$(freeport)
	mkdir -p "$T/a2"
	cp "$D/data.bin" "$T/a2/"
	# No other node anywhere: -n - keeps us waiting for aria2c.
	mkfifo "$T/in"
	btdht -f -n - --interval 10 --port "$port" --state "$T/state" \
	    peers "$IH" <"$T/in" >"$T/peers" 2>"$T/err" &
	echo $! >>"$T/pids"
	exec 8>"$T/in"
	aria2c -q --enable-dht=true --enable-dht6=false \
	    --dht-listen-addr=127.0.0.1 --dht-listen-port="$dport" \
	    --dht-entry-point="127.0.0.1:$port" \
	    --dht-file-path="$T/a2/dht.dat" --listen-port="$tport" \
	    --bt-enable-lpd=false --enable-peer-exchange=false \
	    --disable-ipv6=true --interface=127.0.0.1 --seed-time=5 \
	    --check-integrity=true --bt-tracker-connect-timeout=1 \
	    --bt-stop-timeout=100 -d "$T/a2" "$D/x.torrent" \
	    >"$T/a2.out" 2>&1 &
	echo $! >>"$T/pids"
	# Only aria2c's announce_peer to us can tell us its TCP port.
	waitfor "grep -q '^127.0.0.1:$tport$' '$T/peers'" 60
	exec 8>&-
}

@test "btdht: no node answers: exit 1 with the reason, in bounded time" {
	dead=$(freeport)
	start=$SECONDS
	run btdht --state "$T/state" -n "127.0.0.1:$dead" peers "$IH"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no DHT node answered"* ]]
	[ $((SECONDS - start)) -lt 30 ]
	run btdht --state "$T/state" --timeout 1 ping "127.0.0.1:$dead"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no answer"* ]]
}

@test "btdht: bad input exits 2" {
	run btdht peers 1234
	[ "$status" -eq 2 ]
	run btdht -n nocolon peers "$IH"
	[ "$status" -eq 2 ]
	[[ "$output" == *"nocolon"* ]]
	run btdht -n 127.0.0.1:0 peers "$IH"
	[ "$status" -eq 2 ]
	run btdht announce "$IH" 70000
	[ "$status" -eq 2 ]
	run btdht --timeout 0 peers "$IH"
	[ "$status" -eq 2 ]
	run btdht peers
	[ "$status" -eq 2 ]
	/usr/bin/python3 -c 'import libtorrent as lt, sys
d = lt.bdecode(open(sys.argv[1], "rb").read())
d[b"info"][b"private"] = 1
open(sys.argv[2], "wb").write(lt.bencode(d))' "$D/x.torrent" "$T/p.torrent"
	run btdht peers "$T/p.torrent"
	[ "$status" -eq 2 ]
	[[ "$output" == *"private"* ]]
}

@test "btdht: a state file that is not ours is reported and replaced" {
	printf 'garbage\n' >"$T/state"
	dead=$(freeport)
	run btdht --state "$T/state" --timeout 1 ping "127.0.0.1:$dead"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not a btdht state file"* ]]
	grep -qE '^id [0-9a-f]{40}$' "$T/state"
}
