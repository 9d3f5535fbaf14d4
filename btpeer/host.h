/*
 * host.h: what the peer core (lib/peer.h) asks of btpeer, carried out
 * on the spool and the final files: claims, stores, reads of verified
 * data, availability, event lines on a stream and traces on stderr.
 * Requests are answered from verified data only: spool pieces, or final
 * files under -o for pieces btassemble placed (or, with no spool at all,
 * final files checked piece by piece before the first block of each is
 * sent). One struct host per connection; it owns its descriptors.
 *
 * With --piece-log, "piece i ok" lines go to that file and the event
 * stream gets "pieces n" in their place (lib/piecelog.h).
 */
#ifndef BTPEER_HOST_H
#define BTPEER_HOST_H

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>

#include "choker.h"
#include "metainfo.h"
#include "opts.h"
#include "peer.h"
#include "piecelog.h"
#include "spool.h"
#include "storage.h"

struct host {
	const struct opts *o;
	const struct metainfo *mi;
	struct spool	*sp;		/* NULL: no spool */
	FILE		*ev;		/* event lines; NULL: none */
	int64_t		 t0;		/* for trace timestamps */
	int		 outfd;		/* -o directory, or -1 */
	struct st_reader files;		/* final files under -o */
	struct spool_rd	 rd;		/* spool piece files */
	unsigned char	*verified;	/* no spool: final pieces checked */
	uint64_t	*told;		/* spool have bits already handled */
	unsigned char	*want;		/* wanted pieces, BEP 3 bit order */
	unsigned char	*mask;		/* the peer's pieces & want */
	struct peer_host ops;		/* the callbacks, ctx = this */
	struct choker	 ch;		/* our part in the shared choking */
	struct piecelog	 plog;		/* the event lines go through it */
};

/* Microseconds of CLOCK_MONOTONIC. */
int64_t	host_now(void);
/* 0, or -1 with err and *code (BT_EXIT_*). */
int	host_init(struct host *, const struct opts *, const struct metainfo *,
	    struct spool *, FILE *events, char *err, int *code);
void	host_free(struct host *);
/* 1 if every wanted piece is in the spool. */
int	host_complete(const struct host *);
/*
 * Tells p about pieces stored (here or by another process) since last.
 * Called every tick: also prints the "pieces" count when it is due.
 */
int	host_new_pieces(struct host *, struct peer *);
/*
 * Zero-copy upload (peer.h): host_sendable is the core's sendable
 * callback (ctx a struct host): placed pieces, or with no spool checked
 * final-file pieces, that touch no pad file and at most HOST_SEGS
 * files. host_sendfile sends up to max bytes of ref from its file to
 * the socket with sendfile(2), one file at a time: bytes sent, or -1
 * with errno (the socket's side: EAGAIN and the like), or -2 with err
 * (the file's side: the connection ends with a system error).
 */
#define HOST_SEGS	8
int	host_sendable(void *ctx, uint32_t i, uint32_t begin, uint32_t len,
	    char *err);
ssize_t	host_sendfile(struct host *, int sock, const struct peer_fileref *,
	    size_t max, char *err);
/* An event line, as the core's would be. */
void	host_event(struct host *, const char *line);
/* --piece-log: the pieces held back, logged and counted now. */
void	host_count(struct host *);

#endif
