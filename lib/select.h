/*
 * select.h: which files of a torrent to download, and so which pieces
 * (bittorrent --files 1,3-5, --include GLOB, --exclude GLOB).
 *
 * Files are numbered from 1 in torrent order, pad files (BEP 47) left
 * out, as btinfo(1) shows them. The wanted files are those listed with
 * --files or matching an --include glob (every file when neither is
 * given), less those matching an --exclude glob. Globs are fnmatch(3)
 * patterns against the file's path under the output directory ("name"
 * or "name/dir/file"), where `*` also matches `/`. A piece is wanted
 * when it overlaps a wanted file; one that also overlaps an unwanted
 * file (not a pad) straddles the boundary: it is fetched and verified
 * whole, and its bytes for the unwanted file stay in the spool.
 */
#ifndef BT_SELECT_H
#define BT_SELECT_H

#include <stdint.h>

#include "metainfo.h"

/* Globs per kind on one command line: a bound for hostile input. */
#define SEL_MAX_GLOBS	64

struct sel_spec {
	const char	*files;		/* the last --files list, or NULL */
	const char	*inc[SEL_MAX_GLOBS];
	int		 ninc;
	const char	*exc[SEL_MAX_GLOBS];
	int		 nexc;
};

struct sel {
	int		 all;		/* every file wanted */
	unsigned char	*file;		/* per mi->files[]: 1 wanted */
	uint64_t	*piece;		/* bitmap, bit i%64 of word i/64 */
	uint32_t	 npieces;	/* pieces wanted */
	uint64_t	 bytes;		/* wanted bytes (files, not pads) */
};

/*
 * Records one option: 'f' --files, 'i' --include, 'x' --exclude.
 * 0, or -1 with err (too many globs).
 */
int	sel_spec_add(struct sel_spec *, int kind, const char *arg,
	    char *err);
/* 1 if any option was given. */
int	sel_spec_any(const struct sel_spec *);
/*
 * Resolves spec against mi. 0, or -1 with err (bad input: a malformed
 * list, an index out of range, nothing left to download).
 */
int	sel_build(struct sel *, const struct metainfo *,
	    const struct sel_spec *, char *err);
void	sel_free(struct sel *);
/* 1 if piece i is wanted. */
int	sel_piece(const struct sel *, uint32_t i);
/* 1 if the file index (into mi->files) is wanted. */
int	sel_file(const struct sel *, size_t f);
/* 1 if piece i overlaps a file that is not wanted (and not a pad). */
int	sel_straddles(const struct sel *, const struct metainfo *,
	    uint32_t i);
/* The user's number of mi->files[f] (from 1), 0 for a pad file. */
uint32_t sel_number(const struct metainfo *, size_t f);

#endif
