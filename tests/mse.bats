#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031 # each test sets its own PORT
# MSE/PE (lib/mse.c) against real clients over real TCP on loopback:
# python3-libtorrent with forced encryption both ways, aria2c requiring
# RC4, transmission-cli requiring encryption. tests/tools/mse_peer does
# the handshake, then BEP 3 through the negotiated stream, and fetches
# the first block of piece 0.

load helpers

MSE_PEER=$BT_BIN/../tests/bin/mse_peer
ARIA=(--enable-dht=false --enable-dht6=false --bt-enable-lpd=false
    --enable-peer-exchange=false --disable-ipv6=true --interface=127.0.0.1
    --console-log-level=warn --summary-interval=0 --file-allocation=none)

# Five pieces of 64 KiB and a short one.
payload() {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" 350000 mse
	mktorrent -l 16 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	head -c 16384 "$T/src/data.bin" >"$T/want"
}

# lt_seed ENC [HOST:PORT...]: a libtorrent seeder with that policy,
# dialing the given peers; sets PORT. LT_RATE caps its upload.
lt_seed() {
	local enc=$1
	shift
	/usr/bin/python3 "$HELPERS/lt_mse.py" seed "$enc" "$T/s.torrent" \
	    "$T/src" "$@" >"$T/lt-$enc.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q seeding '$T/lt-$enc.out'" 30
	PORT=$(awk '/^listening/ { print $2 }' "$T/lt-$enc.out")
}

# peer ARGS...: runs mse_peer; block in $T/blk, stderr in $T/err, $status.
peer() {
	status=0
	timeout 60 "$MSE_PEER" -t 30 "$@" >"$T/blk" 2>"$T/err" 3>&- ||
	    status=$?
	cat "$T/err"	# shown if the test fails
}

# listen NAME ARGS...: mse_peer accepting one connection; its block in
# $T/NAME.blk, its stderr in $T/NAME.err; sets LPORT, LPID.
listen() {
	local n=$1
	shift
	timeout 60 "$MSE_PEER" -t 30 "$@" -l 0 "$T/s.torrent" >"$T/$n.blk" \
	    2>"$T/$n.err" 3>&- &
	LPID=$!
	echo "$LPID" >>"$T/pids"
	waitfor "grep -q '^listening' '$T/$n.err'" 10
	LPORT=$(awk '/^listening/ { print $2 }' "$T/$n.err")
}

@test "mse_peer: bad usage exits 2" {
	run "$MSE_PEER"
	[ "$status" -eq 2 ]
	run "$MSE_PEER" -e bogus x 127.0.0.1:1
	[ "$status" -eq 2 ]
}

@test "mse: RC4 to a libtorrent seeder that forces encryption" {
	payload
	lt_seed forced
	peer -e rc4 "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	grep -q '^negotiated rc4$' "$T/err"
	grep -q '^handshake from -LT' "$T/err"
	cmp "$T/blk" "$T/want"
}

@test "mse: a forcing libtorrent closes a plaintext handshake unanswered" {
	payload
	lt_seed forced
	peer -e off "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 1 ]
	grep -q 'peer closed the connection' "$T/err"
	[ "$(grep -c '^handshake from' "$T/err")" -eq 0 ]
	[ ! -s "$T/blk" ]
	# MSE offering plaintext only is refused too (it allows RC4 only).
	peer -e plain "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 1 ]
}

@test "mse: a forcing libtorrent seeder connects to us, RC4" {
	payload
	listen us -e rc4
	lt_seed forced "127.0.0.1:$LPORT"
	wait "$LPID"
	grep -q '^negotiated rc4$' "$T/us.err"
	cmp "$T/us.blk" "$T/want"
}

@test "mse: plaintext selected after the MSE header, libtorrent" {
	payload
	lt_seed enabled
	peer -e plain "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	grep -q '^negotiated plaintext$' "$T/err"
	cmp "$T/blk" "$T/want"
}

@test "mse: incoming plain and MSE told apart by the first bytes" {
	payload
	# A plaintext-only libtorrent dials two listeners: one requiring MSE
	# refuses it, one accepting plain serves it.
	listen rc4 -e rc4
	rc4pid=$LPID rc4port=$LPORT
	listen off -e off
	lt_seed disabled "127.0.0.1:$rc4port" "127.0.0.1:$LPORT"
	wait "$LPID"
	grep -q '^incoming plaintext handshake$' "$T/off.err"
	cmp "$T/off.blk" "$T/want"
	status=0
	wait "$rc4pid" || status=$?
	[ "$status" -eq 1 ]
	grep -q 'plaintext handshake refused' "$T/rc4.err"
	[ ! -s "$T/rc4.blk" ]
}

@test "mse: RC4 to an aria2c seeder that requires it" {
	payload
	PORT=$(freeport)
	timeout 120 aria2c -V --seed-ratio=0 --seed-time=10 -d "$T/src" \
	    --listen-port="$PORT" "${ARIA[@]}" --bt-require-crypto=true \
	    --bt-min-crypto-level=arc4 "$T/s.torrent" >"$T/aria.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "ss -Htln 'sport = :$PORT' | grep -q LISTEN" 30
	peer -e both "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	grep -q '^negotiated rc4$' "$T/err"
	grep -q '^handshake from A2' "$T/err"
	cmp "$T/blk" "$T/want"
	peer -e off "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 1 ]
	[ "$(grep -c '^handshake from' "$T/err")" -eq 0 ]
}

@test "mse: RC4 to a transmission seeder that requires encryption" {
	payload
	PORT=$(freeport)
	mkdir -p "$T/trcfg"
	cat >"$T/trcfg/settings.json" <<-'JSON'
	{"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
	 "utp-enabled": false, "port-forwarding-enabled": false}
	JSON
	HOME=$T timeout 120 transmission-cli -er -M -g "$T/trcfg" \
	    -w "$T/src" -p "$PORT" "$T/s.torrent" >"$T/tr.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q Seeding '$T/tr.out'" 40
	peer -e rc4 "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	grep -q '^negotiated rc4$' "$T/err"
	grep -q '^handshake from -TR' "$T/err"
	cmp "$T/blk" "$T/want"
	peer -e off "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 1 ]
	[ "$(grep -c '^handshake from' "$T/err")" -eq 0 ]
}

# btpeer's --encryption (lib/peer_mse.c in the peer core's transform slot).

# The spool's pieces in order: the whole torrent.
joined() {
	local i
	for ((i = 0; i < 6; i++)); do cat "$1/pieces/$i"; done
}

@test "btpeer: downloads from a libtorrent seeder that forces encryption" {
	payload
	lt_seed forced
	run timeout 60 btpeer -v --spool "$T/sp" "$T/s.torrent" \
	    "127.0.0.1:$PORT"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"encryption rc4"* ]]
	# Our BitTorrent handshake went as MSE's initial payload.
	[[ "$output" == *"> MSE handshake (rc4 or plaintext), handshake as initial payload"* ]]
	[[ "$output" != *"> handshake"* ]]
	joined "$T/sp" | cmp - "$T/src/data.bin"
	run timeout 60 btpeer --encryption off --spool "$T/sp2" "$T/s.torrent" \
	    "127.0.0.1:$PORT"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"error peer closed the connection during the handshake"* ]]
}

@test "btpeer: prefer falls back to plain for a plaintext-only peer, require does not" {
	payload
	lt_seed disabled
	run timeout 60 btpeer -v --spool "$T/sp" "$T/s.torrent" \
	    "127.0.0.1:$PORT"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"MSE handshake failed"*"trying a plain one"* ]]
	[[ "$output" != *"encryption rc4"* ]]
	[[ "$output" != *"error "* ]]
	joined "$T/sp" | cmp - "$T/src/data.bin"
	run timeout 60 btpeer --encryption require --spool "$T/sp2" \
	    "$T/s.torrent" "127.0.0.1:$PORT"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"error peer closed the connection during the MSE handshake"* ]]
	run btpeer --encryption sometimes --spool "$T/sp2" "$T/s.torrent" \
	    "127.0.0.1:$PORT"
	[ "$status" -eq 2 ]
}

@test "btpeer: MSE with the plaintext method, libtorrent choosing it" {
	payload
	lt_seed enabled
	run timeout 60 btpeer --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$PORT"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"encryption plaintext"* ]]
	joined "$T/sp" | cmp - "$T/src/data.bin"
}

# blisten POLICY: btpeer --listen serving $T/src's files; sets BP.
blisten() {
	btpeer -v --listen 127.0.0.1:0 --encryption "$1" -o "$T/src" \
	    "$T/s.torrent" >"$T/bp.out" 2>"$T/bp.err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q '^listening' '$T/bp.out'" 10
	BP=$(awk '/^listening/ { print $2 }' "$T/bp.out")
}

@test "btpeer: --listen --encryption require serves forced libtorrent, refuses plain" {
	payload
	blisten require
	LT_TIMEOUT=60 run timeout 90 /usr/bin/python3 "$HELPERS/lt_mse.py" \
	    leech forced "$T/s.torrent" "$T/dl" "127.0.0.1:$BP"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$T/dl/data.bin" "$T/src/data.bin"
	grep -q '^encryption rc4$' "$T/bp.out"
	# libtorrent sent its handshake as MSE's initial payload.
	grep -q '< MSE initial payload, 68 bytes' "$T/bp.err"
	# A plaintext-only leecher is refused, and gets nothing.
	LT_TIMEOUT=60 /usr/bin/python3 "$HELPERS/lt_mse.py" leech disabled \
	    "$T/s.torrent" "$T/dl2" "127.0.0.1:$BP" >"$T/lt2.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q 'error plaintext handshake refused' '$T/bp.out'" 30
	if cmp -s "$T/dl2/data.bin" "$T/src/data.bin"; then false; fi
}

@test "btpeer: --listen (default policy) serves encrypted and plain leechers" {
	payload
	blisten prefer
	LT_TIMEOUT=60 run timeout 90 /usr/bin/python3 "$HELPERS/lt_mse.py" \
	    leech forced "$T/s.torrent" "$T/dl" "127.0.0.1:$BP"
	[ "$status" -eq 0 ]
	cmp "$T/dl/data.bin" "$T/src/data.bin"
	LT_TIMEOUT=60 run timeout 90 /usr/bin/python3 "$HELPERS/lt_mse.py" \
	    leech disabled "$T/s.torrent" "$T/dl2" "127.0.0.1:$BP"
	[ "$status" -eq 0 ]
	cmp "$T/dl2/data.bin" "$T/src/data.bin"
	grep -q '^encryption rc4$' "$T/bp.out"
	grep -q '^encryption none$' "$T/bp.out"
}

@test "bittorrent: the default policy downloads from encrypted-only and plain-only peers at once" {
	payload
	# Slow seeders, so that both have time to deliver pieces.
	LT_RATE=32768 lt_seed forced
	p1=$PORT
	LT_RATE=32768 lt_seed disabled
	p2=$PORT
	run timeout 120 bittorrent -v --port 0 --no-dht -t "$T/s.torrent" -o "$T/out" \
	    --peer "127.0.0.1:$p1" --peer "127.0.0.1:$p2"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$T/out/data.bin" "$T/src/data.bin"
	grep -q "^\[127.0.0.1:$p1\] .* encryption rc4$" <<<"$output"
	grep -q "^\[127.0.0.1:$p1\] .* piece [0-9]* verified, stored" <<<"$output"
	grep -q "^\[127.0.0.1:$p2\] .*trying a plain one$" <<<"$output"
	grep -q "^\[127.0.0.1:$p2\] .* piece [0-9]* verified, stored" <<<"$output"
	run bittorrent --encryption maybe -t "$T/s.torrent"
	[ "$status" -eq 2 ]
}

@test "btpeer: our own ends under the default policy choose MSE with plaintext; require gets RC4" {
	payload
	blisten prefer
	run timeout 60 btpeer -v --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$BP"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx "encryption plaintext 127.0.0.1:$BP" <<<"$output"
	[[ "$output" == *"> MSE handshake (rc4 or plaintext)"* ]]
	joined "$T/sp" | cmp - "$T/src/data.bin"
	waitfor "grep -qx 'encryption plaintext' '$T/bp.out'" 10
	# A dialler that requires RC4 offers only it, and gets it.
	run timeout 60 btpeer --encryption require --spool "$T/sp2" \
	    "$T/s.torrent" "127.0.0.1:$BP"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx "encryption rc4 127.0.0.1:$BP" <<<"$output"
	joined "$T/sp2" | cmp - "$T/src/data.bin"
}

@test "btpeer: --listen --encryption require serves aria2c requiring arc4" {
	payload
	# aria2c finds peers through a tracker only.
	OT=$(freeport)
	mkdir -p "$T/ot"
	chmod 755 "$T" "$T/ot"
	btinfo "$T/s.torrent" | jq -r .info_hash >"$T/ot/whitelist.txt"
	opentracker -i 127.0.0.1 -p "$OT" -P "$OT" -d "$T/ot" -u nobody \
	    -w whitelist.txt >"$T/ot.log" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "(: </dev/tcp/127.0.0.1/$OT)" 10
	mktorrent -a "http://127.0.0.1:$OT/announce" -l 16 -o "$T/a.torrent" \
	    "$T/src/data.bin" >/dev/null
	blisten require
	# Registered as a seeder; another port asks (ours is left out).
	btannounce --port "$BP" --left 0 "$T/a.torrent" >/dev/null
	btannounce --port 1 "$T/a.torrent" | grep -q ":$BP\$"
	timeout 90 aria2c --seed-time=0 -d "$T/dl" --listen-port="$(freeport)" \
	    "${ARIA[@]}" --bt-require-crypto=true --bt-min-crypto-level=arc4 \
	    "$T/a.torrent" >"$T/aria.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	# The whole file went out through RC4 (aria2c's second bitfield is
	# taken as an update).
	waitfor "cmp -s '$T/src/data.bin' '$T/dl/data.bin'" 90
	grep -q '^encryption rc4$' "$T/bp.out"
	grep -q '^peer-id .* aria2 ' "$T/bp.out"
	# aria2c 1.36 sends its handshake after MSE's (len(IA) 0), the
	# path libtorrent's initial payload does not take.
	if grep -q 'MSE initial payload' "$T/bp.err"; then false; fi
}

# PEX flags and --encryption tolerate (plain first, then MSE).

@test "btpeer: --encryption tolerate dials plain first, MSE only for a peer that closes it" {
	payload
	lt_seed forced
	run timeout 60 btpeer -v --encryption tolerate --spool "$T/sp" \
	    "$T/s.torrent" "127.0.0.1:$PORT"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"plain handshake failed"*"trying MSE"* ]]
	grep -q "^encryption rc4 127.0.0.1:$PORT$" <<<"$output"
	joined "$T/sp" | cmp - "$T/src/data.bin"
	lt_seed disabled
	run timeout 60 btpeer -v --encryption tolerate --spool "$T/sp2" \
	    "$T/s.torrent" "127.0.0.1:$PORT"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"> handshake"* ]]
	[[ "$output" != *"MSE"* ]]
	joined "$T/sp2" | cmp - "$T/src/data.bin"
}

@test "btpeer --pex: a peer listed with enc goes out with added.f 0x01" {
	payload
	printf '127.0.0.1:9 enc\n127.0.0.1:10\n127.0.0.1:11 bogus\n' \
	    >"$T/pex.peers"
	# A listener with nothing: the dialer stays until its --timeout.
	btpeer --listen 127.0.0.1:0 --pex "$T/pex.peers" --spool "$T/empty" \
	    "$T/s.torrent" >"$T/bp.out" 2>"$T/bp.err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q '^listening' '$T/bp.out'" 10
	BP=$(awk '/^listening/ { print $2 }' "$T/bp.out")
	run timeout 30 btpeer --timeout 5 --spool "$T/sp" "$T/s.torrent" \
	    "127.0.0.1:$BP"
	echo "$output"
	grep -qx 'peer 127.0.0.1:9 pex enc' <<<"$output"
	grep -qx 'peer 127.0.0.1:10 pex -' <<<"$output"
	grep -qx 'peer 127.0.0.1:11 pex -' <<<"$output"
}

@test "bittorrent: PEX flags pick the first handshake; peers it speaks RC4 with go out flagged enc" {
	payload
	# Slow seeders, so that both have time to deliver pieces.
	LT_RATE=32768 lt_seed forced
	pf=$PORT
	LT_RATE=32768 lt_seed disabled
	pd=$PORT
	# A libtorrent hub speaking MSE to the first, plain to the second:
	# its PEX flags the first enc, not the second.
	mkdir -p "$T/hub"
	LT_ENC=enabled /usr/bin/python3 "$HELPERS/lt_hub.py" "$T/s.torrent" \
	    "$T/hub" "127.0.0.1:$pf" "127.0.0.1:$pd" >"$T/hub.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q '^listening' '$T/hub.out'" 30
	hub=$(awk '/^listening/ { print $2 }' "$T/hub.out")
	waitfor "grep -qx 'peer 127.0.0.1:$pf rc4' '$T/hub.out' &&
	    grep -qx 'peer 127.0.0.1:$pd plain' '$T/hub.out'" 30
	timeout 120 bittorrent -v --port 0 --no-dht --spool "$T/spool" -o "$T/out" \
	    --peer "127.0.0.1:$hub" "$T/s.torrent" >"$T/bt.out" 2>&1 3>&- &
	bt=$!
	echo "$bt" >>"$T/pids"
	f=$T/spool/run/pex.peers
	waitfor "grep -qx '127.0.0.1:$pf enc' '$f' && grep -qx '127.0.0.1:$pd' '$f'" 60 ||
	    { cat "$T/bt.out" "$T/spool/run/events.log"; false; }
	wait "$bt"
	cat "$T/bt.out"
	cmp "$T/out/data.bin" "$T/src/data.bin"
	grep -q "^peer 127.0.0.1:$pf pex enc" "$T/spool/run/events.log"
	grep -q "^peer 127.0.0.1:$pd pex " "$T/spool/run/events.log"
	if grep -q "^peer 127.0.0.1:$pd pex .*enc" "$T/spool/run/events.log"; then
		false
	fi
	grep -q "^encryption rc4 127.0.0.1:$pf$" "$T/spool/run/events.log"
	# The first handshake to each: MSE to the one flagged enc, plain to
	# the other (no MSE attempt, so no fallback).
	grep -q "^\[127.0.0.1:$pf\] btpeer: .* > MSE handshake" "$T/bt.out"
	grep -q "^\[127.0.0.1:$pd\] btpeer: .* > handshake$" "$T/bt.out"
	if grep -q "^\[127.0.0.1:$pd\] .*MSE" "$T/bt.out"; then false; fi
	grep -q "^\[127.0.0.1:$pf\] .*encryption rc4$" "$T/bt.out"
}

# btpeer --seed with every piece dials out and seeds (serves as
# initiator).

# mark_spool: $T/sp marked complete from the files in $T/src.
mark_spool() {
	btassemble --mark "$(btverify --bitfield "$T/s.torrent" "$T/src")" \
	    --spool "$T/sp" -o "$T/src" "$T/s.torrent" >/dev/null
}

# tr_leech: transmission-cli requiring encryption, leeching into $T/dl
# on port $tp. transmission 3.00 ignores 127.x peers it is told of, and
# takes those that connect to it.
tr_leech() {
	tp=$(freeport)
	mkdir -p "$T/trcfg" "$T/dl"
	cat >"$T/trcfg/settings.json" <<-'JSON'
	{"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
	 "utp-enabled": false, "port-forwarding-enabled": false,
	 "bind-address-ipv4": "127.0.0.1", "rpc-enabled": false,
	 "encryption": 2, "peer-port-random-on-start": false}
	JSON
	HOME=$T timeout 120 transmission-cli -er -g "$T/trcfg" -w "$T/dl" \
	    -p "$tp" "$T/s.torrent" >"$T/tr.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "ss -Htln 'sport = :$tp' | grep -q LISTEN" 30
	tr_started "$T/tr.out"
}

@test "btpeer --seed: with every piece, dials a libtorrent leecher and seeds it over RC4" {
	payload
	mark_spool
	# Without --seed, a spool with every piece has nothing to do.
	run timeout 10 btpeer --spool "$T/sp" "$T/s.torrent" 127.0.0.1:1
	[ "$status" -eq 0 ]
	[ "$output" = done ]
	LT_TIMEOUT=60 /usr/bin/python3 "$HELPERS/lt_mse.py" leech forced \
	    "$T/s.torrent" "$T/dl" >"$T/lt.out" 2>&1 3>&- &
	lt=$!
	echo "$lt" >>"$T/pids"
	waitfor "grep -q '^ready' '$T/lt.out'" 30
	lp=$(awk '/^listening/ { print $2 }' "$T/lt.out")
	run timeout 60 btpeer -v --seed --encryption require --timeout 20 \
	    --spool "$T/sp" -o "$T/src" "$T/s.torrent" "127.0.0.1:$lp"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'done' <<<"$output"
	grep -qx "encryption rc4 127.0.0.1:$lp" <<<"$output"
	grep -q '> MSE handshake (rc4)' <<<"$output"
	[ "$(awk '/^sent / { s += $2 } END { print s }' <<<"$output")" -eq 350000 ]
	wait "$lt"
	cmp "$T/dl/data.bin" "$T/src/data.bin"
}

@test "btpeer --seed --encryption require seeds transmission-cli requiring encryption, dialling it" {
	payload
	mark_spool
	tr_leech
	# A plain handshake gets nothing: transmission closes it.
	run timeout 60 btpeer --seed --encryption off --timeout 20 \
	    --spool "$T/sp" -o "$T/src" "$T/s.torrent" "127.0.0.1:$tp"
	echo "$output"
	[ "$status" -eq 1 ]
	! grep -q '^sent ' <<<"$output"
	run timeout 90 btpeer -v --seed --encryption require --timeout 30 \
	    --spool "$T/sp" -o "$T/src" "$T/s.torrent" "127.0.0.1:$tp"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx "encryption rc4 127.0.0.1:$tp" <<<"$output"
	grep -q '^peer-id .* Transmission 3' <<<"$output"
	[ "$(awk '/^sent / { s += $2 } END { print s }' <<<"$output")" -eq 350000 ]
	# Complete, it closes the connection to us, a seed: a normal end.
	waitfor "cmp -s '$T/dl/data.bin' '$T/src/data.bin'" 30
}

@test "bittorrent --seed --encryption require: dials its --peer, transmission-cli, and seeds it" {
	payload
	tr_leech
	timeout 120 bittorrent -v --seed --port 0 --no-dht --encryption require \
	    --spool "$T/spool" -o "$T/src" --peer "127.0.0.1:$tp" \
	    "$T/s.torrent" >"$T/bt.out" 2>&1 3>&- &
	bt=$!
	echo "$bt" >>"$T/pids"
	waitfor "cmp -s '$T/dl/data.bin' '$T/src/data.bin'" 90 || {
		cat "$T/bt.out"; false; }
	kill "$bt"
	wait "$bt" || true
	cat "$T/bt.out"
	grep -q "seed 127.0.0.1:$tp: started" "$T/bt.out"
	grep -qx "encryption rc4 127.0.0.1:$tp" "$T/spool/run/events.log"
	grep -q '^peer-id .* Transmission 3' "$T/spool/run/events.log"
}
