/*
 * peer_serve.c: uploading. The peer's requests wait in a ring of
 * PEER_PEER_REQS; while the output buffer is under PEER_WLOW they are
 * answered with blocks host.read puts straight into it.
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
	    p->host->can_serve == NULL)
		return 0;
	bits = calloc(1, (size_t)p->lim.bitfield_len + 1);
	if (bits == NULL)
		return peer_fail(p, BT_FAIL_SYSTEM, "out of memory");
	for (i = 0; i < p->mi->npieces; i++)
		if (can_serve(p, i)) {
			bits[i / 8] |= 0x80 >> (i % 8);
			n++;
		}
	if (n > 0) {
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
	if (p->peer_choked) {
		peer_trace(p, "  ignored: the peer is choked");
		return;
	}
	if (!can_serve(p, m->index)) {
		peer_trace(p, "  ignored: we do not have piece %u", m->index);
		return;
	}
	if (p->rqlen == PEER_PEER_REQS) {
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

int
serve_fill(struct peer *p)
{
	unsigned char *b;
	char err[BT_ERRLEN];
	struct peer_req q;
	int r;

	while (p->rqlen > 0 && p->wlen - p->wpos < PEER_WLOW) {
		q = p->reqs[p->rqhead];
		p->rqhead = (p->rqhead + 1) % PEER_PEER_REQS;
		p->rqlen--;
		if (q.length == 0)
			continue;	/* cancelled */
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

void
serve_tick(struct peer *p)
{
	if (p->up > p->up_reported) {
		peer_event(p, "sent %llu", (unsigned long long)(p->up -
		    p->up_reported));
		p->up_reported = p->up;
	}
}
