#!/usr/bin/env bats
# btverify: data written by real clients (aria2c downloading from a
# libtorrent seeder on loopback; torrents from mktorrent, libtorrent and
# transmission-create), verdicts cross-checked piece by piece against
# python3-libtorrent's own recheck.

load helpers
load helpers/spool

# A mktorrent v1 torrent of the multi-file payload, 32 KiB pieces:
# a.bin 0-300000, c.bin -370000, empty, sub/b.bin -870001; 27 pieces.
multi() {
	mkmulti "$T/src"
	mktorrent -l 15 -o "$T/m.torrent" "$T/src/multi" >/dev/null
}

@test "btverify: aria2c's download from a libtorrent seeder is complete, as libtorrent says" {
	multi
	port=$(freeport)
	timeout 40 aria2c --enable-dht=false --enable-dht6=false \
	    --bt-enable-lpd=false --enable-peer-exchange=false \
	    --disable-ipv6=true --interface=127.0.0.1 --listen-port="$port" \
	    --seed-time=0 --bt-stop-timeout=30 --summary-interval=0 \
	    --console-log-level=warn --show-console-readout=false \
	    -d "$T/dl" "$T/m.torrent" >"$T/aria.log" 2>&1 &
	aria=$!
	echo "$aria" >>"$T/pids"
	waitfor "ss -ltn | grep -q 127.0.0.1:$port" 10
	timeout 40 /usr/bin/python3 "$HELPERS/lt_seed.py" "$T/m.torrent" \
	    "$T/src" --connect "127.0.0.1:$port" --seconds 35 >/dev/null 2>&1 &
	echo $! >>"$T/pids"
	wait "$aria" || { cat "$T/aria.log"; false; }
	run btverify --json "$T/m.torrent" "$T/dl"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c '[.complete, .good, .bad, .missing]')" = '[true,27,0,0]' ]
	[ "$(echo "$output" | jq -r '[.files[].status] | unique | join(",")')" = complete ]
	[ "$(btverify --bitfield "$T/m.torrent" "$T/dl")" = "$(ltcheck "$T/m.torrent" "$T/dl")" ]
	[ "$(btverify --bitfield "$T/m.torrent" "$T/dl")" = ffffffe0 ]
}

@test "btverify: transmission-cli's download is complete but for the 0-byte file it never creates" {
	multi
	port=$(freeport)
	mkdir -p "$T/tdl" "$T/home/cfg"
	# Loopback only, no DHT, LPD, PEX, uTP or port mapping.
	cat >"$T/home/cfg/settings.json" <<-'JSON'
	{"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false,
	 "utp-enabled": false, "port-forwarding-enabled": false,
	 "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
	 "rpc-enabled": false}
	JSON
	HOME=$T/home timeout 60 transmission-cli -p "$port" -w "$T/tdl" \
	    -g "$T/home/cfg" "$T/m.torrent" >"$T/tr.log" 2>&1 &
	echo $! >>"$T/pids"
	waitfor "ss -ltn | grep -q ':$port '" 10
	timeout 60 /usr/bin/python3 "$HELPERS/lt_seed.py" "$T/m.torrent" \
	    "$T/src" --connect "127.0.0.1:$port" --seconds 50 >/dev/null 2>&1 &
	echo $! >>"$T/pids"
	waitfor "[ \"\$(btverify --json '$T/m.torrent' '$T/tdl' | jq .good)\" = 27 ]" 45
	run btverify --json "$T/m.torrent" "$T/tdl"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq -c '[.good, .bad, .missing]')" = '[27,0,0]' ]
	[ "$(echo "$output" | jq -c '[.files[] | select(.status != "complete") | [.path_string, .status]]')" = '[["multi/empty","missing"]]' ]
	[ "$(btverify --bitfield "$T/m.torrent" "$T/tdl")" = "$(ltcheck "$T/m.torrent" "$T/tdl")" ]
}

@test "btverify: one flipped byte makes exactly its piece bad (and its files), as libtorrent says" {
	multi
	flip "$T/src/multi/sub/b.bin" 200000	# stream 570000: piece 17
	run btverify --json "$T/m.torrent" "$T/src"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq -c .bad_pieces)" = '[17]' ]
	[ "$(echo "$output" | jq -c .missing_pieces)" = '[]' ]
	[ "$(echo "$output" | jq -c '[.files[] | select(.status != "complete") | [.path_string, .status]]')" = '[["multi/sub/b.bin","bad"]]' ]
	# The same path shape as btinfo's.
	[ "$(echo "$output" | jq -c '[.files[].path]')" = "$(btinfo "$T/m.torrent" | jq -c '[.files[] | select(.pad | not) | .path]')" ]
	[ "$(btverify --bitfield "$T/m.torrent" "$T/src")" = "$(ltcheck "$T/m.torrent" "$T/src")" ]
	# Piece 9 spans a.bin and c.bin: both files are bad.
	flip "$T/src/multi/sub/b.bin" 200000
	flip "$T/src/multi/c.bin" 100
	run btverify "$T/m.torrent" "$T/src"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q '^bad pieces: 9$'
	echo "$output" | grep -q '^bad  *multi/a.bin$'
	echo "$output" | grep -q '^bad  *multi/c.bin$'
	! echo "$output" | grep -q 'b.bin'
	[ "$(btverify --bitfield "$T/m.torrent" "$T/src")" = "$(ltcheck "$T/m.torrent" "$T/src")" ]
}

@test "btverify: a truncated file's pieces are missing, as libtorrent says" {
	multi
	truncate -s 100 "$T/src/multi/c.bin"
	run btverify --json "$T/m.torrent" "$T/src"
	[ "$status" -eq 1 ]
	# Bytes 300100-369999 of the stream: pieces 9 to 11.
	[ "$(echo "$output" | jq -c .missing_pieces)" = '[9,10,11]' ]
	[ "$(echo "$output" | jq -c .bad_pieces)" = '[]' ]
	[ "$(echo "$output" | jq -r '.files[] | select(.path_string == "multi/c.bin") | "\(.status) \(.size)"')" = "wrong-size 100" ]
	[ "$(echo "$output" | jq -r '.files[] | select(.path_string == "multi/a.bin") | .status')" = partial ]
	[ "$(btverify --bitfield "$T/m.torrent" "$T/src")" = "$(ltcheck "$T/m.torrent" "$T/src")" ]
	# Longer than the torrent says: every piece good, still not complete.
	mkpayload "$T/src/multi/c.bin" 70000 c
	printf x >>"$T/src/multi/c.bin"
	run btverify --json "$T/m.torrent" "$T/src"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq -c '[.complete, .good, .bad, .missing]')" = '[false,27,0,0]' ]
	[ "$(echo "$output" | jq -r '.files[] | select(.path_string == "multi/c.bin") | .status')" = wrong-size ]
	rm "$T/src/multi/c.bin"
	run btverify "$T/m.torrent" "$T/src"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q '^missing  *multi/c.bin$'
	echo "$output" | grep -q '^missing pieces: 9-11$'
}

@test "btverify: missing files are opened once each, not once per piece; verdicts as libtorrent's" {
	command -v strace >/dev/null || skip "strace not installed"
	multi
	mkdir "$T/empty"
	# 27 pieces over 4 files: at most one failing open a file.
	strace -f -e trace=openat -o "$T/st" btverify --bitfield \
	    "$T/m.torrent" "$T/empty" >"$T/bits" || [ $? -eq 1 ]
	[ "$(cat "$T/bits")" = 00000000 ]
	[ "$(grep -c 'openat.*= -1 ENOENT' "$T/st")" -le 4 ]
	# One file missing: its pieces missing, the others read.
	rm "$T/src/multi/c.bin"
	[ "$(btverify --bitfield "$T/m.torrent" "$T/src")" = "$(ltcheck "$T/m.torrent" "$T/src")" ]
	run btverify --json "$T/m.torrent" "$T/src"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq -c .missing_pieces)" = '[9,10,11]' ]
	[ "$(echo "$output" | jq -c .good)" = 24 ]
}

@test "btverify: pad files of a libtorrent hybrid torrent count as zeros" {
	mkmulti "$T/src"
	/usr/bin/python3 "$HELPERS/lt_mktorrent.py" "$T/src/multi" "$T/h.torrent" hybrid 16384 >/dev/null
	[ "$(btinfo "$T/h.torrent" | jq '[.files[] | select(.pad)] | length')" -gt 0 ]
	run btverify --json "$T/h.torrent" "$T/src"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq .complete)" = true ]
	[ "$(echo "$output" | jq '.files | length')" -eq 4 ]
	flip "$T/src/multi/c.bin" 69999
	[ "$(btverify --bitfield "$T/h.torrent" "$T/src")" = "$(ltcheck "$T/h.torrent" "$T/src")" ]
	run btverify --json "$T/h.torrent" "$T/src"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq .bad)" -eq 1 ]
}

@test "btverify: a transmission-create single-file torrent, -j1 and -j2 agree" {
	mkdir "$T/d"
	mkpayload "$T/d/one.bin" 1500000 one
	transmission-create -s 16 -o "$T/s.torrent" "$T/d/one.bin" >/dev/null
	run btverify "$T/s.torrent" "$T/d"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q '^one.bin: 92 pieces: 92 good, 0 bad, 0 missing'
	flip "$T/d/one.bin" 1499999
	flip "$T/d/one.bin" 16384
	a=$(btverify -j1 --json "$T/s.torrent" "$T/d" | jq -c 'del(.milliseconds)')
	b=$(btverify -j 2 --json "$T/s.torrent" "$T/d" | jq -c 'del(.milliseconds)')
	[ "$a" = "$b" ]
	[ "$(echo "$a" | jq -c .bad_pieces)" = '[1,91]' ]
	[ "$(btverify --bitfield "$T/s.torrent" "$T/d")" = "$(ltcheck "$T/s.torrent" "$T/d")" ]
}

@test "btverify: a file truncated under the mapped hash makes its pieces missing, no crash (-j1, -j2)" {
	hooked=$BT_BIN/../test-bin/btverify
	[ -x "$hooked" ] || skip "no test-bin/btverify: make units"
	mkdir "$T/d"
	# 6 MiB in 32 KiB pieces: two batches of 4 MiB, each inside the file,
	# so each is mapped; the hook truncates the file to 300000 bytes once
	# the first is mapped and populated, before it is hashed.
	mkpayload "$T/d/big.bin" 6291456 big
	mktorrent -l 15 -o "$T/b.torrent" "$T/d/big.bin" >/dev/null
	for j in 1 2; do
		mkpayload "$T/d/big.bin" 6291456 big
		BT_TEST_TRUNCATE="$T/d/big.bin:300000" run "$hooked" -j "$j" \
		    --json "$T/b.torrent" "$T/d"
		[ "$status" -eq 1 ]
		[ "$(stat -c %s "$T/d/big.bin")" -eq 300000 ]
		# Pieces 0-8 end before byte 300000; 9 to 191 are gone.
		[ "$(echo "$output" | jq -c '[.good, .bad, .missing]')" = '[9,0,183]' ]
		[ "$(echo "$output" | jq -c '.missing_pieces[0]')" = 9 ]
		during=$(echo "$output" | jq -c .missing_pieces)
		# What a check of the truncated file says afterwards, and libtorrent.
		run btverify --json "$T/b.torrent" "$T/d"
		[ "$status" -eq 1 ]
		[ "$during" = "$(echo "$output" | jq -c .missing_pieces)" ]
		[ "$(btverify --bitfield "$T/b.torrent" "$T/d")" = "$(ltcheck "$T/b.torrent" "$T/d")" ]
	done
}

@test "btverify: --spool finds missing, short and corrupt pieces" {
	multi
	mkspool "$T/m.torrent" "$T/src" "$T/sp/pieces"
	run btverify --spool "$T/sp" "$T/m.torrent"
	[ "$status" -eq 0 ]
	rm "$T/sp/pieces/3"
	flip "$T/sp/pieces/5" 7
	truncate -s 100 "$T/sp/pieces/26"
	run btverify --json --spool "$T/sp" "$T/m.torrent"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq -c '[.source, .bad_pieces, .missing_pieces]')" = '["spool",[5,26],[3]]' ]
}

@test "btverify: bad input gets a clear message and exit 2; a directory in place of a file" {
	multi
	rm "$T/src/multi/c.bin"
	mkdir "$T/src/multi/c.bin"
	run btverify "$T/m.torrent" "$T/src"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'btverify: multi/c.bin: not a regular file'
	echo "$output" | grep -q '^not-a-file  *multi/c.bin'
	# A FIFO in its place is not opened for reading (that would block).
	rmdir "$T/src/multi/c.bin"
	mkfifo "$T/src/multi/c.bin"
	run sh -c 'timeout 20 btverify --json "$1" "$2" 2>/dev/null' sh \
	    "$T/m.torrent" "$T/src"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq -c .missing_pieces)" = '[9,10,11]' ]
	# Pieces that do not match the total length.
	/usr/bin/python3 "$HELPERS/benc.py" \
	    '{"info": {"length": 100000, "name": "x", "piece length": 16384, "pieces": b"A" * 40}}' >"$T/bad.torrent"
	run btverify "$T/bad.torrent" "$T/src"
	[ "$status" -eq 2 ]
	echo "$output" | grep -q '^btverify: .*bad.torrent: .*pieces'
	run btverify "$T/m.torrent" "$T/nonexistent"
	[ "$status" -eq 2 ]
	echo "$output" | grep -q 'nonexistent: No such file'
	run btverify -j 0 "$T/m.torrent" "$T/src"
	[ "$status" -eq 2 ]
	run btverify --json --bitfield "$T/m.torrent" "$T/src"
	[ "$status" -eq 2 ]
	run btverify "$T/m.torrent"
	[ "$status" -eq 2 ]
	# A full disk is the world saying no (1), as in every tool.
	run sh -c 'btverify "$1" "$2" >/dev/full' sh "$T/m.torrent" "$T/src"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'btverify: writing output failed: No space'
}

@test "btverify: a progress bar on stderr only when it is a terminal" {
	mkdir "$T/d"
	mkpayload "$T/d/one.bin" 8000000 one
	transmission-create -s 64 -o "$T/s.torrent" "$T/d/one.bin" >/dev/null
	run sh -c 'btverify "$1" "$2" 2>&1 >/dev/null' sh "$T/s.torrent" "$T/d"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	timeout 30 script -qec "btverify '$T/s.torrent' '$T/d' >/dev/null" /dev/null >"$T/tty"
	grep -q 'MiB/s ETA' "$T/tty"
}
