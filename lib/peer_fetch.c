/*
 * peer_fetch.c: downloading. Pieces come from host.claim, are requested
 * in 16 KiB blocks with up to cfg.queue blocks outstanding, hashed as
 * their blocks arrive in order, checked whole and handed to host.store.
 */
#include <stdlib.h>
#include <string.h>

#include "peer_int.h"
#include "storage.h"

int
fetch_init(struct peer *p)
{
	uint64_t plen = p->mi->piece_length;
	uint64_t want;

	if (plen == 0)
		plen = 1;
	/* Enough pieces to keep the queue full, within the memory cap. */
	want = ((uint64_t)p->cfg->queue * WIRE_BLOCK + plen - 1) / plen + 1;
	if (want > PEER_MAX_ACTIVE)
		want = PEER_MAX_ACTIVE;
	if (want * plen > PEER_MAX_INFLIGHT)
		want = PEER_MAX_INFLIGHT / plen;
	if (want < 1)
		want = 1;
	p->maxact = p->cfg->mode == PEER_PIECE ? 1 : (int)want;
	return 0;
}

static int
is_stale(const struct peer *p, uint32_t i)
{
	int k;

	for (k = 0; k < p->nstale; k++)
		if (p->stale[k] == i)
			return 1;
	return 0;
}

static uint32_t
block_len(const struct peer_active *a, uint32_t b)
{
	return b + 1 == a->nblocks ? a->size - b * WIRE_BLOCK : WIRE_BLOCK;
}

/* Drops active piece k: its claim; its late blocks then ignored. */
static void
drop_active(struct peer *p, int k, int cancel)
{
	struct peer_active *a = &p->act[k];
	unsigned char m[WIRE_REQUEST_LEN], *hint;
	uint32_t b;

	for (b = 0; b < a->nblocks; b++) {
		if (a->st[b] != PEER_BLK_REQ)
			continue;
		p->outstanding--;
		if (cancel) {
			peer_trace(p, "> cancel %u %u+%u", a->index,
			    b * WIRE_BLOCK, block_len(a, b));
			peer_out_add(p, m, wire_request(m, WIRE_CANCEL,
			    a->index, b * WIRE_BLOCK, block_len(a, b)));
		}
	}
	/* Its block being read straight into the buffer: throw it away. */
	if (p->rx.direct && p->rx.index == a->index)
		p->rx.discard = 1;
	if (!a->endgame && p->host->release != NULL)
		p->host->release(p->host->ctx, a->index);
	p->stale[p->nstale < PEER_STALE ? p->nstale++ :
	    (int)(a->index % PEER_STALE)] = a->index;
	free(a->st);
	p->pool[p->npool++] = a->data;
	EVP_MD_CTX_free(a->md);
	p->act[k] = p->act[--p->nact];
	/* The last slot moved into k: its rseq hint follows it. */
	hint = &p->seqslot[p->act[k].rseq % PEER_SEQ_MAP];
	if (k < p->nact && p->act[k].rseq != 0 && *hint == p->nact)
		*hint = (unsigned char)k;
}

void
fetch_free(struct peer *p)
{
	int k;

	while (p->nact > 0)
		drop_active(p, p->nact - 1, 0);
	for (k = 0; k < p->npool; k++)
		free(p->pool[k]);
	p->npool = 0;
	free(p->fast_mask);
	p->fast_mask = NULL;
}

static int
start_piece(struct peer *p, uint32_t i, int endgame)
{
	struct peer_active *a = &p->act[p->nact];
	unsigned char *data = NULL;

	memset(a, 0, sizeof(*a));
	a->index = i;
	a->size = mi_piece_size(p->mi, i);
	a->nblocks = (a->size + WIRE_BLOCK - 1) / WIRE_BLOCK;
	a->endgame = endgame;
	/* Reuse a buffer: fresh large mallocs are fresh page faults. */
	if (p->npool > 0)
		data = p->pool[--p->npool];
	/* Aligned: the store may write it with O_DIRECT. */
	if (data == NULL && posix_memalign((void **)&data, 4096,
	    p->mi->piece_length) != 0)
		data = NULL;
	a->data = data;
	a->st = calloc(a->nblocks, 1);
	a->md = EVP_MD_CTX_new();
	if (a->data == NULL || a->st == NULL || a->md == NULL ||
	    EVP_DigestInit_ex(a->md, EVP_sha1(), NULL) != 1) {
		free(a->data);
		free(a->st);
		EVP_MD_CTX_free(a->md);
		return peer_fail(p, BT_FAIL_SYSTEM, "out of memory");
	}
	p->nact++;
	if (endgame && p->cfg->mode != PEER_PIECE)
		peer_event(p, "endgame %u", i);
	peer_trace(p, "  start piece %u%s", i, endgame ? " (endgame)" : "");
	return 0;
}

/*
 * The slot of active piece i, or -1. Blocks come in runs of one piece,
 * and the read planner asks for each: the last answer is tried first.
 */
static int
find_active(struct peer *p, uint32_t i)
{
	int k;

	if (p->hint >= 0 && p->hint < p->nact && p->act[p->hint].index == i)
		return p->hint;
	for (k = 0; k < p->nact; k++)
		if (p->act[k].index == i)
			return p->hint = k;
	return -1;
}

/*
 * Request numbers after a's tried by their seqslot hints before a scan:
 * pieces mostly complete in request order, so the next one or two are
 * usually still active; a few more cover pieces that finished early.
 */
#define SEQ_TRIES	4

/* The slot of the active piece first requested after a's, or -1. */
static int
next_requested(struct peer *p, const struct peer_active *a)
{
	const struct peer_active *n = NULL;
	uint64_t s;
	int j, k = -1;

	for (s = a->rseq + 1; s <= p->rseq && s <= a->rseq + SEQ_TRIES; s++) {
		j = p->seqslot[s % PEER_SEQ_MAP];
		if (j < p->nact && p->act[j].rseq == s)
			return j;
	}
	for (j = 0; j < p->nact; j++)
		if (p->act[j].rseq > a->rseq && (n == NULL ||
		    p->act[j].rseq < n->rseq)) {
			n = &p->act[j];
			k = j;
		}
	return k;
}

/* A new piece to fetch: 1 started, 0 none for now, -1 error. */
static int
next_piece(struct peer *p)
{
	int64_t r, eg = -1;

	if (p->cfg->mode == PEER_PIECE) {
		if (p->nact > 0 || p->done >= 0 || !peer_bit(p, p->cfg->piece))
			return 0;
		return start_piece(p, p->cfg->piece, 1) == -1 ? -1 : 1;
	}
	if (p->host->claim == NULL || p->nact >= p->maxact)
		return 0;
	p->nothing_left = 0;
	r = p->host->claim(p->host->ctx, p->peer_has, &eg);
	if (r >= 0) {
		if (start_piece(p, (uint32_t)r, 0) == -1) {
			if (p->host->release != NULL)
				p->host->release(p->host->ctx, (uint32_t)r);
			return -1;
		}
		return 1;
	}
	if (r == -2) {
		p->nothing_left = 1;
		return 0;
	}
	/* Endgame: everything we could fetch is claimed elsewhere. */
	if (p->nact == 0 && eg >= 0 && (uint64_t)eg < p->mi->npieces &&
	    find_active(p, (uint32_t)eg) < 0)
		return start_piece(p, (uint32_t)eg, 1) == -1 ? -1 : 1;
	return 0;
}

/*
 * Choked, a piece of the peer's allowed fast set (BEP 6): 1 started, 0
 * none, -1 error. The claim sees only that piece in the peer's pieces.
 */
static int
fast_piece(struct peer *p)
{
	int64_t r, eg;
	uint32_t i;
	int k;

	if (p->host->claim == NULL || p->nact >= p->maxact ||
	    p->cfg->mode == PEER_PIECE)
		return 0;
	if (p->fast_mask == NULL &&
	    (p->fast_mask = calloc(1, (size_t)p->lim.bitfield_len + 1)) ==
	    NULL)
		return peer_fail(p, BT_FAIL_SYSTEM, "out of memory");
	for (k = 0; k < p->nfast_in; k++) {
		i = p->fast_in[k];
		if (i >= p->mi->npieces || !peer_bit(p, i) ||
		    find_active(p, i) >= 0)
			continue;
		p->fast_mask[i / 8] |= 0x80 >> (i % 8);
		r = p->host->claim(p->host->ctx, p->fast_mask, &eg);
		p->fast_mask[i / 8] = 0;
		if (r != (int64_t)i)
			continue;
		peer_trace(p, "  choked: piece %u is allowed fast", i);
		if (start_piece(p, i, 0) == -1) {
			if (p->host->release != NULL)
				p->host->release(p->host->ctx, i);
			return -1;
		}
		return 1;
	}
	return 0;
}

int
fetch_fill(struct peer *p)
{
	unsigned char m[WIRE_REQUEST_LEN];
	struct peer_active *a;
	int k, r, choked_fast;

	if (!peer_fetching(p) || !p->interested)
		return 0;
	/* BEP 6: choked, only the pieces the peer allows fast. */
	choked_fast = p->choked && p->fast && p->nfast_in > 0 &&
	    p->now - p->choked_since >= PEER_FAST_WAIT;
	if (p->choked && !choked_fast)
		return 0;
	while (p->outstanding < (uint32_t)p->cfg->queue) {
		a = NULL;
		for (k = 0; k < p->nact; k++) {
			struct peer_active *c = &p->act[k];

			if (choked_fast && !fast_theirs(p, c->index))
				continue;
			while (c->next < c->nblocks &&
			    c->st[c->next] != PEER_BLK_NONE)
				c->next++;
			if (c->next < c->nblocks) {
				a = c;
				break;
			}
		}
		if (a == NULL) {
			r = choked_fast ? fast_piece(p) : next_piece(p);
			if (r == -1)
				return -1;
			if (r == 0)
				break;
			continue;
		}
		if (p->cfg->verbose)
			peer_trace(p, "> request %u %u+%u", a->index,
			    a->next * WIRE_BLOCK, block_len(a, a->next));
		if (peer_out_add(p, m, wire_request(m, WIRE_REQUEST, a->index,
		    a->next * WIRE_BLOCK, block_len(a, a->next))) == -1)
			return -1;
		if (a->next == 0) {
			a->rseq = ++p->rseq;
			p->seqslot[a->rseq % PEER_SEQ_MAP] =
			    (unsigned char)(a - p->act);
		}
		a->st[a->next++] = PEER_BLK_REQ;
		p->outstanding++;
	}
	if (p->nact == 0 && p->nothing_left && p->cfg->mode == PEER_FETCH &&
	    p->interested) {
		p->interested = 0;
		p->idle_since = p->now;
		return peer_send_simple(p, WIRE_NOT_INTERESTED);
	}
	return 0;
}

static int
finish(struct peer *p, int k)
{
	struct peer_active *a = &p->act[k];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	char err[BT_ERRLEN];
	uint32_t i = a->index;
	int r;

	if (EVP_DigestFinal_ex(a->md, md, &mdlen) != 1)
		return peer_fail(p, BT_FAIL_SYSTEM, "SHA-1 failed");
	if (!st_piece_match(p->mi, i, md)) {
		p->hashfails++;
		peer_event(p, "piece %u bad", i);
		peer_trace(p, "  piece %u fails its hash (%d so far)", i,
		    p->hashfails);
		drop_active(p, k, 0);
		if (p->cfg->mode == PEER_PIECE)
			return peer_fail(p, BT_FAIL_PEER, "piece %u failed "
			    "its hash", i);
		if (p->hashfails >= PEER_MAX_HASHFAIL)
			return peer_fail(p, BT_FAIL_PEER, "%d pieces failed "
			    "their hash", p->hashfails);
		return 0;
	}
	r = p->host->store(p->host->ctx, i, a->data, a->size, err);
	if (r == -1)
		return peer_fail(p, BT_FAIL_OUTPUT, "%s", err);
	drop_active(p, k, 0);
	if (p->cfg->mode == PEER_PIECE) {
		p->done = BT_EXIT_OK;
		return 0;
	}
	peer_event(p, "piece %u %s", i, r == 1 ? "ok" : "dup");
	peer_trace(p, "  piece %u %s", i, r == 1 ? "verified, stored" :
	    "verified, already stored");
	if (p->cfg->mode == PEER_FETCH && p->host->complete != NULL &&
	    p->host->complete(p->host->ctx)) {
		peer_event(p, "done");
		p->done = BT_EXIT_OK;
	}
	return 0;
}

/* Block b of active piece k is in its buffer: count it, hash, finish. */
static int
got_block(struct peer *p, int k, uint32_t b)
{
	struct peer_active *a = &p->act[k];

	/* PEER_BLK_NONE: sent before a choke that discarded the request. */
	if (a->st[b] == PEER_BLK_REQ)
		p->outstanding--;
	a->st[b] = PEER_BLK_GOT;
	a->ngot++;
	p->last_progress = p->now;
	while (a->hashed < a->nblocks && a->st[a->hashed] == PEER_BLK_GOT) {
		EVP_DigestUpdate(a->md, a->data + a->hashed * WIRE_BLOCK,
		    block_len(a, a->hashed));
		a->hashed++;
	}
	if (a->ngot == a->nblocks)
		return finish(p, k);
	return 0;
}

int
fetch_block(struct peer *p, const struct wire_msg *m)
{
	struct peer_active *a;
	uint32_t b;
	int k;

	if (p->cfg->verbose)
		peer_trace(p, "< piece %u %u+%u", m->index, m->begin,
		    m->length);
	k = find_active(p, m->index);
	if (k < 0) {
		if (is_stale(p, m->index))
			return 0;
		return peer_fail(p, BT_FAIL_PEER, "piece %u %u+%u not "
		    "requested", m->index, m->begin, m->length);
	}
	a = &p->act[k];
	b = m->begin / WIRE_BLOCK;
	if (m->begin % WIRE_BLOCK != 0 || b >= a->nblocks ||
	    m->length != block_len(a, b))
		return peer_fail(p, BT_FAIL_PEER, "piece %u %u+%u not "
		    "requested", m->index, m->begin, m->length);
	if (a->st[b] == PEER_BLK_GOT)
		return 0;
	memcpy(a->data + m->begin, m->data, m->length);
	return got_block(p, k, b);
}

unsigned char *
fetch_slot(struct peer *p, uint32_t i, uint32_t begin, uint32_t len)
{
	struct peer_active *a;
	uint32_t b = begin / WIRE_BLOCK;
	int k = find_active(p, i);

	if (k < 0)
		return NULL;
	a = &p->act[k];
	if (begin % WIRE_BLOCK != 0 || b >= a->nblocks ||
	    len != block_len(a, b) || a->st[b] == PEER_BLK_GOT)
		return NULL;
	return a->data + begin;
}

int
fetch_predict(struct peer *p, uint32_t *i, uint32_t *begin, uint32_t *len,
    unsigned char **dst)
{
	struct peer_active *a;
	uint32_t b = *begin / WIRE_BLOCK + 1;
	int k = find_active(p, *i);

	if (k < 0)
		return 0;
	a = &p->act[k];
	/* Past its last block: the first of the piece requested next. */
	if (b >= a->nblocks) {
		if ((k = next_requested(p, a)) < 0)
			return 0;
		p->hint = k;
		a = &p->act[k];
		b = 0;
	}
	if (a->st[b] != PEER_BLK_REQ)
		return 0;
	*i = a->index;
	*begin = b * WIRE_BLOCK;
	*len = block_len(a, b);
	*dst = a->data + *begin;
	return 1;
}

int
fetch_expect(struct peer *p, uint32_t *i, uint32_t *begin, uint32_t *len,
    unsigned char **dst)
{
	struct peer_active *a = NULL;
	uint32_t b, first = 0;
	int j;

	for (j = 0; j < p->nact; j++) {
		if (a != NULL && p->act[j].rseq >= a->rseq)
			continue;
		for (b = 0; b < p->act[j].nblocks; b++)
			if (p->act[j].st[b] == PEER_BLK_REQ)
				break;
		if (b < p->act[j].nblocks) {
			a = &p->act[j];
			first = b;
		}
	}
	if (a == NULL)
		return 0;
	*i = a->index;
	*begin = first * WIRE_BLOCK;
	*len = block_len(a, first);
	*dst = a->data + *begin;
	return 1;
}

int
fetch_landed(struct peer *p, uint32_t i, uint32_t begin, uint32_t len)
{
	if (p->cfg->verbose)
		peer_trace(p, "< piece %u %u+%u", i, begin, len);
	/* Checked by fetch_slot when the read was planned. */
	if (fetch_slot(p, i, begin, len) == NULL)
		return 0;
	return got_block(p, find_active(p, i), begin / WIRE_BLOCK);
}

void
fetch_choked(struct peer *p)
{
	struct peer_active *a;
	uint32_t b;
	int k;

	/* BEP 3: a choke discards our requests; ask again on unchoke. */
	for (k = 0; k < p->nact; k++) {
		a = &p->act[k];
		for (b = 0; b < a->nblocks; b++)
			if (a->st[b] == PEER_BLK_REQ)
				a->st[b] = PEER_BLK_NONE;
		a->next = 0;
	}
	p->outstanding = 0;
}

/* BEP 6: a rejected request goes back to be asked again. */
int
fetch_reject(struct peer *p, const struct wire_msg *m)
{
	struct peer_active *a;
	uint32_t b;
	int k;

	if (p->cfg->verbose)
		peer_trace(p, "< reject %u %u+%u: asked again later",
		    m->index, m->begin, m->length);
	for (k = 0; k < p->nact; k++) {
		a = &p->act[k];
		if (a->index != m->index)
			continue;
		b = m->begin / WIRE_BLOCK;
		if (m->begin % WIRE_BLOCK == 0 && b < a->nblocks &&
		    a->st[b] == PEER_BLK_REQ) {
			a->st[b] = PEER_BLK_NONE;
			a->next = 0;
			p->outstanding--;
		}
		return 0;
	}
	return 0;
}

void
fetch_interest(struct peer *p, uint32_t newpiece)
{
	uint32_t i;
	int want = 0;

	if (!peer_fetching(p) || p->interested)
		return;
	if (p->cfg->mode == PEER_PIECE) {
		want = peer_bit(p, p->cfg->piece);
	} else if (p->host->have == NULL) {
		return;
	} else if (newpiece != UINT32_MAX) {
		want = !p->host->have(p->host->ctx, newpiece);
	} else {
		for (i = 0; i < p->mi->npieces && !want; i++)
			want = peer_bit(p, i) && !p->host->have(p->host->ctx,
			    i);
	}
	if (!want)
		return;
	p->interested = 1;
	p->nothing_left = 0;
	p->last_progress = p->now;
	peer_send_simple(p, WIRE_INTERESTED);
}

/* Piece i was stored by another process meanwhile: stop fetching it. */
void
fetch_drop_had(struct peer *p, uint32_t i)
{
	int k;

	for (k = p->nact - 1; k >= 0; k--)
		if (p->act[k].index == i && p->cfg->mode != PEER_PIECE) {
			peer_event(p, "piece %u dup", i);
			drop_active(p, k, 1);
		}
}

int
fetch_tick(struct peer *p)
{
	int64_t t = p->now;

	if (!peer_fetching(p))
		return 0;
	/* --piece: a peer that does not announce it within a while lacks it. */
	if (p->cfg->mode == PEER_PIECE && !p->interested &&
	    t - p->hs_time > PEER_ANNOUNCE_WAIT)
		return peer_fail(p, BT_FAIL_PEER, "peer does not have piece "
		    "%u", p->cfg->piece);
	if (p->cfg->mode == PEER_FETCH && p->host->complete != NULL &&
	    p->host->complete(p->host->ctx)) {
		peer_event(p, "done");
		p->done = BT_EXIT_OK;
		return 0;
	}
	if (p->interested && (p->nact > 0 || p->choked) &&
	    t - p->last_progress > p->cfg->timeout) {
		if (p->choked)
			return peer_fail(p, BT_FAIL_PEER, "choked for %lld s",
			    (long long)(p->cfg->timeout / PEER_SEC));
		return peer_fail(p, BT_FAIL_PEER, "no block for %lld s",
		    (long long)(p->cfg->timeout / PEER_SEC));
	}
	return 0;
}
