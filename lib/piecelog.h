/*
 * piecelog.h: --piece-log of the piece sources (btpeer, btwebseed). The
 * "piece i ok" event lines go to a log file, appended a buffer of whole
 * lines at a time (so the processes of a download can share one file),
 * and the event stream gets "pieces n" in their place: the pieces stored
 * since the last count, at most every PLOG_EVERY, before any other line
 * and at the end; a piece's line reaches the log before its count is
 * printed. A reader of the events (the orchestrator, in bash) then pays
 * a line a tenth of a second, not a line a piece, however small the
 * pieces. The caller owns the descriptor and the event stream and gives
 * the clock.
 */
#ifndef BT_PIECELOG_H
#define BT_PIECELOG_H

#include <stdint.h>
#include <stdio.h>

/* Piece lines held back: about 250 of them, one write. */
#define PLOG_BUF	4096
/*
 * Microseconds between counts at most. A tenth of a second keeps a
 * progress display live while the reader of many sources handles a few
 * lines a second from each.
 */
#define PLOG_EVERY	100000

struct piecelog {
	int		 fd;		/* the log, open to append; -1: none */
	uint32_t	 npend;		/* pieces not yet counted */
	int64_t		 tcount;	/* when the last count went out */
	size_t		 plen;		/* bytes in pbuf */
	char		 pbuf[PLOG_BUF];	/* piece lines not yet logged */
};

/* fd -1: every line goes to the events as it comes. */
void	plog_init(struct piecelog *, int fd);
/*
 * One event line (no newline) to ev, or held for the log if it is a
 * "piece i ok" and a log is open. now: microseconds, any monotonic
 * origin.
 */
void	plog_event(struct piecelog *, FILE *ev, const char *line,
	    int64_t now);
/*
 * The pieces held back logged and counted on ev: when due (force 0: a
 * caller's periodic tick), or now (force 1: at the end).
 */
void	plog_count(struct piecelog *, FILE *ev, int64_t now, int force);

#endif
