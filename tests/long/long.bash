# long.bash: `load long` in a suite of tests/long (make check-long): the
# common helpers, with the paths one level further down.
load ../helpers
TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
FIXTURES=$TOP/tests/fixtures
HELPERS=$TOP/tests/helpers
[ -x "$BT_BIN/btpeer" ] || BT_BIN=$TOP/build/bin
PATH="$BT_BIN:$TOP/scripts:$PATH"
