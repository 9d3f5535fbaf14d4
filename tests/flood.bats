#!/usr/bin/env bats
# btpeer --listen under a flood of connections that never speak: they
# cost the listener bounded descriptors and no process, and a real peer
# is still served (btpeer(1), --max-conns).

load helpers

@test "flood: 500 silent connections at once: bounded descriptors, no process each, a real peer still served" {
	mkdir -p "$T/src"
	mkpayload "$T/src/data.bin" 3000000 flood
	mktorrent -l 16 -o "$T/s.torrent" "$T/src/data.bin" >/dev/null
	btpeer --listen 127.0.0.1:0 --max-conns 8 -o "$T/src" "$T/s.torrent" \
	    >"$T/l.out" 2>"$T/l.err" 3>&- &
	lp=$!
	echo "$lp" >>"$T/pids"
	waitfor "grep -q '^listening' '$T/l.out'" 10
	port=$(awk '/^listening/ { print $2 }' "$T/l.out")
	/usr/bin/python3 "$HELPERS/idle_flood.py" 127.0.0.1 "$port" 500 30 \
	    >"$T/flood.out" 2>&1 3>&- &
	echo $! >>"$T/pids"
	waitfor "grep -q '^open' '$T/flood.out'" 30
	cat "$T/flood.out"
	[ "$(awk '{ print $2 }' "$T/flood.out")" -ge 400 ]
	fds=$(ls "/proc/$lp/fd" | wc -l)
	kids=$(pgrep -P "$lp" | wc -l)
	echo "# listener: $fds descriptors, $kids children under the flood" >&3
	# Held by the listener (at most 512 pending), no process each.
	[ "$fds" -le 530 ]
	[ "$kids" -eq 0 ]
	# A real peer is served meanwhile: our own fetcher and libtorrent.
	run timeout 60 btpeer --spool "$T/sp" "$T/s.torrent" "127.0.0.1:$port"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = done ]
	cmp <(for ((i = 0; i < 46; i++)); do cat "$T/sp/pieces/$i"; done) \
	    "$T/src/data.bin"
	mkdir -p "$T/lt"
	run timeout 60 /usr/bin/python3 "$HELPERS/lt_peer.py" leech \
	    "$T/s.torrent" "$T/lt" "127.0.0.1:$port"
	[ "$status" -eq 0 ]
	cmp "$T/lt/data.bin" "$T/src/data.bin"
	# The silent ones are dropped within seconds (10), the flood still on.
	waitfor "[ \$(ls /proc/$lp/fd | wc -l) -le 16 ]" 30
	kill -0 "$lp"
}
