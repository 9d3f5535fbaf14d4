/*
 * bt.h: what every tool and lib/ module shares: exit codes, error buffers.
 * Nothing here allocates.
 */
#ifndef BT_H
#define BT_H

#include <stddef.h>

/*
 * Exit codes carry a retry meaning, the same in every tool (DESIGN.md):
 * 1 = the world said no or could not be reached (retry later or elsewhere),
 * 2 = the input or command line is bad (do not retry).
 */
enum bt_exit {
	BT_EXIT_OK = 0,
	BT_EXIT_WORLD = 1,
	BT_EXIT_INPUT = 2
};

/* Every lib/ function that can fail fills a caller's buffer of this size. */
#define BT_ERRLEN 256

/* Formats into err (BT_ERRLEN bytes) and returns -1, for `return bt_err(...)`. */
int bt_err(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define BT_VERSION "0.1.0"

#endif
