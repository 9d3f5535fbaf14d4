/* choker.c: one connection's part in the shared choking (choker.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "choker.h"
#include "host.h"

static void
say(struct host *h, const char *line)
{
	host_event(h, line);
	if (h->o->verbose)
		fprintf(stderr, "btpeer: %9.3f %s (entry %d, pid %ld)\n",
		    (double)(host_now() - h->t0) / PEER_SEC, line,
		    h->ch.tab.me, (long)getpid());
}

/* Says which slot was taken or is being given back. */
static void
say_slot(struct host *h, const char *what, int slot)
{
	char line[64];

	if (slot == CHOKE_HELD_OPT)
		snprintf(line, sizeof(line), "%s optimistic", what);
	else
		snprintf(line, sizeof(line), "%s %d", what, slot);
	say(h, line);
}

/*
 * Takes a slot of a kind: said after the lock is ours, and a slot of
 * the other kind given back after saying so, so that the event lines of
 * all processes, in order, never show more peers unchoked than slots.
 */
static int
take(struct host *h, struct peer *p, int opt)
{
	struct choke_tab *t = &h->ch.tab;
	int was = t->held;

	if (!choke_tab_take(t, opt))
		return 0;
	if (t->held == was)
		return 1;
	say_slot(h, "unchoke", t->held);
	if (was == CHOKE_HELD_NONE) {
		if (p != NULL)
			peer_choke(p, 0);
	} else {
		say_slot(h, "choke", was);
		choke_tab_release(t, was);
	}
	return 1;
}

static void
choke(struct host *h, struct peer *p)
{
	say_slot(h, "choke", h->ch.tab.held);
	peer_choke(p, 1);
	choke_tab_drop(&h->ch.tab);
}

int
choker_init(struct host *h, char *err)
{
	struct choker *c = &h->ch;

	memset(c, 0, sizeof(*c));
	c->tab.fd = -1;
	c->tab.held = CHOKE_HELD_NONE;
	if (h->sp == NULL || (h->o->slots == 0 && h->o->maxdown == 0 &&
	    h->o->maxup == 0) ||
	    (h->o->mode != PEER_FETCH && h->o->mode != PEER_SERVE))
		return 0;
	if (choke_tab_open(&c->tab, h->sp->dirfd, h->o->slots, err) == -1)
		return -1;
	c->rate[CHOKE_DOWN] = h->o->maxdown;
	c->rate[CHOKE_UP] = h->o->maxup;
	if (h->o->slots == 0)
		return 0;		/* limits only */
	c->view = calloc(CHOKE_ENTRIES, sizeof(*c->view));
	c->regular = calloc(CHOKE_ENTRIES, 1);
	if (c->view == NULL || c->regular == NULL)
		return bt_err(err, "out of memory");
	choke_meter_init(&c->meter, host_now());
	c->on = 1;
	return 0;
}

void
choker_free(struct host *h)
{
	struct choker *c = &h->ch;

	if (c->on && c->tab.held != CHOKE_HELD_NONE)
		say_slot(h, "choke", c->tab.held);
	choke_tab_close(&c->tab);
	free(c->view);
	free(c->regular);
	c->view = NULL;
	c->regular = NULL;
	c->on = 0;
}

int64_t
choker_rate_wait(struct host *h, int dir, int64_t now)
{
	struct choker *c = &h->ch;

	if (c->rate[dir] == 0 || c->tab.hdr == NULL)
		return 0;
	return choke_bucket_wait(&c->tab.hdr->bucket[dir], c->rate[dir], now);
}

void
choker_rate_spend(struct host *h, int dir, size_t n)
{
	struct choker *c = &h->ch;

	if (c->rate[dir] != 0 && c->tab.hdr != NULL)
		choke_bucket_spend(&c->tab.hdr->bucket[dir], n);
}

int
choker_unchoke(void *ctx, const struct peer *p)
{
	struct host *h = ctx;

	(void)p;
	/* The core unchokes on a 1: no peer to act on here. */
	return h->ch.on && h->ch.tab.held == CHOKE_HELD_NONE &&
	    take(h, NULL, 0);
}

static int
seeding(struct host *h)
{
	return host_complete(h);
}

/* -v: the ranking as this process saw it. */
static void
trace_eval(struct host *h, int64_t now, int due, uint64_t opt)
{
	struct choker *c = &h->ch;
	char line[512];
	size_t n = 0;
	int k;

	for (k = 0; k < CHOKE_ENTRIES && n + 48 < sizeof(line); k++)
		if (c->view[k].live)
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    " %d:%s%s%llu", k, c->regular[k] ? "*" : "",
			    c->view[k].interested ? "" : "-",
			    (unsigned long long)c->view[k].rate);
	fprintf(stderr, "btpeer: %9.3f choke %s entry %d slot %d optimistic "
	    "%d, rates%s\n", (double)(now - h->t0) / PEER_SEC,
	    due ? "evaluation" : "retry", c->tab.me, c->tab.held,
	    (int)CHOKE_OPT_ENTRY(opt), line);
}

/* Reads the table, decides, and takes or gives back our slot. */
static void
evaluate(struct host *h, struct peer *p, int64_t now, int due)
{
	struct choker *c = &h->ch;
	int me = c->tab.me, reg, opt, held = c->tab.held;
	uint64_t w, nw;

	choke_tab_read(&c->tab, seeding(h), c->view);
	choke_decide(c->view, CHOKE_ENTRIES, c->tab.slots, c->regular);
	w = choke_tab_opt(&c->tab);
	nw = choke_optimistic(c->view, CHOKE_ENTRIES, c->regular, w, now);
	if (nw != w && !choke_tab_set_opt(&c->tab, w, nw))
		nw = choke_tab_opt(&c->tab);
	reg = c->regular[me];
	opt = !reg && CHOKE_OPT_ENTRY(nw) == me;
	c->want = reg ? 1 : opt ? 2 : 0;
	if (h->o->verbose)
		trace_eval(h, now, due, nw);
	if (reg) {
		if (held < 0)	/* none, or the optimistic one */
			take(h, p, 0);
	} else if (opt) {
		if (held != CHOKE_HELD_OPT && !take(h, p, 1) && held >= 0 &&
		    due)
			choke(h, p);
	} else if (due && held != CHOKE_HELD_NONE) {
		choke(h, p);
	}
}

static int64_t
earliest(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int64_t
choker_tick(struct host *h, struct peer *p, int64_t now)
{
	struct choker *c = &h->ch;
	uint32_t flags = 0;
	int snub, due = 0;

	if (!c->on || c->tab.me < 0)
		return INT64_MAX;
	if (now >= c->next_feed) {
		c->next_feed = now + PEER_SEC;
		c->snub = choke_meter_feed(&c->meter, p->down, p->up,
		    p->choked, p->interested, now);
	}
	snub = c->snub;
	/*
	 * Rates are published once a period, at the same multiples of
	 * CHOKE_PERIOD of the system-wide monotonic clock in every
	 * process, and read CHOKE_EVAL_DELAY later: every process ranks
	 * the same snapshot. Flags go out at once.
	 */
	if (now >= c->next_pub) {
		c->next_pub = (now / CHOKE_PERIOD + 1) * CHOKE_PERIOD;
		c->eval_at = c->next_pub - CHOKE_PERIOD + CHOKE_EVAL_DELAY;
		c->down = (uint64_t)c->meter.down_rate;
		c->up = (uint64_t)c->meter.up_rate;
	}
	if (p->peer_interested)
		flags |= CHOKE_F_INTERESTED;
	if (snub)
		flags |= CHOKE_F_SNUBBED;
	if (!p->peer_choked)
		flags |= CHOKE_F_UNCHOKED;
	choke_tab_publish(&c->tab, c->down, c->up, flags);
	if (p->phase != PEER_PH_MESSAGES)
		return earliest(c->next_feed, c->next_pub);
	if (c->eval_at != 0 && now >= c->eval_at) {
		due = 1;
		c->eval_at = 0;
	}
	/* One the last evaluation gave a slot it could not take yet
	 * tries again every second. */
	if (due || (now >= c->next_retry && ((c->want == 1 &&
	    c->tab.held < 0) || (c->want == 2 &&
	    c->tab.held == CHOKE_HELD_NONE)))) {
		c->next_retry = now + PEER_SEC;
		evaluate(h, p, now, due);
	}
	return earliest(earliest(c->next_feed, c->next_pub),
	    c->eval_at != 0 ? c->eval_at : INT64_MAX);
}
