# shellcheck shell=bash
# bench-lib.sh: the start-up the bash benchmarks share (bench-download.sh,
# bench-mse.sh source it after setting size, dir and limit). Not installed.

# bench_setup NAME: the payload of $size bytes, made once and cached as
# $dir/payload-$size (sets payload); a fresh work dir $dir/NAME.XXXXXX
# (sets work) removed at exit, when every process in the array pids is
# killed too; the payload linked (or copied) as $work/seed/payload.
pids=()
bench_setup() {
	mkdir -p "$dir" || exit 1
	payload=$dir/payload-$size
	if [ ! -s "$payload" ]; then
		echo "bench: generating $size bytes" >&2
		openssl enc -aes-128-ctr -nosalt -pass pass:bench -pbkdf2 \
		    </dev/zero 2>/dev/null | head -c "$size" >"$payload.tmp" &&
		    mv "$payload.tmp" "$payload" || exit 1
	fi
	work=$(mktemp -d "$dir/$1.XXXXXX") || exit 1
	trap bench_cleanup EXIT INT TERM
	mkdir -p "$work/seed"
	ln -f "$payload" "$work/seed/payload" 2>/dev/null ||
	    cp "$payload" "$work/seed/payload" || exit 1
}

# shellcheck disable=SC2317 # called from the trap
bench_cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}

# bench_wait FILE PATTERN SECONDS: until a line of FILE (a seeder's
# output) matches the extended regular expression PATTERN: 0, or 1 once
# SECONDS passed.
bench_wait() {
	local t=0
	until grep -Eq "$2" "$1" 2>/dev/null; do
		t=$((t + 1))
		[ "$t" -gt $(($3 * 10)) ] && return 1
		sleep 0.1
	done
}
