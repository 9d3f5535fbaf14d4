#!/usr/bin/env bats
# Chaos (make check-long): the whole download under kill -9, a full
# disk and misbehaving sources. Loopback only; minutes, not seconds.

load ../helpers
HELPERS=$BATS_TEST_DIRNAME/../helpers

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

@test "chaos: 50 kill -9 of random processes of the tree, orchestrator included; the data is exact, no stored piece fetched twice" {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" 12000000 chaos
	mktorrent -l 15 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
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
	echo "kills $kills (orchestrator $self), runs $runs"
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
	echo "pieces stored: $(wc -l <"$T/ok") of $n over $runs runs"
	[ -z "$(uniq -d "$T/ok")" ]
}
