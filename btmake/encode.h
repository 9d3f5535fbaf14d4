/*
 * encode.h: the .torrent bytes for a hashed tree, checked and written.
 * Canonical bencode, keys sorted, so the same input and options always
 * give the same bytes (and --no-date makes them independent of the
 * clock).
 */
#ifndef BTMAKE_ENCODE_H
#define BTMAKE_ENCODE_H

#include <stdint.h>

#include "buf.h"
#include "scan.h"

struct mktier {
	char		**urls;
	size_t		 nurls;
};

struct mkmeta {
	int		 mode;		/* MK_V1, MK_V2 or MK_HYBRID */
	uint64_t	 piece_len;
	struct mktier	*tiers;
	size_t		 ntiers;
	char		**webseeds;
	size_t		 nwebseeds;
	int		 private;
	const char	*source;	/* in info: changes the info-hash */
	const char	*comment;
	int		 no_date;
	long long	 date;
};

/* 0, or -1 with err when the torrent would pass MI_MAX_TORRENT. */
int	mk_encode(struct buf *, const struct mktree *, const struct mkmeta *,
	    const unsigned char *pieces, uint32_t npieces, char *err);
/*
 * These two report on stderr themselves. mk_check reads the torrent back
 * with lib/metainfo (and says its info-hashes when verbose); mk_write
 * writes it to out, or standard output for NULL or "-". 0 or -1.
 */
int	mk_check(const struct buf *, int verbose);
int	mk_write(const char *out, const struct buf *);

#endif
