/*
 * session.h: one peer connection, both directions: the handshake, the
 * choke/interest state, downloading pieces into the spool (fetch.c) and
 * answering requests from verified data (serve.c). One session per
 * process; the event lines on stdout are listed in btpeer(1).
 */
#ifndef BTPEER_SESSION_H
#define BTPEER_SESSION_H

#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "metainfo.h"
#include "spool.h"
#include "wire.h"

/*
 * Blocks requested and not yet received. 256 MiB from libtorrent on
 * loopback: 16 blocks 4.0 s, 64 3.4 s, 128 3.1 s, 256 3.05 s, 512 2.9 s
 * (btpeer(1)); 128 is most of the gain for 2 MiB in flight.
 */
#define SESS_QUEUE_DEFAULT	128
#define SESS_QUEUE_MAX		1024
/* Requests a peer may queue with us: 32 MiB of answers, then dropped. */
#define SESS_PEER_REQS		2048
/* Bad pieces from one peer before we give up on it. */
#define SESS_MAX_HASHFAIL	3
/* Pieces in flight at once, and the memory they may take. */
#define SESS_MAX_ACTIVE		64
#define SESS_MAX_INFLIGHT	(64u << 20)
/* Read at most this much at once; past WLOW unsent bytes, serving waits. */
#define SESS_READ_CHUNK		(1u << 20)
#define SESS_WLOW		(512u << 10)
/* Silence after which we send a keepalive (BEP 3: about two minutes). */
#define SESS_KEEPALIVE		90
/* Recently dropped pieces whose late blocks are ignored, not an error. */
#define SESS_STALE		64

enum sess_mode {
	MODE_FETCH,		/* connect, download into the spool, serve */
	MODE_BITFIELD,		/* connect, print the peer's pieces */
	MODE_PIECE,		/* connect, fetch one piece to stdout */
	MODE_SERVE		/* fds 0/1 (or a --listen child): serve, fetch */
};

enum blk_state { BLK_NONE, BLK_REQ, BLK_GOT };

struct active {
	uint32_t	 index;
	uint32_t	 size;
	uint32_t	 nblocks;
	uint32_t	 ngot;
	uint32_t	 next;		/* first block maybe not requested */
	uint32_t	 hashed;	/* blocks fed to the hash, in order */
	int		 endgame;	/* not claimed: a duplicate fetch */
	unsigned char	*data;
	unsigned char	*st;		/* enum blk_state per block */
	EVP_MD_CTX	*md;
};

struct preq {
	uint32_t	 index, begin, length;
};

struct opts {
	const char	*torrent;
	const char	*addr;
	const char	*spooldir;
	const char	*outdir;
	enum spool_strategy strategy;
	enum sess_mode	 mode;
	int		 verbose;
	int		 direct;	/* O_DIRECT piece writes */
	int		 queue;
	int		 timeout;	/* seconds without progress */
	uint32_t	 piece;		/* MODE_PIECE */
	int		 maxconns;
	const char	*listen;
};

struct session {
	const struct opts *o;
	const struct metainfo *mi;
	struct spool	*sp;		/* NULL in MODE_BITFIELD/PIECE */
	struct wire_limits lim;
	int		 rfd, wfd;
	FILE		*ev;		/* event lines; NULL for none */
	double		 t0;

	unsigned char	*rbuf;
	size_t		 rcap, rpos, rlen;
	unsigned char	*wbuf;
	size_t		 wcap, wpos, wlen;

	int		 hs_done;
	int		 nmsgs;		/* messages received after the handshake */
	unsigned char	 peer_id[20];
	unsigned char	*peer_has;	/* BEP 3 bit order */
	uint32_t	 peer_count;
	int		 choked;	/* the peer chokes us */
	int		 interested;	/* we are interested */
	int		 peer_choked;	/* we choke the peer */
	int		 peer_interested;

	struct active	 act[SESS_MAX_ACTIVE];
	int		 nact, maxact;
	unsigned char	*pool[SESS_MAX_ACTIVE];	/* piece buffers, reused */
	int		 npool;
	uint32_t	 outstanding;
	uint32_t	 stale[SESS_STALE];
	int		 nstale;
	int		 hashfails;
	int		 nothing_left;	/* pick said the peer has nothing for us */

	struct preq	*reqs;		/* the peer's requests, a ring */
	size_t		 rqhead, rqlen;
	unsigned char	*told;		/* pieces we announced to the peer */
	unsigned char	*verified;	/* no spool: final-file pieces checked */
	int		 piecefd;	/* cached open spool piece */
	uint32_t	 piecefd_i;

	double		 last_recv, last_send, last_progress, hs_time;
	uint64_t	 down, up, up_reported;
	int		 done;		/* exit code once finished, or -1 */
	char		 err[256];
};

/* Runs a session on connected fds until it ends; returns the exit code. */
int	session_run(const struct opts *, const struct metainfo *,
	    struct spool *, int rfd, int wfd, FILE *events);

/* Internal to btpeer: session.c, fetch.c, serve.c. */
double	now(void);
void	trace(struct session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	event(struct session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	fail(struct session *, int code, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Room for n more bytes at wbuf + wlen; out_add appends them. */
int	out_space(struct session *, size_t n);
int	out_add(struct session *, const void *, size_t);
int	peer_bit(const struct session *, uint32_t i);

int	fetch_init(struct session *);
void	fetch_free(struct session *);
int	fetch_fill(struct session *);
int	fetch_block(struct session *, const struct wire_msg *);
void	fetch_choked(struct session *);
int	fetch_tick(struct session *);
void	fetch_update_interest(struct session *, uint32_t newpiece);

int	serve_init(struct session *);
void	serve_free(struct session *);
int	serve_request(struct session *, const struct wire_msg *);
void	serve_cancel(struct session *, const struct wire_msg *);
int	serve_fill(struct session *);
int	serve_bitfield(struct session *);
int	serve_tick(struct session *);

#endif
