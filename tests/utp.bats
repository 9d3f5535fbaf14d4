#!/usr/bin/env bats
# uTP (BEP 29, lib/utp.c) on loopback through tests/tools/utp_cat: between
# two of our endpoints, through a lossy relay, and with real peers that
# speak uTP: python3-libtorrent with TCP disabled (seeder and leecher) and
# transmission-cli 3.00 (seeder and leecher). btpeer runs unchanged above
# the transport: utp_cat hands it the stream as a TCP connection (-T) or
# as a socketpair on its fds 0/1 (a command after the address). btutp,
# the demultiplexer that owns a uTP port, serves several peers at once.

load helpers

UTP_CAT=$BT_BIN/../tests/bin/utp_cat

# A single-file torrent: 46 pieces of 64 KiB, the last one short.
single() {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" 3000000 utp
	mktorrent -l 16 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	N=46
}

joined() {
	local i
	for ((i = 0; i < N; i++)); do cat "$1/pieces/$i"; done
}

# spawn NAME CMD...: runs CMD in the background, stdout and stderr in
# $T/NAME.out, its PID recorded (and in PID).
spawn() {
	local name=$1
	shift
	"$@" >"$T/$name.out" 2>&1 3>&- &
	PID=$!
	echo "$PID" >>"$T/pids"
}

# lt NAME seed|leech [PEER]: a uTP-only libtorrent peer of s.torrent;
# sets PORT. A leecher downloads into $T/NAME.
lt() {
	local name=$1 mode=$2 dir=$T/src
	shift 2
	[ "$mode" = leech ] && dir=$T/$name && mkdir -p "$dir"
	spawn "$name" env LT_TIMEOUT=100 /usr/bin/python3 "$HELPERS/lt_utp.py" \
	    "$mode" "$T/s.torrent" "$dir" "$@"
	waitfor "grep -q listening '$T/$name.out'" 30
	PORT=$(awk '/^listening/ { print $2 }' "$T/$name.out")
	[ "$mode" = leech ] || waitfor "grep -q seeding '$T/$name.out'" 30
}

# relay NAME TARGET_PORT ARGS...: the lossy UDP relay; sets RPORT, RPID.
relay() {
	local name=$1 port=$2
	shift 2
	spawn "$name" /usr/bin/python3 "$HELPERS/udp_relay.py" "127.0.0.1:$port" \
	    "$@"
	RPID=$PID
	waitfor "grep -q '^relay' '$T/$name.out'" 10
	RPORT=$(awk '/^relay/ { print $2 }' "$T/$name.out")
}

# fetch PORT: btpeer downloads s.torrent over uTP from 127.0.0.1:PORT
# through utp_cat -T; the spool is $T/sp, utp_cat's trace $T/cat.out.
fetch() {
	spawn cat "$UTP_CAT" -v -w 30 -T 0 127.0.0.1 "$1"
	waitfor "grep -q '^tcp' '$T/cat.out'" 10
	# utp_cat -T takes one TCP client: one handshake, plain.
	run timeout 90 btpeer --encryption off --spool "$T/sp" "$T/s.torrent" \
	    "127.0.0.1:$(awk '/^tcp/ { print $2 }' "$T/cat.out")"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "done" ]
	joined "$T/sp" | cmp - "$T/src/data.bin"
}

# serve: btpeer --serve behind utp_cat -l, for one connection; sets LPORT.
serve() {
	spawn srv "$UTP_CAT" -v -w 60 -l 0 btpeer --serve -o "$T/src" \
	    "$T/s.torrent"
	waitfor "grep -q '^listening' '$T/srv.out'" 10
	LPORT=$(awk '/^listening/ { print $2 }' "$T/srv.out")
}

@test "utp_cat: bad usage exits 2" {
	run "$UTP_CAT"
	[ "$status" -eq 2 ]
	[[ "$output" == usage:* ]]
	run "$UTP_CAT" -l
	[ "$status" -eq 2 ]
}

@test "utp: a stream each way between two endpoints, byte for byte" {
	mkpayload "$T/a" 2000000 a
	mkpayload "$T/b" 700000 b
	spawn l sh -c "exec '$UTP_CAT' -v -w 20 -l 0 <'$T/b' >'$T/got-a'"
	waitfor "grep -q '^listening' '$T/l.out'" 10
	timeout 30 "$UTP_CAT" -w 20 127.0.0.1 \
	    "$(awk '/^listening/ { print $2 }' "$T/l.out")" \
	    <"$T/a" >"$T/got-b"
	# The listener writes got-a until its end sees our FIN: wait for it.
	waitfor "grep -q 'bytes in' '$T/l.out'" 10
	cmp "$T/a" "$T/got-a"
	cmp "$T/b" "$T/got-b"
	grep -q '^utp_cat: 2000000 bytes in, 700000 out' "$T/l.out"
}

@test "utp: a closed port is refused at once, exit 1" {
	port=$(freeport)
	run timeout 20 "$UTP_CAT" -w 10 127.0.0.1 "$port" </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"Connection refused"* ]]
}

@test "utp: btpeer downloads from a uTP-only libtorrent seeder" {
	single
	lt seed seed
	fetch "$PORT"
	# libtorrent's own flags say the peer came over uTP.
	waitfor "grep -q '^peer 127.0.0.1:[0-9]* utp' '$T/seed.out'" 10
	run grep -c '^peer .* tcp' "$T/seed.out"
	[ "$output" = 0 ]
}

@test "utp: a uTP-only libtorrent leecher downloads from btpeer --serve" {
	single
	serve
	lt leech leech "127.0.0.1:$LPORT"
	waitfor "grep -q '^complete' '$T/leech.out'" 60
	cmp "$T/leech/data.bin" "$T/src/data.bin"
	grep -q "^peer 127.0.0.1:$LPORT utp" "$T/leech.out"
	grep -q '^utp_cat: accepted' "$T/srv.out"
}

@test "utp: 5% loss, reordering and duplicates between our ends" {
	single
	serve
	relay r "$LPORT" --drop 0.05 --reorder 0.1 --dup 0.02
	fetch "$RPORT"
	kill "$RPID"
	waitfor "grep -q '^fwd' '$T/r.out'" 10
	# The relay did drop datagrams, and ours were sent again.
	[ "$(awk '/^fwd/ { print $4 }' "$T/r.out")" -gt 0 ]
	waitfor "grep -q 'bytes in' '$T/srv.out'" 20
	grep -q 'retransmits [1-9]' "$T/srv.out"
}

@test "utp: loss and reordering on the way to a libtorrent seeder" {
	# libtorrent's own uTP stalls at 5% loss (two libtorrents through
	# this relay do not finish): 1% here, 5% in the test above.
	single
	lt seed seed
	relay r "$PORT" --drop 0.01 --reorder 0.05
	fetch "$RPORT"
}

# tr NAME PORT: transmission-cli on s.torrent in $T/NAME (uTP is on by
# default in 3.00; DHT, LPD, PEX and port mapping off).
tr() {
	mkdir -p "$T/$1.cfg" "$T/$1"
	echo '{"dht-enabled": false, "lpd-enabled": false, "pex-enabled":
	    false, "port-forwarding-enabled": false, "utp-enabled": true}' \
	    >"$T/$1.cfg/settings.json"
	spawn "$1" env HOME="$T" timeout 120 transmission-cli -g "$T/$1.cfg" \
	    -w "$3" -p "$2" "$T/s.torrent"
}

@test "utp: btpeer downloads from transmission-cli over uTP" {
	single
	port=$(freeport)
	tr trs "$port" "$T/src"
	waitfor "grep -q Seeding '$T/trs.out'" 40
	fetch "$port"
}

@test "utp: transmission-cli downloads from btpeer --serve over uTP" {
	single
	port=$(freeport)
	tr trl "$port" "$T/trl"
	waitfor "ss -Hlun 'sport = :$port' | grep -q ." 20
	tr_started "$T/trl.out"
	# transmission ignores loopback peers it is told about: we dial it.
	# The connection is ours (dialled), so btpeer speaks first: plain.
	spawn up "$UTP_CAT" -v -w 30 127.0.0.1 "$port" btpeer --serve \
	    --encryption off -o "$T/src" "$T/s.torrent"
	waitfor "grep -q 'State changed .* to \"Complete\"' '$T/trl.out'" 60
	cmp "$T/trl/data.bin" "$T/src/data.bin"
}

@test "btutp: bad usage exits 2" {
	run btutp btpeer
	[ "$status" -eq 2 ]
	[[ "$output" == *"one of --listen or --connect is needed"* ]]
	run btutp --listen 0
	[ "$status" -eq 2 ]
	run btutp --max-conns 0 --listen 0 cat
	[ "$status" -eq 2 ]
	run btutp --connect 5000 cat
	[ "$status" -eq 2 ]
	run btutp --listen 0 --connect 127.0.0.1:5000 cat
	[ "$status" -eq 2 ]
}

@test "btutp --connect: btpeer fetches from a uTP-only libtorrent seeder" {
	single
	lt seed seed
	# btpeer --serve fetches whatever the peer has, and keeps serving.
	spawn c btutp -v --connect "127.0.0.1:$PORT" btpeer --serve \
	    --encryption off --spool "$T/sp" "$T/s.torrent"
	waitfor "[ \$(ls '$T/sp/pieces' 2>/dev/null | wc -l) -eq $N ]" 60
	joined "$T/sp" | cmp - "$T/src/data.bin"
	grep -q '^peer 127.0.0.1:[0-9]* utp' "$T/seed.out"
	# A peer that goes away ends it: the world said no.
	kill "$(sed -n 1p "$T/pids")"
	waitfor "grep -q \"port closed\" '$T/c.out'" 20
	rc=0
	wait "$PID" || rc=$?
	[ "$rc" -eq 1 ]
}

@test "btutp --connect: a closed port is refused, exit 1" {
	port=$(freeport)
	run timeout 30 btutp --connect "127.0.0.1:$port" cat
	[ "$status" -eq 1 ]
	[[ "$output" == *"connection refused"* ]]
}

@test "btutp: two uTP-only libtorrent leechers at once from btpeer --serve" {
	single
	spawn u btutp -v --listen 127.0.0.1:0 btpeer --serve -o "$T/src" \
	    "$T/s.torrent"
	waitfor "grep -q '^listening' '$T/u.out'" 10
	port=$(awk '/^listening/ { print $2 }' "$T/u.out")
	lt l1 leech "127.0.0.1:$port"
	lt l2 leech "127.0.0.1:$port"
	waitfor "grep -q '^complete' '$T/l1.out'" 60
	waitfor "grep -q '^complete' '$T/l2.out'" 60
	cmp "$T/l1/data.bin" "$T/src/data.bin"
	cmp "$T/l2/data.bin" "$T/src/data.bin"
	grep -q "^peer 127.0.0.1:$port utp" "$T/l1.out"
	[ "$(grep -c 'accepted$' "$T/u.out")" -eq 2 ]
}

@test "btpeer --utp: downloads from a uTP-only libtorrent seeder" {
	single
	lt seed seed
	run timeout 90 btpeer -v --utp --spool "$T/sp" "$T/s.torrent" \
	    "127.0.0.1:$PORT"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "done" ]
	[[ "$output" == *"btpeer: uTP to 127.0.0.1:$PORT"* ]]
	joined "$T/sp" | cmp - "$T/src/data.bin"
	waitfor "grep -q '^peer 127.0.0.1:[0-9]* utp' '$T/seed.out'" 10
	run grep -c '^peer .* tcp' "$T/seed.out"
	[ "$output" = 0 ]
	# --bitfield over uTP too; a closed UDP port is refused: exit 1.
	run timeout 30 btpeer --utp --bitfield "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "pieces 0-45" ]
	port=$(freeport)
	run timeout 30 btpeer --utp --bitfield "$T/s.torrent" "127.0.0.1:$port"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Connection refused"* ]]
}

@test "btpeer --utp: the relay child is sandboxed and holds only its two sockets; the download from libtorrent completes" {
	single
	# Slow enough (about 6 s) to look at the relay while it runs.
	export LT_RATE=500000
	lt seed seed
	unset LT_RATE
	spawn bp timeout 90 btpeer -v --encryption off --utp --spool "$T/sp" \
	    "$T/s.torrent" "127.0.0.1:$PORT"
	bp=$PID
	waitfor "grep -q 'uTP relay: pid [0-9]*, sandbox' '$T/bp.out'" 30
	rp=$(sed -n 's/^btpeer: uTP relay: pid \([0-9]*\),.*/\1/p' "$T/bp.out")
	st=$(cat "/proc/$rp/status")
	fds=$(ls -l "/proc/$rp/fd")
	echo "$st" | grep -E '^(Seccomp|NoNewPrivs):'
	echo "$fds"
	# seccomp in filter mode; stdio, the UDP socket, the socketpair:
	# none of the spool's descriptors.
	printf '%s\n' "$st" | grep -qE '^Seccomp:[[:space:]]+2$'
	printf '%s\n' "$st" | grep -qE '^NoNewPrivs:[[:space:]]+1$'
	[ "$(ls "/proc/$rp/fd" | wc -l)" -eq 5 ]
	[ "$(printf '%s\n' "$fds" | grep -c 'socket:')" -ge 2 ]
	[[ "$fds" != *"$T/sp"* ]]
	grep -q "uTP relay: pid $rp, sandbox: .*seccomp" "$T/bp.out" ||
	    grep -q "warning: sandbox: landlock" "$T/bp.out"
	wait "$bp"
	cat "$T/bp.out" | grep -v '^btpeer: *[0-9.]* [<> ]'
	[ "$(grep -v '^btpeer' "$T/bp.out" | tail -1)" = done ]
	joined "$T/sp" | cmp - "$T/src/data.bin"
}

@test "btpeer --utp: a relay child that tries to escape is refused a file and a socket, and killed on exec" {
	single
	[ -x "$BT_BIN/../test-bin/btpeer" ] || skip "no test-bin/btpeer: make units"
	echo "the user's secret" >"$T/secret"
	lt seed seed
	run env BT_TEST_RELAY_ESCAPE="$T/marker" \
	    BT_TEST_ESCAPE_FILE="$T/secret" timeout 60 \
	    "$BT_BIN/../test-bin/btpeer" -v --encryption off --utp \
	    --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$PORT"
	printf '%s\n' "$output" | grep -v '^btpeer: *[0-9.]* [<> ]'
	[ -f "$T/marker" ]
	grep_out() { printf '%s\n' "$output" | grep -q "$1"; }
	grep_out 'uTP relay: pid [0-9]*, sandbox: '
	grep_out 'test escape: pid'
	grep_out 'test escape: open: \(Operation not permitted\|Permission denied\)'
	grep_out 'test escape: socket: Operation not permitted'
	! grep_out 'allowed'
	! grep_out 'escaped'
	# exec killed it (the download then fails), or, in a sanitized
	# build whose reports must survive, was refused.
	[ "$status" -ne 0 ] || grep_out 'test escape: exec: Operation not permitted'
}
