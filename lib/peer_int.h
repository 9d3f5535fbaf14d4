/*
 * peer_int.h: what the files of the peer core share (peer.h is the
 * interface). peer.c drives; peer_fetch.c, peer_serve.c, peer_ext.c and
 * peer_fast.c handle their messages and call only peer_io.c (and the
 * BEP 6 helpers of peer_fast.c), never each other or peer.c. The BEP 10
 * extensions (ut_metadata.c, ut_pex.c) use peer_io.c's traces and
 * events too; everything else they do goes through peer.h.
 */
#ifndef BT_PEER_INT_H
#define BT_PEER_INT_H

#include "peer.h"

/* peer_io.c: output, events, traces, failure. */
void	peer_event(struct peer *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	peer_trace(struct peer *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* A failure inside the core is peer_close (peer.h): the first one counts. */
#define peer_fail	peer_close
/* Room for n more bytes at wbuf + wlen. 0, or -1 (out of memory). */
int	peer_out_space(struct peer *, size_t n);
int	peer_send_simple(struct peer *, int type);
/* Queues a block the host sends from storage (peer.h); -1 if full. */
int	peer_out_file(struct peer *, uint32_t i, uint32_t begin,
	    uint32_t len);
int	peer_bit(const struct peer *, uint32_t i);
/* 1 if this connection downloads (a claim callback, the mode). */
int	peer_fetching(const struct peer *);

/* peer.c: frames and handles what is in the framing buffer. */
int	peer_on_input(struct peer *);

/* peer_fetch.c: downloading. */
int	fetch_init(struct peer *);
void	fetch_free(struct peer *);
int	fetch_fill(struct peer *);
int	fetch_block(struct peer *, const struct wire_msg *);
/*
 * Scatter reads: where an expected block goes in its piece buffer (its
 * piece active, the block not had), else NULL; the block likely to come
 * after block *i, *begin (the next one of the piece, or the first of
 * the piece requested next) if it is requested and not here: 1 and
 * *i, *begin, *len, *dst set to it, or 0; a block whose bytes are now
 * in place (as fetch_block after its copy); fetch_expect: the block
 * likely to come next when none is being received (the first still
 * requested of the piece requested first: peers answer in order), as
 * fetch_predict.
 */
unsigned char *fetch_slot(struct peer *, uint32_t i, uint32_t begin,
	    uint32_t len);
int	fetch_predict(struct peer *, uint32_t *i, uint32_t *begin,
	    uint32_t *len, unsigned char **dst);
int	fetch_expect(struct peer *, uint32_t *i, uint32_t *begin,
	    uint32_t *len, unsigned char **dst);
int	fetch_landed(struct peer *, uint32_t i, uint32_t begin, uint32_t len);
void	fetch_choked(struct peer *);
int	fetch_reject(struct peer *, const struct wire_msg *);
void	fetch_interest(struct peer *, uint32_t newpiece);
int	fetch_tick(struct peer *);
void	fetch_drop_had(struct peer *, uint32_t i);

/* peer_serve.c: uploading. */
int	serve_init(struct peer *);
void	serve_free(struct peer *);
int	serve_bitfield(struct peer *);
void	serve_request(struct peer *, const struct wire_msg *);
void	serve_cancel(struct peer *, const struct wire_msg *);
int	serve_fill(struct peer *);
void	serve_tick(struct peer *);
int	serve_choke_rejects(struct peer *);

/* peer_fast.c: BEP 6. */
int	fast_reject(struct peer *, uint32_t index, uint32_t begin,
	    uint32_t len, const char *why);
int	fast_ours(const struct peer *, uint32_t i);	/* we allow it */
int	fast_theirs(const struct peer *, uint32_t i);	/* it allows us */
int	fast_start(struct peer *);
int	fast_message(struct peer *, const struct wire_msg *);

/* peer_ext.c: BEP 10. */
void	ext_reserved(const struct peer_cfg *, unsigned char reserved[8]);
int	ext_start(struct peer *);
int	ext_message(struct peer *, const struct wire_msg *);
int	ext_tick(struct peer *);

#endif
