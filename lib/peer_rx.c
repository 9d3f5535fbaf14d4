/*
 * peer_rx.c: scatter reads (peer.h, peer_recv_iov). The payload of an
 * expected block goes straight from the socket into its piece buffer,
 * not through the framing buffer and a copy. Only a block whose piece
 * is active and which is not had yet is read in place, so a block that
 * turns out wrong can only land where nothing good is yet; the next
 * blocks of the piece are predicted and their headers checked after the
 * read, and whatever does not match is framed as usual. When a read
 * ended with a message, the next one starts with the block expected
 * next, checked the same way.
 */
#include <string.h>

#include "peer_int.h"

static uint32_t
be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/*
 * The framing buffer ends inside a piece message of an expected block:
 * its payload so far goes to the piece buffer (a few bytes, once), and
 * the rest will be read there. 1 if so, the framing buffer then empty.
 */
static int
enter_direct(struct peer *p)
{
	struct peer_rx *x = &p->rx;
	const unsigned char *b = p->rbuf + p->rpos;
	size_t have = p->rlen - p->rpos;
	unsigned char *dst;
	uint32_t len;

	if (have < WIRE_PIECE_HDR || b[4] != WIRE_PIECE)
		return 0;
	len = be32(b);
	if (len < 9 || len > p->lim.maxmsg || have >= 4 + (size_t)len)
		return 0;
	dst = fetch_slot(p, be32(b + 5), be32(b + 9), len - 9);
	if (dst == NULL)
		return 0;
	x->direct = 1;
	x->discard = 0;
	x->index = be32(b + 5);
	x->begin = be32(b + 9);
	x->length = len - 9;
	x->got = (uint32_t)(have - WIRE_PIECE_HDR);
	memcpy(dst, b + WIRE_PIECE_HDR, x->got);
	p->rpos = p->rlen = 0;
	return 1;
}

static void
set_seg(struct peer_rx *x, void *b, size_t n)
{
	x->seg[x->nseg].iov_base = b;
	x->seg[x->nseg++].iov_len = n;
}

/*
 * Nothing being received and nothing framed (the last read ended with a
 * message, as reads that empty the socket do): the plan can start with
 * the block expected next, its header checked as a predicted one's. 1 if
 * so, *ix and the rest set to it.
 */
static int
expect_ahead(struct peer *p, uint32_t *ix, uint32_t *b, uint32_t *nl,
    unsigned char **dst)
{
	if (p->rpos != p->rlen || !fetch_expect(p, ix, b, nl, dst))
		return 0;
	p->rpos = p->rlen = 0;
	p->rx.discard = 0;
	return 1;
}

int
peer_recv_iov(struct peer *p, struct iovec *iov)
{
	struct peer_rx *x = &p->rx;
	unsigned char *dst = NULL;
	uint32_t ix = 0, b = 0, nl = 0;
	size_t room;
	int j, ahead = 0, more;

	x->nseg = x->chain = 0;
	x->dlen = x->ctotal = x->flen = 0;
	if (p->done >= 0 || p->phase != PEER_PH_MESSAGES ||
	    (!x->direct && (!peer_fetching(p) || (!enter_direct(p) &&
	    !(ahead = expect_ahead(p, &ix, &b, &nl, &dst)))))) {
		iov[0].iov_base = peer_inbuf(p, &room);
		iov[0].iov_len = room;
		return 1;
	}
	/* Empty here: grows the framing buffer after a full read. */
	(void)peer_inbuf(p, &room);
	if (ahead) {
		/* Segment 0, the block being received, is empty. */
		set_seg(x, p->rbuf, 0);
		more = 1;
	} else {
		if (x->discard) {
			x->dlen = x->length - x->got < p->rcap ?
			    x->length - x->got : p->rcap;
			set_seg(x, p->rbuf, x->dlen);
			memcpy(iov, x->seg, sizeof(x->seg[0]));
			return 1;
		}
		dst = fetch_slot(p, x->index, x->begin, x->length);
		/* Cannot happen: drop_active sets discard. */
		if (dst == NULL) {
			x->discard = 1;
			return peer_recv_iov(p, iov);
		}
		x->dlen = x->length - x->got;
		set_seg(x, dst + x->got, x->dlen);
		ix = x->index;
		b = x->begin;
		more = fetch_predict(p, &ix, &b, &nl, &dst);
	}
	/*
	 * The predicted blocks: on a wrong guess their bytes are framed
	 * from the framing buffer, so they must fit there.
	 */
	while (x->chain < PEER_RX_CHAIN && more &&
	    x->ctotal + 2 * WIRE_PIECE_HDR + nl <= p->rcap) {
		j = x->chain++;
		x->cindex[j] = ix;
		x->cbegin[j] = b;
		x->clen[j] = nl;
		set_seg(x, x->hdr[j], WIRE_PIECE_HDR);
		set_seg(x, dst, nl);
		x->ctotal += WIRE_PIECE_HDR + nl;
		more = fetch_predict(p, &ix, &b, &nl, &dst);
	}
	/* Then the next header only: the next read takes its block. */
	x->flen = WIRE_PIECE_HDR;
	set_seg(x, p->rbuf + x->ctotal, x->flen);
	memcpy(iov, x->seg, (size_t)x->nseg * sizeof(x->seg[0]));
	return x->nseg;
}

/* A whole block read in place: a piece message, as on_message counts. */
static int
landed(struct peer *p, uint32_t i, uint32_t begin, uint32_t len)
{
	p->last_msg = p->now;
	p->nmsgs++;
	p->down += len;
	if (fetch_landed(p, i, begin, len) == -1 || p->done >= 0)
		return -1;
	return 0;
}

/* Bytes of the plan from chain offset off to end, to the framing buffer. */
static void
reframe(struct peer *p, size_t off, size_t end)
{
	struct peer_rx *x = &p->rx;
	size_t at = 0, k, from;
	int s;

	/* Segment 0 is the direct block; the chain follows. */
	for (s = 1; s < x->nseg - 1 && at < end; s++) {
		if (at + x->seg[s].iov_len > off) {
			from = off > at ? off - at : 0;
			k = x->seg[s].iov_len - from;
			if (at + from + k > end)
				k = end - at - from;
			memcpy(p->rbuf + at + from,
			    (unsigned char *)x->seg[s].iov_base + from, k);
		}
		at += x->seg[s].iov_len;
	}
}

int
peer_recv_done(struct peer *p, size_t n, int64_t now)
{
	struct peer_rx *x = &p->rx;
	unsigned char want[WIRE_PIECE_HDR];
	size_t k, off, rc;
	int s, j;

	if (x->nseg == 0)
		return peer_received(p, n, now);
	p->now = now;
	if (p->done >= 0)
		return -1;
	if (n == 0)
		return 0;
	p->last_recv = now;
	p->rfull = n >= x->dlen + x->ctotal + x->flen;
	if (p->tr != NULL && p->tr->decode != NULL)
		for (k = n, s = 0; s < x->nseg && k > 0; s++) {
			size_t c = x->seg[s].iov_len < k ? x->seg[s].iov_len :
			    k;

			if (c > 0)
				p->tr->decode(p->tr->ctx, x->seg[s].iov_base,
				    c);
			k -= c;
		}
	/* dlen 0 and not direct: the plan began with a predicted block. */
	k = n < x->dlen ? n : x->dlen;
	x->got += (uint32_t)k;
	n -= k;
	if (x->direct && x->got == x->length) {
		x->direct = 0;
		if (!x->discard && landed(p, x->index, x->begin, x->length) ==
		    -1)
			return -1;
		x->discard = 0;
	}
	if (n == 0)
		return 0;
	/* The predicted blocks, while their headers are the ones foreseen. */
	for (off = 0, j = 0; j < x->chain && n >= WIRE_PIECE_HDR; j++) {
		wire_piece_hdr(want, x->cindex[j], x->cbegin[j], x->clen[j]);
		if (memcmp(x->hdr[j], want, WIRE_PIECE_HDR) != 0)
			break;
		k = n - WIRE_PIECE_HDR < x->clen[j] ? n - WIRE_PIECE_HDR :
		    x->clen[j];
		off += WIRE_PIECE_HDR + k;
		n -= WIRE_PIECE_HDR + k;
		if (k < x->clen[j]) {
			x->direct = 1;
			x->discard = 0;
			x->index = x->cindex[j];
			x->begin = x->cbegin[j];
			x->length = x->clen[j];
			x->got = (uint32_t)k;
			return 0;
		}
		if (landed(p, x->cindex[j], x->cbegin[j], x->clen[j]) == -1)
			return -1;
	}
	if (n == 0)
		return 0;
	/* A wrong guess, or what follows: framed from the framing buffer. */
	rc = n < x->ctotal - off ? off + n : x->ctotal;
	if (j < x->chain)
		reframe(p, off, rc);
	p->rpos = off;
	p->rlen = off + n;
	return peer_on_input(p);
}
