#!/usr/bin/env bats
# bencode: byte-exact round trips of torrents made by mktorrent,
# transmission-create and libtorrent (also through jq); the binary-string
# convention's edge cases; hostile input in both directions gets exit 2 and
# one line naming the offset.

load helpers

setup_file() {
	D=$(mktemp -d "${BATS_TMPDIR:-/tmp}/bencode.XXXXXX")
	export D
	mkdir -p "$D/multi/sub dir" "$D/multi/"$'\303\274n\303\257'
	mkpayload "$D/multi/a.bin" 100000 a
	: >"$D/multi/empty"
	mkpayload "$D/multi/sub dir/b" 40000 b
	printf 'h\303\251llo\n' >"$D/multi/"$'\303\274n\303\257/\346\227\245\346\234\254.txt'
	mkpayload "$D/single.bin" 300001 s
	mktorrent -a http://127.0.0.1:6969/announce -l 15 \
	    -o "$D/mk-single.torrent" "$D/single.bin" >/dev/null
	mktorrent -a http://a/ann,http://b/ann -a udp://127.0.0.1:6969 -l 16 \
	    -p -c 'a comment' -w http://127.0.0.1/ws -o "$D/mk-multi.torrent" \
	    "$D/multi" >/dev/null
	transmission-create -o "$D/tr-single.torrent" -s 16 \
	    -t http://127.0.0.1:6969/announce "$D/single.bin" >/dev/null
	transmission-create -o "$D/tr-multi.torrent" -s 32 -c 'caf\303\251' \
	    -t udp://127.0.0.1:6969 "$D/multi" >/dev/null
	# Hybrid v1/v2: "piece layers" has binary (SHA-256) dictionary keys.
	/usr/bin/python3 "$HELPERS/lt_mktorrent.py" "$D/multi" \
	    "$D/lt-hybrid.torrent" hybrid 16384 >/dev/null
}

teardown_file() {
	rm -rf "$D"
}

# ok_trip FILE: bencode -d | bencode -e gives FILE back, compact and pretty.
ok_trip() {
	bencode -d "$1" >"$T/j"
	bencode -e "$T/j" >"$T/b"
	cmp "$1" "$T/b"
	bencode -d -p "$1" | bencode -e | cmp "$1" -
}

# must_fail FLAG FILE REGEX: exit 2, no output, one line
# "bencode: FILE: <REGEX> at offset N" on stderr.
must_fail() {
	local rc=0
	bencode "$1" "$2" >"$T/out" 2>"$T/err" || rc=$?
	echo "input: $(od -An -c "$2" | head -3)"
	echo "rc=$rc stderr: $(cat "$T/err")"
	[ "$rc" -eq 2 ]
	[ ! -s "$T/out" ]
	[ "$(wc -l <"$T/err")" -eq 1 ]
	case $(cat "$T/err") in "bencode: $2: "*) ;; *) false ;; esac
	grep -Eq ": $3.* at offset [0-9]+\$" "$T/err"
}

@test "bencode: round trip of mktorrent, transmission-create, libtorrent torrents" {
	n=0
	for t in "$D"/*.torrent; do
		echo "$t"
		ok_trip "$t"
		n=$((n + 1))
	done
	[ "$n" -eq 5 ]
}

@test "bencode: jq round trip is byte-exact" {
	# Also NUL, control bytes, DEL, '$' keys and binary keys through jq.
	printf 'd1:$l4:\000\001\037\1772:\t"3:\303\251!e4:$hex2:\377\376e' \
	    >"$T/odd.benc"
	for t in "$D"/*.torrent "$T/odd.benc"; do
		echo "$t"
		bencode -d "$t" | jq . | bencode -e >"$T/b"
		cmp "$t" "$T/b"
	done
}

@test "bencode: editing the tracker with jq keeps the info-hash (transmission-show)" {
	bencode -d "$D/mk-multi.torrent" |
	    jq '.announce = "http://127.0.0.1:9/x" | del(."announce-list")' |
	    bencode -e >"$T/y.torrent"
	old=$(transmission-show "$D/mk-multi.torrent" | sed -n 's/^ *Hash: //p')
	new=$(transmission-show "$T/y.torrent" | sed -n 's/^ *Hash: //p')
	echo "$old $new"
	[ "${#old}" -eq 40 ]
	[ "$old" = "$new" ]
	transmission-show "$T/y.torrent" | grep -q 'http://127.0.0.1:9/x'
	! cmp -s "$D/mk-multi.torrent" "$T/y.torrent"
}

@test "bencode: JSON shape of a torrent: text as strings, hashes as \$hex, UTF-8 names" {
	run bencode -d "$D/mk-multi.torrent"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(echo "$output" | jq -r .comment)" = 'a comment' ]
	[ "$(echo "$output" | jq .info.private)" -eq 1 ]
	echo "$output" | jq -e '.info.pieces | keys == ["$hex"]'
	echo "$output" | jq -e '.info.pieces["$hex"] | test("^([0-9a-f]{40})+$")'
	echo "$output" | jq -e '[.info.files[].path] | any(. == ["\u00fcn\u00ef", "\u65e5\u672c.txt"])'
	# Hybrid: the binary keys of "piece layers" become "$hex:<64 hex>".
	bencode -d "$D/lt-hybrid.torrent" >"$T/h"
	jq -e '."piece layers" | keys | length > 0 and all(test("^\\$hex:[0-9a-f]{64}$"))' "$T/h"
	jq -e '.info."meta version" == 2' "$T/h"
}

@test "bencode: a real dictionary with a \"\$hex\" key stays a dictionary" {
	printf 'd1:$i1e2:$$i2e4:$hex4:abcde' >"$T/x"
	run bencode -d "$T/x"
	[ "$status" -eq 0 ]
	[ "$output" = '{"$$":1,"$$$":2,"$$hex":"abcd"}' ]
	ok_trip "$T/x"
	# And a one-key {"$$hex": ...} object in JSON is that dictionary.
	printf '{"$$hex":{"$hex":"00ff"}}' | bencode -e >"$T/b"
	printf 'd4:$hex2:\000\377e' | cmp - "$T/b"
}

@test "bencode: binary keys and binary strings" {
	printf 'd1:k3:\355\240\2002:\377\000l2:\301\2012:ok0:ee' >"$T/x"
	run bencode -d "$T/x"
	[ "$status" -eq 0 ]
	# C1 81 is an overlong '\001', ED A0 80 a UTF-16 surrogate: not UTF-8.
	[ "$output" = '{"k":{"$hex":"eda080"},"$hex:ff00":[{"$hex":"c181"},"ok",""]}' ]
	ok_trip "$T/x"
	# Upper-case hex is read too; the output is the same bytes.
	printf '{"$hex:FF00":[{"$hex":"C181"},"ok",""],"k":{"$hex":"EDA080"}}' |
	    bencode -e | cmp "$T/x" -
	# An empty binary key and an empty $hex string.
	printf '{"$hex:":{"$hex":""}}' | bencode -e >"$T/b"
	[ "$(cat "$T/b")" = 'd0:0:e' ]
}

@test "bencode: escapes, control bytes, DEL, NUL and int64 limits round-trip" {
	printf 'l5:a"b\\c4:\000\001\037\1772:\t\n3:\303\251!i-9223372036854775808ei9223372036854775807ei0eledee' >"$T/x"
	run bencode -d "$T/x"
	[ "$status" -eq 0 ]
	[ "$output" = '["a\"b\\c","\u0000\u0001\u001f\u007f","\t\n","é!",-9223372036854775808,9223372036854775807,0,[],{}]' ]
	ok_trip "$T/x"
	# \u escapes (a surrogate pair too) and \/ decode to UTF-8 bytes.
	printf '["\\u00e9\\ud83d\\ude00\\/"]' | bencode -e >"$T/b"
	printf 'l7:\303\251\360\237\230\200/e' | cmp - "$T/b"
}

@test "bencode: JSON objects come out sorted; non-canonical bencode is read" {
	printf '{"b":1,"a":{"d":[],"c":"x"},"":0}' | bencode -e >"$T/b"
	[ "$(cat "$T/b")" = 'd0:i0e1:ad1:c1:x1:dlee1:bi1ee' ]
	# Unsorted bencode: -d keeps the order, -e writes the canonical form.
	printf 'd1:bi1e1:ai2ee' >"$T/x"
	[ "$(bencode -d "$T/x")" = '{"b":1,"a":2}' ]
	[ "$(bencode -d "$T/x" | bencode -e)" = 'd1:ai2e1:bi1ee' ]
	# Keys sort as raw bytes: "$hex:ff" (0xff) after "z", "$$" ('$') first.
	printf '{"$hex:ff":1,"z":2,"$$":3}' | bencode -e >"$T/b"
	printf 'd1:$i3e1:zi2e1:\377i1ee' | cmp - "$T/b"
}

@test "bencode: nesting 64 deep is fine both ways, 65 is refused" {
	l64=$(printf 'l%.0s' $(seq 64))$(printf 'e%.0s' $(seq 64))
	printf '%s' "$l64" >"$T/ok"
	ok_trip "$T/ok"
	printf 'l%s' "${l64}e" >"$T/deep"
	must_fail -d "$T/deep" 'nesting too deep'
	a64=$(printf '[%.0s' $(seq 64))$(printf ']%.0s' $(seq 64))
	printf '%s' "$a64" | bencode -e | cmp "$T/ok" -
	printf '[%s]' "$a64" >"$T/deep.json"
	must_fail -e "$T/deep.json" 'nesting too deep'
	# A "$hex" object is a string: it may sit inside 64 levels.
	printf '%s{"$hex":"ff"}%s' "$(printf '[%.0s' $(seq 64))" \
	    "$(printf ']%.0s' $(seq 64))" | bencode -e >/dev/null
}

@test "bencode: hostile bencode gets exit 2 and the offset" {
	c() { printf "$2" >"$T/in"; must_fail -d "$T/in" "$1"; }
	c 'leading zero in integer' 'i03e'
	c 'negative zero integer' 'i-0e'
	c 'integer too large' 'i9223372036854775808e'
	c 'string length past end of input' 'd4:info9999999:xe'
	c 'leading zero in string length' '05:abcde'
	c 'unterminated list' 'l1:a'
	c 'unterminated dictionary' 'd1:ai1e'
	c 'dictionary key is not a string' 'di1ei2ee'
	c 'trailing garbage' 'i1ei2e'
	c 'unexpected character' 'x'
	c 'unexpected end of input' ''
	# Equal keys not in a row: JSON could not carry them.
	c 'duplicate dictionary key' 'd1:bi1e1:ai1e1:bi2ee'
	# Random bytes: refused, never a crash.
	mkpayload "$T/rnd" 4096 junk
	run bencode -d "$T/rnd"
	[ "$status" -eq 2 ]
	[[ "$output" == "bencode: $T/rnd: "*" at offset "* ]]
}

@test "bencode: hostile or non-bencode JSON gets exit 2 and the offset" {
	c() { printf '%s' "$2" >"$T/in"; must_fail -e "$T/in" "$1"; }
	c 'number with a fraction or exponent \(bencode has integers only\)' '[1.5]'
	c 'number with a fraction or exponent' '1e3'
	c 'negative zero' '-0'
	c 'integer out of int64 range' '9223372036854775808'
	c 'integer out of int64 range' '-9223372036854775809'
	c 'leading zero in number' '01'
	c 'true has no bencode form' '{"a":true}'
	c 'null has no bencode form' 'null'
	c 'duplicate key' '{"a":1,"a":2}'
	c 'duplicate key' '{"$hex:61":1,"a":2}'
	c "key with an unknown '\\$' tag" '{"$x":1}'
	c 'a "\$hex" object has other keys' '{"$hex":"00","a":1}'
	c '"\$hex" tag in an object with other keys' '{"a":1,"$hex":"00"}'
	c '"\$hex" value is not an even number of hex digits' '{"$hex":"abc"}'
	c '"\$hex" value is not an even number of hex digits' '{"$hex":"zz"}'
	c '"\$hex" value is not a string' '{"$hex":12}'
	c '"\$hex:" key is not an even number of hex digits' '{"$hex:1":1}'
	c 'lone high surrogate' '"\ud800x"'
	c 'lone low surrogate' '"\udc00"'
	c 'bad escape in string' '"\q"'
	c 'unterminated string' '"abc'
	c 'unterminated array' '[1,2'
	c 'unterminated object' '{"a":1'
	c 'expected a string key' '{1:2}'
	c "expected ':'" '{"a" 1}'
	c "expected ',' or '\\]'" '[1 2]'
	c 'unexpected character' '[1,]'
	c 'trailing garbage' '{} {}'
	c 'empty input' ''
	c 'unexpected end of input' '   '
	c 'invalid UTF-8 in string' "$(printf '"\377"')"
	c 'invalid UTF-8 in string' "$(printf '"\300\201"')"
	c 'control character in string' "$(printf '"a\tb"')"
	c 'byte order mark' "$(printf '\357\273\277[]')"
	# The offset is the byte offset of the problem.
	printf '{"a": [1, 2, 3.0]}' >"$T/in"
	must_fail -e "$T/in" 'number with a fraction or exponent.*'
	grep -q 'at offset 13$' "$T/err"
}

@test "bencode: stdin, '-', missing files, >/dev/full" {
	printf 'li1ee' | bencode -d >"$T/o"
	[ "$(cat "$T/o")" = '[1]' ]
	printf '[1]' | bencode -e - >"$T/o"
	[ "$(cat "$T/o")" = 'li1ee' ]
	run bash -c 'printf "i1" | bencode -d 2>&1 >/dev/null'
	[ "$status" -eq 2 ]
	[ "$output" = 'bencode: stdin: unexpected end of input at offset 2' ]
	run bencode -d "$T/nonexistent"
	[ "$status" -eq 2 ]
	[ "$output" = "bencode: $T/nonexistent: No such file or directory" ]
	run bash -c "bencode -d '$D/mk-single.torrent' >/dev/full"
	[ "$status" -eq 1 ]
	[[ "$output" == "bencode: writing output failed: No space left on device" ]]
	run bash -c "bencode -e <<<'{\"a\":1}' >/dev/full"
	[ "$status" -eq 1 ]
	[[ "$output" == "bencode: writing output failed: No space left on device" ]]
}

@test "bencode: usage equals the man page SYNOPSIS; bad usage exits 2" {
	run bencode --help
	[ "$status" -eq 0 ]
	want=$(MANWIDTH=200 man "$TOP/bencode/bencode.1" 2>/dev/null |
	    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d;/^$/d;s/^ *//')
	got=$(printf '%s\n' "$output" | sed 's/^usage: //;s/^ *//')
	echo "want: $want"
	echo "got:  $got"
	[ -n "$want" ]
	[ "$got" = "$want" ]
	for args in "" "-d -e" "-e -p" "-d a b" "-x" "--no-such"; do
		run bencode $args
		echo "bencode $args: $status $output"
		[ "$status" -eq 2 ]
		# getopt may name the bad option first; the usage ends it.
		[ "$(printf '%s\n' "$output" | tail -n 2 |
		    sed 's/^usage: //;s/^ *//')" = "$want" ]
	done
	run bencode --version
	[ "$status" -eq 0 ]
	[[ "$output" == "bencode "[0-9]* ]]
}

@test "bencode: a 3 MiB string and a long list convert both ways" {
	mkpayload "$T/p" 3145728 big
	{ printf '3145728:'; cat "$T/p"; } >"$T/x"
	ok_trip "$T/x"
	{ printf 'l'; for i in $(seq 2000); do printf 'd1:ai%de1:b2:\377\376e' "$i"; done; printf 'e'; } >"$T/y"
	ok_trip "$T/y"
	[ "$(bencode -d "$T/y" | jq length)" -eq 2000 ]
}
