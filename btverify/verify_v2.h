/*
 * verify_v2.h: checking data by its BEP 52 merkle trees (SHA-256 of 16
 * KiB blocks), for v2-only torrents and the v2 half of hybrids. Fills the
 * same struct vresult as verify(), so every report works unchanged.
 */
#ifndef BTVERIFY_VERIFY_V2_H
#define BTVERIFY_VERIFY_V2_H

#include "metainfo.h"
#include "verify.h"

/*
 * Verifies the files under dir with opt->jobs threads. A piece is good
 * when its subtree gives its hash in the piece layer; a file of one piece
 * is checked against its pieces root; a file whose layer the torrent
 * lacks is good or bad as a whole. 0 with res filled, or -1 with err.
 */
int	verify_v2(const struct metainfo *, const char *dir,
	    const struct vopts *, struct vresult *, char *err);

#endif
