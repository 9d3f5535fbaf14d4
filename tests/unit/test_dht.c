/*
 * test_dht.c: the KRPC codec and the DHT node on a simulated network with
 * a fake clock: lookups converge, announces are found, tokens rotate and
 * expire, stored peers expire, answers stay small and rate-limited,
 * tables stay bounded, forged answers are dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "dht.h"
#include "krpc.h"
#include "t.h"

#define NET_NODES	40
#define NET_QUEUE	8192

struct pkt {
	int		from, to;	/* node index; -1: the test itself */
	size_t		len;
	unsigned char	b[KRPC_MAX_MSG];
};

struct net {
	struct dht	*d[NET_NODES];
	int		 n;
	int		 dead[NET_NODES];
	struct pkt	*q;
	size_t		 head, tail;
	double		 now;
	/* What nodes sent to the test's own address (10.9.9.9:9). */
	struct pkt	 got[4];
	int		 ngot;
	/* Peers reported and searches finished, per node. */
	struct dht_addr	 peers[NET_NODES][16];
	int		 npeers[NET_NODES];
	int		 done[NET_NODES];
	struct dht_result res[NET_NODES];
	long		 sent;
	/* Queries sent, by node and method. */
	long		 queries[NET_NODES][KRPC_ANNOUNCE_PEER + 1];
	/* Queries to the hostile nodes of 10.8.0.0/16, answered a step later. */
	struct krpc_msg	 hq[64];
	struct dht_addr	 hto[64];
	int		 nhq;
};

/* One context per node, so callbacks know who they are. */
struct ctx {
	struct net	*net;
	int		 self;
};

static struct ctx ctxs[NET_NODES];
/* Nodes are IPv6 ones (BEP 32), at fd00::N, when set. */
static int net_v6;

static void
addr_of(int i, struct dht_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->port = 6881;
	if (net_v6) {
		a->v6 = 1;
		a->ip[0] = 0xfd;
		a->ip[15] = (unsigned char)(i + 1);
		return;
	}
	a->ip[0] = 10;
	a->ip[1] = 0;
	a->ip[2] = 0;
	a->ip[3] = (unsigned char)(i + 1);
}

static int
index_of(const struct dht_addr *a)
{
	if (a->v6)
		return a->ip[0] == 0xfd && a->port == 6881 && a->ip[15] >= 1 &&
		    a->ip[15] <= NET_NODES ? a->ip[15] - 1 : -1;
	if (a->ip[0] == 10 && a->ip[1] == 0 && a->ip[2] == 0 &&
	    a->port == 6881 && a->ip[3] >= 1 && a->ip[3] <= NET_NODES)
		return a->ip[3] - 1;
	return -1;
}

static void
cb_send(void *arg, const unsigned char *b, size_t len,
    const struct dht_addr *a)
{
	struct ctx *c = arg;
	struct net *net = c->net;
	struct pkt *p;
	struct krpc_msg m;
	char err[BT_ERRLEN];

	net->sent++;
	if (krpc_parse(b, len, &m, err) == 0 && m.type == KRPC_QUERY)
		net->queries[c->self][m.method]++;
	if (a->ip[0] == 10 && a->ip[1] == 8) {
		if (net->nhq < 64 && m.type == KRPC_QUERY) {
			net->hto[net->nhq] = *a;
			net->hq[net->nhq++] = m;
		}
		return;
	}
	if (a->ip[0] == 10 && a->ip[3] == 9 && a->ip[2] == 9) {
		if (net->ngot < 4) {
			net->got[net->ngot].len = len;
			memcpy(net->got[net->ngot++].b, b, len);
		}
		return;
	}
	if (net->tail - net->head >= NET_QUEUE)
		return;
	p = &net->q[net->tail++ % NET_QUEUE];
	p->from = c->self;
	p->to = index_of(a);
	p->len = len;
	memcpy(p->b, b, len);
}

static void
cb_peer(void *arg, int s, const unsigned char ih[20],
    const struct dht_addr *a)
{
	struct ctx *c = arg;
	struct net *net = c->net;

	(void)s;
	(void)ih;
	if (net->npeers[c->self] < 16)
		net->peers[c->self][net->npeers[c->self]++] = *a;
}

static void
cb_done(void *arg, int s, const struct dht_result *r)
{
	struct ctx *c = arg;

	(void)s;
	c->net->done[c->self]++;
	c->net->res[c->self] = *r;
}

static void
net_init(struct net *net, int n)
{
	struct dht_cb cb;
	unsigned char id[20], seed[32];
	int i, k;

	memset(net, 0, sizeof(*net));
	net->q = calloc(NET_QUEUE, sizeof(*net->q));
	net->n = n;
	net->now = 1000;
	srand(7);
	for (i = 0; i < n; i++) {
		for (k = 0; k < 20; k++)
			id[k] = (unsigned char)rand();
		for (k = 0; k < 32; k++)
			seed[k] = (unsigned char)rand();
		ctxs[i].net = net;
		ctxs[i].self = i;
		memset(&cb, 0, sizeof(cb));
		cb.arg = &ctxs[i];
		cb.send = cb_send;
		cb.peer = cb_peer;
		cb.done = cb_done;
		net->d[i] = dht_new(id, seed, &cb, net->now);
		if (net_v6)
			dht_set_ipv6(net->d[i]);
	}
}

static void
net_free(struct net *net)
{
	int i;

	for (i = 0; i < net->n; i++)
		dht_free(net->d[i]);
	free(net->q);
}

/* Delivers every queued datagram (and what they cause). */
static void
net_deliver(struct net *net)
{
	struct pkt *p;
	struct dht_addr from;

	while (net->head != net->tail) {
		p = &net->q[net->head++ % NET_QUEUE];
		if (p->to < 0 || p->to >= net->n || net->dead[p->to])
			continue;
		addr_of(p->from, &from);
		dht_input(net->d[p->to], p->b, p->len, &from, net->now);
	}
}

/* Runs the network for secs of fake time in 0.5 s steps. */
static void
net_run(struct net *net, double secs)
{
	double end = net->now + secs;
	int i;

	while (net->now < end) {
		for (i = 0; i < net->n; i++)
			if (!net->dead[i])
				dht_periodic(net->d[i], net->now);
		net_deliver(net);
		net->now += 0.5;
	}
}

/* Sends raw bytes to node i from the test's address, returns the answer. */
static struct pkt *
ask(struct net *net, int i, const unsigned char *b, size_t len)
{
	struct dht_addr me = { { 10, 9, 9, 9 }, 9, 0 };

	net->ngot = 0;
	dht_input(net->d[i], b, len, &me, net->now);
	return net->ngot > 0 ? &net->got[0] : NULL;
}

static void
test_krpc_roundtrip(void)
{
	unsigned char b[KRPC_MAX_MSG], id[20], t[20], tok[8], nodes[52];
	unsigned char values[12];
	struct krpc_msg m;
	char err[BT_ERRLEN];
	size_t n;

	memset(id, 'i', 20);
	memset(t, 't', 20);
	memset(tok, 'k', 8);
	memset(nodes, 'n', 52);
	memset(values, 'v', 12);
	n = krpc_put_ping(b, sizeof(b), (const unsigned char *)"aa", 2, id, 0);
	CHECK(n > 0 && krpc_parse(b, n, &m, err) == 0);
	CHECK(m.type == KRPC_QUERY && m.method == KRPC_PING);
	CHECK(m.tidlen == 2 && memcmp(m.tid, "aa", 2) == 0);
	CHECK(memcmp(m.id, id, 20) == 0);
	/* BEP 5's own example, byte for byte. */
	CHECK(n == 56 && memcmp(b, "d1:ad2:id20:iiiiiiiiiiiiiiiiiiii"
	    "e1:q4:ping1:t2:aa1:y1:qe", 56) == 0);
	n = krpc_put_find_node(b, sizeof(b), (const unsigned char *)"x", 1,
	    id, t, 0);
	CHECK(krpc_parse(b, n, &m, err) == 0 && m.method == KRPC_FIND_NODE &&
	    m.has_target && memcmp(m.target, t, 20) == 0);
	n = krpc_put_get_peers(b, sizeof(b), (const unsigned char *)"x", 1,
	    id, t, 0);
	CHECK(krpc_parse(b, n, &m, err) == 0 && m.method == KRPC_GET_PEERS);
	n = krpc_put_announce_peer(b, sizeof(b), (const unsigned char *)"x",
	    1, id, t, 6881, 1, tok, 8, 0);
	CHECK(krpc_parse(b, n, &m, err) == 0 &&
	    m.method == KRPC_ANNOUNCE_PEER && m.port == 6881 &&
	    m.implied_port == 1 && m.tokenlen == 8);
	n = krpc_put_response(b, sizeof(b), (const unsigned char *)"x", 1,
	    id, nodes, 2, tok, 8, values, 2, 0);
	CHECK(krpc_parse(b, n, &m, err) == 0 && m.type == KRPC_RESPONSE &&
	    m.nnodes == 2 && m.nvalues == 2 && m.tokenlen == 8 &&
	    memcmp(m.values[1], "vvvvvv", 6) == 0);
	n = krpc_put_error(b, sizeof(b), (const unsigned char *)"x", 1, 203,
	    "bad token");
	CHECK(krpc_parse(b, n, &m, err) == 0 && m.type == KRPC_ERROR &&
	    m.ecode == 203 && m.emsglen == 9);
	/* Too small a buffer: 0, never a partial message. */
	CHECK(krpc_put_ping(b, 20, (const unsigned char *)"aa", 2, id, 0) == 0);
}

static void
test_krpc_refuses(void)
{
	static const char *const bad[] = {
		"",
		"i1e",
		"d1:y1:qe",			/* no t */
		"d1:t2:aa1:y1:xe",		/* bad y */
		"d1:t2:aa1:y1:q1:q4:pinge",	/* no a */
		"d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe",	/* short id */
		"d1:ad2:id20:iiiiiiiiiiiiiiiiiiiie1:q9:find_node1:t2:aa"
		    "1:y1:qe",			/* no target */
		"d1:rd2:id20:iiiiiiiiiiiiiiiiiiii5:nodes3:abce1:t2:aa"
		    "1:y1:re",			/* nodes not 26 n */
		"d1:ad2:id20:iiiiiiiiiiiiiiiiiiii4:porti70000ee1:q4:ping"
		    "1:t2:aa1:y1:qe",		/* port range */
		"d1:eli201ei5ee1:t2:aa1:y1:ee",	/* message not a string */
	};
	unsigned char big[KRPC_MAX_MSG + 1];
	struct krpc_msg m;
	char err[BT_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK(krpc_parse(bad[i], strlen(bad[i]), &m, err) == -1);
		CHECK(err[0] != '\0');
	}
	memset(big, 'x', sizeof(big));
	CHECK(krpc_parse(big, sizeof(big), &m, err) == -1);
	/* An unknown method parses; unknown keys are ignored. */
	CHECK(krpc_parse("d1:ad2:id20:iiiiiiiiiiiiiiiiiiii1:zi1ee1:q3:foo"
	    "1:t2:aa1:v4:LT011:y1:qe", 70, &m, err) == 0);
	CHECK(m.method == KRPC_UNKNOWN);
}

/* Node i bootstraps from node 0, the only contact everybody knows. */
static void
bootstrap(struct net *net)
{
	struct dht_addr a;
	int i;

	addr_of(0, &a);
	for (i = 1; i < net->n; i++)
		dht_add_contact(net->d[i], &a);
	addr_of(1, &a);
	dht_add_contact(net->d[0], &a);
	net_run(net, 60);
}

static void
test_lookup_and_announce(void)
{
	struct net net;
	struct dht_stats st;
	unsigned char ih[20];
	int s, i, found = 0;

	net_init(&net, NET_NODES);
	bootstrap(&net);
	for (i = 0; i < net.n; i++) {
		dht_get_stats(net.d[i], &st, net.now);
		CHECK(st.good >= DHT_K);
	}
	memset(ih, 0xab, 20);
	s = dht_search(net.d[5], ih, 1, 4321, net.now);
	CHECK(s >= 0);
	net_run(&net, 20);
	CHECK(net.done[5] == 1);
	CHECK(net.res[5].announced >= 1 && net.res[5].announced <= DHT_K);
	CHECK(net.res[5].replied >= DHT_K);
	s = dht_search(net.d[30], ih, 1, 0, net.now);
	net_run(&net, 20);
	CHECK(net.done[30] == 1);
	for (i = 0; i < net.npeers[30]; i++)
		if (index_of(&net.peers[30][i]) < 0 &&
		    net.peers[30][i].port == 4321 &&
		    net.peers[30][i].ip[3] == 6)
			found++;
	CHECK(found >= 1);
	/* A quarter of the network dies; lookups still end, and find it. */
	for (i = 10; i < 20; i++)
		net.dead[i] = 1;
	net.npeers[31] = 0;
	dht_search(net.d[31], ih, 1, 0, net.now);
	net_run(&net, 60);
	CHECK(net.done[31] == 1);
	net_free(&net);
}

/* The same over IPv6: nodes6 and 18-byte values (BEP 32). */
static void
test_lookup_v6(void)
{
	struct net net;
	struct dht_addr v4 = { { 10, 0, 0, 1 }, 6881, 0 };
	unsigned char ih[20];
	int i, found = 0;

	net_v6 = 1;
	net_init(&net, 20);
	/* An IPv4 contact is not for an IPv6 node. */
	CHECK(dht_add_contact(net.d[1], &v4) == 0);
	bootstrap(&net);
	memset(ih, 0xcd, 20);
	dht_search(net.d[3], ih, 1, 4321, net.now);
	net_run(&net, 20);
	CHECK(net.done[3] == 1 && net.res[3].announced >= 1);
	dht_search(net.d[15], ih, 1, 0, net.now);
	net_run(&net, 20);
	CHECK(net.done[15] == 1);
	for (i = 0; i < net.npeers[15]; i++)
		if (net.peers[15][i].v6 && net.peers[15][i].ip[15] == 4 &&
		    net.peers[15][i].port == 4321)
			found++;
	CHECK(found >= 1 && found == net.npeers[15]);
	net_free(&net);
	net_v6 = 0;
}

/*
 * Hostile nodes answer every query, a step later, with 8 new nodes one
 * bit closer to the target, down to the last bit: the lookup still ends
 * by DHT_SEARCH_TIME.
 */
static void
test_hostile_lookup(void)
{
	struct net net;
	struct dht_addr a;
	unsigned char b[KRPC_MAX_MSG], id[20], nodes[8 * 26], ih[20];
	struct krpc_msg *m;
	double start;
	size_t len;
	int i, k, depth, nq;

	net_init(&net, 1);
	memset(&a, 0, sizeof(a));
	a.ip[0] = 10;
	a.ip[1] = 8;
	a.ip[3] = 1;
	a.port = 1;
	dht_add_contact(net.d[0], &a);
	memset(ih, 0x5a, 20);
	start = net.now;
	dht_search(net.d[0], ih, 1, 0, net.now);
	while (net.done[0] == 0 && net.now - start < 200) {
		nq = net.nhq;
		net.nhq = 0;
		for (i = 0; i < nq; i++) {
			m = &net.hq[i];
			depth = net.hto[i].ip[2];
			memcpy(id, m->target, 20);
			id[depth / 8] ^= (unsigned char)(0x80 >> (depth % 8));
			for (k = 0; k < 8 && depth < 159; k++) {
				memcpy(nodes + k * 26, m->target, 20);
				nodes[k * 26 + (depth + 1) / 8] ^= (unsigned char)
				    (0x80 >> ((depth + 1) % 8));
				nodes[k * 26 + 19] ^= (unsigned char)(k + 1);
				memcpy(nodes + k * 26 + 20, "\x0a\x08", 2);
				nodes[k * 26 + 22] = (unsigned char)(depth + 1);
				nodes[k * 26 + 23] = (unsigned char)(k + 1);
				nodes[k * 26 + 24] = 0;
				nodes[k * 26 + 25] = 1;
			}
			len = krpc_put_response(b, sizeof(b), m->tid, m->tidlen,
			    id, nodes, (size_t)k, (const unsigned char *)"tok",
			    3, NULL, 0, 0);
			dht_input(net.d[0], b, len, &net.hto[i], net.now);
		}
		dht_periodic(net.d[0], net.now);
		net.now += 0.5;
	}
	CHECK(net.done[0] == 1);
	CHECK(net.now - start <= 62);
	net_free(&net);
}

static void
test_nobody_answers(void)
{
	struct net net;
	struct dht_addr a;
	unsigned char ih[20];

	net_init(&net, 3);
	net.dead[1] = 1;
	addr_of(1, &a);
	dht_add_contact(net.d[0], &a);
	memset(ih, 1, 20);
	dht_search(net.d[0], ih, 1, 0, net.now);
	net_run(&net, 3 * 1.0);
	CHECK(net.done[0] == 0);
	net_run(&net, 10);
	CHECK(net.done[0] == 1 && net.res[0].replied == 0);
	net_free(&net);
}

/* A get_peers from the test's address; the token copied into tok. */
static size_t
get_token(struct net *net, int i, const unsigned char *ih, unsigned char *tok)
{
	unsigned char b[KRPC_MAX_MSG], id[20];
	struct krpc_msg m;
	struct pkt *p;
	char err[BT_ERRLEN];
	size_t n;

	memset(id, 0x55, 20);
	n = krpc_put_get_peers(b, sizeof(b), (const unsigned char *)"gp", 2,
	    id, ih, 0);
	if ((p = ask(net, i, b, n)) == NULL || krpc_parse(p->b, p->len, &m,
	    err) != 0)
		return 0;
	memcpy(tok, m.token, m.tokenlen);
	return m.tokenlen;
}

/* An announce_peer from the test's address; the answer's type. */
static int
announce_with(struct net *net, int i, const unsigned char *ih,
    const unsigned char *tok, size_t toklen)
{
	unsigned char b[KRPC_MAX_MSG], id[20];
	struct krpc_msg m;
	struct pkt *p;
	char err[BT_ERRLEN];
	size_t n;

	memset(id, 0x55, 20);
	n = krpc_put_announce_peer(b, sizeof(b), (const unsigned char *)"ap",
	    2, id, ih, 7777, 0, tok, toklen, 0);
	if ((p = ask(net, i, b, n)) == NULL || krpc_parse(p->b, p->len, &m,
	    err) != 0)
		return 0;
	return m.type;
}

/* get_peers' answer from the test's address: its number of values. */
static int
values_of(struct net *net, int i, const unsigned char *ih)
{
	unsigned char b[KRPC_MAX_MSG], id[20];
	struct krpc_msg m;
	struct pkt *p;
	char err[BT_ERRLEN];
	size_t n;

	memset(id, 0x55, 20);
	n = krpc_put_get_peers(b, sizeof(b), (const unsigned char *)"gp", 2,
	    id, ih, 0);
	if ((p = ask(net, i, b, n)) == NULL || krpc_parse(p->b, p->len, &m,
	    err) != 0)
		return -1;
	return (int)m.nvalues;
}

static void
test_tokens_rotate(void)
{
	struct net net;
	unsigned char ih[20], tok[KRPC_MAX_TOKEN], forged[8];
	size_t n;

	net_init(&net, 1);
	memset(ih, 3, 20);
	n = get_token(&net, 0, ih, tok);
	CHECK(n == 8);
	memset(forged, 0, 8);
	CHECK(announce_with(&net, 0, ih, forged, 8) == KRPC_ERROR);
	CHECK(announce_with(&net, 0, ih, tok, n) == KRPC_RESPONSE);
	/* After one rotation (5 min) the token still works... */
	net.now += 5 * 60 + 1;
	dht_periodic(net.d[0], net.now);
	CHECK(announce_with(&net, 0, ih, tok, n) == KRPC_RESPONSE);
	/* ...after two (10 min) it does not. */
	net.now += 5 * 60 + 1;
	dht_periodic(net.d[0], net.now);
	CHECK(announce_with(&net, 0, ih, tok, n) == KRPC_ERROR);
	net_free(&net);
}

static void
test_peers_expire(void)
{
	struct net net;
	struct dht_stats st;
	unsigned char ih[20], tok[KRPC_MAX_TOKEN];
	size_t n;

	net_init(&net, 1);
	memset(ih, 4, 20);
	CHECK(values_of(&net, 0, ih) == 0);
	n = get_token(&net, 0, ih, tok);
	CHECK(announce_with(&net, 0, ih, tok, n) == KRPC_RESPONSE);
	CHECK(values_of(&net, 0, ih) == 1);
	/* Our own lookup reports what was announced to us. */
	dht_search(net.d[0], ih, 1, 0, net.now);
	CHECK(net.npeers[0] == 1 && net.peers[0][0].port == 7777 &&
	    net.peers[0][0].ip[3] == 9);
	net.now += 29 * 60;
	dht_periodic(net.d[0], net.now);
	CHECK(values_of(&net, 0, ih) == 1);
	net.now += 2 * 60;
	dht_periodic(net.d[0], net.now);
	CHECK(values_of(&net, 0, ih) == 0);
	dht_get_stats(net.d[0], &st, net.now);
	CHECK(st.torrents == 0 && st.stored == 0);
	net_free(&net);
}

static void
test_no_amplification(void)
{
	struct net net;
	unsigned char b[KRPC_MAX_MSG], id[20], ih[20], tok[KRPC_MAX_TOKEN];
	struct dht_addr from = { { 10, 9, 9, 9 }, 1, 0 };
	struct pkt *p;
	size_t n, qlen;
	int i;

	net_init(&net, 1);
	memset(ih, 5, 20);
	/* The store full of peers for ih: the answer is still small. */
	n = get_token(&net, 0, ih, tok);
	for (i = 0; i < 200; i++) {
		from.port = (uint16_t)(1000 + i);
		memset(id, 0x55, 20);
		qlen = krpc_put_announce_peer(b, sizeof(b),
		    (const unsigned char *)"ap", 2, id, ih, 0, 1, tok, n, 0);
		dht_input(net.d[0], b, qlen, &from, net.now);
	}
	net.now += 1;
	memset(id, 0x55, 20);
	qlen = krpc_put_get_peers(b, sizeof(b), (const unsigned char *)"g",
	    1, id, ih, 0);
	p = ask(&net, 0, b, qlen);
	CHECK(p != NULL && p->len <= 400 && p->len < 6 * qlen);
	/* A flood of pings in one instant: at most DHT_REPLY_RATE answers. */
	net.now += 10;
	net.sent = 0;
	for (i = 0; i < 1000; i++) {
		qlen = krpc_put_ping(b, sizeof(b), (const unsigned char *)"p",
		    1, id, 0);
		from.port = (uint16_t)(2000 + i);
		dht_input(net.d[0], b, qlen, &from, net.now);
	}
	CHECK(net.sent >= 100 && net.sent <= 200);
	/* Answers, errors and garbage get no answer at all. */
	net.sent = 0;
	qlen = krpc_put_response(b, sizeof(b), (const unsigned char *)"p", 1,
	    id, NULL, 0, NULL, 0, NULL, 0, 0);
	net.now += 10;
	CHECK(ask(&net, 0, b, qlen) == NULL);
	CHECK(ask(&net, 0, (const unsigned char *)"garbage", 7) == NULL);
	CHECK(net.sent == 0);
	net_free(&net);
}

static void
test_table_bounded(void)
{
	struct net net;
	struct dht_stats st;
	struct dht_addr from = { { 10, 7, 0, 0 }, 1, 0 };
	unsigned char b[KRPC_MAX_MSG], id[20];
	size_t n;
	int i, k;

	net_init(&net, 1);
	for (i = 0; i < 5000; i++) {
		for (k = 0; k < 20; k++)
			id[k] = (unsigned char)rand();
		/* Half of them close to us, to fill the deep buckets. */
		if (i % 2)
			memcpy(id, dht_id(net.d[0]), (size_t)(i % 19) + 1);
		n = krpc_put_ping(b, sizeof(b), (const unsigned char *)"p", 1,
		    id, 0);
		from.ip[2] = (unsigned char)(i >> 8);
		from.ip[3] = (unsigned char)i;
		net.now += 0.01;
		dht_input(net.d[0], b, n, &from, net.now);
	}
	dht_get_stats(net.d[0], &st, net.now);
	CHECK(st.nodes > 8 && st.nodes <= 160 * DHT_K);
	CHECK(st.good == 0);	/* they queried, never answered */
	net_free(&net);
}

static void
test_forged_answers(void)
{
	struct net net;
	struct dht_stats st;
	struct dht_addr a, evil = { { 10, 6, 6, 6 }, 6881, 0 };
	unsigned char b[KRPC_MAX_MSG], id[20], tid[4];
	size_t n;
	int i;

	net_init(&net, 2);
	addr_of(1, &a);
	net.dead[1] = 1;
	dht_ping(net.d[0], &a, net.now);
	memset(id, 0x66, 20);
	/* Every plausible tid, from the wrong address: all dropped. */
	for (i = 0; i < 256; i++) {
		tid[0] = 0;
		tid[1] = (unsigned char)i;
		tid[2] = (unsigned char)i;
		tid[3] = (unsigned char)(i + 1);
		n = krpc_put_response(b, sizeof(b), tid, 4, id, NULL, 0,
		    NULL, 0, NULL, 0, 0);
		dht_input(net.d[0], b, n, &evil, net.now);
	}
	dht_get_stats(net.d[0], &st, net.now);
	CHECK(st.nodes == 0 && st.dropped == 256 && st.inflight == 1);
	net_run(&net, 1.0 * 4);
	dht_get_stats(net.d[0], &st, net.now);
	CHECK(st.inflight <= 1);
	net_free(&net);
}

/* A quiet table: questionable nodes are pinged, buckets refreshed. */
static void
test_refresh(void)
{
	struct net net;
	struct dht_stats st;
	int i;

	net_init(&net, 12);
	bootstrap(&net);
	memset(net.queries, 0, sizeof(net.queries));
	net_run(&net, 16 * 60);
	CHECK(net.queries[3][KRPC_PING] > 0);
	CHECK(net.queries[3][KRPC_FIND_NODE] > 0);
	dht_get_stats(net.d[3], &st, net.now);
	CHECK(st.good >= DHT_K);
	/* Half the network dies: it leaves the table within minutes. */
	for (i = 0; i < 6; i++)
		net.dead[i] = 1;
	net_run(&net, 20 * 60);
	dht_get_stats(net.d[9], &st, net.now);
	CHECK(st.nodes <= 5 && st.good >= 4);
	net_free(&net);
}

static void
test_read_only(void)
{
	struct net net;
	struct dht_stats st;
	struct dht_addr a;
	struct krpc_msg m;
	char err[BT_ERRLEN];
	unsigned char b[KRPC_MAX_MSG], id[20];
	size_t n;

	net_init(&net, 2);
	/* A read-only query (BEP 43) is answered, its sender not kept. */
	memset(id, 0x77, 20);
	n = krpc_put_ping(b, sizeof(b), (const unsigned char *)"p", 1, id,
	    KRPC_RO);
	CHECK(krpc_parse(b, n, &m, err) == 0 && m.read_only == 1);
	CHECK(ask(&net, 0, b, n) != NULL);
	dht_get_stats(net.d[0], &st, net.now);
	CHECK(st.nodes == 0);
	/* Our own queries say "ro" once we are read-only. */
	dht_set_read_only(net.d[1], 1);
	addr_of(0, &a);
	dht_ping(net.d[1], &a, net.now);
	net_deliver(&net);
	dht_get_stats(net.d[0], &st, net.now);
	CHECK(st.nodes == 0);
	dht_get_stats(net.d[1], &st, net.now);
	CHECK(st.nodes == 1 && st.good == 1);
	net_free(&net);
}

static void
test_nodes_saved(void)
{
	struct net net;
	struct dht_nodeinfo ni[64];
	size_t n;

	net_init(&net, 12);
	bootstrap(&net);
	n = dht_nodes(net.d[3], ni, 64, net.now);
	CHECK(n >= DHT_K && n <= 11);
	net_free(&net);
}

int
main(void)
{
	RUN(test_krpc_roundtrip);
	RUN(test_krpc_refuses);
	RUN(test_lookup_and_announce);
	RUN(test_lookup_v6);
	RUN(test_hostile_lookup);
	RUN(test_nobody_answers);
	RUN(test_tokens_rotate);
	RUN(test_peers_expire);
	RUN(test_no_amplification);
	RUN(test_table_bounded);
	RUN(test_forged_answers);
	RUN(test_refresh);
	RUN(test_read_only);
	RUN(test_nodes_saved);
	DONE();
}
