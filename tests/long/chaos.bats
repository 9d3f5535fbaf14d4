#!/usr/bin/env bats
# Chaos (make check-long): the whole download under kill -9, a full
# disk and misbehaving sources. Loopback only; minutes, not seconds.

load ../helpers
# helpers.bash assumes a suite in tests/: one level up here.
HELPERS=$BATS_TEST_DIRNAME/../helpers
PATH=$BATS_TEST_DIRNAME/../../scripts:$PATH

# As helpers.bash's, and a tmpfs of the disk-full test is unmounted.
teardown() {
	if [ -f "$T/pids" ]; then
		while read -r pid; do
			kill "$pid" 2>/dev/null || true
		done <"$T/pids"
	fi
	if mountpoint -q "$T/disk" 2>/dev/null; then
		umount "$T/disk" || umount -l "$T/disk"
	fi
	rm -rf "$T"
}

# ltseed TORRENT DATADIR [ARGS...]: a libtorrent seeder; sets LTPORT.
ltseed() {
	local out=$T/lt.$RANDOM
	/usr/bin/python3 "$HELPERS/lt_seed.py" "$@" --seconds 600 >"$out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$out'" 30
	LTPORT=$(sed -n 's/^listening //p' "$out")
}

# tree PID: PID and its descendants.
tree() {
	local q
	echo "$1"
	for q in $(pgrep -P "$1"); do tree "$q"; done
}

# okpieces LOG...: every "piece N ok" of the logs, one number a line.
okpieces() {
	cat "$@" | sed -n 's/^piece \([0-9]*\) ok$/\1/p'
}

# kill9 MAKER...: 50 kill -9 of random processes of a download of a
# torrent made by MAKER... -o s.torrent data.bin.
kill9() {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" 12000000 chaos
	"$@" -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	n=$(btinfo "$T/s.torrent" | jq .piece_count)
	peers=()
	for k in 1 2 3; do
		ltseed "$T/s.torrent" "$T/src" --rate 150000
		peers+=(--peer "127.0.0.1:$LTPORT")
	done
	start() {
		bittorrent -q -t "$T/s.torrent" -o "$T/out" --spool "$T/sp" \
		    --port 0 "${peers[@]}" >>"$T/bt.out" 2>>"$T/bt.err" 3>&- &
		BT=$!
		echo "$BT" >>"$T/pids"
		runs=$((runs + 1))
	}
	# The log of the run that ended (each run truncates its own).
	save() {
		[ -f "$T/sp/run/events.log" ] &&
		    cp "$T/sp/run/events.log" "$T/log.$runs"
		return 0
	}
	runs=0 kills=0 self=0 done=0
	start
	waitfor "[ -s '$T/sp/run/events.log' ]" 30
	while [ "$kills" -lt 50 ]; do
		sleep "0.$((RANDOM % 4 + 1))"
		if ! kill -0 "$BT" 2>/dev/null; then
			st=0
			wait "$BT" || st=$?
			save
			[ "$st" -eq 0 ] && { done=1; break; }
			start
			continue
		fi
		mapfile -t all < <(tree "$BT")
		victim=${all[RANDOM % ${#all[@]}]}
		kill -9 "$victim" 2>/dev/null || continue
		kills=$((kills + 1))
		if [ "$victim" = "$BT" ]; then
			self=$((self + 1))
			wait "$BT" || true
			# Its children follow it (parent-death signal).
			waitfor "! kill -0 ${all[*]} 2>/dev/null" 20
			save
			start
		fi
	done
	echo "# kills $kills (orchestrator $self), runs $runs" >&3
	[ "$done" -eq 0 ]
	[ "$kills" -eq 50 ]
	[ "$self" -ge 1 ]
	# Let the last run finish (restarting it while it fails).
	for ((k = 0; k < 10; k++)); do
		st=0
		wait "$BT" || st=$?
		save
		[ "$st" -eq 0 ] && break
		start
	done
	tail -n 5 "$T/bt.err"
	[ "$st" -eq 0 ]
	cmp "$T/src/data.bin" "$T/out/data.bin"
	okpieces "$T"/log.* | sort -n >"$T/ok"
	echo "# pieces stored: $(wc -l <"$T/ok") of $n over $runs runs" >&3
	[ -z "$(uniq -d "$T/ok")" ]
	# Nor fetched again in a later run (a "dup": stored meanwhile, which
	# only endgame within one run may cause).
	for ((k = 2; k <= runs; k++)); do
		[ -f "$T/log.$k" ] || continue
		sed -n 's/^piece \([0-9]*\) dup$/\1/p' "$T/log.$k" | sort -u >"$T/dup"
		: >"$T/before"
		for ((j = 1; j < k; j++)); do
			[ -f "$T/log.$j" ] && okpieces "$T/log.$j" >>"$T/before"
		done
		sort -u -o "$T/before" "$T/before"
		[ -z "$(comm -12 "$T/dup" "$T/before")" ]
	done
}

@test "chaos: 50 kill -9 of random processes of the tree, orchestrator included; the data is exact, no stored piece fetched twice" {
	kill9 mktorrent -l 15
}

@test "chaos: the same with 16 KiB pieces, kept in slab files" {
	kill9 btmake -l 16384
}

@test "chaos: disk full mid-download: an error naming the disk, exit 1; after freeing space the same command completes, nothing stored fetched again" {
	[ "$(id -u)" -eq 0 ] || skip "mounting a small tmpfs needs root"
	mkdir -p "$T/src" "$T/disk"
	mkpayload "$T/src/data.bin" 6000000 full
	mktorrent -l 16 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	n=$(btinfo "$T/s.torrent" | jq .piece_count)
	ltseed "$T/s.torrent" "$T/src"
	# 4 MiB for a 6 MB payload and its spool.
	mount -t tmpfs -o size=4m tmpfs "$T/disk"
	cmd=(timeout 120 bittorrent -t "$T/s.torrent" -o "$T/disk/out"
	    --spool "$T/disk/sp" --peer "127.0.0.1:$LTPORT")
	run "${cmd[@]}"
	cp "$T/disk/sp/run/events.log" "$T/ev1" || true
	mount -o remount,size=32m "$T/disk"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no space left on the disk of $T/disk/"*"($T/disk, "*" free)"* ]]
	okpieces "$T/ev1" | sort -n >"$T/run1"
	[ -s "$T/run1" ]
	# Room again: the same command finishes what is missing only.
	run "${cmd[@]}"
	st=$status
	okpieces "$T/disk/sp/run/events.log" | sort -n >"$T/run2"
	cmp "$T/src/data.bin" "$T/disk/out/data.bin" || st=99
	echo "$output"
	[ "$st" -eq 0 ]
	echo "first run $(wc -l <"$T/run1"), second $(wc -l <"$T/run2") of $n"
	[ -z "$(comm -12 "$T/run1" "$T/run2")" ]
	[ $(( $(wc -l <"$T/run1") + $(wc -l <"$T/run2") )) -le "$n" ]
}

# chaos_peer MODE [ARGS...]: tests/helpers/chaos_peer.py; sets CPORT.
chaos_peer() {
	/usr/bin/python3 "$HELPERS/chaos_peer.py" "$@" >"$T/cp.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/cp.out'" 10
	CPORT=$(sed -n 's/^listening //p' "$T/cp.out")
}

@test "chaos: a peer sending another torrent's data for some pieces: the download completes, no bad byte" {
	mkdir -p "$T/src" "$T/other"
	mkpayload "$T/src/data.bin" 3000000 mine
	mkpayload "$T/other/data.bin" 3000000 theirs
	mktorrent -l 16 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	chaos_peer other "$T/src/data.bin" 65536 "$T/other/data.bin"
	# A slow honest seeder, so the liar gets pieces to answer.
	ltseed "$T/s.torrent" "$T/src" --rate 200000
	run timeout 120 bittorrent -t "$T/s.torrent" -o "$T/out" --spool "$T/sp" \
	    --peer "127.0.0.1:$CPORT" --peer "127.0.0.1:$LTPORT"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$T/src/data.bin" "$T/out/data.bin"
	# The liar was asked and caught: its pieces failed their hash.
	grep -q '^sent-other' "$T/cp.out"
	grep -q '^piece [0-9]* bad$' "$T/sp/run/events.log"
	echo "# pieces sent from the other torrent: $(grep -c '^sent-other' "$T/cp.out"), bad pieces caught: $(grep -c 'bad$' "$T/sp/run/events.log")" >&3
}

@test "chaos: a peer that hangs up after every block: the download completes, no bad byte" {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" 3000000 hangup
	mktorrent -l 16 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	chaos_peer hangup "$T/src/data.bin" 65536
	ltseed "$T/s.torrent" "$T/src" --rate 300000
	run timeout 120 bittorrent -t "$T/s.torrent" -o "$T/out" --spool "$T/sp" \
	    --peer "127.0.0.1:$CPORT" --peer "127.0.0.1:$LTPORT"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$T/src/data.bin" "$T/out/data.bin"
	[ "$(grep -c '^hangup' "$T/cp.out")" -ge 1 ]
}

@test "chaos: a tracker that answers after 30 s while the peers are fine: the download does not wait for it" {
	mkdir -p "$T/src" "$T/ft"
	mkpayload "$T/src/data.bin" 3000000 late
	/usr/bin/python3 "$HELPERS/fake_tracker.py" http late "$T/ft" \
	    >"$T/ft.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "[ -s '$T/ft/port' ]" 10
	mktorrent -a "http://127.0.0.1:$(cat "$T/ft/port")/announce" -l 16 \
	    -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	ltseed "$T/s.torrent" "$T/src"
	run timeout 120 bittorrent -t "$T/s.torrent" -o "$T/out" --spool "$T/sp" \
	    --peer "127.0.0.1:$LTPORT"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$T/src/data.bin" "$T/out/data.bin"
	# Asked, and done before the answer came.
	grep -q '^GET /announce' "$T/ft/log"
	! grep -q '^answered' "$T/ft/log"
}
