#!/usr/bin/env bats
# The sandbox of btpeer (btpeer(1), SANDBOX): the layers -v names, and
# that it bites. The escape attempts come from build/test-bin/btpeer,
# built by `make units` with -DBT_TEST_HOOKS; the installed btpeer has
# no such code.

load helpers

HOOKED=$BT_BIN/../test-bin/btpeer

# 46 pieces of 64 KiB, the last one short; a secret outside every
# directory btpeer is given.
setup_torrent() {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" 3000000 sandbox
	mktorrent -l 16 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	echo "the user's secret" >"$T/secret"
	[ -x "$HOOKED" ] || { echo "$HOOKED missing: make units" >&2; return 1; }
}

joined() {
	local i
	for ((i = 0; i < 46; i++)); do cat "$1/pieces/$i"; done
}

# seed NAME [BTPEER]: a btpeer --listen seeder of $T/src; sets PORT.
seed() {
	"${2:-btpeer}" --listen 127.0.0.1:0 -o "$T/src" "$T/s.torrent" \
	    >"$T/$1.out" 2>"$T/$1.err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q '^listening' '$T/$1.out'" 10
	PORT=$(awk '/^listening/ { print $2 }' "$T/$1.out")
}

lt_seed() {
	/usr/bin/python3 "$HELPERS/lt_peer.py" seed "$T/s.torrent" "$T/src" \
	    >"$T/lt.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q seeding '$T/lt.out'" 30
	PORT=$(awk '/^listening/ { print $2 }' "$T/lt.out")
}

# The layers this kernel offers, as btpeer -v must name them.
@test "sandbox: btpeer -v names the layers in force, in every mode" {
	setup_torrent
	seed s1
	run timeout 60 btpeer -v --spool "$T/sp" "$T/s.torrent" \
	    "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	[[ "$output" == *"btpeer: sandbox: landlock (ABI "*") + seccomp"* ]] ||
	    [[ "$output" == *"btpeer: warning: sandbox: landlock: "*"running without it"* ]]
	# Quiet without -v unless a layer is missing.
	run timeout 60 btpeer --bitfield "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	[[ "$output" != *"sandbox: landlock (ABI"* ]]
	run timeout 60 btpeer -v --piece 45 "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	[[ "$output" == *"sandbox: "*seccomp* ]]
	# The listener's children are sandboxed: one serves this fetch.
	seed s2
	btpeer -v --listen 127.0.0.1:0 --spool "$T/sp" "$T/s.torrent" \
	    >"$T/l.out" 2>"$T/l.err" 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q '^listening' '$T/l.out'" 10
	p=$(awk '/^listening/ { print $2 }' "$T/l.out")
	run timeout 60 btpeer --spool "$T/sp2" "$T/s.torrent" "127.0.0.1:$p"
	[ "$status" -eq 0 ]
	joined "$T/sp2" | cmp - "$T/src/data.bin"
	grep -q "sandbox: .*seccomp" "$T/l.err"
}

@test "sandbox: a sandboxed btpeer cannot open a file outside, open a socket or exec; the download completes" {
	setup_torrent
	seed s1
	p1=$PORT
	lt_seed
	p2=$PORT
	seed s3
	p3=$PORT
	# Three fetchers of one spool; the first to create the marker tries
	# to escape once sandboxed.
	kids=()
	for p in "$p1" "$p2" "$p3"; do
		BT_TEST_ESCAPE=$T/marker BT_TEST_ESCAPE_FILE=$T/secret \
		    timeout 60 "$HOOKED" -v --spool "$T/sp" -o "$T/out" \
		    "$T/s.torrent" "127.0.0.1:$p" >"$T/ev.$p" 2>"$T/err.$p" \
		    3>&- &
		kids+=($!)
		echo $! >>"$T/pids"
	done
	k=0
	for pid in "${kids[@]}"; do
		st=0
		wait "$pid" || st=$?
		echo "$st" >"$T/st.$k"
		k=$((k + 1))
	done
	cat "$T"/err.* | grep -v '^btpeer: *[0-9.]* [<> ]' || true
	[ -f "$T/marker" ]
	# Exactly one tried, and each attempt failed.
	[ "$(grep -l 'test escape: pid' "$T"/err.* | wc -l)" -eq 1 ]
	e=$(grep -l 'test escape: pid' "$T"/err.*)
	grep -q 'test escape: open: Permission denied' "$e"
	grep -q 'test escape: socket: Operation not permitted' "$e"
	! grep -q 'allowed' "$e"
	! grep -q 'escaped' "$T"/ev.* "$T"/err.*
	# exec killed it (SIGSYS: 128 + 31), or, in a sanitized build whose
	# error reports must survive, failed.
	k=0
	for p in "$p1" "$p2" "$p3"; do
		if [ "$T/err.$p" = "$e" ]; then
			st=$(cat "$T/st.$k")
			[ "$st" -eq 159 ] ||
			    grep -q 'test escape: exec: Operation not permitted' "$e"
		fi
		k=$((k + 1))
	done
	# The others finished the download, byte for byte.
	joined "$T/sp" | cmp - "$T/src/data.bin"
	[ "$(cat "$T"/ev.* | grep -c '^piece [0-9]* ok$')" -eq 46 ]
}

@test "sandbox: a listener's sandboxed child that tries to escape is killed; the next connection is served" {
	setup_torrent
	BT_TEST_ESCAPE=$T/marker BT_TEST_ESCAPE_FILE=$T/secret \
	    seed hooked "$HOOKED"
	# The first connection's child tries and fails.
	run timeout 60 btpeer --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$PORT"
	[ -f "$T/marker" ]
	waitfor "grep -q 'test escape: socket' '$T/hooked.err'" 10
	grep -q 'test escape: open: Permission denied' "$T/hooked.err"
	grep -q 'test escape: socket: Operation not permitted' "$T/hooked.err"
	! grep -q 'allowed' "$T/hooked.err"
	# The listener lives on; a second fetch completes from it.
	run timeout 60 btpeer --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$PORT"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = done ]
	joined "$T/sp" | cmp - "$T/src/data.bin"
}
