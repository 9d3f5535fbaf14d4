#!/usr/bin/env bats
# btannounce: against Debian's opentracker over HTTP and UDP, and against
# tests/helpers/fake_tracker.py for every bad reply class. Loopback only:
# 127.0.0.1, ::1 when the kernel has it.

load helpers

BENC="/usr/bin/python3 $HELPERS/benc.py"

setup_file() {
	D=$(mktemp -d "${BATS_TMPDIR:-/tmp}/btannounce.XXXXXX")
	export D
	mkpayload "$D/data.bin" 300000 ann
	mktorrent -a http://127.0.0.1:1/announce -o "$D/x.torrent" \
	    "$D/data.bin" >/dev/null
	IH=$(/usr/bin/python3 -c 'import libtorrent as lt, sys
print(lt.torrent_info(sys.argv[1]).info_hash())' "$D/x.torrent")
	export IH
}

teardown_file() {
	rm -rf "$D"
}

# fake PROTO MODE [ADDR]: starts the fake tracker; sets FPORT and FDIR.
fake() {
	FDIR=$T/fake.$1.$2.${3:-4}
	mkdir -p "$FDIR"
	echo "$IH" >"$FDIR/infohash"
	/usr/bin/python3 "$HELPERS/fake_tracker.py" "$1" "$2" "$FDIR" \
	    "${3:-127.0.0.1}" 2>"$FDIR/stderr" &
	echo $! >>"$T/pids"
	waitfor "[ -s '$FDIR/port' ]" 10
	FPORT=$(cat "$FDIR/port")
}

# opentracker on 127.0.0.1, TCP and UDP on one port; sets OT.
#
# Debian's build is whitelist-only: an info-hash that is not in the list
# gets "Requested download is not authorized for use with this tracker."
# With the hash listed, it returns every peer that announced from
# 127.0.0.1, the asking one included, as 127.0.0.1 peers: nothing else is
# needed for loopback (no "ip=" parameter, no -A). It does not answer
# compact=0, so dictionary lists are tested with the fake tracker only.
# Debian's build is IPv4 only ("V4 Tracker is V4 only!" for -i ::1): the
# IPv6 tests use the fake tracker.
otstart() {
	OT=$(freeport)
	mkdir -p "$T/ot"
	chmod 755 "$T" "$T/ot"
	echo "$IH" >"$T/ot/whitelist.txt"
	opentracker -i 127.0.0.1 -p "$OT" -P "$OT" -d "$T/ot" -u nobody \
	    -w whitelist.txt >"$T/ot.log" 2>&1 &
	echo $! >>"$T/pids"
	waitfor "(: </dev/tcp/127.0.0.1/$OT)" 10
}

@test "btannounce: opentracker over HTTP: two peer ids see each other, not themselves" {
	otstart
	run timeout 20 btannounce -t "http://127.0.0.1:$OT/announce" \
	    --port 7001 --event started x.torrent
	[ "$status" -eq 2 ]	# no such file: bad input
	run timeout 20 btannounce -t "http://127.0.0.1:$OT/announce" \
	    --port 7001 --event started "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	# The tracker hands us back to ourselves: left out.
	[ "$output" = "" ]
	run timeout 20 btannounce -t "http://127.0.0.1:$OT/announce" \
	    --port 7002 --event started "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 127.0.0.1:7001 ]
	# The whole answer, and the shell loop the man page shows.
	run timeout 20 btannounce -j -t "http://127.0.0.1:$OT/announce" \
	    --port 7002 "$D/x.torrent"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .info_hash)" = "$IH" ]
	[ "$(echo "$output" | jq '.trackers[0].incomplete')" -eq 2 ]
	[ "$(echo "$output" | jq '.trackers[0].interval')" -ge 60 ]
	[ "$(echo "$output" | jq -r '.peers | join(" ")')" = "127.0.0.1:7001" ]
	# The tracker's own list, in .trackers, is as it sent it.
	[ "$(echo "$output" | jq '.trackers[0].peers | length')" -eq 2 ]
	n=0
	while read -r p; do
		[ "${p%:*}" = 127.0.0.1 ]
		n=$((n + 1))
	done < <(timeout 20 btannounce -t "http://127.0.0.1:$OT/announce" "$D/x.torrent")
	[ "$n" -eq 2 ]	# 7001, 7002; not this one on 6881
	# Stopped: the peer leaves the swarm.
	run timeout 20 btannounce -t "http://127.0.0.1:$OT/announce" \
	    --port 7001 --event stopped --left 0 "$D/x.torrent"
	[ "$status" -eq 0 ]
	run timeout 20 btannounce -t "http://127.0.0.1:$OT/announce" \
	    --port 7002 "$D/x.torrent"
	[ "$output" = 127.0.0.1:6881 ]
}

@test "btannounce: opentracker over UDP: announce, peers, scrape" {
	otstart
	run timeout 20 btannounce -t "udp://127.0.0.1:$OT" --port 7101 \
	    --peer-id -XX0001-aaaaaaaaaaaa "$D/x.torrent"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	run timeout 20 btannounce -t "udp://127.0.0.1:$OT/announce" \
	    --port 7102 --peer-id 2d5858303030312d626262626262626262626262 \
	    "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 127.0.0.1:7101 ]
	# The HTTP side of the same tracker sees the UDP peers.
	run timeout 20 btannounce -t "http://127.0.0.1:$OT/announce" \
	    --port 7101 --peer-id -XX0001-aaaaaaaaaaaa "$D/x.torrent"
	[ "$output" = 127.0.0.1:7102 ]
	run timeout 20 btannounce -s -t "udp://127.0.0.1:$OT" \
	    -t "http://127.0.0.1:$OT/announce" -a "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '0\t2\t0\tudp://127.0.0.1:%s\n0\t2\t0\thttp://127.0.0.1:%s/announce' "$OT" "$OT")" ]
}

@test "btannounce: opentracker refuses a torrent not in its whitelist" {
	otstart
	mkpayload "$T/other" 1000 other
	mktorrent -a "http://127.0.0.1:$OT/announce" -o "$T/o.torrent" \
	    "$T/other" >/dev/null
	run timeout 20 btannounce "$T/o.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"tracker failure: Requested download is not authorized"* ]]
	run timeout 20 btannounce -t "udp://127.0.0.1:$OT" "$T/o.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	# Over UDP it answers a bare 8-byte header, not an error action.
	[[ "$output" == *"udp://127.0.0.1:$OT: announce reply is 8 bytes, needs 20" ]]
}

@test "btannounce: the announce URL: encoding and parameters" {
	fake http ok
	run timeout 20 btannounce -t "http://127.0.0.1:$FPORT/announce?passkey=k" \
	    --peer-id 00ff2d41422e5f7e20253f260102030405060708 --port 51413 \
	    --uploaded 5 --downloaded 6 --numwant 7 --key 0badcafe \
	    --event completed "$D/x.torrent"
	[ "$status" -eq 0 ]
	want=$(/usr/bin/python3 -c 'import sys, urllib.parse as u
print(u.quote(bytes.fromhex(sys.argv[1]), safe=""))' "$IH")
	line=$(cat "$FDIR/log")
	echo "$line"
	[[ "$line" == "GET /announce?passkey=k&info_hash=$want&"* ]]
	[[ "$line" == *"&peer_id=%00%FF-AB._~%20%25%3F%26%01%02%03%04%05%06%07%08&"* ]]
	[[ "$line" == *"&port=51413&uploaded=5&downloaded=6&left=300000&compact=1&event=completed&numwant=7&key=0badcafe" ]]
	# The default peer id is BEP 20 style and fresh each run.
	timeout 20 btannounce -t "http://127.0.0.1:$FPORT/a" "$D/x.torrent"
	timeout 20 btannounce -t "http://127.0.0.1:$FPORT/a" "$D/x.torrent"
	ids=$(grep -o 'peer_id=[^&]*' "$FDIR/log" | tail -2)
	[[ "$ids" == "peer_id=-BT0100-"*$'\n'"peer_id=-BT0100-"* ]]
	[ "$(echo "$ids" | sort -u | wc -l)" -eq 2 ]
}

@test "btannounce: compact, peers6 and dictionary peer lists" {
	fake http ok
	run timeout 20 btannounce -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '127.0.0.2:6881\n127.0.0.3:6882\n[::1]:6883')" ]
	run timeout 20 btannounce -j -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	echo "$output" | jq -e '.trackers[0] | .complete == 1 and .incomplete == 2 and
	    .interval == 1800 and ."min interval" == 900 and
	    ."tracker id" == {"$hex": "746964 00ff" | gsub(" "; "")} and
	    .peers[2] == {"ip": "::1", "port": 6883}'
	fake http dict
	run sh -c "timeout 20 btannounce -t http://127.0.0.1:$FPORT/announce '$D/x.torrent' 2>'$T/err'"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '127.0.0.4:7000\n[::1]:7001')" ]
	# Host names, entries without a port and non-dictionaries are dropped.
	[ "$(cat "$T/err")" = "btannounce: http://127.0.0.1:$FPORT/announce: 3 peers dropped (over 16384, or unusable)" ]
	run sh -c "timeout 20 btannounce -j -t http://127.0.0.1:$FPORT/announce '$D/x.torrent' 2>/dev/null"
	echo "$output" | jq -e '.trackers[0].peers[0]."peer id" == "AAAAAAAAAAAAAAAAAAAA"'
	# A tracker that knows no peer: exit 0, empty output.
	fake http empty-peers
	run timeout 20 btannounce -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "btannounce: failure reason: exit 1, escaped and clamped" {
	fake http failure
	run timeout 20 btannounce -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *'tracker failure: go \x1b[31maway\x1b]0;pwned\x07 xxx'*'x...' ]]
	! printf '%s' "$output" | grep -q $'\x1b'
	# 200 bytes of the reason at most.
	[ "$(printf '%s' "$output" | grep -o 'x*\.\.\.$' | wc -c)" -lt 200 ]
}

@test "btannounce: warning message: printed escaped, peers still given" {
	fake http warning
	run timeout 20 btannounce -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'warning: beware\x1b[2J\x9b\xff'* ]]
	[[ "$output" == *"127.0.0.2:6881"* ]]
	! printf '%s' "$output" | grep -q $'\x1b'
	run sh -c "btannounce -j -t http://127.0.0.1:$FPORT/announce '$D/x.torrent' 2>/dev/null"
	echo "$output" | jq -e '.trackers[0]."warning message" == {"$hex": "6265776172651b5b324a9bff"}'
}

@test "btannounce: HTML pages, non-bencode and wrong shapes: exit 1" {
	for m in html:'reply is not bencode' \
	    html404:'HTTP status 404' \
	    notdict:'reply is not bencode (not a dictionary)' \
	    truncated:'truncated compact peer list: 7 bytes is not a multiple of 6' \
	    truncated6:'truncated compact peers6 list: 20 bytes is not a multiple of 18'; do
		fake http "${m%%:*}"
		run timeout 20 btannounce -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
		echo "$m: $output"
		[ "$status" -eq 1 ]
		[ "$output" = "btannounce: http://127.0.0.1:$FPORT/announce: ${m#*:}" ] ||
		    [[ "$output" == "btannounce: http://127.0.0.1:$FPORT/announce: ${m#*:}"* ]]
	done
	fake http html
	run timeout 20 btannounce -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	[[ "$output" == *'reply is not bencode (unexpected character at offset 0): "<html><body>Tracker offline</body></html..."' ]]
}

@test "btannounce: absurd peer counts and intervals are clamped" {
	fake http manypeers
	run sh -c "timeout 20 btannounce --port 1 -t http://127.0.0.1:$FPORT/announce '$D/x.torrent' 2>'$T/err' | wc -l"
	[ "$output" -eq 16384 ]
	grep -q 'announce: 3616 peers dropped (over 16384' "$T/err"
	fake http interval
	run timeout 20 btannounce -j -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.trackers[0] | .interval == 86400 and ."min interval" == 60'
	run timeout 20 btannounce -v -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	[[ "$output" == *"interval clamped into [60, 86400] s"* ]]
}

@test "btannounce: huge bodies and gzip bombs are cut at 1 MiB" {
	for m in huge gzipbomb; do
		fake http $m
		run timeout 20 btannounce -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
		echo "$m: $output"
		[ "$status" -eq 1 ]
		[ "$output" = "btannounce: http://127.0.0.1:$FPORT/announce: reply larger than 1048576 bytes (after decoding)" ]
	done
}

@test "btannounce: redirects: followed, bounded, http(s) only" {
	fake http redirect
	run timeout 20 btannounce -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	[ "$status" -eq 0 ]
	[[ "$output" == "127.0.0.2:6881"* ]]
	fake http redirect-loop
	run timeout 20 btannounce -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *": more than 5 redirects" ]]
	[ "$(wc -l <"$FDIR/log")" -eq 6 ]
	fake http redirect-ftp
	run timeout 20 btannounce -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *": redirected to a scheme other than http or https" ]]
}

@test "btannounce: slow and unreachable trackers, DNS failure: exit 1 in time" {
	fake http slow
	SECONDS=0
	run timeout 20 btannounce --timeout 1 -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"announce: no reply within 1 s" ]]
	fake udp silent
	run timeout 20 btannounce --timeout 1.5 -t "udp://127.0.0.1:$FPORT" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *": no reply within 1.5 s (1 datagram sent)" ]]
	[ "$SECONDS" -le 6 ]
	p=$(freeport)
	run timeout 20 btannounce -t "http://127.0.0.1:$p/announce" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Failed to connect to 127.0.0.1 port $p"* ]]
	run timeout 20 btannounce -t "udp://127.0.0.1:$p" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *": connection refused (nothing listens on that port)" ]]
	# A 64-byte label is refused by the resolver itself: no DNS query
	# leaves the machine.
	h=$(printf 'a%.0s' $(seq 64)).invalid
	run timeout 20 btannounce -t "http://$h/announce" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *": Could not resolve host: $h" ]]
	run timeout 20 btannounce -t "udp://$h:80" "$D/x.torrent"
	[ "$status" -eq 1 ]
	[[ "$output" == *": cannot resolve $h: "* ]]
	[ "$SECONDS" -le 10 ]
}

@test "btannounce: UDP: peers, scrape, connection id reused" {
	fake udp ok
	run timeout 20 btannounce -t "udp://127.0.0.1:$FPORT" "$D/x.torrent"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '127.0.0.2:6881\n127.0.0.3:6882')" ]
	# Two trackers on one address: one connect serves both.
	: >"$FDIR/log"
	run timeout 20 btannounce -a -j -t "udp://127.0.0.1:$FPORT" \
	    -t "udp://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$FDIR/log" | tr '\n' ' ')" = "connect announce announce " ]
	echo "$output" | jq -e '.trackers | length == 2 and all(.ok) and .[0].complete == 1 and .[0].incomplete == 2'
	run timeout 20 btannounce -s -t "udp://127.0.0.1:$FPORT" "$D/x.torrent"
	[ "$output" = "$(printf '5\t7\t11\tudp://127.0.0.1:%s' "$FPORT")" ]
}

@test "btannounce: UDP: a lost datagram is sent again after 15 s (BEP 15)" {
	fake udp drop-first
	SECONDS=0
	run timeout 40 btannounce --timeout 17 -t "udp://127.0.0.1:$FPORT" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '127.0.0.2:6881\n127.0.0.3:6882')" ]
	[ "$(cat "$FDIR/log" | tr '\n' ' ')" = "connect connect announce " ]
	[ "$SECONDS" -ge 14 ] && [ "$SECONDS" -le 18 ]
}

@test "btannounce: UDP: wrong transaction ids, errors, short and truncated replies" {
	fake udp wrongtid
	run timeout 20 btannounce --timeout 1 -t "udp://127.0.0.1:$FPORT" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *": no reply within 1 s (1 datagram sent); ignored: reply with a wrong transaction id "* ]]
	fake udp error
	run timeout 20 btannounce -t "udp://127.0.0.1:$FPORT" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *': tracker failure: go away\x1b[0m' ]]
	fake udp connect-error
	run timeout 20 btannounce -s -t "udp://127.0.0.1:$FPORT" "$D/x.torrent"
	[ "$status" -eq 1 ]
	[[ "$output" == *': tracker failure: banned\x1b[0m' ]]
	fake udp truncated
	run timeout 20 btannounce -t "udp://127.0.0.1:$FPORT" "$D/x.torrent"
	[ "$status" -eq 1 ]
	[[ "$output" == *": truncated UDP peer list: 7 bytes is not a multiple of 6" ]]
	fake udp short
	run timeout 20 btannounce -t "udp://127.0.0.1:$FPORT" "$D/x.torrent"
	[ "$status" -eq 1 ]
	[[ "$output" == *": announce reply is 12 bytes, needs 20" ]]
	fake udp interval
	run timeout 20 btannounce -j -t "udp://127.0.0.1:$FPORT" "$D/x.torrent"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.trackers[0].interval == 86400'
}

@test "btannounce: IPv6 on ::1 over HTTP and UDP" {
	/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null ||
	    skip "no ::1 here"
	fake udp ok ::1
	run timeout 20 btannounce --port 1 -t "udp://[::1]:$FPORT" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '[::1]:6881\n[::2]:6882')" ]
	# With our port, [::1]:6881 is ourselves.
	run timeout 20 btannounce -t "udp://[::1]:$FPORT" "$D/x.torrent"
	[ "$output" = "[::2]:6882" ]
	fake http ok ::1
	run timeout 20 btannounce -t "http://[::1]:$FPORT/announce" "$D/x.torrent"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '127.0.0.2:6881\n127.0.0.3:6882\n[::1]:6883')" ]
}

@test "btannounce: HTTPS: certificates are verified" {
	mkdir -p "$T/fake.https.ok.4"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -subj /CN=127.0.0.1 -days 1 -keyout "$T/fake.https.ok.4/key.pem" \
	    -out "$T/fake.https.ok.4/cert.pem" 2>/dev/null
	fake https ok
	run timeout 20 btannounce -t "https://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"/announce: SSL certificate problem: self"*"signed certificate"* ]]
}

@test "btannounce: BEP 12 tiers: order, fallback, promotion, --all" {
	dead=$(freeport)
	fake http ok
	a=$FPORT
	A=$FDIR
	fake http redirect
	b=$FPORT
	B=$FDIR
	# Tier 1 is dead; tier 2 answers.
	mktorrent -a "http://127.0.0.1:$dead/announce" \
	    -a "http://127.0.0.1:$a/announce" -o "$T/t.torrent" "$D/data.bin" >/dev/null
	run timeout 20 btannounce "$T/t.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '127.0.0.2:6881\n127.0.0.3:6882\n[::1]:6883')" ]
	run timeout 20 btannounce -v "$T/t.torrent"
	[[ "$output" == *"btannounce: http://127.0.0.1:$dead/announce: Failed to connect"* ]]
	# The first tier that answers ends the walk; --all asks everyone.
	mktorrent -a "http://127.0.0.1:$a/announce" \
	    -a "http://127.0.0.1:$b/announce" -o "$T/u.torrent" "$D/data.bin" >/dev/null
	: >"$A/log"
	: >"$B/log"
	run timeout 20 btannounce "$T/u.torrent"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$A/log")" -eq 1 ]
	[ "$(wc -l <"$B/log")" -eq 0 ]
	run timeout 20 btannounce -a -j "$T/u.torrent"
	[ "$(wc -l <"$A/log")" -eq 2 ]
	[ "$(wc -l <"$B/log")" -eq 2 ]	# a redirect and its target
	echo "$output" | jq -e '.trackers | length == 2 and all(.ok)'
	# Tiers are numbered from 1, as btinfo -s and --lines number them.
	[ "$(echo "$output" | jq -c '[.trackers[].tier]')" = '[1,2]' ]
	btinfo -s "$T/u.torrent" | grep -q "tier 2: http://127.0.0.1:$b/announce"
	# One tier of a dead and a live tracker: whatever the shuffle, the
	# live one is asked and moved to the front.
	mktorrent -a "http://127.0.0.1:$dead/announce,http://127.0.0.1:$a/announce" \
	    -o "$T/v.torrent" "$D/data.bin" >/dev/null
	for i in 1 2 3 4; do
		run timeout 20 btannounce -j "$T/v.torrent"
		[ "$status" -eq 0 ]
		echo "$output" | jq -e --arg u "http://127.0.0.1:$a/announce" '.tiers[0][0] == $u and (.tiers[0] | length) == 2 and .trackers[-1].url == $u'
	done
	# Every tracker failed: each says why, exit 1.
	mktorrent -a "http://127.0.0.1:$dead/announce" -a "udp://127.0.0.1:$dead" \
	    -o "$T/w.torrent" "$D/data.bin" >/dev/null
	run timeout 20 btannounce "$T/w.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | grep -c '^btannounce: ')" -eq 3 ]
	[[ "$output" == *"none of 2 trackers answered" ]]
}

@test "btannounce: scrape over HTTP (BEP 48)" {
	fake http scrape
	run timeout 20 btannounce -s -t "http://127.0.0.1:$FPORT/announce.php?k=1" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '5\t7\t11\thttp://127.0.0.1:%s/announce.php?k=1' "$FPORT")" ]
	grep -q "^GET /scrape.php?k=1&info_hash=" "$FDIR/log"
	run timeout 20 btannounce -s -t "http://127.0.0.1:$FPORT/tracker" "$D/x.torrent"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no scrape URL"* ]]
}

@test "btannounce: private torrents: the torrent's trackers, or -t" {
	fake http ok
	mktorrent -p -a "http://127.0.0.1:$FPORT/announce" -o "$T/p.torrent" \
	    "$D/data.bin" >/dev/null
	run timeout 20 btannounce -j "$T/p.torrent"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e --arg u "http://127.0.0.1:$FPORT/announce" '[.trackers[].url] == [$u]'
	run timeout 20 btannounce -t "http://127.0.0.1:$FPORT/other" "$T/p.torrent"
	[ "$status" -eq 0 ]
	tail -1 "$FDIR/log" | grep -q '^GET /other?'
}

@test "btannounce: bad input and usage: exit 2; output errors: exit 1" {
	run btannounce
	[ "$status" -eq 2 ]
	run btannounce --event bogus "$D/x.torrent"
	[ "$status" -eq 2 ]
	[[ "$output" == "btannounce: bad --event 'bogus': "* ]]
	run btannounce --peer-id short "$D/x.torrent"
	[ "$status" -eq 2 ]
	run btannounce --port 65536 "$D/x.torrent"
	[ "$status" -eq 2 ]
	run btannounce --timeout 0 "$D/x.torrent"
	[ "$status" -eq 2 ]
	run btannounce --key xyz "$D/x.torrent"
	[ "$status" -eq 2 ]
	run btannounce -t ftp://127.0.0.1/ "$D/x.torrent"
	[ "$status" -eq 2 ]
	[[ "$output" == "btannounce: bad -t 'ftp://127.0.0.1/': want an http, https or udp URL"* ]]
	printf 'not a torrent' >"$T/bad.torrent"
	run btannounce "$T/bad.torrent"
	[ "$status" -eq 2 ]
	[[ "$output" == "btannounce: $T/bad.torrent: "* ]]
	$BENC '{"info": {"name": "x", "piece length": 16384, "length": 1, "pieces": sha1(b"\0")}}' >"$T/none.torrent"
	run btannounce "$T/none.torrent"
	[ "$status" -eq 2 ]
	[[ "$output" == *"the torrent names no tracker (give one with -t)" ]]
	# The torrent's own unsupported schemes are the world's problem.
	$BENC '{"announce": "wss://127.0.0.1/x", "info": {"name": "x", "piece length": 16384, "length": 1, "pieces": sha1(b"\0")}}' >"$T/wss.torrent"
	run btannounce "$T/wss.torrent"
	[ "$status" -eq 1 ]
	[[ "$output" == *"wss://127.0.0.1/x: unsupported tracker URL scheme" ]]
	fake http ok
	run sh -c "btannounce -t http://127.0.0.1:$FPORT/announce '$D/x.torrent' >/dev/full"
	[ "$status" -eq 1 ]
	[[ "$output" == "btannounce: writing output failed: "* ]]
	run btannounce --version
	[ "$status" -eq 0 ]
	[[ "$output" == "btannounce "[0-9]* ]]
}

@test "btannounce: --lines: interval and peers, one keyword a line" {
	fake http ok
	run timeout 20 btannounce --lines --port 1 -t "http://127.0.0.1:$FPORT/announce" "$D/x.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'interval 1800\npeer 127.0.0.2:6881\npeer 127.0.0.3:6882\npeer [::1]:6883')" ]
	# The reading loop the man page shows.
	while read -r k v; do
		case $k in
		interval) iv=$v ;;
		peer) n=$((${n:-0} + 1)) ;;
		esac
	done <<<"$output"
	[ "$iv" -eq 1800 ] && [ "$n" -eq 3 ]
	# Our own address is left out here too: 127.0.0.1:PORT is us.
	fake http manypeers
	run sh -c "timeout 20 btannounce -l -t http://127.0.0.1:$FPORT/announce '$D/x.torrent' 2>/dev/null"
	[ "$(echo "$output" | grep -c '^peer ')" -eq 16383 ]
	! echo "$output" | grep -qx 'peer 127.0.0.1:6881'
}

@test "btannounce: a magnet link announces to its tr= trackers" {
	otstart
	m="magnet:?xt=urn:btih:$IH&dn=x&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce&tr=http%3A%2F%2F127.0.0.1%3A$OT%2Fannounce"
	run timeout 20 btannounce --port 7301 --event started "$m"
	echo "$output"
	[ "$status" -eq 0 ]
	run timeout 20 btannounce --port 7302 -j "$m"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.peers | join(" ")')" = 127.0.0.1:7301 ]
	[ "$(echo "$output" | jq -r .info_hash)" = "$IH" ]
	# A magnet's announces do not claim to be a seeder: left is not 0.
	run timeout 20 btannounce -s -t "http://127.0.0.1:$OT/announce" "$D/x.torrent"
	[ "$output" = "$(printf '0\t2\t0\thttp://127.0.0.1:%s/announce' "$OT")" ]
	run timeout 20 btannounce 'magnet:?xt=urn:btih:'"$IH"
	[ "$status" -eq 2 ]
	[ "$output" = "btannounce: magnet URI: the link names no tracker (give one with -t)" ]
	run timeout 20 btannounce 'magnet:?xt=urn:btih:zz'
	[ "$status" -eq 2 ]
	[[ "$output" == "btannounce: bad magnet URI: "* ]]
}
