/*
 * scan.h: the files a torrent is made of, found under one path.
 *
 * mk_scan walks a file or a directory and builds a struct mktree in a
 * fixed order; mk_tree_free releases everything in it. The tree owns
 * every string. Every name is checked as a downloader would check it
 * (valid UTF-8, no path too long for lib/metainfo), so a torrent made from
 * it is never refused on the other side.
 */
#ifndef BTMAKE_SCAN_H
#define BTMAKE_SCAN_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/*
 * Directories nested deeper than this are refused: lib/metainfo caps a
 * path at 4096 bytes, so 2048 one-byte components is the honest maximum;
 * 256 bounds the recursion and is past any real tree.
 */
#define MK_MAX_DEPTH	256

struct mkfile {
	char		*path;		/* under the torrent: "a/b" ("" single) */
	char		*src;		/* the file to open */
	char		**comps;	/* path split at '/' */
	size_t		 ncomps;
	uint64_t	 length;
	/* Set by the hasher. */
	uint64_t	 pad;		/* hybrid: zero bytes after the file */
	uint32_t	 npieces;	/* v2 pieces of the file */
	unsigned char	 root[32];	/* v2 pieces root (non-empty files) */
	unsigned char	*layer;		/* v2 piece layer, npieces * 32 bytes */
};

struct mktree {
	char		*name;		/* the torrent's name */
	int		 single;	/* PATH was a file */
	struct mkfile	*files;
	size_t		 nfiles;
	uint64_t	 total;
	size_t		 skipped_links;
	size_t		 skipped_hidden;
	size_t		 skipped_other;	/* devices, fifos, sockets */
	int		 skipped_out;	/* the output torrent was under path */
};

enum mk_order {
	MK_ORDER_PATH,		/* bytes of the whole path, as mktorrent (v1) */
	MK_ORDER_TREE		/* component by component: the v2 file tree */
};

struct scanopts {
	int		 hidden;	/* include names starting with '.' */
	int		 follow;	/* follow symbolic links */
	enum mk_order	 order;
	int		 skip;		/* leave out the file skip_dev/ino: */
	dev_t		 skip_dev;	/* the torrent being written, if it */
	ino_t		 skip_ino;	/* is already under the path */
};

/*
 * 0, or an exit class (BT_EXIT_INPUT: the path or a name in it cannot
 * make a torrent; BT_EXIT_WORLD: a directory could not be read) with err
 * naming the path.
 */
int	mk_scan(struct mktree *, const char *path, const struct scanopts *,
	    char *err);
void	mk_tree_free(struct mktree *);
/* 1 if s[0..n) is valid UTF-8 (no overlong forms, no surrogates). */
int	mk_utf8_ok(const unsigned char *s, size_t n);

#endif
