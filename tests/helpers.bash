# helpers.bash: loaded by every bats suite (`load helpers`).
# Puts the built tools first on PATH and gives each test a scratch dir
# ($T) that is removed afterwards. Nothing here touches the network.

: "${BT_BIN:=$BATS_TEST_DIRNAME/../build/bin}"
PATH="$BT_BIN:$BATS_TEST_DIRNAME/../scripts:$PATH"
export PATH LC_ALL=C
# btdht, and bittorrent's DHT, never ask the public routers in a test.
export BTDHT_ROUTERS=
TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
FIXTURES=$TOP/tests/fixtures
HELPERS=$TOP/tests/helpers

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/bt.XXXXXX")
	# btdht's default state file: bats' own per-test directory, not the
	# user's home (nor $T, which some tests want empty).
	export XDG_STATE_HOME=${BATS_TEST_TMPDIR:-$T}/xdg-state
}

# any_alive FILE: whether any process listed in FILE (a PID a line) runs
# (a zombie does not: init here may be slow to reap an orphan).
any_alive() {
	local pid st
	while read -r pid; do
		st=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		st=${st##*) }
		[ "${st%% *}" != Z ] && return 0
	done <"$1"
	return 1
}

# tails_of_outputs: the last lines of each background process's output
# ($T/*.out), printed when a test fails, so that a failure in CI (where $T
# is gone afterwards) shows what the other side said.
tails_of_outputs() {
	local f
	for f in "$T"/*.out; do
		[ -f "$f" ] || continue
		echo "# --- ${f##*/} (last 15 lines)"
		# (command: utp.bats has a function named tr)
		# awk ends every line, the last one too: a file cut mid-line
		# (transmission's status) must not glue bats' next TAP line.
		command tr '\r' '\n' <"$f" | tail -n 15 | awk '{ print "#   " $0 }'
	done
}

teardown() {
	[ -n "${BATS_TEST_COMPLETED:-}" ] || tails_of_outputs >&3 || true
	# Kill only what the test started, recorded in $T/pids.
	if [ -f "$T/pids" ]; then
		while read -r pid; do
			kill "$pid" 2>/dev/null || true
		done <"$T/pids"
		# A killed process may still write in $T as it exits (btdht
		# saves its state; slower under ASan): let them go first.
		waitfor "! any_alive '$T/pids'" 10 || true
	fi
	rm -rf "$T"
}

# Deterministic pseudo-random payload: mkpayload FILE BYTES [SEED]
mkpayload() {
	openssl enc -aes-128-ctr -nosalt -pass "pass:${3:-bt}" -pbkdf2 \
	    </dev/zero 2>/dev/null | head -c "$2" >"$1"
}

# A free TCP/UDP port on 127.0.0.1.
freeport() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# tr_started LOG: waits until transmission-cli, writing to LOG, has
# checked its data and started the torrent: its status line reads
# "Progress:" or "Seeding". It listens before that, and until then it
# closes every handshake (a CI failure: a dial during "Verifying torrent").
tr_started() {
	waitfor "grep -q 'Progress: \|Seeding' '$1'" "${2:-30}"
}

# Waits up to $2 seconds (default 10) for command $1 to succeed.
waitfor() {
	local i=0 n=$(( ${2:-10} * 10 ))
	while ! eval "$1" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -ge "$n" ] && return 1
		sleep 0.1
	done
}
