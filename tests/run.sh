#!/bin/sh
# run.sh: the whole suite as TAP: C unit tests, fuzz smoke runs, then the
# bats suites. Ends with "N passed, N failed"; exits 1 on any failure.
# BUILD names the build directory (build, or build-asan). SUITES=long
# runs the long suites (tests/long/*.bats) alone, for make check-long.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
BT_BIN=$(pwd)/$BUILD/bin
export BT_BIN LC_ALL=C
log=$(mktemp)
trap 'rm -f "$log"' EXIT INT TERM

main_suites() {
	for u in "$BUILD"/unit/test_*; do
		[ -x "$u" ] || continue
		"$u" 2>&1
	done
	# Each fuzz target runs a fixed number of inputs from its seed corpus.
	for f in build-fuzz/fuzz_*; do
		[ -x "$f" ] || continue
		name=${f##*/}
		corpus=tests/fuzz/corpus/${name#fuzz_}
		work=$(mktemp -d)
		[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
		if "$f" -runs=20000 -max_len=4096 "$work" >"$work.out" 2>&1; then
			echo "ok - fuzz smoke $name"
		else
			echo "not ok - fuzz smoke $name"
			sed 's/^/# /' "$work.out" | tail -30
		fi
		rm -rf "$work" "$work.out"
	done
	bats --tap tests/*.bats 2>&1
}

if [ "${SUITES:-}" = long ]; then
	bats --tap tests/long/*.bats 2>&1 | tee "$log"
else
	main_suites | tee "$log"
fi

pass=$(grep -c '^ok ' "$log")
fail=$(grep -c '^not ok ' "$log")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
