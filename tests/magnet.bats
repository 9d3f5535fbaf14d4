#!/usr/bin/env bats
# Magnet links and the metadata exchange (BEP 9, BEP 10) against real
# peers on loopback: btpeer --metadata and bittorrent from libtorrent and
# aria2c seeders (x.pe= and opentracker tr=), btpeer --listen serving
# metadata and data to libtorrent, aria2c and transmission magnet leechers.

load helpers
bats_require_minimum_version 1.5.0

ARIA=(--enable-dht=false --enable-dht6=false --bt-enable-lpd=false
    --enable-peer-exchange=false --disable-ipv6=true --interface=127.0.0.1
    --console-log-level=warn --summary-interval=0 --file-allocation=none)

# A single-file torrent of 3000000 bytes (46 pieces of 64 KiB) announcing
# to ${1:-127.0.0.1:1}; sets IH, its info-hash.
single() {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" 3000000 magnet
	rm -f "$T/s.torrent"
	mktorrent -l 16 -a "http://${1:-127.0.0.1:1}/announce" \
	    -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	IH=$(btinfo "$T/s.torrent" | jq -r .info_hash)
}

# lt_seed TORRENT: a libtorrent seeder of $T/src; sets PORT.
lt_seed() {
	/usr/bin/python3 "$HELPERS/lt_peer.py" seed "$1" "$T/src" \
	    >"$T/lt.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q seeding '$T/lt.out'" 30
	PORT=$(awk '/^listening/ { print $2 }' "$T/lt.out")
}

# opentracker whitelisting $IH; sets OT.
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

# listen: btpeer --listen serving $T/src; sets LP.
listen() {
	btpeer -v --listen 127.0.0.1:0 -o "$T/src" "$T/s.torrent" \
	    >"$T/lis.out" 2>"$T/lis.err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q '^listening' '$T/lis.out'" 10
	LP=$(awk '/^listening/ { print $2 }' "$T/lis.out")
}

@test "btpeer --metadata: a .torrent from a libtorrent seeder, with the magnet's info-hash and trackers" {
	single
	lt_seed "$T/s.torrent"
	m="magnet:?xt=urn:btih:$IH&dn=x&tr=http%3A%2F%2F127.0.0.1%3A1%2Fa&tr=udp%3A%2F%2F127.0.0.1%3A2"
	run -0 timeout 30 btpeer --metadata "$m" "127.0.0.1:$PORT"
	btpeer --metadata "$m" "127.0.0.1:$PORT" >"$T/got.torrent"
	[ "$(btinfo "$T/got.torrent" | jq -r .info_hash)" = "$IH" ]
	[ "$(btinfo "$T/got.torrent" | jq -r '.files[0].length')" = 3000000 ]
	btinfo --lines "$T/got.torrent" | grep -q $'^tracker\t2\tudp://127.0.0.1:2$'
	# -v names the extended messages.
	timeout 30 btpeer -v --metadata "$m" "127.0.0.1:$PORT" 2>"$T/v.err" \
	    >/dev/null
	grep -q '< extended handshake v "libtorrent/' "$T/v.err"
	grep -q '> ut_metadata request 0' "$T/v.err"
	grep -q '< ut_metadata data 0' "$T/v.err"
	# A link of another torrent: the peer does not know it.
	run -1 timeout 30 btpeer --metadata \
	    "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567" \
	    "127.0.0.1:$PORT"
	[[ "$output" == "btpeer: "* ]]
	# A stdout that cannot be written is an error.
	run -1 bash -c 'btpeer --metadata "$1" "$2" >/dev/full' _ "$m" \
	    "127.0.0.1:$PORT"
	run -2 btpeer --metadata 'magnet:?xt=urn:btih:zz' "127.0.0.1:$PORT"
}

@test "bittorrent: a magnet link with x.pe= from a libtorrent seeder, resumed from the saved .torrent" {
	single
	lt_seed "$T/s.torrent"
	m="magnet:?xt=urn:btih:$IH&dn=data.bin&x.pe=127.0.0.1:$PORT"
	run timeout 120 bittorrent --port 0 -o "$T/out" "$m"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$T/src/data.bin" "$T/out/data.bin"
	[ "$(btinfo "$T/out/$IH.torrent" | jq -r .info_hash)" = "$IH" ]
	# The same command again: the saved metadata, nothing fetched.
	run timeout 60 bittorrent -v --port 0 -o "$T/out" "$m"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"metadata from $T/out/$IH.torrent"* ]]
	# --save-torrent chooses the file.
	run timeout 120 bittorrent --port 0 -o "$T/out2" \
	    --save-torrent "$T/x.torrent" "$m"
	[ "$status" -eq 0 ]
	[ "$(btinfo "$T/x.torrent" | jq -r .info_hash)" = "$IH" ]
	cmp "$T/src/data.bin" "$T/out2/data.bin"
}

@test "bittorrent: a base32 magnet link whose tr= (opentracker) lists an aria2c seeder" {
	single 127.0.0.1:1
	otstart
	single "127.0.0.1:$OT"
	ap=$(freeport)
	aria2c -q -d "$T/src" -V --seed-ratio=0.0 "${ARIA[@]}" \
	    --listen-port="$ap" --bt-external-ip=127.0.0.1 "$T/s.torrent" \
	    >"$T/aria.log" 2>&1 &
	echo $! >>"$T/pids"
	waitfor "btannounce --port 1 '$T/s.torrent' | grep -q ':$ap\$'" 30
	b32=$(/usr/bin/python3 -c 'import base64,sys; print(base64.b32encode(bytes.fromhex(sys.argv[1])).decode())' "$IH")
	m="magnet:?xt=urn:btih:$b32&tr=http%3A%2F%2F127.0.0.1%3A$OT%2Fannounce"
	run timeout 120 bittorrent --port 0 -o "$T/out" "$m"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$T/src/data.bin" "$T/out/data.bin"
	[ "$(btinfo "$T/out/$IH.torrent" | jq -r .info_hash)" = "$IH" ]
}

@test "btpeer --listen: a libtorrent magnet leecher gets the metadata and the data" {
	single
	listen
	mkdir "$T/lt"
	LT_TIMEOUT=60 run timeout 90 /usr/bin/python3 "$HELPERS/lt_magnet.py" \
	    "magnet:?xt=urn:btih:$IH" "$T/lt" "127.0.0.1:$LP"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"metadata $IH"* ]]
	cmp "$T/src/data.bin" "$T/lt/data.bin"
	grep -q '> ut_metadata data 0' "$T/lis.err"
}

@test "btpeer --listen: an aria2c magnet leecher finds it through opentracker; fast extension on" {
	single 127.0.0.1:1
	otstart
	single "127.0.0.1:$OT"
	listen
	# The tracker learns of the listener as a seeder.
	btannounce --port "$LP" --left 0 "$T/s.torrent" >/dev/null
	mkdir "$T/aria"
	run timeout 120 aria2c -d "$T/aria" --seed-time=0 "${ARIA[@]}" \
	    --listen-port="$(freeport)" \
	    "magnet:?xt=urn:btih:$IH&tr=http%3A%2F%2F127.0.0.1%3A$OT%2Fannounce"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$T/src/data.bin" "$T/aria/data.bin"
	grep -q '> ut_metadata data 0' "$T/lis.err"
	# The fast extension in play: have_all and our allowed fast set.
	grep -q '> have-all' "$T/lis.err"
	grep -q '> allowed-fast ' "$T/lis.err"
	# aria2c tries MSE first (those handshakes fail), then plain: no
	# connection of the plain protocol was dropped.
	! grep '^error' "$T/lis.out" | grep -v -q 'encrypted (MSE)'
}

@test "btpeer --serve: a transmission magnet leecher gets the metadata and the data" {
	single
	tp=$(freeport)
	mkdir -p "$T/trcfg" "$T/tr"
	cat >"$T/trcfg/settings.json" <<-JSON
	{"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
	 "utp-enabled": false, "port-forwarding-enabled": false,
	 "bind-address-ipv4": "127.0.0.1", "rpc-enabled": false,
	 "peer-port-random-on-start": false}
	JSON
	transmission-cli -g "$T/trcfg" -p "$tp" -w "$T/tr" \
	    "magnet:?xt=urn:btih:$IH" >"$T/tr.log" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "(: </dev/tcp/127.0.0.1/$tp)" 20
	# transmission ignores 127.x peers from elsewhere: we dial it. Once
	# it has the metadata it restarts the torrent and drops us: redial.
	# The connection is ours (outgoing), so we speak first: plain.
	# Bounded by time, not tries: under load its restart takes a while.
	SECONDS=0
	while [ "$SECONDS" -lt 90 ]; do
		timeout 30 socat "TCP:127.0.0.1:$tp" \
		    EXEC:"btpeer -v --serve --encryption off -o $T/src $T/s.torrent" \
		    2>>"$T/serve.err" || true
		cmp -s "$T/src/data.bin" "$T/tr/data.bin" && break
		sleep 0.5
	done
	grep -v '> piece\|< request\|> have' "$T/serve.err" | tail -n 20
	tail -c 300 "$T/tr.log"
	cmp "$T/src/data.bin" "$T/tr/data.bin"
	grep -q '> ut_metadata data 0' "$T/serve.err"
}
