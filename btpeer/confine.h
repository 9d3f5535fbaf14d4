/*
 * confine.h: btpeer's sandbox (lib/sandbox.h), applied once the torrent
 * is parsed, the spool open and the socket connected or accepted: file
 * access beneath the spool (read-write) and -o (read-only) only, and
 * the system calls of the steady state (btpeer(1), SANDBOX).
 */
#ifndef BTPEER_CONFINE_H
#define BTPEER_CONFINE_H

#include "opts.h"

/*
 * 0, or the exit code after "btpeer: sandbox: why" on stderr. A layer
 * the kernel lacks is a warning; -v names the layers in force.
 */
int	confine(const struct opts *);
/*
 * The uTP relay child (net.c), holding only its UDP socket and its end
 * of the socketpair: no file, no new socket, no signal, its I/O, poll
 * and the clock only (lib/sandbox.h, SANDBOX_RELAY). 0, or the exit
 * code after "btpeer: uTP relay: sandbox: why"; -v names its pid and
 * the layers in force.
 */
int	confine_relay(int verbose);

/*
 * Test builds only (-DBT_TEST_HOOKS, make units: build/test-bin/btpeer):
 * with BT_TEST_ESCAPE=marker in the environment, the one process that
 * creates marker (before confine) tries, once confined, to open
 * $BT_TEST_ESCAPE_FILE, open a socket and exec /bin/sh, and reports
 * each result on stderr. BT_TEST_RELAY_ESCAPE=marker does the same for
 * the uTP relay child. Does nothing in other builds.
 */
int	confine_test_arm(void);
int	confine_test_arm_relay(void);
void	confine_test_escape(int armed);

#endif
