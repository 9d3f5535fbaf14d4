/*
 * engine.h: btwebseed's state, shared by pieces.c (claimed pieces: start,
 * finish, drop) and fetch.c (HTTP requests with libcurl). One struct eng
 * per run, owned by wsf_run; nothing static.
 *
 * A piece is cut into ranges, one per file it spans (ws_piece_ranges).
 * A request fetches a run of ranges that follow each other in one file:
 * the last range of a piece and the first of the next piece, and so on,
 * so that a file's consecutive pieces come in one response (fewer round
 * trips) while each piece is hashed and stored as soon as it is whole.
 */
#ifndef BTWEBSEED_ENGINE_H
#define BTWEBSEED_ENGINE_H

#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>

#include "bt.h"
#include "buf.h"
#include "fetch.h"
#include "piecelog.h"
#include "webseed.h"

enum { R_TODO, R_BUSY, R_DONE };

struct wpiece {
	uint32_t	 index;
	uint32_t	 size;
	uint64_t	 gen;		/* unique per start: requests match it */
	int		 endgame;	/* another process holds its claim */
	unsigned char	*data;
	struct ws_range	*rg;
	unsigned char	*st;		/* R_* per range */
	int		 nrg;
	int		 ndone;
	int		 next;		/* no R_TODO range before this one */
};

/* One range of a request: which piece (and which start of it), which range. */
struct seg {
	uint32_t	 piece;
	uint64_t	 gen;
	int		 r;
	uint32_t	 len;
};

/* A header value kept from a response: short, or marked too long. */
#define WSF_HDRLEN	128

struct xfer {
	struct eng	*e;
	CURL		*h;
	int		 busy;
	struct seg	 seg[WSF_RUN_MAX];
	int		 nseg;
	int		 cur;		/* the range being received */
	uint32_t	 curgot;	/* bytes of it so far */
	size_t		 file;
	uint64_t	 off;		/* where the run starts in the file */
	uint64_t	 len;		/* bytes of the run */
	uint64_t	 got;
	int		 overlong;	/* the body went past the run */
	int		 judged;
	enum ws_verdict	 verdict;
	long		 status;
	char		 crange[WSF_HDRLEN];
	size_t		 crlen;
	int		 has_cr;
	char		 retry[WSF_HDRLEN];
	size_t		 retrylen;
	int		 has_retry;
	double		 t0;
	char		 curlerr[CURL_ERROR_SIZE];
};

struct eng {
	const struct wsf_opts *o;
	const struct metainfo *mi;
	struct spool	*sp;
	FILE		*ev;
	struct piecelog	 plog;		/* the event lines go through it */
	CURLM		*m;
	struct xfer	 x[WSF_JOBS_MAX];
	int		 nbusy;
	struct wpiece	 act[WSF_MAX_ACTIVE];
	int		 nact;
	int		 maxact;
	unsigned char	*pool[WSF_MAX_ACTIVE];	/* piece buffers, reused */
	int		 npool;
	uint64_t	 gen;
	unsigned char	*has;		/* pieces this seed may still give */
	unsigned char	*gone;		/* per file: not on this server */
	int		 nothing_left;
	int		 hashfails;
	int		 fails;		/* failed requests in a row */
	double		 last_fail;
	double		 pause_until;	/* no new request before */
	int		 done;		/* exit code once decided, else -1 */
	char		 err[BT_ERRLEN];
	double		 t0;
	struct buf	 url;
};

double	wsf_now(void);
int64_t	wsf_usec(void);
void	wsf_trace(struct eng *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void	wsf_event(struct eng *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* The seed failed (exit 1): the first reason is kept. Returns -1. */
int	wsf_fail(struct eng *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* pieces.c */
struct wpiece *piece_find(struct eng *, uint32_t index, int *k);
struct wpiece *piece_of(struct eng *, const struct seg *);
/* A new piece (and the ones after it in its file): 1, 0 none, -1 error. */
int	piece_next(struct eng *);
/* Hashes and stores every piece whose ranges are all in; how many. */
int	piece_finish_ready(struct eng *);
void	piece_drop(struct eng *, int k);
void	piece_drop_stored(struct eng *);
void	piece_file_gone(struct eng *, size_t f, long status);

/* fetch.c */
void	xfer_release(struct eng *, struct xfer *);

#endif
