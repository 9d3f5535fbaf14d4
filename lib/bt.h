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

/*
 * Failure classes: the one list. Every error belongs to one class and
 * the class alone decides the exit code, so the same failure exits the
 * same way in every tool. X(name, exit code, what it means).
 */
#define BT_FAILURES(X)							\
	X(BT_FAIL_USAGE, BT_EXIT_INPUT, "the command line is wrong")	\
	X(BT_FAIL_INPUT, BT_EXIT_INPUT, "an input is malformed, missing "	\
	    "or unusable (a path, a torrent, a spool)")			\
	X(BT_FAIL_MISMATCH, BT_EXIT_INPUT, "data of another torrent")	\
	X(BT_FAIL_PEER, BT_EXIT_WORLD, "a peer broke the protocol, "	\
	    "stalled or left")						\
	X(BT_FAIL_NET, BT_EXIT_WORLD, "the network or a server said no")	\
	X(BT_FAIL_INCOMPLETE, BT_EXIT_WORLD, "pieces missing or bad")	\
	X(BT_FAIL_OUTPUT, BT_EXIT_WORLD, "writing the output failed "	\
	    "(disk full, closed pipe)")					\
	X(BT_FAIL_SYSTEM, BT_EXIT_WORLD, "the system said no (memory, "	\
	    "descriptors, I/O)")

enum bt_fail {
	BT_FAIL_NONE,		/* zeroed memory: no failure */
#define BT_FAIL_ENUM(name, code, what)	name,
	BT_FAILURES(BT_FAIL_ENUM)
#undef BT_FAIL_ENUM
};

/* The exit code of a class (BT_EXIT_OK for BT_FAIL_NONE). */
int	bt_fail_exit(enum bt_fail);
/* What a class means, as in the list above. */
const char *bt_fail_what(enum bt_fail);
/*
 * The class of a system error on a path the user named: ENOENT,
 * EACCES, ENOTDIR and the like are bad input; ENOSPC, EIO, ENOMEM and
 * the rest are the system saying no.
 */
enum bt_fail bt_fail_errno(int);

/*
 * Flushes and closes stdout, the data channel of every tool. 0, or
 * after "tool: writing output failed: why" on stderr, the exit code of
 * BT_FAIL_OUTPUT (disk full, closed pipe: the world said no).
 */
int	bt_close_stdout(const char *tool);

/* Every lib/ function that can fail fills a caller's buffer of this size. */
#define BT_ERRLEN 256

/* Formats into err (BT_ERRLEN bytes) and returns -1, for `return bt_err(...)`. */
int bt_err(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define BT_VERSION "0.1.0"

#endif
