/*
 * fetch.h: btwebseed's download engine. Claims missing pieces in the
 * spool, fetches their byte ranges from one web seed with libcurl (up to
 * jobs requests in flight over kept-alive connections), checks SHA-1 and
 * commits. Event lines on ev (with --piece-log, piecelog.h), traces on
 * stderr with verbose.
 */
#ifndef BTWEBSEED_FETCH_H
#define BTWEBSEED_FETCH_H

#include <stdio.h>

#include "metainfo.h"
#include "select.h"
#include "spool.h"

/* Requests in flight by default, and the most allowed. */
#define WSF_JOBS_DEFAULT	4
#define WSF_JOBS_MAX		64
/* Bad pieces from one seed before it is given up, as btpeer does. */
#define WSF_MAX_HASHFAIL	3
/* Redirects followed per request: more is a loop. */
#define WSF_MAX_REDIRS		5
/* Failed requests in a row (after backoff) before the seed is given up. */
#define WSF_RETRIES_DEFAULT	5
/* Backoff after the n-th failure in a row: 1, 2, 4 ... seconds, capped. */
#define WSF_BACKOFF_MAX		30
/*
 * Piece buffers held at once: enough pieces to keep the requests busy,
 * no more than this many bytes (as btpeer's in-flight cap).
 */
#define WSF_MAX_INFLIGHT	(64u << 20)
#define WSF_MAX_ACTIVE		256
/*
 * One request asks for up to WSF_RUN_MAX consecutive pieces of a file
 * (--span), and stops adding pieces past WSF_RUN_BYTES: a round trip
 * per 4 MiB costs little on any link, and a failed request loses little.
 */
#define WSF_RUN_MAX		32
#define WSF_RUN_DEFAULT		32
#define WSF_RUN_BYTES		(4u << 20)
/* A request slower than this many bytes/s for --timeout s is dropped. */
#define WSF_LOW_SPEED		1024

struct wsf_opts {
	const char	*url;
	const char	*cacert;	/* NULL: the system's CAs */
	const struct sel *sel;		/* --files...: NULL, every piece */
	enum spool_strategy strategy;
	int		 jobs;
	int		 timeout;	/* s: connect, and low-speed window */
	int		 retries;
	int		 span;		/* pieces per request at most */
	int		 verbose;
	int		 piecelog;	/* --piece-log, open to append; -1: none */
};

/*
 * Downloads what this seed can give into sp. Returns the exit code
 * (BT_EXIT_*); the last event line says why on failure.
 */
int	wsf_run(const struct wsf_opts *, const struct metainfo *,
	    struct spool *, FILE *ev);

#endif
