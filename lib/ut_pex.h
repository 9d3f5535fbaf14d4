/*
 * ut_pex.h: BEP 11, peer exchange, as a BEP 10 extension of the peer
 * core (struct peer_ext in peer.h).
 *
 * Receiving: each peer a ut_pex message adds ("added", "added.f",
 * "added6", "added6.f") becomes an event line
 *	peer HOST:PORT pex FLAGS
 * (FLAGS: a comma list of seed, enc, utp, holepunch, reachable, "-" for
 * none, or "?" when the message gave no added.f for the peer),
 * which bittorrent(1) takes into its bounded candidate queue. At most
 * PEX_MAX_IN peers of one message and PEX_MAX_LEARNED of one connection
 * are taken; "dropped" is traced only.
 *
 * Sending: when the host gives a list callback, the peers it names are
 * sent at most once a minute (PEX_INTERVAL) and at most PEX_MAX_ADDED
 * added a message, as BEP 11 asks; later messages carry what changed
 * (added and dropped). Private torrents (BEP 27) must not register this
 * extension at all.
 */
#ifndef BT_UT_PEX_H
#define BT_UT_PEX_H

#include <stddef.h>
#include <stdint.h>

#include "peer.h"

#define PEX_NAME	"ut_pex"
/* BEP 11: no more often than once a minute. */
#define PEX_INTERVAL	(60 * PEER_SEC)
/* The first message waits this long after the handshake (libtorrent
 * waits 0.6-2 s): the peer's own extension handshake is in by then. */
#define PEX_FIRST	(2 * PEER_SEC)
/* BEP 11: at most 50 added (and 50 dropped) peers a message. */
#define PEX_MAX_ADDED	50
/* Added peers taken from one message: twice what BEP 11 allows. */
#define PEX_MAX_IN	100
/*
 * Peers one connection may teach us: ten full messages a minute for
 * some time; past it a flooding peer is ignored (bittorrent's queue is
 * bounded as well).
 */
#define PEX_MAX_LEARNED	1000
/* Peers we keep telling one peer about (what it was last sent). */
#define PEX_MAX_KNOWN	200

/* BEP 11 flags of added.f. */
#define PEX_F_ENC	0x01
#define PEX_F_SEED	0x02
#define PEX_F_UTP	0x04
#define PEX_F_HOLEPUNCH	0x08
#define PEX_F_REACHABLE	0x10

struct pex_peer {
	unsigned char	 ip[16];	/* IPv4 in the first 4 bytes */
	int		 v6;
	uint16_t	 port;
	uint8_t		 flags;
	int		 noflags;	/* received without added.f */
};

/* The host's current peers to tell about: how many written to out. */
typedef int (*pex_list_fn)(void *ctx, struct pex_peer *out, int max);

struct pex {
	struct peer_ext	 ext;		/* what goes into peer_cfg.ext */
	pex_list_fn	 list;		/* NULL: we send nothing */
	void		*list_ctx;
	struct pex_peer	 sent[PEX_MAX_KNOWN];	/* what the peer was told */
	int		 nsent;
	int64_t		 next_send;	/* 0: the first not planned yet */
	uint32_t	 learned;
	uint64_t	 nmsgs_in, nmsgs_out;
};

void	pex_init(struct pex *, pex_list_fn, void *list_ctx);

/*
 * Parses one ut_pex message; fn is called for each peer, added (1) or
 * dropped (0), at most max_added added ones. 0, or -1 with err.
 */
int	pex_parse(const unsigned char *, size_t, int max_added,
	    void (*fn)(void *, const struct pex_peer *, int added), void *ctx,
	    char *err);
/* "1.2.3.4:5" or "[::1]:5". */
void	pex_addr(const struct pex_peer *, char *out, size_t n);
/* "seed,utp" or "-". */
void	pex_flags(uint8_t, char *out, size_t n);
/* The other way: "enc,seed" or "-" into *f; 0, or -1 on a name unknown. */
int	pex_flags_parse(const char *, uint8_t *f);
/*
 * The message telling about the peers in now that were not in was
 * (added, at most PEX_MAX_ADDED) and those of was gone (dropped):
 * bencoded into out; was becomes what the peer knows then. Its length,
 * or 0 if nothing changed.
 */
size_t	pex_build(const struct pex_peer *now, int nnow,
	    struct pex_peer *was, int *nwas, unsigned char *out, size_t max);

#endif
