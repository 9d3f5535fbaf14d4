/*
 * spool_pick.c: which piece a process fetches next (spool.h): a word of
 * 64 pieces at a time from a cursor, claims tried only on candidates.
 */
#include <stddef.h>
#include <stdint.h>

#include "bt.h"
#include "spool.h"

static size_t
words(uint32_t n)
{
	return ((size_t)n + 63) / 64;
}

static uint64_t
rnd(struct spool *s)
{
	uint64_t x = s->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return s->rng = x;
}

/*
 * Word gi of the peer's bitfield (BEP 3: bytes of npieces bits, the
 * first piece in the high bit) as 64 bits with piece 64 * gi + j in bit
 * j, as the have and mine maps; bits past npieces are zero.
 */
static uint64_t
peerword(const unsigned char *bits, uint32_t n, uint32_t gi)
{
	uint32_t b0 = gi * 8, nb = (n + 7) / 8, k;
	uint64_t x = 0;

	for (k = 0; k < 8 && b0 + k < nb; k++)
		x |= (uint64_t)bits[b0 + k] << (8 * k);
	/* Reverse the bits of each byte: the high bit is the first piece. */
	x = ((x >> 1) & 0x5555555555555555ULL) |
	    ((x & 0x5555555555555555ULL) << 1);
	x = ((x >> 2) & 0x3333333333333333ULL) |
	    ((x & 0x3333333333333333ULL) << 2);
	x = ((x >> 4) & 0x0f0f0f0f0f0f0f0fULL) |
	    ((x & 0x0f0f0f0f0f0f0f0fULL) << 4);
	if (n % 64 != 0 && gi == (n - 1) / 64)
		x &= ((uint64_t)1 << (n % 64)) - 1;
	return x;
}

/* A pick of i: a slab spool's next random or rarest pick starts after
 * it (spool_pick). */
static int64_t
picked(struct spool *s, enum spool_strategy strat, uint32_t i)
{
	if (strat != SPOOL_SEQUENTIAL && s->slab_n != 0)
		s->cursor = i + 1;
	return i;
}

/*
 * Visits missing pieces the peer has from a start point, wrapping, a
 * word of 64 pieces at a time: the candidates of a word are the peer's
 * bits less had and claimed-by-us ones, visited lowest first. Sequential
 * and random take the first one they can claim; rarest holds the least
 * available claimable one seen in its window, and stops at once at one
 * only a single peer has (nothing is rarer: availability counts the
 * peer itself).
 */
int64_t
spool_pick(struct spool *s, enum spool_strategy strat,
    const unsigned char *peer_has, int64_t *endgame)
{
	uint32_t n = s->npieces, nw, start, gi, t, i, seen = 0, limit;
	uint32_t bestav = UINT32_MAX, av;
	uint64_t cand;
	int64_t best = -1, other = -1;
	char err[BT_ERRLEN];
	int any = 0;

	if (n == 0)
		return -2;
	nw = (uint32_t)words(n);
	if (strat == SPOOL_SEQUENTIAL) {
		/* Everything below the cursor is had: never look there again. */
		while (s->cursor + 64 <= n && __atomic_load_n(
		    &s->have[s->cursor / 64], __ATOMIC_ACQUIRE) == ~(uint64_t)0)
			s->cursor += 64;
		start = s->cursor < n ? s->cursor : 0;
	} else if (s->slab_n != 0) {
		/* Slab by slab: on from our last pick while inside its slab,
		 * else from the start of a random slab, so that a slab fills
		 * from one writer (its descriptor kept) and goes as a whole
		 * once placed, rather than a hole punched per piece. */
		if (s->cursor % s->slab_n != 0 && s->cursor < n)
			start = s->cursor;
		else
			start = (uint32_t)(rnd(s) % ((n + s->slab_n - 1) /
			    s->slab_n)) * s->slab_n;
	} else
		start = (uint32_t)(rnd(s) % n);
	limit = strat == SPOOL_RAREST ? SPOOL_RAREST_WINDOW : UINT32_MAX;
	/* nw + 1 visits: the start word is seen again, its low bits, last. */
	for (t = 0; t <= nw; t++) {
		gi = (start / 64 + t) % nw;
		cand = peerword(peer_has, n, gi) & ~(__atomic_load_n(
		    &s->have[gi], __ATOMIC_ACQUIRE) | s->mine[gi]);
		if (t == 0)
			cand &= ~(uint64_t)0 << (start % 64);
		else if (t == nw)
			cand &= ((uint64_t)1 << (start % 64)) - 1;
		for (; cand != 0; cand &= cand - 1) {
			i = gi * 64 + (uint32_t)__builtin_ctzll(cand);
			any = 1;
			if (strat != SPOOL_RAREST) {
				if (spool_claim(s, i, err) == 1)
					return picked(s, strat, i);
				if (other < 0)
					other = i;
				continue;
			}
			if ((av = spool_avail(s, i)) < bestav) {
				if (spool_claim(s, i, err) == 1) {
					if (best >= 0)
						spool_unclaim(s, (uint32_t)best);
					best = i;
					bestav = av;
					if (av <= 1)
						return picked(s, strat, i);
				} else if (other < 0)
					other = i;
			}
			if (++seen >= limit && best >= 0)
				return picked(s, strat, (uint32_t)best);
		}
	}
	if (best >= 0)
		return picked(s, strat, (uint32_t)best);
	if (!any)
		return -2;
	if (endgame != NULL)
		*endgame = other;
	return -1;
}
