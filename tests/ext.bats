#!/usr/bin/env bats
# Peer exchange (BEP 11) and the fast extension (BEP 6) against real
# peers on loopback: a libtorrent "hub" that has almost nothing and knows
# a libtorrent seeder; aria2c seeding and leeching with allowed_fast.

load helpers
bats_require_minimum_version 1.5.0

ARIA=(--enable-dht=false --enable-dht6=false --bt-enable-lpd=false
    --enable-peer-exchange=false --disable-ipv6=true --interface=127.0.0.1
    --console-log-level=warn --summary-interval=0 --file-allocation=none)

# A torrent of 3000000 bytes (46 pieces of 64 KiB); -p: private.
single() {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" 3000000 ext
	rm -f "$T/s.torrent"
	mktorrent "$@" -l 16 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
}

# lt_seed: a libtorrent seeder of $T/src (env passed on); sets SEED.
lt_seed() {
	/usr/bin/python3 "$HELPERS/lt_peer.py" seed "$T/s.torrent" "$T/src" \
	    >"$T/seed.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q seeding '$T/seed.out'" 30
	SEED=$(awk '/^listening/ { print $2 }' "$T/seed.out")
}

# lt_hub [PEER...]: a libtorrent peer with almost nothing, PEX on,
# connected to the given peers; sets HUB.
lt_hub() {
	mkdir -p "$T/hub"
	/usr/bin/python3 "$HELPERS/lt_hub.py" "$T/s.torrent" "$T/hub" "$@" \
	    >"$T/hub.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q '^listening' '$T/hub.out'" 30
	HUB=$(awk '/^listening/ { print $2 }' "$T/hub.out")
}

@test "btpeer: a peer learned by PEX from libtorrent is an event line" {
	single
	lt_seed
	lt_hub "127.0.0.1:$SEED"
	# libtorrent sends ut_pex 0.6-2 s after the handshake; the hub has
	# nothing for us, so btpeer stays until its --timeout.
	run timeout 30 btpeer -v --timeout 8 --spool "$T/sp" "$T/s.torrent" \
	    "127.0.0.1:$HUB"
	echo "$output"
	grep -q "^peer 127.0.0.1:$SEED pex seed" <<<"$output"
	grep -q '< ut_pex (' <<<"$output"
	grep -q '< extended handshake v "libtorrent/2' <<<"$output"
}

@test "bittorrent: given only a libtorrent hub, downloads from the seeder it names by PEX" {
	single -a http://127.0.0.1:1/announce
	lt_seed
	lt_hub "127.0.0.1:$SEED"
	run timeout 120 bittorrent -v --port 0 -o "$T/out" \
	    --peer "127.0.0.1:$HUB" "$T/s.torrent"
	[ "$status" -eq 0 ]
	cmp "$T/src/data.bin" "$T/out/data.bin"
	grep -q "peer 127.0.0.1:$SEED: started" <<<"$output"
}

@test "btpeer --pex: a libtorrent peer connects to the peer we name (source pex)" {
	single
	LT_NOPLUGINS=1 lt_seed
	lt_hub
	echo "127.0.0.1:$HUB" >"$T/pex.peers"	# itself: left out
	echo "127.0.0.1:$SEED" >>"$T/pex.peers"
	btpeer -v --timeout 30 --pex "$T/pex.peers" --spool "$T/sp" \
	    "$T/s.torrent" "127.0.0.1:$HUB" >"$T/bp.out" 2>"$T/bp.err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q '^pex 127.0.0.1:$SEED$' '$T/hub.out'" 30
	grep -q "ut_pex: telling about 127.0.0.1:$SEED" "$T/bp.err"
	! grep -q "ut_pex: telling about 127.0.0.1:$HUB" "$T/bp.err"
}

@test "bittorrent: its PEX messages name its other peers to libtorrent (source pex)" {
	single -a http://127.0.0.1:1/announce
	# A seeder without PEX of its own, slow enough to last a while.
	LT_NOPLUGINS=1 LT_RATE=300000 lt_seed
	# A libtorrent peer with nothing: it learns the seeder only from us.
	# Uncapped: a libtorrent at its download cap connects to nobody new.
	LT_RATE=0 lt_hub
	run timeout 120 bittorrent --port 0 -o "$T/out" \
	    --peer "127.0.0.1:$HUB" --peer "127.0.0.1:$SEED" "$T/s.torrent"
	[ "$status" -eq 0 ]
	cmp "$T/src/data.bin" "$T/out/data.bin"
	waitfor "grep -q '^pex 127.0.0.1:$SEED$' '$T/hub.out'" 10
}

@test "btpeer: a private torrent: no ut_pex either way" {
	single -p
	lt_seed
	lt_hub "127.0.0.1:$SEED"
	echo "127.0.0.1:1" >"$T/pex.peers"
	run timeout 30 btpeer -v --timeout 5 --pex "$T/pex.peers" \
	    --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$HUB"
	echo "$output"
	grep -q '> extended handshake (1 extensions)' <<<"$output"
	! grep -q 'ut_pex' <<<"$output"
	! grep -q '^peer ' <<<"$output"
}

@test "btpeer: the fast extension with libtorrent: have_all, allowed_fast, have_none" {
	single
	lt_seed
	run -0 timeout 60 btpeer -v --spool "$T/sp" "$T/s.torrent" \
	    "127.0.0.1:$SEED"
	grep -q '< have-all' <<<"$output"
	grep -q '^have-all$' <<<"$output"
	grep -q '< allowed-fast ' <<<"$output"
	[ "$(grep -c '> have[-_]none' <<<"$output")" -eq 1 ]	# traced once
	[ "${lines[-1]}" = done ]
}

@test "btpeer: the fast extension with aria2c: allowed_fast in play, no dropped connection" {
	single -a http://127.0.0.1:1/announce
	ap=$(freeport)
	timeout 120 aria2c -V --seed-ratio=0 --seed-time=10 -d "$T/src" \
	    --listen-port="$ap" "${ARIA[@]}" "$T/s.torrent" >"$T/aria.out" \
	    2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "ss -Htln 'sport = :$ap' | grep -q LISTEN" 30
	# Downloading from aria2c: its allowed_fast and bitfield re-sends.
	run -0 timeout 60 btpeer -v --spool "$T/sp" "$T/s.torrent" \
	    "127.0.0.1:$ap"
	grep -q '< allowed-fast ' <<<"$output"
	! grep -q '^error' <<<"$output"
	[ "${lines[-1]}" = done ]
	# Serving aria2c is in magnet.bats (aria2c takes peers only from a
	# tracker): have_all and our allowed fast set there.
}
