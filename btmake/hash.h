/*
 * hash.h: hashing a scanned tree into v1 piece hashes and v2 merkle
 * trees. One reader (the calling thread) reads the files in order,
 * sequentially, into a small ring of buffers; jobs worker threads hash
 * the buffers as they fill. Results go into the tree (v2 roots and piece
 * layers) and a malloc'd array of SHA-1 piece hashes the caller frees.
 */
#ifndef BTMAKE_HASH_H
#define BTMAKE_HASH_H

#include <stdint.h>

#include "scan.h"

#define MK_V1		1
#define MK_V2		2
#define MK_HYBRID	(MK_V1 | MK_V2)

/* More worker threads than this only queue behind the one reader. */
#define MK_MAX_JOBS	64

struct hashopts {
	int		 mode;		/* MK_V1, MK_V2 or MK_HYBRID */
	uint64_t	 piece_len;
	int		 jobs;
	int		 progress;	/* redraw a progress line on stderr */
};

/*
 * Lays the files out (hybrid pad sizes, v2 piece counts), reads and
 * hashes them. 0, or an exit class with err: BT_EXIT_WORLD when a file
 * cannot be read or changed under us.
 */
int	mk_hash(struct mktree *, const struct hashopts *,
	    unsigned char **pieces, uint32_t *npieces, char *err);

#endif
