#!/usr/bin/env bats
# bittorrent, the orchestrator: whole downloads from real seeders
# (libtorrent, aria2c, transmission) and from itself, through opentracker
# or given peers; resume after SIGTERM and kill -9; dead peers. Loopback only.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	D=$(mktemp -d "${BATS_TMPDIR:-/tmp}/bittorrent.XXXXXX")
	export D
	mkpayload "$D/single.bin" 3000017 one
	# Names with a space, a quote and UTF-8: the script must quote them.
	mkdir -p "$D/multi/sub dir"
	mkpayload "$D/multi/a b.bin" 1500001 two
	mkpayload "$D/multi/sub dir/it's-"$'\303\274'".txt" 700003 three
	: >"$D/multi/empty"
}

teardown_file() {
	rm -rf "$D"
}

# mkt SRC URL OUT [PIECE_EXP]: a torrent of SRC announcing to URL.
mkt() {
	mktorrent -a "$2" -l "${4:-15}" -o "$3" "$1" >/dev/null
}

# opentracker whitelisting torrent $1; sets OT.
otstart() {
	OT=$(freeport)
	mkdir -p "$T/ot"
	chmod 755 "$T" "$T/ot"
	btinfo "$1" | jq -r .info_hash >"$T/ot/whitelist.txt"
	opentracker -i 127.0.0.1 -p "$OT" -P "$OT" -d "$T/ot" -u nobody \
	    -w whitelist.txt >"$T/ot.log" 2>&1 &
	echo $! >>"$T/pids"
	waitfor "(: </dev/tcp/127.0.0.1/$OT)" 10
}

# ltseed TORRENT DATADIR [ARGS...]: a libtorrent seeder; sets LTPORT.
ltseed() {
	local out=$T/lt.$RANDOM
	/usr/bin/python3 "$HELPERS/lt_seed.py" "$@" --seconds 120 >"$out" 2>&1 &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$out'" 20
	LTPORT=$(sed -n 's/^listening //p' "$out")
}

# ariaseed TORRENT DATADIR PORT: aria2c seeding on 127.0.0.1:PORT.
ariaseed() {
	aria2c -q -d "$2" -V --seed-ratio=0.0 --enable-dht=false \
	    --enable-dht6=false --bt-enable-lpd=false \
	    --enable-peer-exchange=false --disable-ipv6=true \
	    --interface=127.0.0.1 --listen-port="$3" --bt-external-ip=127.0.0.1 \
	    "$1" >"$T/aria.log" 2>&1 &
	echo $! >>"$T/pids"
	waitfor "(: </dev/tcp/127.0.0.1/$3)" 20
}

# trseed TORRENT DATADIR PORT: transmission-cli seeding on PORT.
trseed() {
	mkdir -p "$T/trcfg"
	cat >"$T/trcfg/settings.json" <<-JSON
	{"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
	 "utp-enabled": false, "port-forwarding-enabled": false,
	 "bind-address-ipv4": "127.0.0.1", "rpc-enabled": false,
	 "peer-port-random-on-start": false}
	JSON
	transmission-cli -g "$T/trcfg" -p "$3" -w "$2" "$1" >"$T/tr.log" 2>&1 &
	echo $! >>"$T/pids"
	waitfor "(: </dev/tcp/127.0.0.1/$3)" 20
	# It listens before it has checked its data: wait for that too.
	waitfor "grep -q 'Seeding\|Complete\|seeding' '$T/tr.log'" 20 || true
}

# okpieces LOG: the pieces a run stored, sorted.
okpieces() {
	sed -n 's/^piece \([0-9]*\) ok$/\1/p' "$1" | sort -n
}

@test "bittorrent: --help starts with the man page SYNOPSIS and lists every option; --info" {
	run bittorrent --help
	[ "$status" -eq 0 ]
	got=$(printf '%s\n' "$output" | sed '/^$/q' | sed 's/^usage: *//; s/^ *//' |
	    tr -s ' \n' '  ')
	want=$(MANWIDTH=1000 man "$TOP/scripts/bittorrent.1" 2>/dev/null |
	    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d; s/^ *//' |
	    tr -s ' \n' '  ')
	echo "got  '$got'"
	echo "want '$want'"
	[ "$got" = "$want" ]
	# Every option of the man page has its line in --help.
	for o in $(sed -n 's/^\.It Fl \([a-z]\) , Fl \\-\([a-z-]*\).*/-\1,--\2/p; s/^\.It Fl \\-\([a-z-]*\).*/--\1/p' \
	    "$TOP/scripts/bittorrent.1"); do
		echo "$output" | grep -q -- "^ *${o%%,*}[ ,]" || { echo "missing $o"; false; }
	done
	run bittorrent --version
	[ "$status" -eq 0 ]
	[[ "$output" == "bittorrent "[0-9]* ]]
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	run bittorrent -t "$T/s.torrent" --info
	[ "$status" -eq 0 ]
	[ "$output" = "$(btinfo -s "$T/s.torrent")" ]
	run bittorrent --info "$T/s.torrent"
	[ "$output" = "$(btinfo -s "$T/s.torrent")" ]
	shellcheck "$TOP/scripts/bittorrent" "$TOP/scripts/bittorrent-sources.bash"
	mandoc -Tlint -W warning "$TOP/scripts/bittorrent.1"
}

# badrun WANT_STATUS WANT_MESSAGE ARGS...: bittorrent fails at once, as said.
badrun() {
	local st=$1 msg=$2
	shift 2
	run timeout 10 bittorrent "$@"
	echo "bittorrent $*: $status: $output"
	[ "$status" -eq "$st" ]
	[ "$output" = "$msg" ]
}

@test "bittorrent: bad options and values: one message naming them, exit 2, nothing started" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	try="Try 'bittorrent --help'."
	cd "$T"
	badrun 2 "bittorrent: unknown option --bogus"$'\n'"$try" --bogus s.torrent
	badrun 2 "bittorrent: unknown option -x"$'\n'"$try" -x s.torrent
	badrun 2 "bittorrent: no torrent given"$'\n'"$try"
	badrun 2 "bittorrent: option --port needs a value"$'\n'"$try" s.torrent --port
	badrun 2 "bittorrent: the torrent must be a file, not standard input"$'\n'"$try" - <s.torrent
	badrun 2 "bittorrent: option --seed takes no value"$'\n'"$try" --seed=yes s.torrent
	badrun 2 "bittorrent: one torrent at a time ('s.torrent' and 'x')"$'\n'"$try" s.torrent x
	badrun 2 "bittorrent: --peer 'foo': want HOST:PORT, [IPv6]:PORT, port 1-65535" --peer foo s.torrent
	badrun 2 "bittorrent: --peer '1.2.3.4:99999': want HOST:PORT, [IPv6]:PORT, port 1-65535" --peer=1.2.3.4:99999 s.torrent
	badrun 2 "bittorrent: --port 'abc': want 0 to 65535" --port abc s.torrent
	badrun 2 "bittorrent: --port '65536': want 0 to 65535" --port=65536 s.torrent
	badrun 2 "bittorrent: --max-peers '0': want 1 to 1000" --max-peers 0 s.torrent
	badrun 2 "bittorrent: --stall-timeout 'x': want seconds, at least 1" --stall-timeout x s.torrent
	badrun 2 "bittorrent: --seed-ratio '1.2.3': want a number such as 1.5" --seed-ratio 1.2.3 s.torrent
	badrun 2 "bittorrent: unknown strategy 'best' (sequential, random or rarest)" --strategy=best s.torrent
	: >file
	badrun 2 "bittorrent: -o 'file': not a directory" -o file s.torrent
	mkdir ro && chmod 555 ro
	if [ "$(id -u)" -ne 0 ]; then
		badrun 1 "bittorrent: -o 'ro/x': cannot create it: Permission denied" -o ro/x s.torrent
	fi
	badrun 1 "bittorrent: -o 'file/x': cannot create it: Not a directory" -o file/x s.torrent
	run bittorrent -t "$T/nope.torrent"
	[ "$status" -eq 2 ]
	[[ "$output" == "btinfo: $T/nope.torrent: No such file"* ]]
	# Nothing was made for any of them.
	[ "$(ls -A)" = "$(printf 'file\nro\ns.torrent')" ]
}

@test "bittorrent: a magnet link with no source: exit 2 with the reason; no source of peers: exit 2 at once" {
	m='magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x'
	run timeout 10 bittorrent --no-dht "$m" -o "$T/out"
	[ "$status" -eq 2 ]
	[[ "$output" == "bittorrent: no source of peers: the magnet link names no tracker"*"the DHT is off"* ]]
	# With the DHT (no node to start from here): asked, then exit 1.
	run timeout 10 bittorrent "$m" -o "$T/out"
	[ "$status" -eq 1 ]
	[[ "$output" == "bittorrent: no peer to fetch the metadata from: the trackers and the DHT know none (no DHT node"* ]]
	run timeout 10 bittorrent 'magnet:?xt=urn:btih:nothex'
	[ "$status" -eq 2 ]
	[[ "$output" == "btinfo: bad magnet URI: "* ]]
	# No tracker, no --peer, no web seed and no DHT (see
	# bittorrent-sources.bats for the DHT and web seeds).
	mktorrent -l 15 -o "$T/nt.torrent" "$D/single.bin" >/dev/null
	SECONDS=0
	run timeout 30 bittorrent --no-dht "$T/nt.torrent" -o "$T/out"
	[ "$status" -eq 2 ]
	[ "$output" = "bittorrent: no source of peers: the torrent names no tracker (no web seed, --no-dht); give one with --peer" ]
	[ "$SECONDS" -lt 10 ]
	[ ! -e "$T/out/.bt-"* ]
}

@test "bittorrent: single file from a libtorrent seeder given by --peer" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	ltseed "$T/s.torrent" "$D"
	run timeout 120 bittorrent -t "$T/s.torrent" -o "$T/out" \
	    --peer "127.0.0.1:$LTPORT"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"complete: $T/out/single.bin"* ]]
	cmp "$D/single.bin" "$T/out/single.bin"
	# The default spool goes once the download is complete.
	[ "$(ls -A "$T/out")" = single.bin ]
}

@test "bittorrent: multi-file with awkward names from aria2c, via opentracker" {
	mkt "$D/multi" "http://127.0.0.1:1/announce" "$T/m0.torrent"
	otstart "$T/m0.torrent"
	# The tracker URL is part of the torrent, not of the info-hash.
	mkt "$D/multi" "http://127.0.0.1:$OT/announce" "$T/m.torrent"
	[ "$(btinfo "$T/m.torrent" | jq -r .info_hash)" = "$(cat "$T/ot/whitelist.txt")" ]
	ap=$(freeport)
	ariaseed "$T/m.torrent" "$D" "$ap"
	waitfor "btannounce --port 1 '$T/m.torrent' | grep -q ':$ap\$'" 30
	run timeout 120 bittorrent -t "$T/m.torrent" -o "$T/out"
	echo "$output"
	[ "$status" -eq 0 ]
	diff -r "$D/multi" "$T/out/multi"
	[ -f "$T/out/multi/empty" ]
}

@test "bittorrent: from a transmission seeder" {
	mkt "$D/multi" http://127.0.0.1:1/announce "$T/m.torrent"
	tp=$(freeport)
	trseed "$T/m.torrent" "$D" "$tp"
	run timeout 120 bittorrent -t "$T/m.torrent" -o "$T/out" \
	    --peer "127.0.0.1:$tp"
	echo "$output"
	[ "$status" -eq 0 ]
	diff -r "$D/multi" "$T/out/multi"
}

@test "bittorrent: its own swarm: a seeder, a leecher, then a third from both" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/0.torrent" 15
	otstart "$T/0.torrent"
	mkt "$D/single.bin" "http://127.0.0.1:$OT/announce" "$T/s.torrent" 15
	mkdir -p "$T/a"
	cp "$D/single.bin" "$T/a/"
	pa=$(freeport)
	bittorrent -t "$T/s.torrent" -o "$T/a" --port "$pa" --seed \
	    >"$T/a.out" 2>"$T/a.err" &
	echo $! >>"$T/pids"
	waitfor "btannounce --port 1 '$T/s.torrent' | grep -q ':$pa\$'" 30
	pb=$(freeport)
	bittorrent -t "$T/s.torrent" -o "$T/b" --port "$pb" --seed \
	    >"$T/b.out" 2>"$T/b.err" &
	echo $! >>"$T/pids"
	waitfor "grep -q complete '$T/b.out'" 60
	cmp "$D/single.bin" "$T/b/single.bin"
	waitfor "btannounce --port 1 '$T/s.torrent' | grep -q ':$pb\$'" 30
	run timeout 120 bittorrent -t "$T/s.torrent" -o "$T/c" \
	    --spool "$T/c.spool"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$D/single.bin" "$T/c/single.bin"
	# The tracker gave C both A and B, at the ports they listen on (which
	# of them sends the pieces depends on timing), and not C itself.
	grep -qx "from tracker peer 127.0.0.1:$pa" "$T/c.spool/run/events.log"
	grep -qx "from tracker peer 127.0.0.1:$pb" "$T/c.spool/run/events.log"
	[ "$(grep -c '^from tracker peer ' "$T/c.spool/run/events.log")" -le 3 ]
}

# interrupt SIGNAL SETSID: start a slow download, stop it halfway with
# SIGNAL (to the script, or with SETSID=1 to its whole process group),
# run it again, and check nothing stored in the first run was fetched again.
interrupt() {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	n=$(btinfo "$T/s.torrent" | jq .piece_count)
	ltseed "$T/s.torrent" "$D" --rate 600000
	if [ "$2" -eq 1 ]; then
		setsid bittorrent -t "$T/s.torrent" -o "$T/out" --spool "$T/sp" \
		    --peer "127.0.0.1:$LTPORT" >/dev/null 2>"$T/1.err" &
	else
		bittorrent -t "$T/s.torrent" -o "$T/out" --spool "$T/sp" \
		    --peer "127.0.0.1:$LTPORT" >/dev/null 2>"$T/1.err" &
	fi
	pid=$!
	echo "$pid" >>"$T/pids"
	waitfor "[ \$(grep -c ' ok\$' '$T/sp/run/events.log') -ge $((n / 2)) ]" 60
	kids=$(pgrep -P "$pid" | tr '\n' ' ')
	[ -n "$kids" ]
	if [ "$2" -eq 1 ]; then
		kill -"$1" -- "-$pid"
	else
		kill -"$1" "$pid"
	fi
	st=0
	wait "$pid" || st=$?
	case $1 in
	TERM) [ "$st" -eq 143 ]
	      grep -qx 'bittorrent: interrupted at [0-9]*\.[0-9]%; run the same command to resume' "$T/1.err" ;;
	*) [ "$st" -ne 0 ] ;;
	esac
	# No child outlives the run.
	waitfor "! kill -0 $kids 2>/dev/null" 10
	okpieces "$T/sp/run/events.log" >"$T/run1"
	[ "$(wc -l <"$T/run1")" -lt "$n" ]
	run timeout 120 bittorrent -t "$T/s.torrent" -o "$T/out" --spool "$T/sp" \
	    --peer "127.0.0.1:$LTPORT"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$D/single.bin" "$T/out/single.bin"
	okpieces "$T/sp/run/events.log" >"$T/run2"
	echo "first run: $(wc -l <"$T/run1") pieces, second: $(wc -l <"$T/run2") of $n"
	[ -z "$(comm -12 "$T/run1" "$T/run2")" ]
	[ $(( $(wc -l <"$T/run1") + $(wc -l <"$T/run2") )) -le "$n" ]
}

@test "bittorrent: resumes after SIGTERM without fetching a piece twice" {
	interrupt TERM 0
}

@test "bittorrent: resumes after kill -9 of its process group" {
	interrupt KILL 1
}

@test "bittorrent: kill -9 of the script alone: its children go too" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	ltseed "$T/s.torrent" "$D" --rate 300000
	bittorrent -t "$T/s.torrent" -o "$T/out" --spool "$T/sp" \
	    --peer "127.0.0.1:$LTPORT" >/dev/null 2>&1 &
	pid=$!
	echo "$pid" >>"$T/pids"
	waitfor "grep -q ' ok\$' '$T/sp/run/events.log'" 30
	kids=$(pgrep -P "$pid" | tr '\n' ' ')
	[ -n "$kids" ]
	kill -9 "$pid"
	waitfor "! kill -0 $kids 2>/dev/null" 10
}

@test "bittorrent: dead peers and a dead tracker: exit 1, a message, bounded" {
	mkt "$D/single.bin" "http://127.0.0.1:$(freeport)/announce" "$T/s.torrent"
	SECONDS=0
	# Retries after 1, 4 and 9 s: each peer is given up after 4 tries.
	BT_RETRY_SECONDS=1 run timeout 60 bittorrent -t "$T/s.torrent" -o "$T/out" \
	    --peer 127.0.0.1:1 --peer "127.0.0.1:$(freeport)" --stall-timeout 3
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | grep -c '^bittorrent: tracker: btannounce: ')" -eq 1 ]
	[[ "$output" == *"bittorrent: peer 127.0.0.1:1: given up after 4 tries: connection refused"* ]]
	[[ "$output" == *"bittorrent: no peer left to download from (waited 3s); 2 peers: "* ]]
	[[ "$output" == *"127.0.0.1:1 connection refused x4"* ]]
	[ "$SECONDS" -lt 40 ]
}

@test "bittorrent: a damaged piece in the spool is dropped and fetched again" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	ltseed "$T/s.torrent" "$D"
	# A spool holding every piece, as a run killed before btassemble
	# placed anything leaves it; then one piece is damaged on disk, as a
	# power cut can: the state's boot id becomes another boot's, so no
	# piece counts as fresh (btspool(5)) and each is hashed again.
	run timeout 60 btpeer --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$LTPORT"
	[ "$status" -eq 0 ]
	printf 'X' | dd of="$T/sp/pieces/3" bs=1 seek=100 conv=notrunc 2>/dev/null
	printf 'another boot id!' | dd of="$T/sp/state" bs=1 seek=64 conv=notrunc 2>/dev/null
	run timeout 120 bittorrent -t "$T/s.torrent" -o "$T/out" --spool "$T/sp" \
	    --peer "127.0.0.1:$LTPORT"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$D/single.bin" "$T/out/single.bin"
	grep -qx 'dropped 3' "$T/sp/run/placed.log"
	[ "$(okpieces "$T/sp/run/events.log")" = 3 ]
}

@test "bittorrent: piece files put in an empty spool by hand are hashed: a bad one is fetched again" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	ltseed "$T/s.torrent" "$D"
	# Pieces 3 (damaged) and 4 (good) cut from the payload by hand, with
	# no state file: nothing marks them fresh, so btassemble hashes them.
	mkdir -p "$T/sp/pieces"
	dd if="$D/single.bin" of="$T/sp/pieces/3" bs=32768 skip=3 count=1 2>/dev/null
	dd if="$D/single.bin" of="$T/sp/pieces/4" bs=32768 skip=4 count=1 2>/dev/null
	printf 'X' | dd of="$T/sp/pieces/3" bs=1 seek=100 conv=notrunc 2>/dev/null
	run timeout 120 bittorrent -t "$T/s.torrent" -o "$T/out" --spool "$T/sp" \
	    --peer "127.0.0.1:$LTPORT" --recheck
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$D/single.bin" "$T/out/single.bin"
	grep -qx 'dropped 3' "$T/sp/run/placed.log"
	grep -qx 'placed 4' "$T/sp/run/placed.log"
	# 3 fetched again, 4 never fetched.
	okpieces "$T/sp/run/events.log" | grep -qx 3
	! okpieces "$T/sp/run/events.log" | grep -qx 4
}

# sigdfl CMD...: execs CMD with SIGINT at its default (a background job
# of a script starts with SIGINT ignored, and bash cannot trap it then).
SIGDFL='import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])'
sigdfl() {
	exec /usr/bin/python3 -c "$SIGDFL" "$@"
}

@test "bittorrent: Ctrl-C: children stopped, a fresh line saying how to resume, exit 130" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	ltseed "$T/s.torrent" "$D" --rate 300000
	# Its own process group, as a shell gives a foreground job, so that
	# SIGINT goes to every process as Ctrl-C sends it.
	setsid /usr/bin/python3 -c "$SIGDFL" bittorrent "$T/s.torrent" \
	    -o "$T/out" --peer "127.0.0.1:$LTPORT" >"$T/1.out" 2>"$T/1.err" &
	pid=$!
	echo "$pid" >>"$T/pids"
	waitfor "[ -d '$T/out/.bt-'* ] && grep -q ' ok\$' '$T/out/.bt-'*/run/events.log" 30
	kids=$(pgrep -P "$pid" | tr '\n' ' ')
	[ -n "$kids" ]
	kill -INT -- "-$pid"
	st=0
	wait "$pid" || st=$?
	cat "$T/1.err"
	[ "$st" -eq 130 ]
	grep -qx 'bittorrent: interrupted at [0-9]*\.[0-9]%; run the same command to resume' "$T/1.err"
	waitfor "! kill -0 $kids 2>/dev/null" 10
	# The spool stays for the next run.
	[ -d "$T/out/.bt-"*/pieces ]
}

@test "bittorrent: --seed ended by SIGINT after a complete download: exit 0, nothing left behind" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	ltseed "$T/s.torrent" "$D"
	sigdfl bittorrent "$T/s.torrent" -o "$T/out" --peer "127.0.0.1:$LTPORT" \
	    --seed --json >"$T/1.out" 2>"$T/1.err" &
	pid=$!
	echo "$pid" >>"$T/pids"
	waitfor "grep -q '\"event\": \"seeding\"' '$T/1.out'" 60
	kids=$(pgrep -P "$pid" | tr '\n' ' ')
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	cat "$T/1.err"
	[ "$st" -eq 0 ]
	grep -qx 'bittorrent: stopped seeding' "$T/1.err"
	waitfor "! kill -0 $kids 2>/dev/null" 10
	[ "$(ls -A "$T/out")" = single.bin ]
	cmp "$D/single.bin" "$T/out/single.bin"
}

@test "bittorrent --seed: a --peer that listens only after the first dial failed is dialled again; a dead one is given up after 4 tries" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	mkdir -p "$T/src"
	ln "$D/single.bin" "$T/src/" 2>/dev/null || cp "$D/single.bin" "$T/src/"
	lp=$(freeport)
	dp=$(freeport)
	# Complete from the start: seeding at once, dialling both ports,
	# where nobody listens yet.
	timeout 120 bittorrent -v --seed --no-dht --port 0 --spool "$T/spool" \
	    -o "$T/src" --peer "127.0.0.1:$lp" --peer "127.0.0.1:$dp" \
	    "$T/s.torrent" >"$T/bt.out" 2>"$T/bt.err" 3>&- &
	bt=$!
	echo "$bt" >>"$T/pids"
	waitfor "grep -q 'seed 127.0.0.1:$lp: exited with 1' '$T/bt.err'" 30 || {
		cat "$T/bt.err"; false; }
	# Now a libtorrent leecher listens there; it never dials us.
	/usr/bin/python3 "$HELPERS/lt_seed.py" "$T/s.torrent" "$T/dl" --leech \
	    --listen "127.0.0.1:$lp" --seconds 60 >"$T/lt.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q '^done' '$T/lt.out'" 60 || { cat "$T/bt.err"; false; }
	cmp "$D/single.bin" "$T/dl/single.bin"
	# The dead one: 4 tries, 2 + 4 + 8 s apart, then given up.
	waitfor "grep -q 'seed 127.0.0.1:$dp: given up after 4 tries' '$T/bt.err'" 40 || {
		cat "$T/bt.err"; false; }
	kill "$bt"
	wait "$bt" || true
	cat "$T/bt.err"
	[ "$(grep -c "seed 127.0.0.1:$lp: started" "$T/bt.err")" -ge 2 ]
	[ "$(grep -c "seed 127.0.0.1:$dp: started" "$T/bt.err")" -eq 4 ]
}

@test "bittorrent: a busy --port fails at once with the reason; --port 0 and a busy default port pick another" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$T/busy" &
	echo $! >>"$T/pids"
	waitfor "[ -s '$T/busy' ]" 10
	bp=$(cat "$T/busy")
	SECONDS=0
	run timeout 30 bittorrent "$T/s.torrent" -o "$T/out" --port "$bp" \
	    --peer 127.0.0.1:1
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "bittorrent: cannot listen on port $bp: Address already in use" ]
	[ "$SECONDS" -lt 10 ]
	ltseed "$T/s.torrent" "$D"
	run --separate-stderr timeout 120 bittorrent "$T/s.torrent" -o "$T/out" \
	    --port 0 --json --peer "127.0.0.1:$LTPORT"
	[ "$status" -eq 0 ]
	lp=$(echo "$output" | jq -r 'select(.event == "listening") | .port')
	[ "$lp" -gt 0 ]
	[ "$lp" -ne "$bp" ]
	cmp "$D/single.bin" "$T/out/single.bin"
	# Without --port, 6881 busy (held here, or by anyone else): the next.
	/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket()
# As btpeer does: a TIME-WAIT of an earlier test on 6881 must not stop us.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("0.0.0.0", 6881)); s.listen()
except OSError:
    pass
print("bound", flush=True); time.sleep(60)' >"$T/b6881" &
	echo $! >>"$T/pids"
	waitfor "[ -s '$T/b6881' ]" 10
	run --separate-stderr timeout 120 bittorrent "$T/s.torrent" -o "$T/out2" \
	    --json --peer "127.0.0.1:$LTPORT"
	[ "$status" -eq 0 ]
	lp=$(echo "$output" | jq -r 'select(.event == "listening") | .port')
	echo "listened on $lp"
	[ "$lp" -gt 6881 ]
}

@test "bittorrent: --json: one object a line; --quiet: nothing on stderr" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	ltseed "$T/s.torrent" "$D" --rate 1500000
	run --separate-stderr timeout 120 bittorrent "$T/s.torrent" -o "$T/out" \
	    --json -q --peer "127.0.0.1:$LTPORT" --peer 127.0.0.1:1
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	echo "$output"
	echo "$output" | jq -e . >/dev/null
	[ "$(echo "$output" | jq -r .event | sort -u | tr '\n' ' ')" = "complete listening progress " ]
	echo "$output" | jq -s -e 'map(select(.event == "progress")) |
	    length > 0 and all(.percent >= 0 and .percent <= 100 and .piece_count > 0)' >/dev/null
	echo "$output" | tail -n 1 | jq -e --arg p "$T/out/single.bin" '.path == $p and .bytes == 3000017' >/dev/null
	# -q: a dead peer or tracker is not an error of the run.
	run --separate-stderr timeout 120 bittorrent "$T/s.torrent" -o "$T/out2" -q \
	    --peer "127.0.0.1:$LTPORT"
	[ "$status" -eq 0 ]
	[ "$output" = "complete: $T/out2/single.bin" ]
	[ -z "$stderr" ]
}

@test "bittorrent: each btpeer logs its pieces in events.log; the bus carries counts that drive the progress" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	n=$(btinfo "$T/s.torrent" | jq .piece_count)
	# About 3 s: progress events come while pieces arrive.
	ltseed "$T/s.torrent" "$D" --rate 1000000
	run --separate-stderr timeout 120 bittorrent "$T/s.torrent" -o "$T/out" \
	    --spool "$T/sp" --json --peer "127.0.0.1:$LTPORT"
	[ "$status" -eq 0 ]
	cmp "$D/single.bin" "$T/out/single.bin"
	# Every piece once, in btpeer's own lines; their counts add up.
	okpieces "$T/sp/run/events.log" >"$T/ok"
	[ "$(wc -l <"$T/ok")" -eq "$n" ]
	[ "$(uniq "$T/ok" | wc -l)" -eq "$n" ]
	[ "$(awk '/^pieces [0-9]+$/ { s += $2 } END { print s }' "$T/sp/run/events.log")" -eq "$n" ]
	# The progress counts them: some while fetching, every one at the end.
	echo "$output" | jq -c 'select(.event == "progress") | [.pieces, .piece_count]'
	echo "$output" | jq -s -e --argjson n "$n" 'map(select(.event == "progress")) |
	    any(.pieces > 0 and .pieces < $n) and (last | .pieces == $n) and
	    (map(.pieces) | . == sort)' >/dev/null
}

@test "bittorrent: announces the port it listens on; its 'stopped' leaves the other peers registered" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/0.torrent"
	otstart "$T/0.torrent"
	mkt "$D/single.bin" "http://127.0.0.1:$OT/announce" "$T/s.torrent"
	ltseed "$T/s.torrent" "$D"
	waitfor "btannounce --port 1 '$T/s.torrent' | grep -qx '127.0.0.1:$LTPORT'" 30
	bittorrent "$T/s.torrent" -o "$T/out" --json --seed-time 60 \
	    >"$T/1.out" 2>"$T/1.err" &
	pid=$!
	echo "$pid" >>"$T/pids"
	waitfor "grep -q '\"event\": \"seeding\"' '$T/1.out'" 60
	lp=$(jq -r 'select(.event == "listening") | .port' "$T/1.out")
	# The tracker knows us at the port we listen on, and we serve there.
	btannounce --port 1 "$T/s.torrent" | grep -qx "127.0.0.1:$lp"
	btpeer --bitfield "$T/s.torrent" "127.0.0.1:$lp" | grep -q '^have-all\|^bitfield'
	kill "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 0 ]	# a seed ended, not a failure
	# Our "stopped" removed us, and only us.
	run btannounce --port 1 "$T/s.torrent"
	echo "$output"
	[ "$output" = "127.0.0.1:$LTPORT" ]
}

@test "bittorrent: the default listener serves a libtorrent leecher while downloading" {
	mkt "$D/single.bin" http://127.0.0.1:1/announce "$T/s.torrent"
	ltseed "$T/s.torrent" "$D" --rate 400000
	bittorrent "$T/s.torrent" -o "$T/out" --json --seed-time 30 \
	    --peer "127.0.0.1:$LTPORT" >"$T/1.out" 2>"$T/1.err" &
	pid=$!
	echo "$pid" >>"$T/pids"
	waitfor "grep -q '\"event\": \"listening\"' '$T/1.out'" 30
	lp=$(jq -r 'select(.event == "listening") | .port' "$T/1.out")
	# A leecher that knows only us, once we have a few pieces.
	waitfor "grep -q '\"pieces\": [1-9]' '$T/1.out'" 30
	mkdir "$T/lt2"
	/usr/bin/python3 "$HELPERS/lt_seed.py" "$T/s.torrent" "$T/lt2" --leech \
	    --connect "127.0.0.1:$lp" --seconds 90 >"$T/lt2.log" 2>&1 &
	echo $! >>"$T/pids"
	waitfor "grep -q done '$T/lt2.log'" 90 ||
	    { cat "$T/lt2.log" "$T/1.err"; tail -n 3 "$T/1.out"; false; }
	cmp "$D/single.bin" "$T/lt2/single.bin"
	# It got data from us before our own download was complete.
	jq -s -e 'map(select(.event == "progress" and .uploaded > 0 and
	    .percent < 100)) | length > 0' "$T/1.out"
	kill "$pid"
	wait "$pid" || true
}

@test "bittorrent: a 20000-peer tracker reply: processes and memory stay bounded" {
	mkdir "$T/ft"
	/usr/bin/python3 "$HELPERS/fake_tracker.py" http manydead "$T/ft" \
	    2>"$T/ft.err" &
	echo $! >>"$T/pids"
	waitfor "[ -s '$T/ft/port' ]" 10
	mkt "$D/single.bin" "http://127.0.0.1:$(cat "$T/ft/port")/announce" "$T/s.torrent"
	ltseed "$T/s.torrent" "$D" --rate 300000
	bittorrent "$T/s.torrent" -o "$T/out" --json --max-peers 8 --port 0 \
	    --spool "$T/sp" --peer "127.0.0.1:$LTPORT" >"$T/1.out" 2>"$T/1.err" &
	pid=$!
	echo "$pid" >>"$T/pids"
	# Sample its children and its memory while it runs.
	maxkids=0 maxrss=0
	while kill -0 "$pid" 2>/dev/null; do
		k=$(pgrep -c -P "$pid" || true)
		[ "$k" -gt "$maxkids" ] && maxkids=$k
		r=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status" 2>/dev/null || true)
		[ "${r:-0}" -gt "$maxrss" ] && maxrss=$r
		sleep 0.2
	done
	wait "$pid"
	cmp "$D/single.bin" "$T/out/single.bin"
	echo "children at most $maxkids, RSS at most $maxrss KiB"
	jq -s 'map(select(.event == "progress") | .queued) | max' "$T/1.out"
	# 8 peers, the listener, the uTP listener (btutp), the DHT node, the
	# assembler, the tracker feeder.
	[ "$maxkids" -le 13 ]
	[ "$maxrss" -lt 65536 ]
	[ "$(jq -s 'map(select(.event == "progress") | .queued) | max' "$T/1.out")" -le 500 ]
	# The tracker's peers did arrive (btannounce keeps 16384 of them).
	[ "$(grep -c '^from tracker peer 127\.' "$T/sp/run/events.log")" -eq 16384 ]
}
