#!/usr/bin/env bats
# btpeer against real peers on loopback: python3-libtorrent, aria2c and
# transmission seeders, libtorrent and aria2c leechers, a misbehaving peer.

load helpers

ARIA=(--enable-dht=false --enable-dht6=false --bt-enable-lpd=false
    --enable-peer-exchange=false --disable-ipv6=true --interface=127.0.0.1
    --console-log-level=warn --summary-interval=0 --file-allocation=none)

# A single-file torrent: 46 pieces of 64 KiB (not a multiple of 8), the
# last one 50880 bytes.
single() {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" 3000000 single
	mktorrent -l 16 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	N=46
}

# A multi-file torrent: 33 pieces, the last one short.
multi() {
	mkdir -p "$T/src/multi/sub"
	mkpayload "$T/src/multi/a.bin" 100000 a
	mkpayload "$T/src/multi/sub/b.bin" 777777 b
	mkpayload "$T/src/multi/c.bin" 1234567 c
	mktorrent -l 16 -o "$T/m.torrent" "$T/src/multi" >/dev/null
	N=33
}

# The torrent's bytes as the source has them, in torrent order.
expected() {
	local f
	btinfo "$1" | jq -r '.files[].path_string' | while read -r f; do
		cat "$T/src/$f"
	done
}

# Pieces 0..N-1 of spool $1 in order (single- or multi-file alike).
joined() {
	local i
	for ((i = 0; i < N; i++)); do cat "$1/pieces/$i"; done
}

# lt_seed TORRENT [NAME]: a libtorrent seeder of $T/src; sets PORT.
lt_seed() {
	local out=$T/${2:-lt}.out
	/usr/bin/python3 "$HELPERS/lt_peer.py" seed "$1" "$T/src" \
	    >"$out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q seeding '$out'" 30
	PORT=$(awk '/^listening/ { print $2 }' "$out")
}

# aria_seed TORRENT [OPTION...]: an aria2c seeder of $T/src; sets PORT.
aria_seed() {
	local t=$1
	shift
	PORT=$(freeport)
	timeout 120 aria2c -V --seed-ratio=0 --seed-time=10 -d "$T/src" \
	    --listen-port="$PORT" "${ARIA[@]}" "$@" "$t" >"$T/aria.out" 2>&1 \
	    3>&- &
	echo $! >>"$T/pids"
	waitfor "ss -Htln 'sport = :$PORT' | grep -q LISTEN" 30
}

@test "btpeer: usage, bad input, bad address exit 2" {
	single
	run btpeer --help
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
	run btpeer "$T/s.torrent" 127.0.0.1:1
	[ "$status" -eq 2 ]
	[[ "$output" == *"--spool is needed"* ]]
	run btpeer --spool "$T/sp" "$T/s.torrent" nocolon
	[ "$status" -eq 2 ]
	run btpeer --spool "$T/sp" "$T/s.torrent" 127.0.0.1:99999999
	[ "$status" -eq 2 ]
	run btpeer --spool "$T/sp" "$T/s.torrent" 127.0.0.1:65536
	[ "$status" -eq 2 ]
	run btpeer --spool "$T/sp" "$T/s.torrent" '[::1:6881'
	[ "$status" -eq 2 ]
	run btpeer --spool "$T/sp" "$T/s.torrent" '[::1]:1'
	[ "$status" -eq 1 ]
	[[ "$output" == *"error connect to [::1]:1"* ]]
	run btpeer --queue 0 --spool "$T/sp" "$T/s.torrent" 127.0.0.1:1
	[ "$status" -eq 2 ]
	printf 'd4:infoe' >"$T/bad.torrent"
	run btpeer --spool "$T/sp" "$T/bad.torrent" 127.0.0.1:1
	[ "$status" -eq 2 ]
	run btpeer --piece 46 "$T/s.torrent" 127.0.0.1:1
	[ "$status" -eq 2 ]
	[[ "$output" == *"has 46 pieces"* ]]
	# Nobody listens: the world said no.
	run btpeer --spool "$T/sp" "$T/s.torrent" 127.0.0.1:1
	[ "$status" -eq 1 ]
	[[ "$output" == *"error connect to 127.0.0.1:1"* ]]
	# Another torrent's spool is refused.
	multi
	run btpeer --spool "$T/sp" "$T/m.torrent" 127.0.0.1:1
	[ "$status" -eq 2 ]
	[[ "$output" == *"spool of another torrent"* || "$output" == *"wrong size"* ]]
}

@test "btpeer: downloads a single-file torrent from libtorrent" {
	single
	lt_seed "$T/s.torrent"
	# Recycled files (btspool(5) free/), longer and shorter than a
	# piece: taken, overwritten and cut to each piece's size.
	mkdir -p "$T/sp/free"
	for i in 0 1 2 3 4 5; do
		head -c $((i * 40000)) /dev/urandom >"$T/sp/free/$i"
	done
	run timeout 60 btpeer --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = done ]
	[ -z "$(ls "$T/sp/free")" ]
	[[ "$output" == *"have-all"* ]]
	# The peer id decoded: -LT20..- is libtorrent 2.0.
	[[ "$(grep '^peer-id' <<<"$output")" == "peer-id 2d4c54"*" libtorrent 2."* ]]
	[ "$(grep -c '^piece [0-9]* ok$' <<<"$output")" -eq 46 ]
	[ "$(stat -c %s "$T/sp/pieces/45")" -eq 50880 ]
	joined "$T/sp" | cmp - "$T/src/data.bin"
	# Nothing left in tmp/, and a second run has nothing to do.
	[ -z "$(ls "$T/sp/tmp")" ]
	run timeout 10 btpeer --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	[ "$output" = done ]
}

@test "btpeer: downloads a multi-file torrent from aria2c" {
	multi
	aria_seed "$T/m.torrent"
	run timeout 60 btpeer --strategy sequential --spool "$T/sp" \
	    "$T/m.torrent" "127.0.0.1:$PORT"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = done ]
	[ "$(grep -c '^piece [0-9]* ok$' <<<"$output")" -eq 33 ]
	[[ "$(grep '^peer-id' <<<"$output")" == "peer-id 41322d"*" aria2 1."* ]]
	# Sequential: pieces come in order.
	[ "$(grep '^piece' <<<"$output" | head -3 | tr '\n' ' ')" = "piece 0 ok piece 1 ok piece 2 ok " ]
	cmp <(joined "$T/sp") <(expected "$T/m.torrent")
}

@test "btpeer: downloads from transmission" {
	single
	PORT=$(freeport)
	mkdir -p "$T/trcfg"
	HOME=$T timeout 120 transmission-cli -g "$T/trcfg" -w "$T/src" \
	    -p "$PORT" "$T/s.torrent" >"$T/tr.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q Seeding '$T/tr.out'" 40
	run timeout 60 btpeer --strategy random --spool "$T/sp" "$T/s.torrent" \
	    "127.0.0.1:$PORT"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"peer-id 2d5452"*" Transmission 3.00"* ]]	# -TR3000-
	[ "$(grep -c '^piece [0-9]* ok$' <<<"$output")" -eq 46 ]
	joined "$T/sp" | cmp - "$T/src/data.bin"
}

@test "btpeer: --bitfield and --piece against libtorrent" {
	multi
	lt_seed "$T/m.torrent"
	run timeout 20 btpeer --bitfield "$T/m.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "bitfield 33" ]
	[ "${lines[-1]}" = "pieces 0-32" ]
	timeout 20 btpeer --piece 32 "$T/m.torrent" "127.0.0.1:$PORT" >"$T/p32"
	expected "$T/m.torrent" | tail -c +$((32 * 65536 + 1)) | cmp - "$T/p32"
	timeout 20 btpeer --piece 7 "$T/m.torrent" "127.0.0.1:$PORT" >"$T/p7"
	expected "$T/m.torrent" | head -c $((8 * 65536)) | tail -c 65536 |
	    cmp - "$T/p7"
	# A full standard output is an error.
	run bash -c "timeout 20 btpeer --piece 1 '$T/m.torrent' \
	    127.0.0.1:$PORT >/dev/full"
	[ "$status" -eq 1 ]
	[[ "$output" == *"writing piece: output error"* ]]
	run bash -c "timeout 20 btpeer --bitfield '$T/m.torrent' \
	    127.0.0.1:$PORT >/dev/full"
	[ "$status" -eq 1 ]
	[[ "$output" == *"writing output failed"* ]]
	# -v traces every message with a time stamp.
	run timeout 20 btpeer -v --piece 1 "$T/m.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	grep -q '^btpeer: *[0-9.]* < unchoke$' <<<"$output"
	grep -q '^btpeer: *[0-9.]* > request 1 16384+16384$' <<<"$output"
	grep -q '^btpeer: *[0-9.]* < piece 1 49152+16384$' <<<"$output"
}

@test "btpeer: --listen serves final files to a libtorrent leecher" {
	multi
	btpeer --listen 127.0.0.1:0 -o "$T/src" "$T/m.torrent" \
	    >"$T/ev" 2>"$T/err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/ev'" 10
	port=$(awk '/^listening/ { print $2 }' "$T/ev")
	mkdir "$T/dl"
	LT_TIMEOUT=60 run timeout 90 /usr/bin/python3 "$HELPERS/lt_peer.py" \
	    leech "$T/m.torrent" "$T/dl" "127.0.0.1:$port"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = complete ]
	diff -r "$T/src/multi" "$T/dl/multi"
	waitfor "grep -q '^sent ' '$T/ev'" 5
}

@test "btpeer: --serve (inetd style, under socat) serves a spool" {
	single
	lt_seed "$T/s.torrent"
	timeout 60 btpeer --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$PORT" \
	    >/dev/null
	port=$(freeport)
	socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
	    EXEC:"$BT_BIN/btpeer --serve --spool $T/sp $T/s.torrent" \
	    >"$T/socat.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "ss -Htln 'sport = :$port' | grep -q LISTEN" 10
	mkdir "$T/dl"
	LT_TIMEOUT=60 run timeout 90 /usr/bin/python3 "$HELPERS/lt_peer.py" \
	    leech "$T/s.torrent" "$T/dl" "127.0.0.1:$port"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = complete ]
	cmp "$T/src/data.bin" "$T/dl/data.bin"
}

# bad MODE [btpeer options]: btpeer against bad_peer.py in MODE; sets
# status and output. bad_peer.py speaks plain BEP 3 and serves one
# connection, so btpeer does not try MSE first (--encryption off).
bad() {
	local mode=$1
	shift
	/usr/bin/python3 "$HELPERS/bad_peer.py" "$mode" "$N" \
	    "$T/src/data.bin" 65536 >"$T/bad.$mode" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/bad.$mode'" 10
	run timeout 30 btpeer --timeout 2 --encryption off "$@" \
	    --spool "$T/sp.$mode" \
	    "$T/s.torrent" "127.0.0.1:$(awk '{ print $2 }' "$T/bad.$mode")"
	echo "$mode: $status: $output"
	[ "$status" -eq 1 ]
	# Nothing reached the spool, or only good pieces.
	for p in "$T/sp.$mode"/pieces/*; do
		[ -f "$p" ] || continue
		i=${p##*/}
		cmp "$p" <(tail -c +$((i * 65536 + 1)) "$T/src/data.bin" |
		    head -c "$(stat -c %s "$p")")
	done
}

@test "btpeer: a misbehaving peer is dropped with a clear reason" {
	single
	bad corrupt
	[[ "$output" == *"piece "*" bad"* ]]
	[ "$(grep '^error' <<<"$output")" = "error 3 pieces failed their hash" ]
	bad oversize
	[[ "$(grep '^error' <<<"$output")" == "error message length 4294967295 over the cap of "* ]]
	bad sparebits
	[ "$(grep '^error' <<<"$output")" = "error bitfield: spare bits set" ]
	bad longbf
	[ "$(grep '^error' <<<"$output")" = "error bitfield: 7 bytes, not 6 for 46 pieces" ]
	bad stall
	[ "$(grep '^error' <<<"$output")" = "error no block for 2 s" ]
	bad unasked
	[ "$(grep '^error' <<<"$output")" = "error piece 0 0+16384 not requested" ]
	bad badindex
	[ "$(grep '^error' <<<"$output")" = "error have: piece index 46 out of range (46 pieces)" ]
	bad wronghash
	[ "$(grep '^error' <<<"$output")" = "error handshake: info-hash is not this torrent's" ]
	bad hangup
	[ "$(grep '^error' <<<"$output")" = "error peer closed the connection" ]
	[ -z "$(ls "$T/sp.wronghash/pieces")" ]
	[ -z "$(ls "$T/sp.corrupt/pieces")" ]
}

@test "btpeer: a silent or keepalive-only peer is dropped within --timeout" {
	single
	# Once stayed connected forever: only keepalives went both ways.
	# With --timeout 3, the 20 s bound leaves room for a loaded machine.
	for mode in silent keepalive; do
		/usr/bin/python3 "$HELPERS/bad_peer.py" "$mode" "$N" \
		    >"$T/bad.$mode" 2>&1 3>&- &
		echo $! >>"$T/pids"
		waitfor "grep -q listening '$T/bad.$mode'" 10
		run timeout 20 btpeer --timeout 3 --encryption off \
		    --spool "$T/sp.$mode" \
		    "$T/s.torrent" \
		    "127.0.0.1:$(awk '{ print $2 }' "$T/bad.$mode")"
		echo "$mode: $status: $output"
		[ "$status" -eq 1 ]
		[ "$(grep '^error' <<<"$output")" = \
		    "error no bitfield, have or request in 3 s" ]
	done
}

@test "btpeer: a handshake failure names the likely cause" {
	single
	bad_hs() {
		/usr/bin/python3 "$HELPERS/bad_peer.py" "$1" "$N" \
		    >"$T/bad.$1" 2>&1 3>&- &
		echo $! >>"$T/pids"
		waitfor "grep -q listening '$T/bad.$1'" 10
		run timeout 20 btpeer --encryption off --bitfield \
		    "$T/s.torrent" \
		    "127.0.0.1:$(awk '{ print $2 }' "$T/bad.$1")"
		echo "$1: $status: $output"
		[ "$status" -eq 1 ]
	}
	bad_hs http
	[ "$(grep '^error' <<<"$output")" = 'error handshake: an HTTP reply ("HTTP/1.1 400 Bad Request"), not a BitTorrent peer' ]
	bad_hs mse
	[[ "$output" == *"error handshake: protocol string length "*"not 19: an encrypted (MSE) handshake? the peer may require encryption"* ]]
}

@test "btpeer: --piece keeps errors off stdout, the data's place" {
	single
	port=$(freeport)
	run bash -c "timeout 20 btpeer --piece 0 '$T/s.torrent' \
	    127.0.0.1:$port 2>/dev/null"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	run bash -c "timeout 20 btpeer --piece 0 '$T/s.torrent' \
	    127.0.0.1:$port 2>&1 >/dev/null"
	[[ "$output" == "btpeer: "* ]]
}

@test "btpeer: a peer that chokes mid-piece, dropping requests" {
	single
	/usr/bin/python3 "$HELPERS/bad_peer.py" choker "$N" \
	    "$T/src/data.bin" 65536 >"$T/bad" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/bad'" 10
	run timeout 60 btpeer --encryption off --spool "$T/sp" \
	    "$T/s.torrent" "127.0.0.1:$(awk '{ print $2 }' "$T/bad")"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = done ]
	joined "$T/sp" | cmp - "$T/src/data.bin"
}

@test "btpeer: three processes, three seeders, one spool: each piece once" {
	single
	LT_RATE=1000000 lt_seed "$T/s.torrent" lt1
	p1=$PORT
	LT_RATE=1000000 lt_seed "$T/s.torrent" lt2
	p2=$PORT
	aria_seed "$T/s.torrent" --max-upload-limit=1M
	p3=$PORT
	k=0 kids=()
	for p in "$p1" "$p2" "$p3"; do
		k=$((k + 1))
		# One of them writes with O_DIRECT.
		timeout 60 btpeer $([ $k -eq 2 ] && echo --direct) \
		    --strategy random --spool "$T/sp" \
		    "$T/s.torrent" "127.0.0.1:$p" >"$T/ev.$k" 2>"$T/err.$k" \
		    3>&- &
		kids+=($!)
		echo $! >>"$T/pids"
	done
	for k in "${kids[@]}"; do wait "$k" || echo "btpeer $k: exit $?"; done
	tail -n 3 "$T"/ev.* "$T"/err.*
	joined "$T/sp" | cmp - "$T/src/data.bin"
	# Stored once each, and more than one process took part.
	[ "$(cat "$T"/ev.* | grep -c '^piece [0-9]* ok$')" -eq 46 ]
	[ "$(cat "$T"/ev.* | grep '^piece [0-9]* ok$' | sort -u | wc -l)" -eq 46 ]
	[ "$(grep -l '^piece [0-9]* ok$' "$T"/ev.* | wc -l)" -ge 2 ]
	# Outside endgame no piece was fetched by two processes.
	for k in 1 2 3; do
		grep -E '^piece [0-9]+ (ok|dup)$' "$T/ev.$k" | awk '{ print $2 }' |
		    sort -u >"$T/got.$k"
		awk '/^endgame/ { print $2 }' "$T/ev.$k" | sort -u >"$T/eg.$k"
		comm -23 "$T/got.$k" "$T/eg.$k" >"$T/own.$k"
	done
	[ "$(cat "$T"/own.* | sort | uniq -d | wc -l)" -eq 0 ]
}

@test "btpeer: --piece-log: piece lines to the file, counts on stdout at most every 0.1 s; two processes share the file" {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" 3000000 plog
	mktorrent -l 15 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	N=92
	LT_RATE=500000 lt_seed "$T/s.torrent" a
	p1=$PORT
	LT_RATE=500000 lt_seed "$T/s.torrent" b
	SECONDS=0
	k=0 kids=()
	for p in "$p1" "$PORT"; do
		k=$((k + 1))
		timeout 60 btpeer --piece-log "$T/plog" --spool "$T/sp" \
		    "$T/s.torrent" "127.0.0.1:$p" >"$T/ev.$k" 2>"$T/err.$k" 3>&- &
		kids+=($!)
		echo $! >>"$T/pids"
	done
	for k in "${kids[@]}"; do wait "$k"; done
	t=$SECONDS
	joined "$T/sp" | cmp - "$T/src/data.bin"
	# Every piece once in the log, none on stdout; the counts add up.
	tail -n 3 "$T"/ev.* "$T"/err.*
	echo "log: $(wc -l <"$T/plog") lines, $(sort -u "$T/plog" | wc -l) distinct"
	[ "$(grep -cx 'piece [0-9]* ok' "$T/plog")" -eq "$N" ]
	[ "$(sort -u "$T/plog" | wc -l)" -eq "$N" ]
	[ "$(wc -l <"$T/plog")" -eq "$N" ]
	! grep -q '^piece [0-9]* ok$' "$T"/ev.*
	[ "$(awk '/^pieces [1-9][0-9]*$/ { n += $2 } END { print n }' "$T"/ev.*)" -eq "$N" ]
	# Both took part.
	grep -q '^pieces ' "$T/ev.1"
	grep -q '^pieces ' "$T/ev.2"
	# Each count before the line that follows it: "done" comes last.
	for k in 1 2; do
		[ "$(tail -n 1 "$T/ev.$k")" = done ]
	done
	# At most one count a tenth of a second, besides those that go
	# before another line (however slow the machine, t only grows).
	for k in 1 2; do
		c=$(grep -c '^pieces ' "$T/ev.$k" || true)
		o=$(grep -vc '^pieces ' "$T/ev.$k" || true)
		echo "process $k: $c counts, $o other lines in ${t}s"
		[ "$c" -le $(( (t + 1) * 10 + o )) ]
	done
	# A log it cannot open: exit 2 before anything starts.
	run btpeer --piece-log "$T/no/such/dir/log" --spool "$T/sp2" \
	    "$T/s.torrent" "127.0.0.1:$p1"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--piece-log $T/no/such/dir/log: No such file or directory"* ]]
	[ ! -e "$T/sp2" ]
}

@test "btpeer: kill -9 mid-download; another process completes" {
	single
	LT_RATE=300000 lt_seed "$T/s.torrent" slow
	slow=$PORT
	lt_seed "$T/s.torrent" fast
	btpeer --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$slow" \
	    >"$T/ev.a" 2>&1 3>&- &
	a=$!
	echo "$a" >>"$T/pids"
	waitfor "[ \$(grep -c ' ok\$' '$T/ev.a') -ge 3 ]" 20
	kill -9 "$a"
	wait "$a" || true
	# Its claims went with it: the other process gets every piece.
	run timeout 60 btpeer --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = done ]
	joined "$T/sp" | cmp - "$T/src/data.bin"
	[ $(( $(grep -c ' ok$' "$T/ev.a") + $(grep -c ' ok$' <<<"$output") )) -eq 46 ]
}

@test "btpeer: a listener sends have for pieces another process stores" {
	single
	LT_RATE=2000000 lt_seed "$T/s.torrent"
	# The listener starts on an empty spool: it has nothing to offer.
	btpeer --listen 127.0.0.1:0 --spool "$T/sp" "$T/s.torrent" \
	    >"$T/ev" 2>"$T/err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/ev'" 10
	port=$(awk '/^listening/ { print $2 }' "$T/ev")
	mkdir "$T/dl"
	LT_TIMEOUT=60 /usr/bin/python3 "$HELPERS/lt_peer.py" leech \
	    "$T/s.torrent" "$T/dl" "127.0.0.1:$port" >"$T/leech" 2>&1 3>&- &
	leech=$!
	echo "$leech" >>"$T/pids"
	waitfor "grep -q peer-id '$T/ev'" 10
	# Another process fills the spool; the leecher learns by have.
	timeout 60 btpeer --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$PORT" \
	    >"$T/fetch"
	[ "$(tail -n 1 "$T/fetch")" = done ]
	wait "$leech"
	[ "$(tail -n 1 "$T/leech")" = complete ]
	cmp "$T/src/data.bin" "$T/dl/data.bin"
}

@test "btpeer: with btassemble --follow; then serves placed pieces from -o" {
	multi
	lt_seed "$T/m.torrent"
	mkdir "$T/out"
	timeout 60 btassemble --follow --spool "$T/sp" -o "$T/out" \
	    "$T/m.torrent" >"$T/asm" 2>&1 3>&- &
	asm=$!
	echo "$asm" >>"$T/pids"
	run timeout 60 btpeer --spool "$T/sp" "$T/m.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = done ]
	wait "$asm"
	diff -r "$T/src/multi" "$T/out/multi"
	# Every piece moved out of the spool, still known as had.
	[ -z "$(ls "$T/sp/pieces")" ]
	btpeer --listen 127.0.0.1:0 --spool "$T/sp" -o "$T/out" "$T/m.torrent" \
	    >"$T/ev" 2>"$T/err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/ev'" 10
	port=$(awk '/^listening/ { print $2 }' "$T/ev")
	mkdir "$T/dl"
	LT_TIMEOUT=60 run timeout 90 /usr/bin/python3 "$HELPERS/lt_peer.py" \
	    leech "$T/m.torrent" "$T/dl" "127.0.0.1:$port"
	[ "$status" -eq 0 ]
	diff -r "$T/src/multi" "$T/dl/multi"
}

@test "btpeer: serving caps blocks and queued requests, honours cancel" {
	single
	btpeer --listen 127.0.0.1:0 -o "$T/src" "$T/s.torrent" \
	    >"$T/ev" 2>"$T/err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/ev'" 10
	port=$(awk '/^listening/ { print $2 }' "$T/ev")
	ih=$(btinfo "$T/s.torrent" | jq -r .info_hash)
	bl() {
		timeout 30 /usr/bin/python3 "$HELPERS/bad_leecher.py" "$1" \
		    "$ih" "127.0.0.1:$2"
	}
	# BEP 3: a request over 16 KiB closes the connection.
	[ "$(bl bigblock "$port")" = closed ]
	waitfor "grep -q 'error request: block length 32768 not in 1..16384' '$T/ev'" 5
	# 3000 requests at once: 2048 are queued, the rest dropped (a few
	# more get in if they arrive in several reads).
	run bl flood "$port"
	echo "$output"
	[ "${output% *}" = blocks ]
	[ "${output#* }" -ge 2048 ] && [ "${output#* }" -lt 3000 ]
	# A cancel in the same write as its request: never answered.
	[ "$(bl cancel "$port" | tr '\n' ' ')" = "blocks 99 cancelled-sent no " ]
	# A piece we do not have is not served.
	btpeer --listen 127.0.0.1:0 --spool "$T/empty" "$T/s.torrent" \
	    >"$T/ev2" 2>"$T/err2" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/ev2'" 10
	[ "$(bl absent "$(awk '/^listening/ { print $2 }' "$T/ev2")")" = "blocks 0" ]
}

@test "btpeer: --listen --max-conns closes connections past the cap" {
	single
	btpeer --listen 127.0.0.1:0 --max-conns 1 -o "$T/src" "$T/s.torrent" \
	    >"$T/ev" 2>"$T/err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/ev'" 10
	port=$(awk '/^listening/ { print $2 }' "$T/ev")
	# The first connection, once it speaks (a plain handshake, not MSE),
	# gets a handler, which sends its handshake.
	exec 5<>"/dev/tcp/127.0.0.1/$port"
	printf '\023BitTorrent protocol' >&5
	[ "$(timeout 5 head -c 20 <&5 | tail -c 19)" = "BitTorrent protocol" ]
	# The second is closed once it speaks: end of file (or a reset, its
	# bytes unread), no handshake.
	run timeout 5 bash -c "exec 6<>/dev/tcp/127.0.0.1/$port; printf '\023BitTorrent protocol' >&6; cat <&6 2>/dev/null | wc -c"
	[ "$status" -eq 0 ]
	[ "$output" -eq 0 ]
	exec 5<&-
}

# listen_on ARGS...: btpeer -v --listen on any port with ARGS, trace to
# $T/lerr; sets LPORT.
listen_on() {
	: >"$T/lev"
	btpeer -v --listen 127.0.0.1:0 "$@" >"$T/lev" 2>"$T/lerr" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/lev'" 10
	LPORT=$(awk '/^listening/ { print $2 }' "$T/lev")
}

@test "btpeer: placed pieces go by sendfile on plain TCP, across files; RC4 and spool pieces are read" {
	multi
	bits=$(btverify --bitfield "$T/m.torrent" "$T/src")
	btassemble --mark "$bits" --spool "$T/seed" -o "$T/src" "$T/m.torrent" \
	    >/dev/null
	listen_on --spool "$T/seed" -o "$T/src" "$T/m.torrent"
	# The default between our ends: MSE, plaintext chosen, so zero-copy.
	run timeout 60 btpeer --spool "$T/dl" "$T/m.torrent" \
	    "127.0.0.1:$LPORT"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = done ]
	waitfor "grep -q '^encryption plaintext' '$T/lev'" 5
	cmp <(joined "$T/dl") <(expected "$T/m.torrent")
	# Piece 1 straddles a.bin (100000 bytes) and sub/b.bin.
	waitfor "grep -q '> piece 1 32768+16384 (from storage)' '$T/lerr'" 5
	! grep '> piece [0-9]* [0-9+]*$' "$T/lerr"
	# MSE with RC4 (the dialler requires it): every block is read.
	kill "$(tail -1 "$T/pids")"
	listen_on --spool "$T/seed" -o "$T/src" "$T/m.torrent"
	run timeout 60 btpeer --encryption require --spool "$T/dl2" \
	    "$T/m.torrent" "127.0.0.1:$LPORT"
	[ "$status" -eq 0 ]
	cmp <(joined "$T/dl2") <(expected "$T/m.torrent")
	waitfor "grep -q '^encryption rc4' '$T/lev'" 5
	grep -q '> piece 1 32768+16384$' "$T/lerr"
	! grep -q 'from storage' "$T/lerr"
	# Spool pieces (not placed, may be recycled): read, not sent whole.
	kill "$(tail -1 "$T/pids")"
	listen_on --spool "$T/dl" "$T/m.torrent"
	run timeout 60 btpeer --encryption off --spool "$T/dl3" "$T/m.torrent" \
	    "127.0.0.1:$LPORT"
	[ "$status" -eq 0 ]
	cmp <(joined "$T/dl3") <(expected "$T/m.torrent")
	grep -q '> piece 1 32768+16384$' "$T/lerr"
	! grep -q 'from storage' "$T/lerr"
}
