/*
 * webseed.h: the pure part of a BEP 19 web seed (GetRight style): which
 * URL serves a file, which byte ranges of which files make a piece, and
 * what an HTTP response to a range request means. No I/O here: the caller
 * (btwebseed) owns libcurl, the clock and the buffers.
 */
#ifndef BT_WEBSEED_H
#define BT_WEBSEED_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "metainfo.h"

/* A URL we build never passes MI_MAX_URL plus the encoded path. */
#define WS_MAX_URL	(MI_MAX_URL + 3 * MI_MAX_PATH + 8)
/*
 * Longest wait a server may ask for with Retry-After: a mirror that
 * wants us gone for longer is given up, and the orchestrator may try it
 * again later (exit 1).
 */
#define WS_MAX_RETRY_AFTER	300

/* One byte range of one file, and where it lands in the piece. */
struct ws_range {
	size_t		 file;		/* index in mi->files */
	uint64_t	 off;		/* offset within the file */
	uint32_t	 len;		/* bytes, > 0 */
	uint32_t	 poff;		/* offset within the piece */
	int		 pad;		/* a pad file: zeros, not requested */
};

/*
 * The URL of file f for web seed base (BEP 19): a single-file torrent
 * uses base itself, or base + name when base ends with '/'; a multi-file
 * torrent uses base + '/' (added when missing, as libtorrent and aria2
 * do) + name/path..., each component percent-encoded (RFC 3986
 * unreserved bytes kept). Appends to b; 0, or -1 when b's cap is passed.
 */
int	ws_file_url(struct buf *b, const char *base, const struct metainfo *,
	    size_t f);

/*
 * The ranges of piece i, in piece order, at most max of them (a piece
 * spans at most as many files as the torrent has); zero-length files
 * give none. Returns the count, or -1 if max is too small; with out
 * NULL, only counts.
 */
int	ws_piece_ranges(const struct metainfo *, uint32_t i,
	    struct ws_range *out, size_t max);

/*
 * Parses a Content-Range header value "bytes FIRST-LAST/TOTAL" (TOTAL
 * may be "*"; *total then gets UINT64_MAX). Leading and trailing blanks
 * are allowed. 0, or -1 when malformed or LAST < FIRST.
 */
int	ws_content_range(const char *s, size_t n, uint64_t *first,
	    uint64_t *last, uint64_t *total);

/*
 * Parses a Retry-After value: delta-seconds, or an IMF-fixdate ("Sun, 06
 * Nov 1994 08:49:37 GMT") taken relative to now. *secs gets the wait,
 * 0 for a date in the past, capped at INT32_MAX. 0, or -1 when malformed.
 */
int	ws_retry_after(const char *s, size_t n, time_t now, long *secs);

/* What a response to "Range: bytes=off-(off+len-1)" of a file means. */
enum ws_verdict {
	WS_OK,		/* the bytes asked for follow */
	WS_NO_RANGE,	/* 200 with the whole file: Range ignored */
	WS_BAD_RANGE,	/* 206 for other bytes than asked, or no range */
	WS_MISSING,	/* 404/410/416: this file is not on the server */
	WS_RETRY,	/* 408/429/5xx: try again later */
	WS_REFUSED	/* any other status: the server says no */
};

/*
 * Judges a response: HTTP status, the Content-Range value (NULL if none)
 * and the range asked for in a file of filelen bytes. A 200 for a range
 * that is the whole file is WS_OK.
 */
enum ws_verdict ws_judge(long status, const char *crange, size_t crlen,
	    uint64_t off, uint32_t len, uint64_t filelen);

#endif
