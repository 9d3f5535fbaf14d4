/*
 * assemble.h: moves verified pieces from a spool into the torrent's final
 * files under an output directory, durably, then out of the spool.
 */
#ifndef BTASSEMBLE_ASSEMBLE_H
#define BTASSEMBLE_ASSEMBLE_H

#include <stdint.h>
#include <stdio.h>

#include "metainfo.h"
#include "select.h"

struct aopts {
	const char	*spool;
	const char	*outdir;
	int		 follow;	/* wait for pieces until complete */
	int		 nosync;	/* skip fdatasync/msync (measuring) */
	int		 recheck;	/* hash every piece, fresh or not */
	int		 verbose;
	FILE		*events;	/* "placed <i>" lines, or NULL */
	const struct sel *sel;		/* the wanted files, or NULL: all */
};

/*
 * Places every piece the spool holds (and, with follow, every piece that
 * arrives) into the final files. With a selection, only wanted files are
 * created and written: a piece that straddles a wanted and an unwanted
 * file has its wanted bytes written and stays whole in the spool, never
 * marked placed, for a later run that wants the other file ("kept <i>"
 * lines). Returns BT_EXIT_OK when every wanted piece is in the files, BT_EXIT_WORLD when some are still missing (no
 * follow) or on a write error, BT_EXIT_INPUT on bad input; err says why
 * when it is not BT_EXIT_OK (empty when merely incomplete).
 */
int	assemble(const struct metainfo *, const struct aopts *, char *err);

/*
 * Records the pieces set in hexbits (a have-bitfield from btverify
 * --bitfield) as had and placed in the spool, for a resume: they are in
 * the final files already. Writes how many are set into *count.
 */
int	assemble_mark(const struct metainfo *, const struct aopts *,
	    const char *hexbits, uint32_t *count, char *err);

#endif
