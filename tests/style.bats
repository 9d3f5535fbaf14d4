#!/usr/bin/env bats
# Project-wide checks: banned C functions, man pages, usage lines, shell
# scripts, and make install.

load helpers

tools() {
	local d
	for d in "$TOP"/*/main.c; do
		d=${d%/main.c}
		basename "$d"
	done
}

@test "style: no banned C functions (sprintf, strcpy, strcat, atoi, gets)" {
	run grep -nE '\b(sprintf|vsprintf|strcpy|strcat|atoi|atol|gets)\(' \
	    "$TOP"/lib/*.c "$TOP"/*/*.c
	echo "$output"
	[ "$status" -eq 1 ]
}

@test "style: every man page passes mandoc -Tlint" {
	for m in "$TOP"/*/*.[1-9]; do
		# Cross-references to pages not installed yet are fine.
		out=$(mandoc -Tlint -W warning "$m" 2>&1) || { echo "$out"; false; }
	done
}

@test "style: every tool has a man page with EXIT STATUS" {
	for t in $(tools); do
		[ -f "$TOP/$t/$t.1" ] || { echo "no $t/$t.1"; false; }
		grep -q '^\.Sh EXIT STATUS' "$TOP/$t/$t.1"
	done
}

@test "style: --help prints the man page SYNOPSIS, exits 0; bad usage exits 2" {
	for t in $(tools); do
		[ -x "$BT_BIN/$t" ] || continue
		run "$BT_BIN/$t" --help
		[ "$status" -eq 0 ]
		got=$(printf '%s\n' "$output" | sed 's/^usage: *//; s/^ *//' | tr -s ' \n' '  ')
		want=$(MANWIDTH=1000 man "$TOP/$t/$t.1" 2>/dev/null |
		    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d; s/^ *//' |
		    tr -s ' \n' '  ')
		echo "$t: got  '$got'"
		echo "$t: want '$want'"
		[ "$got" = "$want" ]
		run "$BT_BIN/$t" --no-such-option
		[ "$status" -eq 2 ]
	done
}

@test "style: shell scripts pass shellcheck" {
	for f in "$TOP"/scripts/* "$TOP"/tests/run.sh "$TOP"/.ci/run; do
		head -c 64 "$f" | grep -q '^#!.*sh' || continue
		shellcheck "$f"
	done
}

@test "style: make install honours DESTDIR and PREFIX" {
	make -C "$TOP" -s install DESTDIR="$T/root" PREFIX=/opt/bt >/dev/null
	for t in $(tools); do
		[ -x "$T/root/opt/bt/bin/$t" ]
		[ -f "$T/root/opt/bt/share/man/man1/$t.1" ]
	done
	[ -x "$T/root/opt/bt/bin/bittorrent" ]
	[ -f "$T/root/opt/bt/share/man/man1/bittorrent.1" ]
	# Only programs in bin/: no man page there.
	[ -z "$(find "$T/root/opt/bt/bin" -name '*.[1-9]' -o -name '*.bash')" ]
	# The installed script finds its library (share/bt).
	[ -f "$T/root/opt/bt/share/bt/bittorrent-sources.bash" ]
	"$T/root/opt/bt/bin/bittorrent" --version
}
