#!/usr/bin/env bats
# tests/helpers/bench_run.py, the benchmarks' stopwatch: the clock and the
# CPU count stop at the done marker, the whole tree is counted (orphans
# too), nothing is left running. No timed assertion: CPU seconds burnt by
# a busy loop are at least what it was told to burn, on any machine.

load helpers

BR() { /usr/bin/python3 "$HELPERS/bench_run.py" "$@"; }
# burn S: a process that uses S CPU-seconds
burn() { echo "/usr/bin/python3 -c 'import time; t = time.process_time() + $1
while time.process_time() < t: pass'"; }

@test "bench_run: a done line stops the clock and the CPU count before the exit" {
	# A grandchild reaped by its parent and an orphan (its parent gone
	# first, so it comes back to bench_run) before the line; more after.
	run BR --done-line '^complete: ' 60 sh -c "
	    sh -c \"$(burn 0.3)\"
	    sh -c \"($(burn 0.3); : >'$T/orphan') & exit 0\"
	    i=0
	    while [ ! -e '$T/orphan' ] && [ \$i -lt 1200 ]; do
	        sleep 0.05; i=\$((i + 1))
	    done
	    echo complete: x
	    $(burn 0.5)"
	[ "$status" -eq 0 ]
	read -r wall cpu _ st ewall ecpu est check _ <<<"$output"
	[ "$st" = 0 ] && [ "$est" = 0 ] && [ "$check" = - ]
	# Both burns before the line, and the one after it not.
	awk -v c="$cpu" -v e="$ecpu" -v w="$wall" -v ew="$ewall" \
	    'BEGIN { exit !(c >= 0.6 && e - c >= 0.5 && w < ew) }' ||
	    { echo "$output"; false; }
}

@test "bench_run: the tree is stopped while --at-done runs, and a done file works too" {
	# Every process of the session stopped (T), or, a vfork parent
	# whose child is stopped, waiting in D; the check sees them so.
	run BR --done-file "$T/done" --at-done \
	    "ps -o stat= -s \$(cat '$T/pid') >'$T/ps'" 60 \
	    sh -c "echo \$\$ >'$T/pid'; : >'$T/done'; sleep 1"
	[ "$status" -eq 0 ]
	read -r _ _ _ st _ _ est check _ <<<"$output"
	[ "$st" = 0 ] && [ "$est" = 0 ] && [ "$check" = 0 ] ||
	    { echo "$output"; false; }
	grep -q '^T' "$T/ps" && ! grep -qv '^[TD]' "$T/ps" || { cat "$T/ps"; false; }
}

@test "bench_run: no marker is status 125; a timeout 124 and nothing left running" {
	run BR --done-line '^complete' 60 sh -c 'echo nope; exit 0'
	[ "$status" -eq 0 ]
	read -r _ _ _ st _ <<<"$output"
	[ "$st" = 125 ] || { echo "$output"; false; }
	run BR --done-file "$T/never" 1 sh -c "sleep 60 & echo \$! >'$T/orphan'; exec sleep 60"
	[ "$status" -eq 0 ]
	read -r _ _ _ st _ _ est _ <<<"$output"
	[ "$st" = 124 ] && [ "$est" = 137 ] || { echo "$output"; false; }
	! kill -0 "$(cat "$T/orphan")" 2>/dev/null
}

@test "bench_run: PSS counts a page shared by the tree once, RSS once per process" {
	# Four processes map the same 32 MiB file and touch every page: summed
	# RSS has it four times, summed PSS once (plus each one's own pages).
	# The last sample is taken at the marker, in the stopped tree.
	head -c 33554432 /dev/zero >"$T/shared"
	map="import mmap, os, sys, time
f = open('$T/shared', 'rb'); m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
s = sum(m[i] for i in range(0, len(m), 4096))
open(sys.argv[1], 'w').close(); time.sleep(60)"
	run BR --done-line '^mapped' --grace 0 60 bash -c "
	    for i in 1 2 3 4; do /usr/bin/python3 -c \"$map\" '$T/r'\$i & done
	    i=0
	    while [ \$(ls '$T' | grep -c '^r[1-4]\$') -lt 4 ] && [ \$i -lt 1200 ]; do
	        sleep 0.05; i=\$((i + 1))
	    done
	    echo mapped"
	[ "$status" -eq 0 ]
	read -r _ _ rss st _ _ _ _ anon pss <<<"$output"
	[ "$st" = 0 ]
	awk -v r="$rss" -v p="$pss" -v a="$anon" 'BEGIN {
	    exit !(r >= 4 * 32768 && p >= 32768 && p < r / 2 && a < p) }' ||
	    { echo "$output"; false; }
}
