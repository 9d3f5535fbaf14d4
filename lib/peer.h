/*
 * peer.h: one BitTorrent peer connection as a sans-I/O state machine
 * (BEP 3, with slots for BEP 6, BEP 10, MSE and other transports).
 *
 * The caller owns the descriptor, the clock, the randomness and every
 * file; the core owns the protocol. The loop is, in the manner of
 * jech/dht's dht_periodic:
 *
 *	peer_init(&p, &cfg, &host, NULL, now);	  queues our handshake
 *	for (;;) {
 *		peer_fill(&p);			  requests and answers
 *		peer_output(&p, &buf, &len);	  bytes to send (may be 0)
 *		n = send(buf, len); peer_sent(&p, n);
 *		if none and peer_output_file(&p, &ref):	  a block from storage
 *			n = sendfile(...); peer_sent_file(&p, n);
 *		wait for input, or until peer_tick's deadline;
 *		peer_input(&p, bytes, n, now);	  or peer_eof(&p, now)
 *		(or peer_recv_iov, readv, peer_recv_done: scatter reads)
 *		deadline = peer_tick(&p, now);
 *		if (peer_done(&p) >= 0) break;
 *	}
 *	peer_free(&p);
 *
 * Time is a count of microseconds from any origin the caller likes
 * (CLOCK_MONOTONIC in btpeer, a variable in the unit tests).
 *
 * Actions: what the protocol decides and the caller must carry out goes
 * out through struct peer_host, a table of callbacks the core calls
 * synchronously from inside peer_input/peer_tick/peer_fill: claim or
 * release a piece, store a verified piece, read a block to upload, say
 * whether a piece is had, print an event line, trace. The core itself
 * never reads a file, a socket or a clock, never prints, never exits.
 * Close: when the connection should end, peer_done() turns >= 0 (0, or
 * the exit code of the failure's class in bt.h: p->fail) and
 * peer_reason() says why in one line.
 *
 * Slots for what comes next (each plugs in without touching the message
 * switch in peer.c):
 *  - BEP 10 extensions: cfg.ext lists named sub-protocols (ut_metadata,
 *    ut_pex, ...), each a struct peer_ext with its callbacks. The core
 *    sets the reserved bit, sends the extension handshake (an "m"
 *    dictionary of the names), maps the peer's ids
 *    and hands each extended message to its extension's on_message;
 *    peer_ext_send() sends one (peer_ext.c).
 *  - BEP 6, the fast extension: cfg.fast sets the reserved bit;
 *    p->fast says whether both sides offered it (peer_fast.c):
 *    have_all/have_none both ways, reject sent for requests we will not
 *    answer and received as "ask again later", our allowed fast set
 *    (for cfg.yourip) offered, the peer's fetched while it chokes us,
 *    suggest traced. BEP 10 sub-protocols of this project:
 *    ut_metadata.h (BEP 9) and ut_pex.h (BEP 11); peer_ext has an
 *    on_tick slot for what an extension sends on its own.
 *  - A byte-stream transform below the framing (MSE/PE RC4): struct
 *    peer_transform. It may run its own handshake first (the core then
 *    holds back the BitTorrent handshake until the transform says it is
 *    established), then it decodes received bytes in place before the
 *    framing sees them and encodes queued bytes in place before
 *    peer_output hands them out.
 *  - Another transport (uTP): nothing here knows TCP. The core takes
 *    bytes and gives bytes; a uTP socket feeds the same calls (btpeer's
 *    loop sees the transport through struct conn in btpeer/loop.h).
 *  - A choking policy: host.unchoke decides whether an interested peer
 *    is unchoked (NULL: at once, today's behaviour); peer_choke() lets a
 *    policy choke or unchoke later from the caller's tick.
 *
 * Zero-copy upload: when host.sendable says a block can go straight
 * from storage and the stream is plain (no transform, or one whose
 * identity hook says it passes bytes unchanged), the core queues the
 * piece message's header in its output buffer and, after it, a
 * reference to the block (struct peer_fileref) instead of its bytes.
 * peer_output then stops at the reference; peer_output_file names it
 * and the host sends it itself (sendfile(2) in btpeer) and reports with
 * peer_sent_file, partial sends included. The order of the stream is
 * kept: what is queued after the reference goes out after the block.
 *
 * Ownership: struct peer owns its buffers (peer_free releases them);
 * cfg, host, the metainfo's piece hashes and registered extensions must
 * outlive it. Not thread-safe; no global state.
 */
#ifndef BT_PEER_H
#define BT_PEER_H

#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "bt.h"
#include "wire.h"

/*
 * Blocks requested and not yet received. 256 MiB from libtorrent on
 * loopback: 16 blocks 4.0 s, 64 3.4 s, 128 3.1 s, 256 3.05 s, 512 2.9 s
 * (btpeer(1)); 128 is most of the gain for 2 MiB in flight.
 */
#define PEER_QUEUE_DEFAULT	128
#define PEER_QUEUE_MAX		1024
/* Requests a peer may queue with us: 32 MiB of answers, then ignored. */
#define PEER_PEER_REQS		2048
/* Bad pieces from one peer before we give up on it. */
#define PEER_MAX_HASHFAIL	3
/* Pieces in flight at once, and the memory they may take. */
#define PEER_MAX_ACTIVE		64
/*
 * The slot of the piece first requested as number s, at s % PEER_SEQ_MAP:
 * a hint for "the piece requested next", checked before use. 256: with
 * 16 KiB pieces a piece outlives 64 newer ones only when answered late.
 */
#define PEER_SEQ_MAP		256
#define PEER_MAX_INFLIGHT	(64u << 20)
/*
 * Input buffer room beyond one whole message: a read's worth. Buffers
 * start at PEER_READ_FIRST and grow to this once a peer sends much:
 * an idle connection (a --listen child) holds little.
 */
#define PEER_READ_CHUNK		(1u << 20)
#define PEER_READ_FIRST		(64u << 10)
/* Past this many unsent bytes, serving waits for the socket. */
#define PEER_WLOW		(512u << 10)
/*
 * Blocks queued for the host to send from storage at once: PEER_WLOW
 * is 32 blocks of 16 KiB; requests of smaller blocks beyond this wait
 * for the socket, as a full buffer makes them.
 */
#define PEER_ZC_MAX		64
/* Our silence after which we send a keepalive (BEP 3: about 2 min). */
#define PEER_KEEPALIVE		(90 * PEER_SEC)
/*
 * The peer's silence after which we give up: two of its keepalive
 * periods (BEP 3 says two minutes), whatever else is going on.
 */
#define PEER_SILENCE_MAX	(240 * PEER_SEC)
/*
 * After the handshake, --bitfield and --piece wait this long for the
 * peer to announce its pieces: a peer with none may send no bitfield
 * (BEP 3), and peers that have some send it at once.
 */
#define PEER_ANNOUNCE_WAIT	(3 * PEER_SEC)
/* Recently dropped pieces whose late blocks are ignored, not an error. */
#define PEER_STALE		64
/* Extensions one connection may register (BEP 10 ids 1..n). */
#define PEER_MAX_EXT		8
/* An extension handshake longer than this is refused (BEP 10 suggests
 * keeping messages small; libtorrent's is under 300 bytes). */
#define PEER_EXT_HS_MAX		(16u << 10)
/*
 * With extensions on, a message may be this long whatever the torrent:
 * a ut_metadata piece is 16 KiB of metadata after a bencoded header of
 * about 50 bytes (BEP 9), an extension handshake is capped above.
 */
#define PEER_EXT_MSG_MAX	(2 + (16u << 10) + 1024)
/* The client name we put in "v" (BEP 10). */
#define PEER_CLIENT_NAME	"btpeer 0.1"
#define PEER_SEC		1000000LL
/* BEP 6: the allowed fast set we offer (aria2c offers 10 too). */
#define PEER_FAST_K		10
/*
 * Choked this long, we fetch the peer's allowed-fast pieces (BEP 6):
 * most peers unchoke within a second (aria2c and libtorrent at once on
 * loopback), and fetching those pieces first would break the order a
 * --strategy asks for.
 */
#define PEER_FAST_WAIT		(2 * PEER_SEC)
/* The peer's allowed_fast pieces we remember; more are ignored. */
#define PEER_FAST_MAX		32

/*
 * Scatter reads (peer_recv_iov): blocks predicted per read after the
 * one being received, 1 MiB (a read's worth, PEER_READ_CHUNK); and the
 * iovec entries that takes (that block, a header and a block each,
 * then the framing buffer).
 */
#define PEER_RX_CHAIN		64
#define PEER_RX_IOV		(2 + 2 * PEER_RX_CHAIN)

/* What this connection is for. */
enum peer_mode {
	PEER_FETCH,		/* download what host.claim hands out, serve */
	PEER_BITFIELD,		/* report the peer's pieces, then close */
	PEER_PIECE,		/* fetch cfg.piece only (store once), close */
	PEER_SERVE,		/* an accepted connection: serve, and fetch */
	/*
	 * Extensions only (BEP 9 metadata): the torrent's size is not
	 * known, so bitfields of any length and haves are taken and
	 * ignored; cfg.mi carries only the info-hash.
	 */
	PEER_METADATA
};

struct peer_cfg {
	enum peer_mode	 mode;
	const struct metainfo *mi;
	unsigned char	 peer_id[20];	/* ours */
	int		 queue;		/* blocks in flight, 1..PEER_QUEUE_MAX */
	int64_t		 timeout;	/* us: a phase without progress */
	uint32_t	 piece;		/* PEER_PIECE */
	int		 verbose;	/* call host.trace */
	int		 fast;		/* offer BEP 6 */
	/* BEP 10 sub-protocols, local ids 1..next in this order. */
	const struct peer_ext *const *ext;
	int		 next;
	/* In our extension handshake when set (BEP 10, BEP 9). */
	uint16_t	 port;		/* "p": our listen port */
	uint32_t	 metadata_size;	/* the info dictionary's length */
	unsigned char	 yourip[16];	/* the peer's address as we see it */
	int		 yourip_len;	/* 4 or 16; 0: none */
	/*
	 * BEP 5: our DHT node's UDP port, 0: none. When set, the DHT
	 * reserved bit goes out and a peer that sets it too is sent a
	 * port message after the handshake. A peer's port message is an
	 * event whatever this is: "dht-node IP:PORT" (IP from yourip),
	 * "dht-port PORT" without yourip.
	 */
	uint16_t	 dht_port;
};

struct peer;

struct peer_host {
	void	*ctx;
	/*
	 * Claims a missing piece the peer has (peer_has: BEP 3 bit order).
	 * Index, -1 when all are claimed elsewhere (*endgame then names one
	 * to fetch in duplicate, or -1), -2 when the peer has nothing we
	 * lack. NULL: this connection fetches nothing.
	 */
	int64_t	(*claim)(void *ctx, const unsigned char *peer_has,
		    int64_t *endgame);
	void	(*release)(void *ctx, uint32_t i);
	/* 1 if piece i is verified and stored here (anywhere). */
	int	(*have)(void *ctx, uint32_t i);
	/* 1 if every piece is had (downloading is over). */
	int	(*complete)(void *ctx);
	/* 1 if a request for piece i can be answered. NULL: never. */
	int	(*can_serve)(void *ctx, uint32_t i);
	/* Stores verified piece i: 1 stored, 0 already there, -1 err. */
	int	(*store)(void *ctx, uint32_t i, const unsigned char *,
		    size_t, char *err);
	/*
	 * Reads a block to upload into out: 1 read, 0 not available now
	 * (the request is dropped), -1 with err (the connection ends).
	 */
	int	(*read)(void *ctx, uint32_t i, uint32_t begin, uint32_t len,
		    unsigned char *out, char *err);
	/*
	 * Zero-copy (see the top): 1 if the block can be sent from storage
	 * by the host (peer_output_file), 0 to read it with read, -1 with
	 * err (the connection ends). Asked only on a plain stream. NULL:
	 * never, every block is read.
	 */
	int	(*sendable)(void *ctx, uint32_t i, uint32_t begin,
		    uint32_t len, char *err);
	/* Availability hint: the peer announced (+1) or left (-1) piece i. */
	void	(*avail)(void *ctx, uint32_t i, int delta);
	/* One event line (btpeer(1)), no newline. NULL: none. */
	void	(*event)(void *ctx, const char *line);
	/* One trace line when cfg.verbose, no newline. */
	void	(*trace)(void *ctx, const char *line);
	/* Choking policy: 1 to unchoke an interested peer now. NULL: yes. */
	int	(*unchoke)(void *ctx, const struct peer *);
};

/* A byte-stream transform below the framing (MSE/PE); see the top. */
struct peer_transform {
	void	*ctx;
	/*
	 * Its own handshake, before ours. Consumes received bytes (returns
	 * how many, or -1 with err) and may append bytes to send with
	 * peer_out_add; sets *established once the stream is encrypted.
	 * NULL: none, the transform is established at once.
	 */
	long	(*handshake)(void *ctx, struct peer *, const unsigned char *,
		    size_t, int *established, char *err);
	/* Established: in place over bytes received / about to be sent. */
	void	(*decode)(void *ctx, unsigned char *, size_t);
	void	(*encode)(void *ctx, unsigned char *, size_t);
	/*
	 * 1 if, established, the transform passes bytes unchanged (MSE
	 * with plaintext chosen): blocks may then go zero-copy. NULL: never.
	 */
	int	(*identity)(void *ctx);
};

/* A BEP 10 sub-protocol, listed in peer_cfg.ext. */
struct peer_ext {
	const char *name;		/* "ut_metadata": the m-dict key */
	void	*ctx;
	/* The peer's whole extension handshake (a bencoded dictionary). */
	int	(*on_handshake)(void *ctx, struct peer *,
		    const unsigned char *, size_t, char *err);
	/* One message of this extension: its payload after the ext id. */
	int	(*on_message)(void *ctx, struct peer *,
		    const unsigned char *, size_t, char *err);
	/*
	 * Called from peer_tick (about once a second) once the handshakes
	 * are done, for what an extension sends on its own (ut_pex). NULL:
	 * none. 0, or -1 with err (the connection ends).
	 */
	int	(*on_tick)(void *ctx, struct peer *, int64_t now, char *err);
};

enum peer_blk { PEER_BLK_NONE, PEER_BLK_REQ, PEER_BLK_GOT };

/* A piece being downloaded. */
struct peer_active {
	uint32_t	 index;
	uint32_t	 size;
	uint32_t	 nblocks;
	uint32_t	 ngot;
	uint32_t	 next;		/* first block maybe not requested */
	uint32_t	 hashed;	/* blocks fed to the hash, in order */
	uint64_t	 rseq;		/* when its first block was requested */
	int		 endgame;	/* not claimed: a duplicate fetch */
	unsigned char	*data;
	unsigned char	*st;		/* enum peer_blk per block */
	EVP_MD_CTX	*md;
};

struct peer_req {
	uint32_t	 index, begin, length;	/* length 0: cancelled */
};

/* A block the host sends from storage, at stream offset at. */
struct peer_fileref {
	uint64_t	 at;		/* queued bytes before it (all time) */
	uint32_t	 index, begin, len;	/* what is left of it */
};

/*
 * Scatter reads (peer_rx.c): the block whose payload is being read
 * straight into its piece buffer, and the plan of the last
 * peer_recv_iov.
 */
struct peer_rx {
	int		 direct;	/* inside an expected block's payload */
	int		 discard;	/* its piece was dropped: bytes thrown */
	uint32_t	 index, begin, length, got;
	/* The plan: the iovec handed out; nseg 0: the framing buffer. */
	int		 nseg, chain;
	size_t		 dlen, ctotal, flen;
	uint32_t	 cindex[PEER_RX_CHAIN];
	uint32_t	 cbegin[PEER_RX_CHAIN], clen[PEER_RX_CHAIN];
	unsigned char	 hdr[PEER_RX_CHAIN][WIRE_PIECE_HDR];
	struct iovec	 seg[PEER_RX_IOV];
};

enum peer_phase {
	PEER_PH_TRANSFORM,	/* the transform's own handshake */
	PEER_PH_HANDSHAKE,	/* waiting for the peer's 68 bytes */
	PEER_PH_MESSAGES
};

struct peer {
	const struct peer_cfg *cfg;
	const struct metainfo *mi;
	const struct peer_host *host;
	struct peer_transform *tr;	/* NULL: plain */
	unsigned char	 our_hs[WIRE_HANDSHAKE_LEN];	/* held for tr */
	/*
	 * Set by tr when our_hs went out inside its own handshake (MSE's
	 * initial payload): not sent again once tr is established.
	 */
	int		 hs_in_tr;
	struct wire_limits lim;
	enum peer_phase	 phase;
	int		 done;		/* exit code once over, else -1 */
	enum bt_fail	 fail;		/* why, when done is not 0 */
	char		 reason[BT_ERRLEN];

	unsigned char	*rbuf;		/* received, not yet framed */
	size_t		 rcap, rpos, rlen;
	size_t		 roffer;	/* room peer_inbuf last offered */
	int		 rfull;		/* and the read filled it */
	struct peer_rx	 rx;		/* scatter reads */
	unsigned char	*wbuf;		/* queued to send */
	size_t		 wcap, wpos, wlen, wenc;	/* wenc: encoded up to */
	uint64_t	 wbase;		/* stream offset of wbuf[0] */
	struct peer_fileref zc[PEER_ZC_MAX];	/* a ring, zero-copy blocks */
	size_t		 zchead, nzc;
	uint64_t	 zcbytes;	/* their bytes left to send */

	int64_t		 now;		/* the time of the last call */
	int64_t		 t0, hs_time, last_recv, last_msg, last_send;
	int64_t		 last_progress, idle_since;

	int		 nmsgs;		/* messages after the handshake */
	unsigned char	 peer_reserved[8];
	unsigned char	 peer_id[20];
	unsigned char	*peer_has;	/* BEP 3 bit order */
	uint32_t	 peer_count;
	int		 announced;	/* bitfield, have_all/none or a have */
	int		 choked;	/* the peer chokes us */
	int		 interested;	/* we are interested */
	int		 peer_choked;	/* we choke the peer */
	int		 peer_interested;
	int		 fast;		/* both sides offered BEP 6 */
	uint32_t	 fast_in[PEER_FAST_MAX];	/* its allowed_fast */
	int		 nfast_in;
	uint32_t	 fast_out[PEER_FAST_K];	/* ours, sent to it */
	int		 nfast_out;
	unsigned char	*fast_mask;	/* a claim's mask (peer_fetch.c) */
	int64_t		 choked_since;

	/* Downloading (peer_fetch.c). */
	struct peer_active act[PEER_MAX_ACTIVE];
	int		 nact, maxact;
	int		 hint;		/* slot of the last piece looked up */
	unsigned char	 seqslot[PEER_SEQ_MAP];	/* by rseq, a hint */
	unsigned char	*pool[PEER_MAX_ACTIVE];	/* piece buffers, reused */
	int		 npool;
	uint32_t	 outstanding;
	uint64_t	 rseq;		/* pieces whose first block went out */
	uint32_t	 stale[PEER_STALE];
	int		 nstale;
	int		 hashfails;
	int		 nothing_left;	/* the peer has nothing for us */

	/* Uploading (peer_serve.c). */
	struct peer_req	*reqs;		/* the peer's requests, a ring */
	size_t		 rqhead, rqlen;
	uint64_t	 down, up, up_reported;

	/* BEP 10 (peer_ext.c). */
	int		 ext_on;	/* both sides offered BEP 10 */
	uint8_t		 ext_remote[PEER_MAX_EXT];	/* 0: peer lacks it */
	int		 ext_port;	/* the peer's "p", or 0 */
	int64_t		 ext_reqq;	/* the peer's "reqq", or 0 */
	char		 ext_client[64];	/* its "v", printable, or "" */
};

/*
 * Sets up p and queues our handshake (or lets the transform speak
 * first). tr may be NULL. 0, or -1 with p's reason (out of memory).
 */
int	peer_init(struct peer *, const struct peer_cfg *,
	    const struct peer_host *, struct peer_transform *, int64_t now);
void	peer_free(struct peer *);

/*
 * BEP 6's allowed fast set: the first k (at most npieces) piece indices
 * for IPv4 address ip (host order, /24 masked here) and the info-hash,
 * into out. How many.
 */
uint32_t fast_allowed_set(uint32_t ip, const unsigned char info_hash[20],
	    uint32_t npieces, uint32_t k, uint32_t *out);

/* Bytes received. 0, or -1 once the connection is over (peer_done). */
int	peer_input(struct peer *, const void *, size_t, int64_t now);
/*
 * The same without a copy: read up to *room bytes into the returned
 * space, then say how many arrived with peer_received.
 */
unsigned char *peer_inbuf(struct peer *, size_t *room);
int	peer_received(struct peer *, size_t, int64_t now);
/*
 * Scatter reads, the same without the copy of block payloads from the
 * framing buffer into piece buffers: fills iov (PEER_RX_IOV entries at
 * most) with where the next bytes go, in stream order, and returns how
 * many entries (>= 1); read with readv(2), then say how many bytes
 * arrived with peer_recv_done, calling nothing else in between. Inside
 * a piece message whose block is expected (its piece active, the
 * block not had), the payload goes straight to the piece buffer; the
 * next blocks of that piece still requested are predicted (a header
 * and a block each) and the headers checked after the read: a wrong
 * guess only wrote into blocks not received yet, and its bytes are
 * framed as usual. Everything else goes to the framing buffer. A
 * transform decodes each part in place. Do not mix with peer_inbuf.
 */
int	peer_recv_iov(struct peer *, struct iovec *iov);
int	peer_recv_done(struct peer *, size_t, int64_t now);
/* The peer closed its side. */
void	peer_eof(struct peer *, int64_t now);
/*
 * Timers, and pieces other processes stored meanwhile. Returns the time
 * by which it wants to be called again.
 */
int64_t	peer_tick(struct peer *, int64_t now);
/*
 * Queues requests and answers while the output buffer has room: call
 * before each peer_output. 0, or -1 once over.
 */
int	peer_fill(struct peer *);
/* 1 if requests are queued and there is room to answer them now. */
int	peer_busy(const struct peer *);
/* Piece i is now had here (stored by another process): tell the peer. */
int	peer_have(struct peer *, uint32_t i);
/* Bytes ready to send (encoded), and how many of them went out. */
void	peer_output(struct peer *, const unsigned char **, size_t *);
void	peer_sent(struct peer *, size_t, int64_t now);
/*
 * When peer_output gives no bytes: 1 and the block (or what is left of
 * it) the host is to send from storage next, or 0. Then how many of
 * its bytes went out.
 */
int	peer_output_file(const struct peer *, struct peer_fileref *);
void	peer_sent_file(struct peer *, size_t, int64_t now);
/* Bytes queued and not sent yet, buffered and from storage. */
uint64_t peer_unsent(const struct peer *);
/* A choking policy's decision. */
int	peer_choke(struct peer *, int choke);
/* Ends the connection now: a failure class (bt.h) and a reason. */
int	peer_close(struct peer *, enum bt_fail, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/* -1 while running, else the exit class; and the reason, or "". */
int	peer_done(const struct peer *);
const char *peer_reason(const struct peer *);

/* Appends n bytes to the output (a transform's handshake, extensions). */
int	peer_out_add(struct peer *, const void *, size_t);

/* 1 if the peer's extension handshake offered extension name. */
int	peer_ext_has(const struct peer *, const char *name);
/* Sends one message of extension name: 0, 1 the peer lacks it, -1. */
int	peer_ext_send(struct peer *, const char *name, const void *,
	    size_t);

/*
 * The client a peer id names: Azureus style "-LT2080-" -> "libtorrent
 * 2.0.8", Shadow style "M7-2-2--" and others, ours; "unknown" else.
 */
void	peer_client_name(const unsigned char id[20], char *out, size_t n);

#endif
