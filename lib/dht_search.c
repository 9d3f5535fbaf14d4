/*
 * dht_search.c: iterative lookups (Kademlia, BEP 5). A lookup keeps up to
 * DHT_SEARCH_SIZE candidates sorted by distance to the target, asks the
 * closest not yet asked, DHT_ALPHA at a time, and adds the nodes each
 * answer names. It has converged when the K closest candidates that did
 * not fail have all answered, and is exhausted when nobody is left to
 * ask. A get_peers lookup then announces, when asked to, to the closest
 * answering nodes that gave a token.
 *
 * Contacts (routers, --dht-node) have no known id: they enter with the
 * target as their id, so they are asked first, and take their real id
 * from their answer.
 */
#include <string.h>

#include "dht_int.h"

/* Index of the candidate at a, or -1. */
static int
cand_find(const struct dht_search *s, const struct dht_addr *a)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (dht_addr_eq(&s->c[i].a, a))
			return i;
	return -1;
}

/* Inserts a candidate in distance order; the farthest falls off. */
static void
cand_add(struct dht *d, struct dht_search *s, const unsigned char *id,
    const struct dht_addr *a, int noid)
{
	struct dht_cand c;
	int k;

	if (!dht_addr_ok(a) || cand_find(s, a) >= 0 ||
	    (!noid && memcmp(id, d->id, DHT_ID_LEN) == 0))
		return;
	for (k = 0; k < s->n && !noid; k++)
		if (!s->c[k].noid && memcmp(s->c[k].id, id, DHT_ID_LEN) == 0)
			return;
	memset(&c, 0, sizeof(c));
	memcpy(c.id, id, DHT_ID_LEN);
	c.a = *a;
	c.noid = noid;
	for (k = s->n; k > 0 && dht_closer(s->target, id, s->c[k - 1].id) < 0;
	    k--)
		if (k < DHT_SEARCH_SIZE)
			s->c[k] = s->c[k - 1];
	if (k >= DHT_SEARCH_SIZE)
		return;
	s->c[k] = c;
	if (s->n < DHT_SEARCH_SIZE)
		s->n++;
}

/* Moves candidate i to its place after its id changed. */
static void
cand_resort(struct dht_search *s, int i)
{
	struct dht_cand c = s->c[i];

	while (i > 0 && dht_closer(s->target, c.id, s->c[i - 1].id) < 0) {
		s->c[i] = s->c[i - 1];
		i--;
	}
	while (i + 1 < s->n && dht_closer(s->target, s->c[i + 1].id, c.id) <
	    0) {
		s->c[i] = s->c[i + 1];
		i++;
	}
	s->c[i] = c;
}

static void
finish(struct dht *d, int si)
{
	struct dht_search *s = &d->s[si];
	struct dht_result r = s->res;
	int internal = s->internal;

	dht_tracef(d, "search %d done: %d answered, %d values, %d announced",
	    si, r.replied, r.values, r.announced);
	s->phase = S_IDLE;
	s->internal = 0;
	if (!internal && d->cb.done != NULL)
		d->cb.done(d->cb.arg, si, &r);
}

/* Sends announce_peer to the K closest answering nodes with a token. */
static void
announce(struct dht *d, int si, double now)
{
	struct dht_search *s = &d->s[si];
	int i, sent = 0;

	s->phase = S_ANNOUNCE;
	s->pending = 0;
	for (i = 0; i < s->n && sent < DHT_K; i++) {
		if (s->c[i].state != C_REPLIED || s->c[i].tokenlen == 0)
			continue;
		sent++;
		if (dht_send_query(d, &s->c[i].a, KRPC_ANNOUNCE_PEER, s->target,
		    si, now, s->c[i].token, s->c[i].tokenlen, s->port) == 0)
			s->pending++;
	}
	if (s->pending == 0)
		finish(d, si);
}

/* 1 if c was asked more than DHT_SLOW_TIME ago and has not answered. */
static int
slow(const struct dht_cand *c, double now)
{
	return c->state == C_INFLIGHT && now - c->sent >= DHT_SLOW_TIME;
}

/*
 * Asks the closest unasked candidates; ends the lookup when it is over.
 * Slow candidates count neither against DHT_ALPHA nor among the K
 * closest, so a dead node delays a lookup by DHT_SLOW_TIME only; an
 * answer that still comes is used while the lookup runs.
 */
static void
step(struct dht *d, int si, double now)
{
	struct dht_search *s = &d->s[si];
	struct dht_cand *c;
	int i, inflight = 0, nonfailed = 0, converged = 1, waiting = 0;

	if (s->phase != S_LOOKUP)
		return;
	if (now - s->started >= DHT_SEARCH_TIME)
		goto over;
	for (i = 0; i < s->n; i++) {
		c = &s->c[i];
		if (c->state == C_INFLIGHT && !slow(c, now))
			inflight++;
		if (c->state == C_FAILED || slow(c, now) ||
		    nonfailed >= DHT_K)
			continue;
		nonfailed++;
		if (c->state != C_REPLIED)
			converged = 0;
	}
	if (nonfailed > 0 && converged)
		goto over;
	for (i = 0; i < s->n; i++) {
		c = &s->c[i];
		if (c->state == C_INFLIGHT)
			waiting = 1;
		if (c->state != C_NEW)
			continue;
		waiting = 1;
		if (inflight >= DHT_ALPHA)
			break;
		if (dht_send_query(d, &c->a, s->get_peers ? KRPC_GET_PEERS :
		    KRPC_FIND_NODE, s->target, si, now, NULL, 0, 0) != 0)
			break;		/* no query slot: try next tick */
		c->state = C_INFLIGHT;
		c->sent = now;
		c->tries++;
		inflight++;
	}
	if (waiting)
		return;
over:
	if (s->get_peers && s->port > 0)
		announce(d, si, now);
	else
		finish(d, si);
}

int
dht_search(struct dht *d, const unsigned char target[DHT_ID_LEN],
    int get_peers, int announce_port, double now)
{
	struct dht_search *s;
	struct dht_node *close[DHT_SEARCH_SIZE];
	struct dht_torrent *t;
	int si, i, n, good = 0;

	for (si = 0; si < DHT_MAX_SEARCHES && d->s[si].phase != S_IDLE; si++)
		continue;
	if (si == DHT_MAX_SEARCHES)
		return -1;
	s = &d->s[si];
	memset(s, 0, sizeof(*s));
	s->gen = ++d->gen;
	s->started = now;
	s->phase = S_LOOKUP;
	s->get_peers = get_peers;
	s->port = announce_port;
	memcpy(s->target, target, DHT_ID_LEN);
	n = dht_table_closest(d, target, close, DHT_SEARCH_SIZE, 0);
	for (i = 0; i < n; i++) {
		cand_add(d, s, close[i]->id, &close[i]->a, 0);
		good += dht_node_good(close[i], now);
	}
	if (good < DHT_K)
		for (i = 0; i < d->ncontacts; i++)
			cand_add(d, s, target, &d->contacts[i], 1);
	dht_tracef(d, "search %d: %s, %d candidates", si,
	    get_peers ? "get_peers" : "find_node", s->n);
	/* Peers that announced to us are found too. */
	if (get_peers && d->cb.peer != NULL &&
	    (t = dht_store_find(d, target)) != NULL)
		for (i = 0; i < t->n; i++)
			d->cb.peer(d->cb.arg, si, target, &t->p[i].a);
	step(d, si, now);
	return si;
}

void
dht_search_reply(struct dht *d, const struct dht_query *q,
    const struct krpc_msg *m, double now)
{
	struct dht_search *s = &d->s[q->search];
	const struct dht_addr *a = &q->a;
	struct dht_addr na;
	const unsigned char *p;
	size_t k, nv, nn;
	int i, si = q->search;

	if (s->gen != q->gen)
		return;
	if (s->phase == S_ANNOUNCE && q->method == KRPC_ANNOUNCE_PEER) {
		s->res.announced++;
		if (--s->pending <= 0)
			finish(d, si);
		return;
	}
	if (s->phase != S_LOOKUP || (i = cand_find(s, a)) < 0 ||
	    s->c[i].state == C_REPLIED)
		return;
	s->c[i].state = C_REPLIED;
	s->res.replied++;
	memcpy(s->c[i].token, m->token, m->tokenlen);
	s->c[i].tokenlen = m->tokenlen;
	if (s->c[i].noid || memcmp(s->c[i].id, m->id, DHT_ID_LEN) != 0) {
		memcpy(s->c[i].id, m->id, DHT_ID_LEN);
		s->c[i].noid = 0;
		cand_resort(s, i);
	}
	nv = d->v6 ? m->nvalues6 : m->nvalues;
	for (k = 0; k < nv && s->get_peers; k++) {
		dht_get_compact(d, d->v6 ? m->values6[k] : m->values[k], &na);
		s->res.values++;
		if (dht_addr_ok(&na) && d->cb.peer != NULL && !s->internal)
			d->cb.peer(d->cb.arg, si, s->target, &na);
	}
	nn = d->v6 ? m->nnodes6 : m->nnodes;
	for (k = 0; k < nn; k++) {
		p = d->v6 ? m->nodes6 + k * KRPC_NODE6_LEN :
		    m->nodes + k * KRPC_NODE_LEN;
		dht_get_compact(d, p + DHT_ID_LEN, &na);
		cand_add(d, s, p, &na, 0);
	}
	step(d, si, now);
}

void
dht_search_lost(struct dht *d, const struct dht_query *q, double now)
{
	struct dht_search *s = &d->s[q->search];
	int i, si = q->search;

	if (s->gen != q->gen)
		return;
	if (s->phase == S_ANNOUNCE && q->method == KRPC_ANNOUNCE_PEER) {
		if (--s->pending <= 0)
			finish(d, si);
		return;
	}
	if (s->phase != S_LOOKUP || (i = cand_find(s, &q->a)) < 0 ||
	    s->c[i].state != C_INFLIGHT)
		return;
	s->c[i].state = s->c[i].tries < DHT_TRIES ? C_NEW : C_FAILED;
	step(d, si, now);
}

void
dht_search_tick(struct dht *d, double now)
{
	int si;

	for (si = 0; si < DHT_MAX_SEARCHES; si++)
		step(d, si, now);
}
