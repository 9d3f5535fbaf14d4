/*
 * peer_serve.c: uploading. The peer's requests wait in a ring of
 * PEER_PEER_REQS; while the output buffer is under PEER_WLOW they are
 * answered with blocks host.read puts straight into it, or, on a plain
 * stream, with a piece header and a reference to the block for the
 * host to send from storage itself (host.sendable, peer.h).
 */
#include <stdlib.h>
#include <string.h>

#include "peer_int.h"

int
serve_init(struct peer *p)
{
	p->reqs = calloc(PEER_PEER_REQS, sizeof(*p->reqs));
	if (p->reqs == NULL)
		return peer_fail(p, BT_FAIL_SYSTEM, "out of memory");
	return 0;
}

void
serve_free(struct peer *p)
{
	free(p->reqs);
	p->reqs = NULL;
}

static int
can_serve(const struct peer *p, uint32_t i)
{
	return p->host->can_serve != NULL &&
	    p->host->can_serve(p->host->ctx, i);
}

/* Our bitfield, right after the handshake (none if we have nothing). */
int
serve_bitfield(struct peer *p)
{
	unsigned char hdr[5], *bits;
	uint32_t i, n = 0;
	int r = 0;

	if (p->cfg->mode == PEER_BITFIELD || p->cfg->mode == PEER_PIECE ||
	    p->cfg->mode == PEER_METADATA || p->host->can_serve == NULL) {
		/* BEP 6: with it, one announce is a must. */
		/* peer_send_simple traces what it sends. */
		return p->fast ? peer_send_simple(p, WIRE_HAVE_NONE) : 0;
	}
	bits = calloc(1, (size_t)p->lim.bitfield_len + 1);
	if (bits == NULL)
		return peer_fail(p, BT_FAIL_SYSTEM, "out of memory");
	for (i = 0; i < p->mi->npieces; i++)
		if (can_serve(p, i)) {
			bits[i / 8] |= 0x80 >> (i % 8);
			n++;
		}
	if (p->fast && (n == 0 || n == p->mi->npieces)) {
		r = peer_send_simple(p, n == 0 ? WIRE_HAVE_NONE :
		    WIRE_HAVE_ALL);
	} else if (n > 0) {
		peer_trace(p, "> bitfield %u", n);
		if (peer_out_add(p, hdr, wire_bitfield_hdr(hdr,
		    p->lim.bitfield_len)) == -1 ||
		    peer_out_add(p, bits, p->lim.bitfield_len) == -1)
			r = -1;
	}
	free(bits);
	return r;
}

void
serve_request(struct peer *p, const struct wire_msg *m)
{
	struct peer_req *q;

	if (p->cfg->verbose)
		peer_trace(p, "< request %u %u+%u", m->index, m->begin,
		    m->length);
	if (p->peer_choked && !fast_ours(p, m->index)) {
		if (p->fast)
			fast_reject(p, m->index, m->begin, m->length,
			    "choked");
		else
			peer_trace(p, "  ignored: the peer is choked");
		return;
	}
	if (!can_serve(p, m->index)) {
		if (p->fast)
			fast_reject(p, m->index, m->begin, m->length,
			    "not here");
		else
			peer_trace(p, "  ignored: we do not have piece %u",
			    m->index);
		return;
	}
	if (p->rqlen == PEER_PEER_REQS) {
		if (p->fast)
			fast_reject(p, m->index, m->begin, m->length,
			    "too many queued");
		else
			peer_trace(p, "  ignored: %d requests queued already",
			    PEER_PEER_REQS);
		return;
	}
	q = &p->reqs[(p->rqhead + p->rqlen++) % PEER_PEER_REQS];
	q->index = m->index;
	q->begin = m->begin;
	q->length = m->length;
}

void
serve_cancel(struct peer *p, const struct wire_msg *m)
{
	struct peer_req *q;
	size_t k;

	peer_trace(p, "< cancel %u %u+%u", m->index, m->begin, m->length);
	for (k = 0; k < p->rqlen; k++) {
		q = &p->reqs[(p->rqhead + k) % PEER_PEER_REQS];
		if (q->index == m->index && q->begin == m->begin &&
		    q->length == m->length)
			q->length = 0;
	}
}

/* The stream is plain: blocks may go from storage untouched. */
static int
plain(const struct peer *p)
{
	return p->host->sendable != NULL && (p->tr == NULL ||
	    (p->tr->identity != NULL && p->tr->identity(p->tr->ctx)));
}

int
serve_fill(struct peer *p)
{
	unsigned char *b;
	char err[BT_ERRLEN];
	struct peer_req q;
	int r;

	while (p->rqlen > 0 && peer_unsent(p) < PEER_WLOW &&
	    p->nzc < PEER_ZC_MAX) {
		q = p->reqs[p->rqhead];
		p->rqhead = (p->rqhead + 1) % PEER_PEER_REQS;
		p->rqlen--;
		if (q.length == 0)
			continue;	/* cancelled */
		err[0] = '\0';
		r = plain(p) ? p->host->sendable(p->host->ctx, q.index,
		    q.begin, q.length, err) : 0;
		if (r == -1)
			return peer_fail(p, BT_FAIL_SYSTEM, "%s", err);
		if (r == 1) {
			/* The header here, the block from storage. */
			if (peer_out_space(p, WIRE_PIECE_HDR) == -1)
				return -1;
			wire_piece_hdr(p->wbuf + p->wlen, q.index, q.begin,
			    q.length);
			p->wlen += WIRE_PIECE_HDR;
			peer_out_file(p, q.index, q.begin, q.length);
			p->up += q.length;
			if (p->cfg->verbose)
				peer_trace(p, "> piece %u %u+%u (from storage)",
				    q.index, q.begin, q.length);
			continue;
		}
		/* Header and block straight into the output buffer. */
		if (peer_out_space(p, WIRE_PIECE_HDR + q.length) == -1)
			return -1;
		b = p->wbuf + p->wlen;
		wire_piece_hdr(b, q.index, q.begin, q.length);
		err[0] = '\0';
		r = p->host->read(p->host->ctx, q.index, q.begin, q.length,
		    b + WIRE_PIECE_HDR, err);
		if (r == -1)
			return peer_fail(p, BT_FAIL_SYSTEM, "%s", err);
		if (r == 0) {
			peer_trace(p, "  cannot read piece %u now: request "
			    "dropped", q.index);
			if (p->fast && fast_reject(p, q.index, q.begin,
			    q.length, "cannot read now") == -1)
				return -1;
			continue;
		}
		p->wlen += WIRE_PIECE_HDR + q.length;
		p->up += q.length;
		if (p->cfg->verbose)
			peer_trace(p, "> piece %u %u+%u", q.index, q.begin,
			    q.length);
	}
	return 0;
}

/* BEP 6: choking, each queued request is rejected, but allowed fast ones. */
int
serve_choke_rejects(struct peer *p)
{
	struct peer_req q;
	size_t n = p->rqlen, kept = 0;

	while (n-- > 0) {
		q = p->reqs[p->rqhead];
		p->rqhead = (p->rqhead + 1) % PEER_PEER_REQS;
		p->rqlen--;
		if (q.length == 0)
			continue;
		if (fast_ours(p, q.index)) {
			p->reqs[(p->rqhead + p->rqlen) % PEER_PEER_REQS] = q;
			p->rqlen++;
			kept++;
			continue;
		}
		if (fast_reject(p, q.index, q.begin, q.length, "choked") == -1)
			return -1;
	}
	(void)kept;
	return 0;
}

void
serve_tick(struct peer *p)
{
	if (p->up > p->up_reported) {
		peer_event(p, "sent %llu", (unsigned long long)(p->up -
		    p->up_reported));
		p->up_reported = p->up;
	}
}
