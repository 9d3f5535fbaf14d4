/*
 * fetch.c: downloading. Pieces are claimed through the spool, requested
 * in 16 KiB blocks with up to o->queue blocks outstanding, hashed as
 * their blocks arrive in order, verified whole and committed atomically.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bt.h"
#include "session.h"

static int
fetching(const struct session *s)
{
	return s->o->mode != MODE_BITFIELD;
}

int
fetch_init(struct session *s)
{
	uint64_t plen = s->mi->piece_length;
	uint64_t want;

	if (plen == 0)
		plen = 1;
	/* Enough pieces to keep the queue full, within the memory cap. */
	want = ((uint64_t)s->o->queue * WIRE_BLOCK + plen - 1) / plen + 1;
	if (want > SESS_MAX_ACTIVE)
		want = SESS_MAX_ACTIVE;
	if (want * plen > SESS_MAX_INFLIGHT)
		want = SESS_MAX_INFLIGHT / plen;
	if (want < 1)
		want = 1;
	s->maxact = s->o->mode == MODE_PIECE ? 1 : (int)want;
	return 0;
}

static int
is_stale(const struct session *s, uint32_t i)
{
	int k;

	for (k = 0; k < s->nstale; k++)
		if (s->stale[k] == i)
			return 1;
	return 0;
}

/* Drops active piece k: its claim, its late blocks then ignored. */
static void
drop_active(struct session *s, int k, int cancel)
{
	struct active *a = &s->act[k];
	unsigned char m[WIRE_REQUEST_LEN];
	uint32_t b, len;

	for (b = 0; b < a->nblocks; b++) {
		if (a->st[b] != BLK_REQ)
			continue;
		s->outstanding--;
		if (cancel) {
			len = b + 1 == a->nblocks ?
			    a->size - b * WIRE_BLOCK : WIRE_BLOCK;
			trace(s, "> cancel %u %u+%u", a->index,
			    b * WIRE_BLOCK, len);
			out_add(s, m, wire_request(m, WIRE_CANCEL, a->index,
			    b * WIRE_BLOCK, len));
		}
	}
	if (!a->endgame && s->sp != NULL)
		spool_unclaim(s->sp, a->index);
	s->stale[s->nstale < SESS_STALE ? s->nstale++ :
	    (int)(a->index % SESS_STALE)] = a->index;
	free(a->st);
	s->pool[s->npool++] = a->data;
	EVP_MD_CTX_free(a->md);
	s->act[k] = s->act[--s->nact];
}

void
fetch_free(struct session *s)
{
	int k;

	while (s->nact > 0)
		drop_active(s, s->nact - 1, 0);
	for (k = 0; k < s->npool; k++)
		free(s->pool[k]);
	s->npool = 0;
}

static int
start_piece(struct session *s, uint32_t i, int endgame)
{
	struct active *a = &s->act[s->nact];
	unsigned char *data = NULL;
	int k;

	memset(a, 0, sizeof(*a));
	a->index = i;
	a->size = mi_piece_size(s->mi, i);
	a->nblocks = (a->size + WIRE_BLOCK - 1) / WIRE_BLOCK;
	a->endgame = endgame;
	/* Reuse a buffer: fresh large mallocs are fresh page faults. */
	for (k = 0; k < s->npool; k++)
		if (s->pool[k] != NULL) {
			data = s->pool[k];
			s->pool[k] = s->pool[--s->npool];
			break;
		}
	if (data == NULL && posix_memalign((void **)&data, 4096,
	    s->mi->piece_length) != 0)
		data = NULL;
	a->data = data;
	a->st = calloc(a->nblocks, 1);
	a->md = EVP_MD_CTX_new();
	if (a->data == NULL || a->st == NULL || a->md == NULL ||
	    EVP_DigestInit_ex(a->md, EVP_sha1(), NULL) != 1) {
		free(a->data);
		free(a->st);
		EVP_MD_CTX_free(a->md);
		return fail(s, BT_EXIT_WORLD, "out of memory");
	}
	s->nact++;
	if (endgame)
		event(s, "endgame %u", i);
	trace(s, "  start piece %u%s", i, endgame ? " (endgame)" : "");
	return 0;
}

static int
is_active(const struct session *s, uint32_t i)
{
	int k;

	for (k = 0; k < s->nact; k++)
		if (s->act[k].index == i)
			return 1;
	return 0;
}

/* A new piece to fetch: 1 started, 0 none for now, -1 error. */
static int
next_piece(struct session *s)
{
	int64_t r, eg = -1;

	if (s->o->mode == MODE_PIECE) {
		if (s->nact > 0 || s->done >= 0)
			return 0;
		if (!peer_bit(s, s->o->piece))
			return 0;
		return start_piece(s, s->o->piece, 1) == -1 ? -1 : 1;
	}
	if (s->sp == NULL || s->nact >= s->maxact)
		return 0;
	s->nothing_left = 0;
	r = spool_pick(s->sp, s->o->strategy, s->peer_has, &eg);
	if (r >= 0) {
		if (start_piece(s, (uint32_t)r, 0) == -1) {
			spool_unclaim(s->sp, (uint32_t)r);
			return -1;
		}
		return 1;
	}
	if (r == -2) {
		s->nothing_left = 1;
		return 0;
	}
	/* Endgame: everything we could fetch is claimed elsewhere. */
	if (s->nact == 0 && eg >= 0 && !is_active(s, (uint32_t)eg)) {
		return start_piece(s, (uint32_t)eg, 1) == -1 ? -1 : 1;
	}
	return 0;
}

int
fetch_fill(struct session *s)
{
	unsigned char m[WIRE_REQUEST_LEN];
	struct active *a;
	uint32_t len;
	int k, r;

	if (!fetching(s) || s->choked || !s->interested)
		return 0;
	while (s->outstanding < (uint32_t)s->o->queue) {
		a = NULL;
		for (k = 0; k < s->nact; k++) {
			struct active *c = &s->act[k];

			while (c->next < c->nblocks &&
			    c->st[c->next] != BLK_NONE)
				c->next++;
			if (c->next < c->nblocks) {
				a = c;
				break;
			}
		}
		if (a == NULL) {
			r = next_piece(s);
			if (r == -1)
				return -1;
			if (r == 0)
				break;
			continue;
		}
		len = a->next + 1 == a->nblocks ?
		    a->size - a->next * WIRE_BLOCK : WIRE_BLOCK;
		if (s->o->verbose)
			trace(s, "> request %u %u+%u", a->index,
			    a->next * WIRE_BLOCK, len);
		if (out_add(s, m, wire_request(m, WIRE_REQUEST, a->index,
		    a->next * WIRE_BLOCK, len)) == -1)
			return -1;
		a->st[a->next++] = BLK_REQ;
		s->outstanding++;
	}
	if (s->nact == 0 && s->nothing_left && s->o->mode == MODE_FETCH &&
	    s->interested) {
		unsigned char ni[5];

		s->interested = 0;
		trace(s, "> not-interested");
		return out_add(s, ni, wire_simple(ni, WIRE_NOT_INTERESTED));
	}
	return 0;
}

static int
finish(struct session *s, int k)
{
	struct active *a = &s->act[k];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	char err[BT_ERRLEN];
	uint32_t i = a->index;
	int r;

	if (EVP_DigestFinal_ex(a->md, md, &mdlen) != 1)
		return fail(s, BT_EXIT_WORLD, "SHA-1 failed");
	if (memcmp(md, s->mi->pieces + (size_t)i * 20, 20) != 0) {
		s->hashfails++;
		event(s, "piece %u bad", i);
		trace(s, "  piece %u fails its hash (%d so far)", i,
		    s->hashfails);
		drop_active(s, k, 0);
		if (s->hashfails >= SESS_MAX_HASHFAIL)
			return fail(s, BT_EXIT_WORLD, "%d pieces failed their "
			    "hash", s->hashfails);
		if (s->o->mode == MODE_PIECE)
			return fail(s, BT_EXIT_WORLD, "piece %u failed its "
			    "hash", i);
		return 0;
	}
	if (s->o->mode == MODE_PIECE) {
		if (fwrite(a->data, 1, a->size, stdout) != a->size ||
		    fflush(stdout) == EOF)
			return fail(s, BT_EXIT_WORLD, "writing piece: "
			    "output error");
		drop_active(s, k, 0);
		s->done = BT_EXIT_OK;
		return 0;
	}
	r = spool_commit(s->sp, i, a->data, a->size, err);
	if (r == -1)
		return fail(s, BT_EXIT_WORLD, "%s", err);
	event(s, "piece %u %s", i, r == 1 ? "ok" : "dup");
	trace(s, "  piece %u %s", i, r == 1 ? "verified, stored" :
	    "verified, already stored");
	drop_active(s, k, 0);
	if (spool_nhave(s->sp) == s->mi->npieces && s->o->mode == MODE_FETCH) {
		event(s, "done");
		s->done = BT_EXIT_OK;
	}
	return 0;
}

int
fetch_block(struct session *s, const struct wire_msg *m)
{
	struct active *a = NULL;
	uint32_t b, blen;
	int k;

	if (s->o->verbose)
		trace(s, "< piece %u %u+%u", m->index, m->begin, m->length);
	for (k = 0; k < s->nact; k++)
		if (s->act[k].index == m->index) {
			a = &s->act[k];
			break;
		}
	if (a == NULL) {
		if (is_stale(s, m->index))
			return 0;
		return fail(s, BT_EXIT_WORLD, "piece %u %u+%u not requested",
		    m->index, m->begin, m->length);
	}
	b = m->begin / WIRE_BLOCK;
	blen = b + 1 == a->nblocks ? a->size - b * WIRE_BLOCK : WIRE_BLOCK;
	if (m->begin % WIRE_BLOCK != 0 || m->length != blen)
		return fail(s, BT_EXIT_WORLD, "piece %u %u+%u not requested",
		    m->index, m->begin, m->length);
	if (a->st[b] == BLK_GOT)
		return 0;
	/* BLK_NONE: sent before a choke that discarded the request. */
	if (a->st[b] == BLK_REQ)
		s->outstanding--;
	memcpy(a->data + m->begin, m->data, m->length);
	a->st[b] = BLK_GOT;
	a->ngot++;
	s->last_progress = now();
	while (a->hashed < a->nblocks && a->st[a->hashed] == BLK_GOT) {
		uint32_t off = a->hashed * WIRE_BLOCK;
		uint32_t len = a->hashed + 1 == a->nblocks ?
		    a->size - off : WIRE_BLOCK;

		EVP_DigestUpdate(a->md, a->data + off, len);
		a->hashed++;
	}
	if (a->ngot == a->nblocks)
		return finish(s, k);
	return 0;
}

void
fetch_choked(struct session *s)
{
	struct active *a;
	uint32_t b;
	int k;

	/* BEP 3: a choke discards our requests; ask again on unchoke. */
	for (k = 0; k < s->nact; k++) {
		a = &s->act[k];
		for (b = 0; b < a->nblocks; b++)
			if (a->st[b] == BLK_REQ)
				a->st[b] = BLK_NONE;
		a->next = 0;
	}
	s->outstanding = 0;
}

void
fetch_update_interest(struct session *s, uint32_t newpiece)
{
	unsigned char m[5];
	uint32_t i;
	int want = 0;

	if (!fetching(s) || s->interested || s->o->mode == MODE_BITFIELD)
		return;
	if (s->o->mode == MODE_PIECE) {
		want = peer_bit(s, s->o->piece);
	} else if (s->sp == NULL) {
		return;
	} else if (newpiece != UINT32_MAX) {
		want = !spool_have(s->sp, newpiece);
	} else {
		for (i = 0; i < s->mi->npieces && !want; i++)
			want = peer_bit(s, i) && !spool_have(s->sp, i);
	}
	if (!want)
		return;
	s->interested = 1;
	s->nothing_left = 0;
	s->last_progress = now();
	trace(s, "> interested");
	out_add(s, m, wire_simple(m, WIRE_INTERESTED));
}

int
fetch_tick(struct session *s)
{
	double t = now();
	int k;

	if (!fetching(s))
		return 0;
	/* --piece: a peer that does not announce it within 3 s lacks it. */
	if (s->o->mode == MODE_PIECE && s->hs_done && !s->interested &&
	    t - s->hs_time > 3)
		return fail(s, BT_EXIT_WORLD, "peer does not have piece %u",
		    s->o->piece);
	/* Pieces someone else stored meanwhile: stop fetching them. */
	if (s->sp != NULL) {
		for (k = s->nact - 1; k >= 0; k--)
			if (spool_have(s->sp, s->act[k].index)) {
				event(s, "piece %u dup", s->act[k].index);
				drop_active(s, k, 1);
			}
		if (s->o->mode == MODE_FETCH &&
		    spool_nhave(s->sp) == s->mi->npieces) {
			event(s, "done");
			s->done = BT_EXIT_OK;
			return 0;
		}
	}
	if (s->interested && (s->nact > 0 || s->choked) &&
	    t - s->last_progress > s->o->timeout) {
		if (s->choked)
			return fail(s, BT_EXIT_WORLD, "choked for %d s",
			    s->o->timeout);
		return fail(s, BT_EXIT_WORLD, "no block for %d s",
		    s->o->timeout);
	}
	return 0;
}
