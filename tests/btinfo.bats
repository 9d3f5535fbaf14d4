#!/usr/bin/env bats
# btinfo: info-hashes agree with transmission-show, aria2c and libtorrent;
# hostile torrents get exit 2 and a one-line message.

load helpers
bats_require_minimum_version 1.5.0

BENC="/usr/bin/python3 $HELPERS/benc.py"

setup_file() {
	D=$(mktemp -d "${BATS_TMPDIR:-/tmp}/btinfo.XXXXXX")
	export D
	mkdir -p "$D/multi/sub dir"
	mkpayload "$D/multi/a.bin" 100000 a
	: >"$D/multi/empty"
	printf 'h\303\251llo\n' >"$D/multi/sub dir/"$'\303\274n\303\257 c\303\270de.txt'
	mkpayload "$D/single.bin" 300001 s
	# Piece sizes from 16 KiB (transmission-create) to 16 MiB (mktorrent -l 24).
	for l in 15 16 20 24; do
		mktorrent -a http://127.0.0.1:6969/announce -l "$l" \
		    -o "$D/s$l.torrent" "$D/single.bin" >/dev/null
		mktorrent -a http://127.0.0.1:6969/announce -l "$l" -c "hi" \
		    -o "$D/m$l.torrent" "$D/multi" >/dev/null
	done
	transmission-create -o "$D/s14.torrent" -t http://127.0.0.1:6969/announce \
	    -s 16 "$D/single.bin" >/dev/null
	transmission-create -o "$D/t.torrent" -t udp://127.0.0.1:6969 \
	    -s 32 "$D/multi" >/dev/null
}

teardown_file() {
	rm -rf "$D"
}

@test "btinfo: info-hash agrees with transmission-show and aria2c" {
	for t in "$D"/*.torrent; do
		ours=$(btinfo "$t" | jq -r .info_hash)
		theirs=$(transmission-show "$t" | sed -n 's/^ *Hash: //p')
		aria=$(aria2c -S "$t" | sed -n 's/^Info Hash: //p')
		echo "$t: $ours $theirs $aria"
		[ "${#ours}" -eq 40 ]
		[ "$ours" = "$theirs" ]
		[ "$ours" = "$aria" ]
	done
}

@test "btinfo: files, lengths and offsets of a multi-file torrent" {
	run btinfo "$D/m16.torrent"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .name)" = multi ]
	[ "$(echo "$output" | jq .total_length)" -eq 100007 ]
	[ "$(echo "$output" | jq .piece_length)" -eq 65536 ]
	[ "$(echo "$output" | jq .piece_count)" -eq 2 ]
	[ "$(echo "$output" | jq '[.files[].length] | add')" -eq 100007 ]
	[ "$(echo "$output" | jq -r '.files[] | select(.length == 0) | .path_string')" = multi/empty ]
	echo "$output" | jq -e '.files[] | select(.path_string == "multi/sub dir/\u00fcn\u00ef c\u00f8de.txt") | .path == ["multi", "sub dir", "\u00fcn\u00ef c\u00f8de.txt"]'
	[ "$(echo "$output" | jq -r '.trackers[0][0]')" = http://127.0.0.1:6969/announce ]
	[ "$(echo "$output" | jq -r .comment)" = hi ]
	# Offsets are the running sum of lengths, in the torrent's order.
	echo "$output" | jq -e '[.files[] | .offset] as $o | [.files[] | .length] as $l | all(range(1; $o | length); $o[.] == $o[. - 1] + $l[. - 1])'
}

@test "btinfo: magnet URI and --pieces" {
	run btinfo "$D/s14.torrent"
	ih=$(echo "$output" | jq -r .info_hash)
	echo "$output" | jq -r .magnet | grep -q "^magnet:?xt=urn:btih:$ih&dn=single.bin&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce$"
	[ "$(btinfo -p "$D/s14.torrent" | jq '.pieces | length')" -eq 19 ]
	[ "$(btinfo "$D/s14.torrent" | jq 'has("pieces")')" = false ]
	# The first piece hash is the SHA-1 of the first 16 KiB.
	want=$(head -c 16384 "$D/single.bin" | sha1sum | cut -c1-40)
	[ "$(btinfo -p "$D/s14.torrent" | jq -r '.pieces[0]')" = "$want" ]
	# A magnet reads back as its info-hash.
	m=$(btinfo "$D/s14.torrent" | jq -r .magnet)
	[ "$(btinfo "$m" | jq -r .info_hash)" = "$ih" ]
	[ "$(btinfo "$m" | jq -r .name)" = single.bin ]
}

@test "btinfo: reads stdin as - and with no argument" {
	a=$(btinfo "$D/m20.torrent" | jq -r .info_hash)
	b=$(btinfo - <"$D/m20.torrent" | jq -r .info_hash)
	c=$(btinfo <"$D/m20.torrent" | jq -r .info_hash)
	[ "$a" = "$b" ] && [ "$a" = "$c" ]
}

@test "btinfo: human summary" {
	run btinfo -s "$D/s16.torrent"
	[ "$status" -eq 0 ]
	[[ "$output" == *"name:       single.bin"* ]]
	[[ "$output" == *"size:       293.0 KiB (300001 bytes)"* ]]
	[[ "$output" == *"pieces:     5 x 64.0 KiB"* ]]
	[[ "$output" == *"tracker:    tier 1: http://127.0.0.1:6969/announce"* ]]
}

@test "btinfo: hybrid v1/v2 torrent from libtorrent: both hashes, pad files" {
	read -r v1 v2 < <(/usr/bin/python3 "$HELPERS/lt_mktorrent.py" "$D/multi" "$T/h.torrent" hybrid)
	run btinfo "$T/h.torrent"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .info_hash)" = "$v1" ]
	[ "$(echo "$output" | jq -r .info_hash_v2)" = "$v2" ]
	[ "$(echo "$output" | jq '[.files[] | select(.pad)] | length')" -ge 1 ]
	echo "$output" | jq -r .magnet | grep -q "xt=urn:btmh:1220$v2"
}

@test "btinfo: v2-only torrent gets a clear error" {
	/usr/bin/python3 "$HELPERS/lt_mktorrent.py" "$D/multi" "$T/v2.torrent" v2 >/dev/null
	run btinfo "$T/v2.torrent"
	[ "$status" -eq 2 ]
	[ "$output" = "btinfo: $T/v2.torrent: v2-only torrents are not supported yet" ]
}

# evil NAME EXPR-for-info MESSAGE: a torrent whose info is EXPR must be
# refused with exit 2 and MESSAGE.
evil() {
	$BENC "{'announce': 'http://127.0.0.1/a', 'info': $1}" >"$T/e.torrent"
	run btinfo "$T/e.torrent"
	echo "$output"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "btinfo: $T/e.torrent: "*"$2"* ]]
}

F="'piece length': 16384, 'pieces': b'x' * 20"

# unsafe EXPR-for-info MESSAGE: btinfo shows the torrent, flagged, with
# a warning; the tools that write refuse it with MESSAGE.
unsafe() {
	$BENC "{'announce': 'http://127.0.0.1/a', 'info': $1}" >"$T/e.torrent"
	run --separate-stderr btinfo "$T/e.torrent"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$stderr" = "btinfo: $T/e.torrent: warning: $2: the tools that write refuse this torrent" ]
	echo "$output" | jq -e --arg w "$2" '.unsafe == $w and any(.files[]; .unsafe)'
	btinfo -s "$T/e.torrent" 2>/dev/null | grep -q '(unsafe path)$'
	btinfo -l "$T/e.torrent" 2>/dev/null | grep -qx "unsafe	$2"
	btinfo -l "$T/e.torrent" 2>/dev/null | grep -q '^file	.*	unsafe$'
	mkdir -p "$T/o"
	run btverify "$T/e.torrent" "$T/o"
	[ "$status" -eq 2 ]
	[ "$output" = "btverify: $T/e.torrent: $2" ]
	run btpeer --spool "$T/sp" "$T/e.torrent" 127.0.0.1:1
	[ "$status" -eq 2 ]
	[ -z "$(ls -A "$T/o")" ]
}

@test "btinfo: paths that could leave the output directory: shown flagged, with a warning; refused by the writers" {
	unsafe "{'files': [{'length': 1, 'path': ['..', 'x']}], 'name': 'n', $F}" "a file path has a '..' path component"
	unsafe "{'files': [{'length': 1, 'path': ['a/../../x']}], 'name': 'n', $F}" "a file path has '/' in a path component"
	unsafe "{'files': [{'length': 1, 'path': ['/etc/passwd']}], 'name': 'n', $F}" "a file path has '/' in a path component"
	unsafe "{'files': [{'length': 1, 'path': ['a', '', 'b']}], 'name': 'n', $F}" "a file path has an empty path component"
	unsafe "{'files': [{'length': 1, 'path': ['.']}], 'name': 'n', $F}" "a file path has a '.' path component"
	unsafe "{'length': 1, 'name': '..', $F}" "the torrent name has a '..' path component"
	unsafe "{'length': 1, 'name': '', $F}" "the torrent name has an empty path component"
	# What no file name can hold, or two files at one path: invalid.
	evil "{'files': [{'length': 1, 'path': ['a\\0b']}], 'name': 'n', $F}" "NUL in a path component"
	evil "{'files': [{'length': 1, 'path': ['a']}, {'length': 0, 'path': ['a']}], 'name': 'n', $F}" "two files share the path 'n/a'"
}

@test "btinfo: source, nodes and web seeds kept; magnet xl and ws; invalid UTF-8 and no argument on a terminal" {
	$BENC "{'announce': 'http://127.0.0.1/a', 'url-list': ['http://127.0.0.1:1/ws'], 'nodes': [['127.0.0.1', 6881], ['bad', 0], 7, ['router.example', 6882]], 'info': {'length': 1, 'name': b'a\\xffb\\xc3\\xa9c\\x1b[2J', 'source': 'TRK', $F}}" >"$T/k.torrent"
	run btinfo "$T/k.torrent"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.source == "TRK" and .nodes == [["127.0.0.1", 6881], ["router.example", 6882]]'
	# The web seed goes into the magnet link, and a magnet keeps it.
	m=$(echo "$output" | jq -r .magnet)
	[[ "$m" == *"&ws=http%3A%2F%2F127.0.0.1%3A1%2Fws" ]]
	run btinfo "$m&xl=1"
	echo "$output" | jq -e '.web_seeds == ["http://127.0.0.1:1/ws"] and .total_length == 1'
	run btinfo -s "$m&xl=1"
	[[ "$output" == *"web seed:   http://127.0.0.1:1/ws"* ]]
	[[ "$output" == *"size:       1 B (1 bytes)"* ]]
	run btinfo "$m&xl=x"
	[ "$status" -eq 2 ]
	# -s: bytes that are not UTF-8 are escaped like control bytes.
	run btinfo -s "$T/k.torrent"
	[ "$(echo "$output" | sed -n 1p)" = 'name:       a\xffb'$'\303\251''c\x1b[2J' ]
	# No argument on a terminal: the usage, not a wait on stdin.
	run timeout 10 script -qec "btinfo" /dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == "usage: btinfo "* ]]
}

@test "btinfo: refuses inconsistent or malformed torrents" {
	evil "{'length': 16385, 'name': 'n', $F}" "1 piece hashes for 16385 bytes"
	evil "{'length': 1, 'name': 'n', 'piece length': 16384, 'pieces': b'x' * 19}" "not a multiple of 20"
	evil "{'length': 1, 'name': 'n', 'piece length': 0, 'pieces': b'x' * 20}" "piece length 0 is out of range"
	evil "{'length': -1, 'name': 'n', $F}" "negative length"
	evil "{'name': 'n', $F}" "info has no 'length'"
	evil "{'length': 1, $F}" "no string 'name'"
	evil "{'length': 0, 'name': 'n', 'piece length': 16384, 'pieces': b''}" "holds no data"
	evil "{'length': 1, 'name': 'n', 'meta version': 3, $F}" "unsupported 'meta version'"
	evil "[]" "'info' is not a dictionary"
}

@test "btinfo: bencode errors name the byte offset" {
	printf 'd4:infod4:name' >"$T/x.torrent"
	run btinfo "$T/x.torrent"
	[ "$status" -eq 2 ]
	[ "$output" = "btinfo: $T/x.torrent: unterminated dictionary at offset 14" ]
	cat "$D/s14.torrent" >"$T/y.torrent"
	echo junk >>"$T/y.torrent"
	run btinfo "$T/y.torrent"
	[ "$status" -eq 2 ]
	[[ "$output" == "btinfo: $T/y.torrent: trailing garbage at offset "* ]]
	run btinfo "$T/missing.torrent"
	[ "$status" -eq 2 ]
	[ "$output" = "btinfo: $T/missing.torrent: No such file or directory" ]
	run btinfo "magnet:?xt=urn:btih:zz"
	[ "$status" -eq 2 ]
	[ "$output" = "btinfo: bad magnet URI: bad btih info-hash" ]
}

@test "btinfo: a non-canonical torrent keeps its real info-hash" {
	# Unsorted keys inside info: the hash is over the bytes as they are.
	$BENC "{'info': {'name': 'n', 'length': 1, $F}}" >"$T/u.torrent"
	want=$(/usr/bin/python3 -c 'import sys,hashlib; d=open(sys.argv[1],"rb").read(); i=d.index(b"4:info")+6; print(hashlib.sha1(d[i:-1]).hexdigest())' "$T/u.torrent")
	[ "$(btinfo "$T/u.torrent" | jq -r .info_hash)" = "$want" ]
}

@test "btinfo: output errors and usage" {
	run btinfo "$D/s14.torrent" >/dev/full
	run sh -c "btinfo '$D/s14.torrent' >/dev/full"
	[ "$status" -eq 1 ]
	[[ "$output" == "btinfo: writing output failed"* ]]
	run btinfo --help
	[ "$status" -eq 0 ]
	# The usage line is the man page's SYNOPSIS.
	syn=$(MANWIDTH=200 man "$TOP/btinfo/btinfo.1" 2>/dev/null | sed -n '/^SYNOPSIS/{n;p}' | sed 's/^ *//')
	[ "$output" = "usage: $syn" ]
	run btinfo --bogus
	[ "$status" -eq 2 ]
	run btinfo a b
	[ "$status" -eq 2 ]
	mandoc -Tlint -W warning "$TOP/btinfo/btinfo.1"
}

@test "btinfo --lines: the same fields as the JSON, one a line, tab-separated" {
	for t in "$D"/*.torrent; do
		j=$(btinfo "$t")
		l=$(btinfo --lines "$t")
		get() { printf '%s\n' "$l" | sed -n "s/^$1	//p"; }
		[ "$(get info_hash)" = "$(echo "$j" | jq -r .info_hash)" ]
		[ "$(get piece_count)" = "$(echo "$j" | jq -r .piece_count)" ]
		[ "$(get piece_length)" = "$(echo "$j" | jq -r .piece_length)" ]
		[ "$(get total_length)" = "$(echo "$j" | jq -r .total_length)" ]
		[ "$(get name)" = "$(echo "$j" | jq -r .name)" ]
		[ "$(get tracker)" = "$(echo "$j" | jq -r '.trackers | to_entries[] | "\(.key + 1)\t\(.value[])"')" ]
		[ "$(get file)" = "$(echo "$j" | jq -r '.files[] | select(.pad | not) | "\(.length)\t\(.path_string)"')" ]
		# Every line is KEYWORD TAB VALUE.
		! printf '%s\n' "$l" | grep -v '^[a-z_0-9]*	'
	done
	# Control bytes, tabs and backslashes in a name stay on one line.
	$BENC "{'announce': 'http://127.0.0.1/a', 'info': {'length': 1, 'name': 'a\\tb\\nc\\\\d', 'piece length': 16384, 'pieces': b'x' * 20}}" >"$T/n.torrent"
	run btinfo -l "$T/n.torrent"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | sed -n 1p)" = 'name	a\x09b\x0ac\x5cd' ]
	[ "$(echo "$output" | sed -n '$p')" = 'file	1	a\x09b\x0ac\x5cd' ]
	# A magnet link.
	run btinfo -l 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x&tr=udp%3A%2F%2Fa%3A1&tr=http%3A%2F%2Fb%2Fannounce&x.pe=127.0.0.1:5'
	[ "$output" = "$(printf 'name\tx\ninfo_hash\t0123456789abcdef0123456789abcdef01234567\ntracker\t1\tudp://a:1\ntracker\t2\thttp://b/announce\npeer\t127.0.0.1:5')" ]
}
