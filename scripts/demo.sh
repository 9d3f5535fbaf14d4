#!/bin/sh
# demo.sh: the main job on loopback, with nothing from the internet.
# Makes a sample payload and its .torrent, then shows what btinfo sees.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top/build/bin:$top/scripts:$PATH
dir=$(mktemp -d "${TMPDIR:-/tmp}/btdemo.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

mkdir -p "$dir/sample/docs"
head -c 3000000 /dev/urandom >"$dir/sample/data.bin"
echo "a sample payload" >"$dir/sample/docs/README"
mktorrent -a http://127.0.0.1:6969/announce -o "$dir/sample.torrent" \
    "$dir/sample" >/dev/null
echo "== btinfo -s sample.torrent"
btinfo -s "$dir/sample.torrent"
echo "== btinfo sample.torrent | jq '.files[] | {path_string, length}'"
btinfo "$dir/sample.torrent" | jq -c '.files[] | {path_string, length}'
