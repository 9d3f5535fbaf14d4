/* opts.h: btpeer's command line, as main.c parsed it. Types only. */
#ifndef BTPEER_OPTS_H
#define BTPEER_OPTS_H

#include <stdint.h>

#include "peer.h"
#include "select.h"
#include "peer_mse.h"
#include "spool.h"

struct utm;

struct opts {
	const char	*torrent;
	const char	*addr;
	const char	*spooldir;
	const char	*outdir;
	enum spool_strategy strategy;
	enum peer_mode	 mode;
	int		 verbose;
	int		 direct;	/* O_DIRECT piece writes */
	int		 utp;		/* dial over uTP (BEP 29), not TCP */
	int		 queue;
	int		 timeout;	/* seconds without progress */
	uint32_t	 piece;		/* PEER_PIECE */
	int		 maxconns;
	int		 slots;		/* --upload-slots, 0: no choking */
	uint64_t	 maxdown, maxup;	/* bytes/s, 0: unlimited */
	const char	*listen;
	struct sel_spec	 spec;		/* --files, --include, --exclude */
	const struct sel *sel;		/* resolved, or NULL: everything */
	const char	*pexfile;	/* --pex: peers to tell about */
	uint16_t	 dht_port;	/* --dht-port: BEP 5, 0: none */
	/* --metadata: the fetch, its result read by main (BEP 9). */
	struct utm	*utm;
	enum peer_crypto encryption;	/* --encryption */
	int		 piecelog;	/* --piece-log, open to append; -1: none */
	int		 seed;		/* --seed: dial even with everything */
	/* PEER_SERVE on a connection we dialled: everything is here. */
	int		 seed_out;
};

#endif
