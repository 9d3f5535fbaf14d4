/*
 * dht.c: the node's messages: datagrams in, queries out, the server side
 * (ping, find_node, get_peers, announce_peer), tokens and the peer store.
 * The routing table is dht_table.c, the lookups dht_search.c.
 *
 * Transaction ids are 4 bytes: the query slot (2) and a sequence number
 * (2), so an answer finds its query in O(1) and a forged or late one
 * (wrong sequence or wrong source address) is dropped.
 *
 * Amplification: we answer only well-formed queries, once each, to their
 * source address, at most DHT_REPLY_RATE answers a second, and no answer
 * is larger than about 400 bytes (K nodes, or DHT_REPLY_VALUES IPv4 or
 * half as many IPv6 peers, a token and the envelope), against queries of
 * at least about 60 bytes.
 */
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "bt.h"
#include "dht_int.h"

uint64_t
dht_rand(struct dht *d)
{
	uint64_t z;

	d->rng += 0x9e3779b97f4a7c15ULL;
	z = d->rng;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
dht_tracef(struct dht *d, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (d->cb.trace == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	d->cb.trace(d->cb.arg, line);
}

size_t
dht_iplen(const struct dht_addr *a)
{
	return a->v6 ? 16 : 4;
}

int
dht_addr_eq(const struct dht_addr *a, const struct dht_addr *b)
{
	return !a->v6 == !b->v6 && memcmp(a->ip, b->ip, dht_iplen(a)) == 0 &&
	    a->port == b->port;
}

int
dht_addr_ok(const struct dht_addr *a)
{
	static const unsigned char zero[16];

	return a->port != 0 && memcmp(a->ip, zero, dht_iplen(a)) != 0;
}

const char *
dht_addr_str(const struct dht_addr *a, char *s, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	if (inet_ntop(a->v6 ? AF_INET6 : AF_INET, a->ip, ip, sizeof(ip)) ==
	    NULL)
		ip[0] = '\0';
	snprintf(s, n, a->v6 ? "[%s]:%u" : "%s:%u", ip, a->port);
	return s;
}

size_t
dht_put_compact(unsigned char *out, const unsigned char *id,
    const struct dht_addr *a)
{
	size_t n = 0, len = dht_iplen(a);

	if (id != NULL) {
		memcpy(out, id, DHT_ID_LEN);
		n = DHT_ID_LEN;
	}
	memcpy(out + n, a->ip, len);
	out[n + len] = (unsigned char)(a->port >> 8);
	out[n + len + 1] = (unsigned char)a->port;
	return n + len + 2;
}

void
dht_get_compact(const struct dht *d, const unsigned char *p,
    struct dht_addr *a)
{
	size_t len = d->v6 ? 16 : 4;

	memset(a, 0, sizeof(*a));
	a->v6 = d->v6;
	memcpy(a->ip, p, len);
	a->port = (uint16_t)(p[len] << 8 | p[len + 1]);
}

/* Makes the next token secret: SHA-1 of the seed and a counter. */
static void
rotate(struct dht *d)
{
	unsigned char in[40];

	memcpy(d->secret[1], d->secret[0], 20);
	memcpy(in, d->seed, 32);
	memcpy(in + 32, &d->epoch, 8);
	d->epoch++;
	SHA1(in, sizeof(in), d->secret[0]);
}

static void
make_token(const unsigned char secret[20], const struct dht_addr *a,
    unsigned char out[DHT_TOKEN_LEN])
{
	unsigned char in[38], h[20];
	size_t n;

	memcpy(in, secret, 20);
	n = 20 + dht_put_compact(in + 20, NULL, a);
	SHA1(in, n, h);
	memcpy(out, h, DHT_TOKEN_LEN);
}

/*
 * The token is bound to the address only, not the port: BEP 5 ties it to
 * the IP, and some clients query from one port and announce from another.
 */
static int
token_ok(struct dht *d, const struct dht_addr *a, const unsigned char *t,
    size_t n)
{
	struct dht_addr ip = *a;
	unsigned char want[DHT_TOKEN_LEN];
	int i;

	ip.port = 0;
	if (n != DHT_TOKEN_LEN)
		return 0;
	for (i = 0; i < 2; i++) {
		make_token(d->secret[i], &ip, want);
		if (memcmp(want, t, DHT_TOKEN_LEN) == 0)
			return 1;
	}
	return 0;
}

struct dht *
dht_new(const unsigned char id[DHT_ID_LEN], const unsigned char seed[32],
    const struct dht_cb *cb, double now)
{
	struct dht *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	memcpy(d->id, id, DHT_ID_LEN);
	memcpy(d->seed, seed, 32);
	memcpy(&d->rng, seed, sizeof(d->rng));
	d->cb = *cb;
	d->seq = (uint16_t)dht_rand(d);
	rotate(d);
	rotate(d);
	d->rotated = now;
	d->allowance = DHT_REPLY_RATE;
	d->allowed_at = now;
	d->bootstrapped = now - DHT_BOOTSTRAP_INTERVAL;
	return d;
}

void
dht_free(struct dht *d)
{
	int i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nstore; i++)
		free(d->store[i]);
	free(d);
}

void
dht_set_ipv6(struct dht *d)
{
	d->v6 = 1;
}

const unsigned char *
dht_id(const struct dht *d)
{
	return d->id;
}

int
dht_send_query(struct dht *d, const struct dht_addr *a, enum krpc_method m,
    const unsigned char *target, int search, double now,
    const unsigned char *token, size_t tokenlen, int port)
{
	unsigned char out[KRPC_MAX_MSG], tid[4];
	size_t len, i;
	char as[32];
	static const char *const names[] = {
		"?", "ping", "find_node", "get_peers", "announce_peer"
	};

	for (i = 0; i < DHT_MAX_QUERIES && d->q[i].used; i++)
		continue;
	if (i == DHT_MAX_QUERIES)
		return -1;
	d->seq++;
	tid[0] = (unsigned char)(i >> 8);
	tid[1] = (unsigned char)i;
	tid[2] = (unsigned char)(d->seq >> 8);
	tid[3] = (unsigned char)d->seq;
	switch (m) {
	case KRPC_PING:
		len = krpc_put_ping(out, sizeof(out), tid, 4, d->id, d->flags);
		break;
	case KRPC_FIND_NODE:
		len = krpc_put_find_node(out, sizeof(out), tid, 4, d->id,
		    target, d->flags);
		break;
	case KRPC_GET_PEERS:
		len = krpc_put_get_peers(out, sizeof(out), tid, 4, d->id,
		    target, d->flags);
		break;
	case KRPC_ANNOUNCE_PEER:
		len = krpc_put_announce_peer(out, sizeof(out), tid, 4, d->id,
		    target, port, 0, token, tokenlen, d->flags);
		break;
	default:
		return -1;
	}
	if (len == 0)
		return -1;
	d->q[i].used = 1;
	d->q[i].seq = d->seq;
	d->q[i].a = *a;
	d->q[i].method = m;
	d->q[i].search = search;
	d->q[i].gen = search >= 0 ? d->s[search].gen : 0;
	d->q[i].sent = now;
	dht_tracef(d, "-> %s %s", names[m], dht_addr_str(a, as, sizeof(as)));
	d->cb.send(d->cb.arg, out, len, a);
	return 0;
}

/* Takes one answer from the token bucket; 0 when we must stay silent. */
static int
may_reply(struct dht *d, double now)
{
	if (now > d->allowed_at) {
		d->allowance += (now - d->allowed_at) * DHT_REPLY_RATE;
		if (d->allowance > DHT_REPLY_RATE)
			d->allowance = DHT_REPLY_RATE;
		d->allowed_at = now;
	}
	if (d->allowance < 1)
		return 0;
	d->allowance -= 1;
	return 1;
}

struct dht_torrent *
dht_store_find(struct dht *d, const unsigned char ih[20])
{
	int i;

	for (i = 0; i < d->nstore; i++)
		if (memcmp(d->store[i]->ih, ih, 20) == 0)
			return d->store[i];
	return NULL;
}

/*
 * Records an announce; 0, or -1 when the store is full of torrents or
 * memory is short. A torrent's slot is allocated on its first announce,
 * so a node nobody announces to stays small.
 */
static int
store_add(struct dht *d, const unsigned char ih[20], const struct dht_addr *a,
    double now)
{
	struct dht_torrent *t;
	int i, old = 0;

	if ((t = dht_store_find(d, ih)) == NULL) {
		if (d->nstore == DHT_STORE_TORRENTS ||
		    (t = calloc(1, sizeof(*t))) == NULL)
			return -1;
		d->store[d->nstore++] = t;
		memcpy(t->ih, ih, 20);
	}
	for (i = 0; i < t->n; i++) {
		if (dht_addr_eq(&t->p[i].a, a))
			break;
		if (t->p[i].seen < t->p[old].seen)
			old = i;
	}
	if (i == t->n) {
		if (t->n < DHT_STORE_PEERS)
			t->n++;
		else
			i = old;	/* full: the stalest peer goes */
	}
	t->p[i].a = *a;
	t->p[i].seen = now;
	return 0;
}

/* Drops peers older than DHT_PEER_TTL, then torrents left empty. */
static void
store_expire(struct dht *d, double now)
{
	struct dht_torrent *t;
	int i, j;

	for (i = 0; i < d->nstore; i++) {
		t = d->store[i];
		for (j = 0; j < t->n; j++)
			if (now - t->p[j].seen > DHT_PEER_TTL)
				t->p[j--] = t->p[--t->n];
		if (t->n == 0) {
			free(t);
			d->store[i--] = d->store[--d->nstore];
		}
	}
}

/* Our answer to a query m from a. */
static void
serve(struct dht *d, const struct krpc_msg *m, const struct dht_addr *a,
    double now)
{
	unsigned char out[KRPC_MAX_MSG], nodes[DHT_K * KRPC_NODE6_LEN];
	unsigned char values[DHT_REPLY_VALUES * KRPC_PEER6_LEN];
	size_t nl = 0, vl = 0;
	unsigned char token[DHT_TOKEN_LEN];
	struct dht_node *close[DHT_K];
	struct dht_torrent *t;
	struct dht_addr peer, ip = *a;
	size_t len = 0;
	int i, n, nv = 0, start;

	if (!may_reply(d, now))
		return;
	switch (m->method) {
	case KRPC_PING:
		len = krpc_put_response(out, sizeof(out), m->tid, m->tidlen,
		    d->id, NULL, 0, NULL, 0, NULL, 0, 0);
		break;
	case KRPC_FIND_NODE:
	case KRPC_GET_PEERS:
		t = m->method == KRPC_GET_PEERS ? dht_store_find(d, m->target) :
		    NULL;
		if (t != NULL) {
			/* A window that moves, so every peer gets its turn. */
			start = t->n > 0 ? (int)(dht_rand(d) % (unsigned)t->n) :
			    0;
			for (i = 0; i < t->n && nv < (d->v6 ?
			    DHT_REPLY_VALUES / 2 : DHT_REPLY_VALUES); i++) {
				n = (start + i) % t->n;
				vl += dht_put_compact(values + vl, NULL,
				    &t->p[n].a);
				nv++;
			}
		}
		n = nv > 0 ? 0 : dht_table_closest(d, m->target, close, DHT_K,
		    1);
		for (i = 0; i < n; i++)
			nl += dht_put_compact(nodes + nl, close[i]->id,
			    &close[i]->a);
		ip.port = 0;
		make_token(d->secret[0], &ip, token);
		len = krpc_put_response(out, sizeof(out), m->tid, m->tidlen,
		    d->id, nodes, (size_t)n,
		    m->method == KRPC_GET_PEERS ? token : NULL, DHT_TOKEN_LEN,
		    values, (size_t)nv, d->v6);
		break;
	case KRPC_ANNOUNCE_PEER:
		if (!token_ok(d, a, m->token, m->tokenlen)) {
			len = krpc_put_error(out, sizeof(out), m->tid,
			    m->tidlen, KRPC_E_PROTOCOL, "bad token");
			break;
		}
		peer = *a;
		peer.port = m->implied_port || m->port <= 0 ? a->port :
		    (uint16_t)m->port;
		if (store_add(d, m->target, &peer, now) != 0) {
			len = krpc_put_error(out, sizeof(out), m->tid,
			    m->tidlen, KRPC_E_SERVER, "peer store full");
			break;
		}
		len = krpc_put_response(out, sizeof(out), m->tid, m->tidlen,
		    d->id, NULL, 0, NULL, 0, NULL, 0, 0);
		break;
	default:
		len = krpc_put_error(out, sizeof(out), m->tid, m->tidlen,
		    KRPC_E_METHOD, "method unknown");
		break;
	}
	if (len > 0)
		d->cb.send(d->cb.arg, out, len, a);
}

void
dht_input(struct dht *d, const unsigned char *buf, size_t len,
    const struct dht_addr *a, double now)
{
	struct krpc_msg m;
	struct dht_query *q, qc;
	char err[BT_ERRLEN], as[32];
	unsigned slot;

	d->received++;
	if (!a->v6 != !d->v6) {
		d->dropped++;	/* the caller's mistake: another family */
		return;
	}
	if (!dht_addr_ok(a) || krpc_parse(buf, len, &m, err) != 0) {
		d->dropped++;
		if (dht_addr_ok(a))
			dht_tracef(d, "<- %s: dropped: %s",
			    dht_addr_str(a, as, sizeof(as)), err);
		return;
	}
	if (m.type == KRPC_QUERY) {
		if (memcmp(m.id, d->id, DHT_ID_LEN) == 0) {
			d->dropped++;	/* ourselves, through a loop */
			return;
		}
		if (!m.read_only)
			dht_table_seen(d, m.id, a, 0, now);
		serve(d, &m, a, now);
		return;
	}
	/* An answer: it must match a query we sent, to that address. */
	slot = m.tidlen == 4 ? (unsigned)m.tid[0] << 8 | m.tid[1] :
	    DHT_MAX_QUERIES;
	q = slot < DHT_MAX_QUERIES ? &d->q[slot] : NULL;
	if (q == NULL || !q->used || q->seq != ((unsigned)m.tid[2] << 8 |
	    m.tid[3]) || !dht_addr_eq(&q->a, a)) {
		d->dropped++;
		dht_tracef(d, "<- %s: dropped: no such query",
		    dht_addr_str(a, as, sizeof(as)));
		return;
	}
	qc = *q;	/* the slot may be reused by what follows */
	q->used = 0;
	q = &qc;
	if (m.type == KRPC_ERROR) {
		dht_tracef(d, "<- %s: error %lld", dht_addr_str(a, as,
		    sizeof(as)), (long long)m.ecode);
		if (q->search >= 0)
			dht_search_lost(d, q, now);
		return;
	}
	dht_tracef(d, "<- %s: answer, %zu nodes, %zu values",
	    dht_addr_str(a, as, sizeof(as)), d->v6 ? m.nnodes6 : m.nnodes,
	    d->v6 ? m.nvalues6 : m.nvalues);
	if (memcmp(m.id, d->id, DHT_ID_LEN) != 0)
		dht_table_seen(d, m.id, a, 1, now);
	if (q->search >= 0)
		dht_search_reply(d, q, &m, now);
}

double
dht_periodic(struct dht *d, double now)
{
	struct dht_query qc;
	double next = now + DHT_TICK;
	int i;

	if (now - d->rotated >= DHT_TOKEN_ROTATE) {
		rotate(d);
		d->rotated = now;
	}
	store_expire(d, now);
	for (i = 0; i < DHT_MAX_QUERIES; i++) {
		if (!d->q[i].used)
			continue;
		if (now - d->q[i].sent >= DHT_QUERY_TIMEOUT) {
			qc = d->q[i];
			d->q[i].used = 0;
			dht_table_failed(d, &qc.a);
			if (qc.search >= 0)
				dht_search_lost(d, &qc, now);
		} else {
			/* When it times out, or turns slow for its lookup. */
			if (d->q[i].sent + DHT_QUERY_TIMEOUT < next)
				next = d->q[i].sent + DHT_QUERY_TIMEOUT;
			if (d->q[i].search >= 0 && d->q[i].sent +
			    DHT_SLOW_TIME > now && d->q[i].sent +
			    DHT_SLOW_TIME < next)
				next = d->q[i].sent + DHT_SLOW_TIME;
		}
	}
	dht_table_tick(d, now);
	dht_search_tick(d, now);
	return next;
}

int
dht_add_contact(struct dht *d, const struct dht_addr *a)
{
	int i;

	if (!dht_addr_ok(a) || !a->v6 != !d->v6)
		return 0;
	for (i = 0; i < d->ncontacts; i++)
		if (dht_addr_eq(&d->contacts[i], a))
			return 0;
	if (d->ncontacts == DHT_MAX_CONTACTS)
		return -1;
	d->contacts[d->ncontacts++] = *a;
	return 0;
}

void
dht_set_read_only(struct dht *d, int ro)
{
	d->flags = ro ? KRPC_RO : 0;
}

void
dht_ping(struct dht *d, const struct dht_addr *a, double now)
{
	dht_send_query(d, a, KRPC_PING, NULL, -1, now, NULL, 0, 0);
}

void
dht_get_stats(const struct dht *d, struct dht_stats *st, double now)
{
	int i, j;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < 160; i++)
		for (j = 0; j < d->b[i].count; j++) {
			st->nodes++;
			st->good += dht_node_good(&d->b[i].n[j], now);
		}
	st->torrents = d->nstore;
	for (i = 0; i < d->nstore; i++)
		st->stored += d->store[i]->n;
	for (i = 0; i < DHT_MAX_QUERIES; i++)
		st->inflight += d->q[i].used;
	st->received = d->received;
	st->dropped = d->dropped;
}
