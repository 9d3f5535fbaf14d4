#!/bin/sh
# deps.sh build|test: find the Debian packages this project needs that are
# missing; install them when we are root on Debian, else print the command.
set -eu

build="gcc make pkg-config libcurl4-openssl-dev libssl-dev libseccomp-dev"
# Real peers and tools the tests run against (DESIGN.md), plus the
# fuzzer runtime, the man page linter and the JSON filter the tests use.
test="$build bats jq clang libclang-rt-14-dev mandoc shellcheck socat strace
mktorrent aria2 transmission-cli opentracker
python3-libtorrent ctorrent iproute2 webfs busybox openssl mini-httpd"

case "${1:-build}" in
build) want=$build ;;
test) want=$test ;;
*) echo "usage: deps.sh build|test" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: not a Debian system; please install the equivalents of:" >&2
	echo "  $want" | tr '\n' ' ' >&2
	echo >&2
	exit 0
fi

missing=
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages; install them with:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # the package list is meant to split
if ! apt-get install -y -q $missing >/dev/null 2>&1; then
	apt-get update -q >/dev/null
	apt-get install -y -q $missing >/dev/null
fi
