/* opts.h: btpeer's command line, as main.c parsed it. Types only. */
#ifndef BTPEER_OPTS_H
#define BTPEER_OPTS_H

#include <stdint.h>

#include "peer.h"
#include "spool.h"

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
	const char	*listen;
};

#endif
