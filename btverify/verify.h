/*
 * verify.h: hashes every piece of a torrent, from its files laid out as the
 * torrent describes or from a spool, and says what each piece and each
 * file is.
 */
#ifndef BTVERIFY_VERIFY_H
#define BTVERIFY_VERIFY_H

#include <stdint.h>

#include "metainfo.h"

/* A piece: not readable in full, or hashed right, or hashed wrong. */
enum { PS_MISSING = 0, PS_GOOD = 1, PS_BAD = 2 };

/* A file, worst first where several could apply. */
enum fstat {
	FS_COMPLETE,	/* every piece touching it is good */
	FS_PARTIAL,	/* no bad piece, but some missing */
	FS_BAD,		/* some piece touching it hashed wrong */
	FS_WRONGSIZE,	/* exists, but its size is not the torrent's */
	FS_MISSING,	/* not there */
	FS_NOTFILE,	/* there, but a directory or other non-file */
	FS_UNREADABLE,	/* there, but open(2) failed (err says why) */
	FS_SKIPPED	/* not in the selection (--files, ...): not judged */
};

struct vfile {
	enum fstat	 status;
	int		 err;		/* errno for FS_UNREADABLE */
	int		 exists;
	uint64_t	 size;		/* on disk, when it exists */
	uint32_t	 good, bad, missing;	/* pieces touching it */
};

struct vopts {
	int		 jobs;		/* worker threads, >= 1 */
	int		 progress;	/* draw a bar on stderr */
	const char	*spool;		/* verify DIR/pieces/<i> instead */
	/*
	 * A spool whose whole pieces stand in for those the files cannot
	 * give in full (a piece straddling a file not selected), or NULL.
	 */
	const char	*parts;
};

struct vresult {
	unsigned char	*piece;		/* PS_* for each piece */
	struct vfile	*file;		/* one per mi->files[] entry */
	uint32_t	 good, bad, missing;
	int		 complete;	/* every piece good, every file right */
	uint64_t	 good_bytes, bad_bytes, missing_bytes;
	double		 seconds;
};

/*
 * Verifies the data under dir (dir/name for a single file, dir/name/...
 * for several), or under opt->spool when it is set (dir unused). 0 with
 * res filled, or -1 with err for an error that stopped the check.
 */
int	verify(const struct metainfo *, const char *dir,
	    const struct vopts *, struct vresult *, char *err);
void	vresult_free(struct vresult *);
/* Sets each file's status, existence and size from the disk under root. */
void	precheck(const struct metainfo *, int root, struct vresult *);
const char *fstat_name(enum fstat);

#endif
