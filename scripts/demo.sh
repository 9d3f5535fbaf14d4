#!/bin/sh
# demo.sh: the main job on loopback, with nothing from the internet.
# Makes a sample payload and its .torrent, seeds it with the project's
# own btpeer --listen on 127.0.0.1, downloads it with bittorrent into a
# temporary directory, checks it with btverify, and cleans up.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top/build/bin:$top/scripts:$PATH
dir=$(mktemp -d "${TMPDIR:-/tmp}/btdemo.XXXXXX")
seeder=
cleanup() {
	[ -n "$seeder" ] && kill "$seeder" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "== a sample payload: 64 MiB in two files, and its torrent"
mkdir -p "$dir/seed/sample/docs"
openssl enc -aes-128-ctr -nosalt -pass pass:demo -pbkdf2 </dev/zero \
    2>/dev/null | head -c 67108864 >"$dir/seed/sample/data.bin"
echo "a sample payload" >"$dir/seed/sample/docs/README"
mktorrent -l 18 -o "$dir/sample.torrent" "$dir/seed/sample" >/dev/null
btinfo -s "$dir/sample.torrent"

echo "== a seeder: btpeer --listen on 127.0.0.1"
mkfifo "$dir/ev"
btpeer --listen 127.0.0.1:0 -o "$dir/seed" "$dir/sample.torrent" \
    >"$dir/ev" 2>"$dir/seeder.log" &
seeder=$!
exec 3<"$dir/ev"
read -r line <&3
port=${line#listening }
exec 3<&-
echo "listening on 127.0.0.1:$port"

echo "== bittorrent -t sample.torrent -o DIR --peer 127.0.0.1:$port"
bittorrent -t "$dir/sample.torrent" -o "$dir/down" --peer "127.0.0.1:$port"

echo "== btverify sample.torrent DIR"
btverify "$dir/sample.torrent" "$dir/down"
