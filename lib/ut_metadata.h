/*
 * ut_metadata.h: BEP 9, the metadata exchange, as a BEP 10 extension of
 * the peer core (struct peer_ext in peer.h).
 *
 * Serving: requests for the info dictionary are answered in 16 KiB
 * pieces from the torrent's raw info bytes, so a magnet leecher can
 * start from us. Fetching: once the peer's extension handshake names
 * ut_metadata and a metadata_size under UTM_MAX_SIZE, the pieces are
 * requested a few at a time; when all are in, their SHA-1 must equal
 * the info-hash, and the connection ends (done, 0). A reject, a wrong
 * size or wrong metadata ends it with a failure: the caller asks
 * another peer.
 *
 * One struct utm per connection; it owns its buffer (utm_free).
 */
#ifndef BT_UT_METADATA_H
#define BT_UT_METADATA_H

#include <stddef.h>
#include <stdint.h>

#include "peer.h"

#define UTM_NAME	"ut_metadata"
/* BEP 9's piece size. */
#define UTM_PIECE	(16u << 10)
/*
 * The largest info dictionary fetched: 16 MiB holds 800,000 piece
 * hashes (a 780 GiB torrent at 1 MiB pieces), past any honest torrent
 * we expect, and bounds what a peer's metadata_size can make us
 * allocate.
 */
#define UTM_MAX_SIZE	(16u << 20)
/* Our requests in flight: small, the metadata is small. */
#define UTM_INFLIGHT	4
/* Unsent bytes past which a peer's requests are rejected, not queued. */
#define UTM_OUT_MAX	(1u << 20)

enum utm_msg { UTM_REQUEST, UTM_DATA, UTM_REJECT };

struct utm {
	struct peer_ext	 ext;		/* what goes into peer_cfg.ext */
	/* Serving: the raw info dictionary, or NULL (requests rejected). */
	const unsigned char *info;
	size_t		 info_len;
	/* Fetching. */
	int		 fetch;
	unsigned char	 info_hash[20];
	unsigned char	*buf;		/* the metadata as it arrives */
	uint32_t	 size, npieces, next, ngot, inflight;
	unsigned char	*got;		/* per piece, 1 once stored */
	int		 done;		/* buf holds the verified metadata */
	uint64_t	 served;	/* pieces sent, for the record */
};

/* Serves info (may be NULL); fetches too when fetch_hash is not NULL. */
void	utm_init(struct utm *, const unsigned char *info, size_t info_len,
	    const unsigned char *fetch_hash);
void	utm_free(struct utm *);

/*
 * A ut_metadata message's header: 0 and its fields (piece, total_size
 * or -1) with *hdr the header's length, or -1 with err. For the fuzzer
 * and the tests as much as for the extension.
 */
int	utm_parse(const unsigned char *, size_t, int64_t *type,
	    int64_t *piece, int64_t *total, size_t *hdr, char *err);

#endif
