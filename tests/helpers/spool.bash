# spool.bash: `load helpers/spool` in a bats suite. Test helpers for the
# piece spool, built with plain tools (btinfo, jq, split) rather than our
# own spool code, so that btverify and btassemble are checked against an
# independent cut of the data.

# mkspool TORRENT DATADIR STAGE: cuts the torrent's byte stream (files in
# torrent order, pad files as zeros) into STAGE/<i>, one file a piece,
# named as in a spool's pieces/ directory.
mkspool() {
	local plen f i
	plen=$(btinfo "$1" | jq .piece_length)
	mkdir -p "$3"
	btinfo "$1" | jq -r '.files[] | "\(.pad // false) \(.length) \(.path_string)"' |
	while read -r pad len path; do
		if [ "$pad" = true ]; then
			head -c "$len" /dev/zero
		else
			cat "$2/$path"
		fi
	done | (cd "$3" && split -b "$plen" -d -a 8 - p.)
	for f in "$3"/p.*; do
		i=${f##*/p.}
		mv "$f" "$3/$((10#$i))"
	done
}

# mkmulti DIR: a multi-file payload under DIR/multi with a zero-length
# file and sizes that make pieces span files.
mkmulti() {
	mkdir -p "$1/multi/sub"
	mkpayload "$1/multi/a.bin" 300000 a
	mkpayload "$1/multi/c.bin" 70000 c
	: >"$1/multi/empty"
	mkpayload "$1/multi/sub/b.bin" 500001 b
}

# flip FILE OFFSET: inverts one byte in place.
flip() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]))
    b = f.read(1)
    f.seek(int(sys.argv[2]))
    f.write(bytes([b[0] ^ 0xff]))
PY
}

# ltcheck TORRENT DIR: python3-libtorrent's have-bitfield of DIR (hex).
ltcheck() {
	timeout 60 /usr/bin/python3 "$HELPERS/lt_recheck.py" "$1" "$2" 30
}
