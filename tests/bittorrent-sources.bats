#!/usr/bin/env bats
# bittorrent's other sources: peers found through the DHT (btdht, against
# a private DHT of python3-libtorrent nodes) and pieces from web seeds
# (btwebseed, against webfsd and tests/helpers/ws_server.py), alone and
# beside a libtorrent seeder. Loopback only: helpers.bash empties
# BTDHT_ROUTERS, and every DHT state file is in $T.

load helpers
bats_require_minimum_version 1.5.0

# A multi-file tree (a space, UTF-8, a 0-byte file), in $T/src/tree.
tree() {
	mkdir -p "$T/src/tree/süb dir"
	mkpayload "$T/src/tree/a b.bin" 300001 a
	mkpayload "$T/src/tree/süb dir/ç.bin" 500003 b
	: >"$T/src/tree/empty"
}

# webfs DIR: webfsd serving DIR; sets URL to its root (with a '/').
webfs() {
	local port
	port=$(freeport)
	webfsd -F -p "$port" -r "$1" -i 127.0.0.1 -t 30 2>"$T/webfsd.err" &
	echo $! >>"$T/pids"
	waitfor "ss -Htln 'sport = :$port' | grep -q LISTEN" 20
	URL=http://127.0.0.1:$port/
}

# badsrv DIR MODE: the misbehaving web seed; sets URL.
badsrv() {
	/usr/bin/python3 "$HELPERS/ws_server.py" "$@" >"$T/srv.out" \
	    2>"$T/srv.err" &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/srv.out'" 30
	URL=http://127.0.0.1:$(awk '{ print $2 }' "$T/srv.out")/
}

# shimdht: a bin directory whose btdht records each call in
# $T/dht.calls, then runs the real one; sets BIN.
shimdht() {
	BIN=$T/bin
	mkdir -p "$BIN"
	ln -s "$BT_BIN"/* "$BIN"/
	rm "$BIN/btdht"
	printf '#!/bin/sh\necho "$*" >>"%s"\nexec "%s" "$@"\n' \
	    "$T/dht.calls" "$BT_BIN/btdht" >"$BIN/btdht"
	chmod +x "$BIN/btdht"
}

# jfield FILE EVENT KEY: KEY of the last EVENT object of a --json output.
jfield() {
	jq -r "select(.event == \"$2\") | .$3" "$1" | tail -1
}

@test "bittorrent: a trackerless torrent found only through a loopback DHT" {
	mkdir -p "$T/src"
	mkpayload "$T/src/d.bin" 400000 dht
	mktorrent -l 15 -o "$T/x.torrent" "$T/src/d.bin" >/dev/null
	ih=$(btinfo "$T/x.torrent" | jq -r .info_hash)
	/usr/bin/python3 "$HELPERS/lt_dht.py" --seconds 100 --nodes 3 \
	    --seed "$T/x.torrent" "$T/src" >"$T/lt.out" 2>"$T/lt.err" &
	echo $! >>"$T/pids"
	waitfor "grep -q '^ready' '$T/lt.out'" 30
	seeder=$(sed -n 's/^node //p' "$T/lt.out" | head -1)
	other=$(sed -n 's/^node //p' "$T/lt.out" | sed -n 2p)
	waitfor "grep -q '^stored $ih 127.0.0.1:$seeder' '$T/lt.out'" 30
	# Our TCP port, whose number is busy in UDP: the DHT tries it first,
	# then moves on, as the listener does.
	lport=$(freeport)
	/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
print("bound", flush=True)
time.sleep(100)' "$lport" >"$T/udp.out" &
	echo $! >>"$T/pids"
	waitfor "grep -q bound '$T/udp.out'" 10
	run --separate-stderr timeout 120 bittorrent -v --json --port "$lport" \
	    --dht-state "$T/dht.state" \
	    --dht-node "127.0.0.1:$other" -o "$T/out" "$T/x.torrent"
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	cmp "$T/src/d.bin" "$T/out/d.bin"
	printf '%s\n' "$output" >"$T/json"
	[ "$(jfield "$T/json" complete dht_peers)" -ge 1 ]
	[ "$(jfield "$T/json" complete webseeds)" -eq 0 ]
	printf '%s\n' "$stderr" | sed -n 's/^bittorrent: dht: started on UDP port \([0-9]*\) .*/\1/p' \
	    >"$T/dhtports"
	[ "$(head -1 "$T/dhtports")" -eq "$lport" ]
	[ "$(tail -1 "$T/dhtports")" -ne "$lport" ]
	grep -q "^bittorrent: dht: exited with 1: UDP port $lport: Address already in use" \
	    <<<"$stderr"
	# Our node announced our real TCP port to the libtorrent nodes...
	waitfor "grep -q '^stored $ih 127.0.0.1:$lport$' '$T/lt.out'" 30
	# ...and saved its state when stopped; no btdht is left running.
	grep -qE "^node [0-9a-f]{40} 127.0.0.1:$other$" "$T/dht.state"
	! pgrep -f "btdht .*$T/dht.state"
}

@test "bittorrent: a multi-file torrent from a web seed alone (webfsd), byte-identical" {
	tree
	webfs "$T/src"
	mktorrent -l 15 -w "$URL" -o "$T/m.torrent" "$T/src/tree" >/dev/null
	n=$(btinfo "$T/m.torrent" | jq .piece_count)
	run timeout 120 bittorrent --port 0 -o "$T/out" "$T/m.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	diff -r "$T/src/tree" "$T/out/tree"
	[[ "$output" == *"0 peers, 1 web seed ($n pieces)"* ]]
	# The same with --json, resumed from nothing: every piece counted.
	rm -rf "$T/out"
	run --separate-stderr timeout 120 bittorrent --port 0 --json --no-dht \
	    -o "$T/out" "$T/m.torrent"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$T/json"
	[ "$(jfield "$T/json" complete webseed_pieces)" -eq "$n" ]
	[ "$(jfield "$T/json" complete webseeds)" -eq 1 ]
	[ "$(jfield "$T/json" complete peers)" -eq 0 ]
	# The progress objects count the running web seed.
	[ "$(jq -s '[.[] | select(.event == "progress") | .webseeds] | max' \
	    "$T/json")" -eq 1 ]
	diff -r "$T/src/tree" "$T/out/tree"
}

@test "bittorrent: a web seed and a libtorrent seeder both contribute pieces" {
	mkdir -p "$T/src"
	# Enough pieces that the web seed's first requests (4 of up to 32
	# pieces each) do not claim them all before btpeer has a turn.
	mkpayload "$T/src/data.bin" 12000000 mix
	mktorrent -l 15 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	n=$(btinfo "$T/s.torrent" | jq .piece_count)
	# Neither fast enough to take all: libtorrent uploads 500 kB/s, the
	# web seed sends 1.6 MB/s a connection.
	LT_RATE=500000 /usr/bin/python3 "$HELPERS/lt_peer.py" seed \
	    "$T/s.torrent" "$T/src" >"$T/lt.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q seeding '$T/lt.out'" 30
	ltport=$(awk '/^listening/ { print $2 }' "$T/lt.out")
	badsrv "$T/src" slow
	mktorrent -l 15 -w "${URL}data.bin" -o "$T/w.torrent" \
	    "$T/src/data.bin" >/dev/null
	run --separate-stderr timeout 120 bittorrent --json --port 0 \
	    --peer "127.0.0.1:$ltport" -o "$T/out" "$T/w.torrent"
	printf '%s\n' "$output" | grep -v progress
	echo "$stderr"
	[ "$status" -eq 0 ]
	cmp "$T/src/data.bin" "$T/out/data.bin"
	printf '%s\n' "$output" >"$T/json"
	ws=$(jfield "$T/json" complete webseed_pieces)
	echo "web seed pieces: $ws of $n"
	[ "$ws" -ge 1 ]
	[ "$ws" -lt "$n" ]
	[ "$(jfield "$T/json" complete peers)" -ge 1 ]
}

@test "bittorrent: no tracker, no peer: exit 2 with --no-dht or for a private torrent" {
	mkdir -p "$T/src"
	mkpayload "$T/src/d.bin" 10000 two
	mktorrent -o "$T/x.torrent" "$T/src/d.bin" >/dev/null
	mktorrent -p -o "$T/p.torrent" "$T/src/d.bin" >/dev/null
	mktorrent -w http://127.0.0.1:1/ -o "$T/w.torrent" "$T/src/d.bin" \
	    >/dev/null
	run bittorrent --no-dht -o "$T/out" "$T/x.torrent"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no source of peers"*"--no-dht"* ]]
	run bittorrent --dht-node 127.0.0.1:1 -o "$T/out" "$T/p.torrent"
	[ "$status" -eq 2 ]
	[[ "$output" == *"private: no DHT"* ]]
	run bittorrent --no-dht --no-webseed -o "$T/out" "$T/w.torrent"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--no-webseed"* ]]
	run bittorrent --dht-node 127.0.0.1:0 -o "$T/out" "$T/x.torrent"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--dht-node '127.0.0.1:0'"* ]]
	run bittorrent --dht-port 70000 -o "$T/out" "$T/x.torrent"
	[ "$status" -eq 2 ]
	# Nothing was downloaded, nothing was made.
	[ ! -e "$T/out/d.bin" ]
}

@test "bittorrent: a private torrent never starts btdht; a public one does" {
	mkdir -p "$T/src"
	mkpayload "$T/src/d.bin" 200000 priv
	webfs "$T/src"
	shimdht
	mktorrent -p -w "${URL}d.bin" -o "$T/p.torrent" "$T/src/d.bin" \
	    >/dev/null
	BT_BIN=$BIN run timeout 60 bittorrent -v --port 0 --dht-node 127.0.0.1:9 \
	    -o "$T/out" "$T/p.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$T/src/d.bin" "$T/out/d.bin"
	[ ! -e "$T/dht.calls" ]
	[[ "$output" != *"dht: started"* ]]
	# The shim works: a public torrent's download runs it, with our port.
	mktorrent -w "${URL}d.bin" -o "$T/w.torrent" "$T/src/d.bin" >/dev/null
	BT_BIN=$BIN run timeout 60 bittorrent -v --port 0 \
	    --dht-node 127.0.0.1:9 -o "$T/out2" "$T/w.torrent"
	[ "$status" -eq 0 ]
	[[ "$output" == *"dht: started"* ]]
	grep -q -- "-n 127.0.0.1:9 announce -- $T/w.torrent [0-9]" "$T/dht.calls"
}

@test "bittorrent: a web seed that ignores Range is given up at once, not retried" {
	mkdir -p "$T/src"
	# More than a request's 32 pieces: no range asked for is the whole
	# file, which a 200 would rightly answer.
	mkpayload "$T/src/d.bin" 2100000 norange
	badsrv "$T/src" norange
	mktorrent -l 15 -w "${URL}d.bin" -o "$T/w.torrent" "$T/src/d.bin" \
	    >/dev/null
	BT_RETRY_SECONDS=1 run -1 timeout 60 bittorrent --port 0 --no-dht \
	    --stall-timeout 2 -o "$T/out" "$T/w.torrent"
	echo "$output"
	[[ "$output" == *"webseed ${URL}d.bin: given up after 1 try: server ignores Range"* ]]
	[[ "$output" == *"no peer left"* ]]
	# One btwebseed ran: the server saw requests of one run only.
	[ "$(grep -c -- '-> 200' "$T/srv.err")" -le 4 ]
}

@test "bittorrent: killed with -9, its DHT node goes too, having saved its state" {
	mkdir -p "$T/src"
	mkpayload "$T/src/d.bin" 100000 kill
	mktorrent -o "$T/x.torrent" "$T/src/d.bin" >/dev/null
	/usr/bin/python3 "$HELPERS/lt_dht.py" --seconds 100 --nodes 2 \
	    >"$T/lt.out" 2>"$T/lt.err" &
	echo $! >>"$T/pids"
	waitfor "grep -q '^ready' '$T/lt.out'" 30
	node=$(sed -n 's/^node //p' "$T/lt.out" | head -1)
	# No seeder anywhere: it runs until killed.
	bittorrent -v --port 0 --dht-state "$T/dht.state" \
	    --dht-node "127.0.0.1:$node" -o "$T/out" "$T/x.torrent" \
	    2>"$T/bt.err" &
	pid=$!
	echo "$pid" >>"$T/pids"
	waitfor "grep -q 'dht: started' '$T/bt.err'" 30
	# Its first lookup is done (-v traces it in the spool's run/).
	waitfor "grep -q 'IPv4 lookup done: [1-9]' '$T'/out/.bt-*/run/dht.err" 30
	# The last node started: a port taken by another process (6881 on a
	# shared machine) makes the first exit and the next take port + 1.
	dpid=$(sed -n 's/.*dht: started on UDP port [0-9]* (pid \([0-9]*\)).*/\1/p' \
	    "$T/bt.err" | tail -1)
	echo "$dpid" >>"$T/pids"
	kill -0 "$dpid"
	kill -9 "$pid"
	waitfor "! kill -0 $dpid" 20
	grep -qE "^node [0-9a-f]{40} 127.0.0.1:$node$" "$T/dht.state"
}

# ltdhtseed NAME: a 400 kB payload, its trackerless torrent $T/NAME.torrent
# seeded by lt_dht.py's session 0 (one of 2 nodes); sets IH, SEEDER
# (its TCP and DHT port) and OTHER (the other node's port).
ltdhtseed() {
	mkdir -p "$T/src"
	mkpayload "$T/src/$1.bin" 400000 "$1"
	mktorrent -l 15 -o "$T/$1.torrent" "$T/src/$1.bin" >/dev/null
	IH=$(btinfo "$T/$1.torrent" | jq -r .info_hash)
	/usr/bin/python3 "$HELPERS/lt_dht.py" --seconds 100 --nodes 2 \
	    --seed "$T/$1.torrent" "$T/src" >"$T/lt.out" 2>"$T/lt.err" &
	echo $! >>"$T/pids"
	waitfor "grep -q '^ready' '$T/lt.out'" 30
	SEEDER=$(sed -n 's/^node //p' "$T/lt.out" | head -1)
	OTHER=$(sed -n 's/^node //p' "$T/lt.out" | sed -n 2p)
}

@test "btpeer --dht-port: a libtorrent peer with DHT answers with its port message (event dht-node)" {
	ltdhtseed p
	run --separate-stderr timeout 60 btpeer --dht-port 6999 \
	    --spool "$T/spool" -o "$T/out" "$T/p.torrent" "127.0.0.1:$SEEDER"
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	grep -qx "dht-node 127.0.0.1:$SEEDER" <<<"$output"
	# Without --dht-port we do not offer the DHT: libtorrent sends none.
	rm -rf "$T/spool" "$T/out"
	run --separate-stderr timeout 60 btpeer --spool "$T/spool" \
	    -o "$T/out" "$T/p.torrent" "127.0.0.1:$SEEDER"
	[ "$status" -eq 0 ]
	! grep -q "^dht-" <<<"$output"
}

@test "bittorrent: a peer's DHT node (its port message) joins our DHT, which then announces to it" {
	ltdhtseed q
	lport=$(freeport)
	# No --dht-node and no router: our node's only contact is the one
	# the seeder names in its port message.
	timeout 100 bittorrent --seed --port "$lport" --spool "$T/spool" \
	    --dht-state "$T/dht.state" --peer "127.0.0.1:$SEEDER" \
	    -o "$T/out" "$T/q.torrent" >"$T/bt.out" 2>"$T/bt.err" &
	bt=$!
	echo "$bt" >>"$T/pids"
	waitfor "grep -q '^stored $IH 127.0.0.1:$lport$' '$T/lt.out'" 60 || {
		cat "$T/bt.err" "$T/lt.out"; false; }
	grep -qx "dht-node 127.0.0.1:$SEEDER" "$T/spool/run/events.log"
	# The listener tells peers the DHT's port: our TCP port's number.
	pgrep -f "btpeer --listen $lport .*--dht-port $lport " >/dev/null
	cmp "$T/src/q.bin" "$T/out/q.bin"
	kill "$bt"
	wait "$bt" || true
}

@test "bittorrent: a magnet link with no tr= and no x.pe=: metadata and pieces from a peer the DHT finds" {
	ltdhtseed m
	waitfor "grep -q '^stored $IH 127.0.0.1:$SEEDER' '$T/lt.out'" 30
	run --separate-stderr timeout 120 bittorrent --json --port 0 \
	    --dht-state "$T/dht.state" --dht-node "127.0.0.1:$OTHER" \
	    -o "$T/out" "magnet:?xt=urn:btih:$IH"
	echo "$output" | grep -v progress
	echo "$stderr"
	[ "$status" -eq 0 ]
	cmp "$T/src/m.bin" "$T/out/m.bin"
	[ "$(btinfo --lines "$T/out/$IH.torrent" | awk -F'\t' '$1 == "info_hash" { print $2 }')" = "$IH" ]
	# --no-dht: nothing to ask, bad input at once.
	run --separate-stderr bittorrent --no-dht -o "$T/out2" \
	    "magnet:?xt=urn:btih:$IH"
	[ "$status" -eq 2 ]
	grep -q "the DHT is off" <<<"$stderr"
}

@test "bittorrent: a magnet link's ws= web seed (webfsd) serves pieces once a peer gave the metadata" {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" 6000000 magws
	mktorrent -l 15 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	ih=$(btinfo "$T/s.torrent" | jq -r .info_hash)
	n=$(btinfo "$T/s.torrent" | jq .piece_count)
	# A slow libtorrent seeder for the metadata (and some pieces).
	LT_RATE=300000 /usr/bin/python3 "$HELPERS/lt_peer.py" seed \
	    "$T/s.torrent" "$T/src" >"$T/lt.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q seeding '$T/lt.out'" 30
	ltport=$(awk '/^listening/ { print $2 }' "$T/lt.out")
	webfs "$T/src"
	ws=$(printf '%s' "${URL}data.bin" | jq -sRr @uri)
	link="magnet:?xt=urn:btih:$ih&x.pe=127.0.0.1:$ltport&ws=$ws"
	btinfo --lines "$link" | grep -qx "web_seed	${URL}data.bin"
	run --separate-stderr timeout 120 bittorrent --json --port 0 --no-dht \
	    -o "$T/out" "$link"
	printf '%s\n' "$output" | grep -v progress
	echo "$stderr"
	[ "$status" -eq 0 ]
	cmp "$T/src/data.bin" "$T/out/data.bin"
	printf '%s\n' "$output" >"$T/json"
	wsp=$(jfield "$T/json" complete webseed_pieces)
	echo "web seed pieces: $wsp of $n"
	[ "$wsp" -ge 1 ]
	[ "$(jfield "$T/json" complete webseeds)" -eq 1 ]
}
