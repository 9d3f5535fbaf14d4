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

int
choke_parse_rate(const char *s, uint64_t *out)
{
	uint64_t whole = 0, frac = 0, div = 1, mul = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > CHOKE_RATE_MAX)
			return -1;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (div < 1000000) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				div *= 10;
			}
		if (div == 1)
			return -1;
	}
	if (*p == 'k' || *p == 'K')
		mul = 1024;
	else if (*p == 'm' || *p == 'M')
		mul = 1024 * 1024;
	else if (*p != '\0' || div != 1)
		return -1;	/* a fraction of a byte */
	if (*p != '\0' && p[1] != '\0')
		return -1;
	if (whole > CHOKE_RATE_MAX / mul)
		return -1;
	*out = whole * mul + frac * mul / div;
	return *out > CHOKE_RATE_MAX ? -1 : 0;
}

int64_t
choke_bucket_wait(struct choke_bucket *b, uint64_t rate, int64_t now)
{
	int64_t last = __atomic_load_n(&b->last, __ATOMIC_ACQUIRE);
	int64_t burst = CHOKE_BURST(rate), add, t;

	if (rate == 0)
		return 0;
	if (now > last && __atomic_compare_exchange_n(&b->last, &last, now,
	    0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		/* The first refill (last 0) fills it at once. */
		add = last == 0 || now - last > 10 * CHOKE_SEC ? burst :
		    (int64_t)((double)(now - last) * (double)rate / CHOKE_SEC);
		t = __atomic_add_fetch(&b->tokens, add, __ATOMIC_ACQ_REL);
		while (t > burst && !__atomic_compare_exchange_n(&b->tokens,
		    &t, burst, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			;
	}
	t = __atomic_load_n(&b->tokens, __ATOMIC_ACQUIRE);
	if (t > 0)
		return 0;
	/* The debt's time, and a millisecond so the refill covers it. */
	return (int64_t)((double)(1 - t) * CHOKE_SEC / (double)rate) + 1000;
}

void
choke_bucket_spend(struct choke_bucket *b, uint64_t n)
{
	__atomic_sub_fetch(&b->tokens, (int64_t)n, __ATOMIC_ACQ_REL);
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
