/* choke.c: the choking decision, pure (choke.h). */
#include <string.h>

#include "choke.h"

static int
eligible(const struct choke_peer *e)
{
	return e->live && e->interested && !e->snubbed;
}

/* 1 if a ranks before b: rate, then the one unchoked, then index. */
static int
before(const struct choke_peer *pe, uint32_t a, uint32_t b)
{
	if (pe[a].rate != pe[b].rate)
		return pe[a].rate > pe[b].rate;
	if (pe[a].unchoked != pe[b].unchoked)
		return pe[a].unchoked;
	return a < b;
}

int
choke_decide(const struct choke_peer *pe, uint32_t n, int slots,
    unsigned char *regular)
{
	uint32_t k, best;
	int chosen;

	memset(regular, 0, n);
	/* slots is small (CHOKE_SLOTS_MAX): a selection, slots passes. */
	for (chosen = 0; chosen < slots; chosen++) {
		best = n;
		for (k = 0; k < n; k++)
			if (!regular[k] && eligible(&pe[k]) &&
			    (best == n || before(pe, k, best)))
				best = k;
		if (best == n)
			break;
		regular[best] = 1;
	}
	return chosen;
}

uint64_t
choke_optimistic(const struct choke_peer *pe, uint32_t n,
    const unsigned char *regular, uint64_t cur, int64_t now)
{
	int64_t k = cur == 0 ? -1 : CHOKE_OPT_ENTRY(cur);
	uint32_t i, j, start;

	if (k >= 0 && (uint64_t)k < n && pe[k].live && pe[k].interested &&
	    !regular[k] && now - CHOKE_OPT_SINCE(cur) < CHOKE_OPT_PERIOD)
		return cur;
	/* Round robin from the one after the current holder. */
	start = k >= 0 && (uint64_t)k < n ? (uint32_t)k + 1 : 0;
	for (i = 0; i < n; i++) {
		j = (start + i) % n;
		if (pe[j].live && pe[j].interested && !regular[j])
			return CHOKE_OPT_WORD(j, now / CHOKE_SEC);
	}
	return 0;
}

void
choke_meter_init(struct choke_meter *m, int64_t now)
{
	memset(m, 0, sizeof(*m));
	m->last = now;
	m->last_data = now;
	m->was_choked = 1;
}

int
choke_meter_feed(struct choke_meter *m, uint64_t down, uint64_t up,
    int choked, int interested, int64_t now)
{
	int64_t dt = now - m->last;
	double w;

	if (dt > 0) {
		/* An exponential average, time constant CHOKE_RATE_TAU. */
		w = dt >= CHOKE_RATE_TAU ? 1.0 : (double)dt / CHOKE_RATE_TAU;
		m->down_rate += ((double)(down - m->down) * CHOKE_SEC / dt -
		    m->down_rate) * w;
		m->up_rate += ((double)(up - m->up) * CHOKE_SEC / dt -
		    m->up_rate) * w;
		m->last = now;
	}
	if (down != m->down || (m->was_choked && !choked))
		m->last_data = now;
	m->down = down;
	m->up = up;
	m->was_choked = choked;
	return !choked && interested && now - m->last_data >= CHOKE_SNUB;
}
