#!/usr/bin/env bats
# btassemble: a spool cut from a source payload (tests/helpers/spool.bash)
# placed in random order, under kill -9, with --follow; escaping paths and
# planted symlinks refused; a full disk (a small tmpfs) reported with the
# unplaced pieces kept.

load helpers
load helpers/spool

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/bt.XXXXXX")
	mkmulti "$T/src"
	mktorrent -l 15 -o "$T/m.torrent" "$T/src/multi" >/dev/null
	# 32 KiB pieces: 27 of them, some spanning two files.
	mkspool "$T/m.torrent" "$T/src" "$T/stage"
}

teardown() {
	if [ -f "$T/pids" ]; then
		while read -r pid; do
			kill "$pid" 2>/dev/null || true
		done <"$T/pids"
	fi
	if mountpoint -q "$T/full" 2>/dev/null; then
		umount "$T/full"
	fi
	rm -rf "$T"
}

# Moves the staged pieces named on stdin into the spool, each by rename.
feed() {
	mkdir -p "$T/sp/pieces"
	while read -r i; do
		mv "$T/stage/$i" "$T/sp/pieces/$i"
	done
}

same() {
	diff -r "$T/src/multi" "$T/out/multi"
}

@test "btassemble: pieces placed in random order give identical files, spool emptied" {
	ls "$T/stage" | shuf | head -n 10 | feed
	run btassemble --spool "$T/sp" -o "$T/out" "$T/m.torrent"
	[ "$status" -eq 1 ]	# incomplete
	[ "$(echo "$output" | grep -c '^placed ')" -eq 10 ]
	[ -z "$(ls "$T/sp/pieces")" ]
	# Kept for btpeer to reuse (btspool(5) free/).
	[ "$(ls "$T/sp/free" | wc -l)" -eq 10 ]
	# Every file exists at its size already (sparse), the empty one too.
	[ "$(stat -c %s "$T/out/multi/sub/b.bin")" -eq 500001 ]
	[ -f "$T/out/multi/empty" ]
	run btverify --json "$T/m.torrent" "$T/out"
	[ "$(echo "$output" | jq .good)" -eq 10 ]
	ls "$T/stage" | shuf | feed
	run btassemble --spool "$T/sp" -o "$T/out" "$T/m.torrent"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c '^placed ')" -eq 17 ]
	same
	[ -z "$(ls "$T/sp/pieces")" ]
	[ -z "$(ls "$T/sp/free")" ]	# nothing left to reuse them
	btverify "$T/m.torrent" "$T/out"
}

@test "btassemble: --follow places pieces as they arrive and exits when complete" {
	mkdir -p "$T/sp/pieces"
	timeout 60 btassemble --follow --spool "$T/sp" -o "$T/out" "$T/m.torrent" \
	    >"$T/placed" 2>"$T/err" &
	pid=$!
	echo "$pid" >>"$T/pids"
	waitfor "[ -f '$T/out/multi/empty' ]" 10
	ls "$T/stage" | shuf | while read -r i; do
		echo "$i" | feed
		if [ $((RANDOM % 4)) -eq 0 ]; then sleep 0.05; fi
	done
	wait "$pid"
	[ "$(wc -l <"$T/placed")" -eq 27 ]
	same
	[ -z "$(ls "$T/sp/pieces")" ]
}

@test "btassemble: --follow commits a lone piece within its time bound, not when full" {
	mkdir -p "$T/sp/pieces"
	timeout 60 btassemble --follow --spool "$T/sp" -o "$T/out" "$T/m.torrent" \
	    >"$T/placed" 2>"$T/err" &
	pid=$!
	echo "$pid" >>"$T/pids"
	waitfor "[ -f '$T/out/multi/empty' ]" 10
	ls "$T/stage" | shuf >"$T/order"
	head -n 1 "$T/order" | feed
	# One piece of 27: the batch is far from full, only its age commits it.
	waitfor "[ -s '$T/placed' ]" 10
	[ "$(cat "$T/placed")" = "placed $(head -n 1 "$T/order")" ]
	[ -z "$(ls "$T/sp/pieces")" ]
	kill -0 "$pid"
	tail -n +2 "$T/order" | feed
	wait "$pid"
	[ "$(wc -l <"$T/placed")" -eq 27 ]
	same
}

@test "btassemble: killed with -9 at random moments, a final run gives identical files" {
	# Pieces keep arriving between runs, as btpeer would deliver them.
	ls "$T/stage" | shuf >"$T/order"
	head -n 9 "$T/order" | feed
	tail -n +10 "$T/order" >"$T/rest"
	killed=0
	for _ in $(seq 1 15); do
		head -n 2 "$T/rest" | feed
		tail -n +3 "$T/rest" >"$T/rest.new"
		mv "$T/rest.new" "$T/rest"
		btassemble --follow --spool "$T/sp" -o "$T/out" "$T/m.torrent" >/dev/null 2>&1 &
		pid=$!
		sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
		kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
		wait "$pid" || true
	done
	echo "killed $killed of 15 runs"
	[ "$killed" -gt 0 ]
	feed <"$T/rest"
	run btassemble --spool "$T/sp" -o "$T/out" "$T/m.torrent"
	[ "$status" -eq 0 ]
	same
	[ -z "$(ls "$T/sp/pieces")" ]
}

@test "btassemble: a torrent with a path escaping the output directory is refused before anything is written" {
	/usr/bin/python3 "$HELPERS/benc.py" '{"info": {"files": [{"length": 3, "path": ["..", "evil"]}], "name": "x", "piece length": 16384, "pieces": sha1(b"abc")}}' >"$T/evil.torrent"
	mkdir -p "$T/sp/pieces"
	printf abc >"$T/sp/pieces/0"
	run btassemble --spool "$T/sp" -o "$T/o/out" "$T/evil.torrent"
	[ "$status" -eq 2 ]
	echo "$output" | grep -q '^btassemble: .*evil.torrent: '
	[ ! -e "$T/o" ]
	[ ! -e "$T/evil" ]
	[ ! -e "$T/sp/state" ]
	[ -f "$T/sp/pieces/0" ]
}

@test "btassemble: a symbolic link planted in the output directory is refused" {
	ls "$T/stage" | feed
	mkdir -p "$T/out" "$T/elsewhere"
	ln -s "$T/elsewhere" "$T/out/multi"
	run btassemble --spool "$T/sp" -o "$T/out" "$T/m.torrent"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'symbolic link'
	[ -z "$(ls "$T/elsewhere")" ]
	[ "$(ls "$T/sp/pieces" | wc -l)" -eq 27 ]
	# A link as the file itself.
	rm "$T/out/multi"
	mkdir -p "$T/out/multi/sub"
	: >"$T/victim"
	ln -s "$T/victim" "$T/out/multi/sub/b.bin"
	run btassemble --spool "$T/sp" -o "$T/out" "$T/m.torrent"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'multi/sub/b.bin: .*symbolic link'
	[ ! -s "$T/victim" ]
}

@test "btassemble: a full disk gives a clear message, exit 1, and the spool keeps what is not placed" {
	mkdir "$T/full"
	mount -t tmpfs -o size=256k tmpfs "$T/full" 2>/dev/null ||
	    skip "cannot mount a tmpfs here"
	ls "$T/stage" | feed
	run btassemble --spool "$T/sp" -o "$T/full/out" "$T/m.torrent"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q '^btassemble: multi/.*: writing piece [0-9]*: No space left on device$'
	# Every piece is either placed or still in the spool.
	placed=$(echo "$output" | grep -c '^placed ' || true)
	left=$(ls "$T/sp/pieces" | wc -l)
	echo "placed $placed left $left"
	[ $((placed + left)) -eq 27 ]
	[ "$left" -gt 0 ]
	# With room again (another output directory), the job is finished
	# from what the spool kept.
	if [ "$placed" -eq 0 ]; then
		run btassemble --spool "$T/sp" -o "$T/out" "$T/m.torrent"
		[ "$status" -eq 0 ]
		same
	fi
}

@test "btassemble: a corrupt spool piece is dropped to be fetched again; --mark records a resume" {
	ls "$T/stage" | feed
	flip "$T/sp/pieces/7" 0
	run btassemble --spool "$T/sp" -o "$T/out" "$T/m.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'pieces/7: SHA-1 mismatch, removed to be fetched again'
	echo "$output" | grep -qx 'dropped 7'
	[ ! -e "$T/sp/pieces/7" ]
	# Its have bit is clear: btpeer fetches exactly that piece again from a
	# libtorrent seeder, and the files come out complete.
	/usr/bin/python3 "$HELPERS/lt_seed.py" "$T/m.torrent" "$T/src" \
	    --seconds 60 >"$T/lt.out" 2>&1 &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/lt.out'" 20
	run timeout 60 btpeer --spool "$T/sp" "$T/m.torrent" \
	    "127.0.0.1:$(sed -n 's/^listening //p' "$T/lt.out")"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep ' ok$')" = "piece 7 ok" ]
	run btassemble --spool "$T/sp" -o "$T/out" "$T/m.torrent"
	[ "$status" -eq 0 ]
	same
	# Resume: data already in place, a fresh spool learns it with --mark.
	mkdir "$T/done"
	cp -r "$T/src/multi" "$T/done/"
	bits=$(btverify --bitfield "$T/m.torrent" "$T/done")
	run btassemble --mark "$bits" --spool "$T/sp2" -o "$T/done" "$T/m.torrent"
	[ "$status" -eq 0 ]
	[ "$output" = 27 ]
	run btassemble --spool "$T/sp2" -o "$T/done" "$T/m.torrent"
	[ "$status" -eq 0 ]
	run btassemble --mark 00 --spool "$T/sp2" -o "$T/done" "$T/m.torrent"
	[ "$status" -eq 2 ]
}

# fillspool: a libtorrent seeder of the source, and btpeer fetching every
# piece into $T/sp: pieces committed by a live process, fresh (btspool(5)).
# Sets LTPORT.
fillspool() {
	/usr/bin/python3 "$HELPERS/lt_seed.py" "$T/m.torrent" "$T/src" \
	    --seconds 60 >"$T/lt.out" 2>&1 &
	echo $! >>"$T/pids"
	waitfor "grep -q listening '$T/lt.out'" 20
	LTPORT=$(sed -n 's/^listening //p' "$T/lt.out")
	run timeout 60 btpeer --spool "$T/sp" "$T/m.torrent" "127.0.0.1:$LTPORT"
	[ "$status" -eq 0 ]
}

# reboot SPOOL: the state's boot id becomes another boot's, as after a
# reboot (a power cut can have damaged unsynced pieces).
reboot() {
	printf 'another boot id!' |
	    dd of="$1/state" bs=1 seek=64 conv=notrunc 2>/dev/null
}

@test "btassemble: fresh pieces are copied into place unhashed; --recheck hashes them and catches damage" {
	fillspool
	cp -a "$T/sp" "$T/sp2"
	cp -a "$T/sp" "$T/sp3"
	run btassemble -v --spool "$T/sp" -o "$T/out" "$T/m.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "$output" | grep -qx 'btassemble: 27 pieces placed from the fresh spool, 0 hashed first'
	same
	# The same spool, a piece damaged while the boot id still holds:
	# trusted as fresh unless asked to recheck.
	flip "$T/sp2/pieces/5" 0
	run btassemble -v --recheck --spool "$T/sp2" -o "$T/out2" "$T/m.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'pieces/5: SHA-1 mismatch, removed to be fetched again'
	echo "$output" | grep -qx 'btassemble: 0 pieces placed from the fresh spool, 26 hashed first'
	# Into another file system (a tmpfs): copy_file_range may refuse, the
	# plain copy takes over; the bytes are right either way.
	mkdir "$T/full"
	if mount -t tmpfs -o size=4m tmpfs "$T/full" 2>/dev/null; then
		run btassemble -v --spool "$T/sp3" -o "$T/full" "$T/m.torrent"
		echo "$output"
		[ "$status" -eq 0 ]
		echo "$output" | grep -qx 'btassemble: 27 pieces placed from the fresh spool, 0 hashed first'
		diff -r "$T/src/multi" "$T/full/multi"
	fi
}

@test "btassemble: after a reboot a damaged fresh piece is hashed and dropped; one put by hand too; fetched again" {
	fillspool
	flip "$T/sp/pieces/7" 0
	reboot "$T/sp"
	run btassemble -v --spool "$T/sp" -o "$T/out" "$T/m.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	echo "$output" | grep -q 'pieces/7: SHA-1 mismatch, removed to be fetched again'
	echo "$output" | grep -qx 'dropped 7'
	echo "$output" | grep -qx 'btassemble: 0 pieces placed from the fresh spool, 26 hashed first'
	# This boot's id again, no fresh bit: a damaged file put by hand where
	# piece 7 was is hashed and dropped as well.
	cp "$T/stage/7" "$T/sp/pieces/7"
	flip "$T/sp/pieces/7" 9
	run btassemble -v --spool "$T/sp" -o "$T/out" "$T/m.torrent"
	echo "$output"
	[ "$status" -eq 1 ]
	echo "$output" | grep -qx 'dropped 7'
	# btpeer fetches it again, fresh: placed unhashed, files identical.
	run timeout 60 btpeer --spool "$T/sp" "$T/m.torrent" "127.0.0.1:$LTPORT"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep ' ok$')" = "piece 7 ok" ]
	run btassemble -v --spool "$T/sp" -o "$T/out" "$T/m.torrent"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "$output" | grep -qx 'btassemble: 1 pieces placed from the fresh spool, 0 hashed first'
	same
}

@test "btassemble: pad files of a libtorrent hybrid torrent are not created, the data is right" {
	/usr/bin/python3 "$HELPERS/lt_mktorrent.py" "$T/src/multi" "$T/h.torrent" hybrid 16384 >/dev/null
	mkspool "$T/h.torrent" "$T/src" "$T/hstage"
	mkdir -p "$T/sp"
	mv "$T/hstage" "$T/sp/pieces"
	run btassemble --spool "$T/sp" -o "$T/out" "$T/h.torrent"
	[ "$status" -eq 0 ]
	same
	[ ! -e "$T/out/multi/.pad" ]
	btverify "$T/h.torrent" "$T/out"
}

@test "btassemble: another torrent's spool is bad input (2), as btpeer says" {
	ls "$T/stage" | head -n 3 | feed
	run btassemble --spool "$T/sp" -o "$T/out" "$T/m.torrent"
	[ "$status" -eq 1 ]
	mkdir -p "$T/other"
	printf 'other' >"$T/other/x"
	mktorrent -l 15 -o "$T/o.torrent" "$T/other/x" >/dev/null
	run btassemble --spool "$T/sp" -o "$T/out2" "$T/o.torrent"
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == "btassemble: "*"another torrent"* ]]
	run btpeer --spool "$T/sp" "$T/o.torrent" 127.0.0.1:1
	[ "$status" -eq 2 ]
	# A full disk for stdout is the world saying no, in every tool.
	ls "$T/stage" | feed
	run sh -c 'btassemble --spool "$1" -o "$2" "$3" >/dev/full' sh \
	    "$T/sp" "$T/out" "$T/m.torrent"
	[ "$status" -eq 1 ]
	[[ "$output" == *"btassemble: writing output failed"* ]]
}
