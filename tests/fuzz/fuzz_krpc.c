/*
 * fuzz_krpc.c: KRPC datagrams (BEP 5) on hostile bytes. Each input is
 * parsed; a parsed message is checked against the codec's limits and,
 * when it is a query, rebuilt and parsed again to the same fields. The
 * same bytes then go to a fresh node, IPv4 then IPv6 (BEP 32), as if from
 * the network: once from a
 * stranger (the server side), once from the contact its lookup asked,
 * with the transaction id patched to the one it waits for (the answer
 * matching, the lookup and the announce that follows).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "dht.h"
#include "krpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t sent;
/* The transaction id of the last query the node sent. */
static unsigned char last_tid[KRPC_MAX_TID];
static size_t last_tidlen;

static void
count_send(void *arg, const unsigned char *b, size_t n,
    const struct dht_addr *a)
{
	struct krpc_msg m;
	char err[BT_ERRLEN];

	(void)arg;
	(void)a;
	/* Everything the node sends must parse, and stay small. */
	if (n > 420 || krpc_parse(b, n, &m, err) != 0)
		abort();
	if (m.type == KRPC_QUERY) {
		memcpy(last_tid, m.tid, m.tidlen);
		last_tidlen = m.tidlen;
	}
	sent++;
}

static void
rebuild(const struct krpc_msg *m)
{
	unsigned char b[KRPC_MAX_MSG];
	struct krpc_msg m2;
	char err[BT_ERRLEN];
	size_t n = 0;

	switch (m->method) {
	case KRPC_PING:
		n = krpc_put_ping(b, sizeof(b), m->tid, m->tidlen, m->id, 0);
		break;
	case KRPC_FIND_NODE:
		n = krpc_put_find_node(b, sizeof(b), m->tid, m->tidlen, m->id,
		    m->target, 0);
		break;
	case KRPC_GET_PEERS:
		n = krpc_put_get_peers(b, sizeof(b), m->tid, m->tidlen, m->id,
		    m->target, 0);
		break;
	case KRPC_ANNOUNCE_PEER:
		n = krpc_put_announce_peer(b, sizeof(b), m->tid, m->tidlen,
		    m->id, m->target, m->port < 0 ? 0 : m->port,
		    m->implied_port, m->token, m->tokenlen, 0);
		break;
	default:
		return;
	}
	if (n == 0 || krpc_parse(b, n, &m2, err) != 0 ||
	    m2.method != m->method || m2.tidlen != m->tidlen ||
	    memcmp(m2.tid, m->tid, m->tidlen) != 0 ||
	    memcmp(m2.id, m->id, 20) != 0)
		abort();
}

/* A copy of d with its 4-byte transaction id set to the last query's. */
static unsigned char *
patched(const uint8_t *d, size_t n, const struct krpc_msg *m)
{
	unsigned char *c, pat[9];
	size_t i;

	if (m->tidlen != 4 || last_tidlen != 4 || (c = malloc(n)) == NULL)
		return NULL;
	memcpy(c, d, n);
	memcpy(pat, "1:t4:", 5);
	memcpy(pat + 5, m->tid, 4);
	for (i = 0; i + 9 <= n; i++)
		if (memcmp(c + i, pat, 9) == 0) {
			memcpy(c + i + 5, last_tid, 4);
			return c;
		}
	free(c);
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct dht *node;
	struct krpc_msg m;
	struct dht_addr stranger = { { 127, 0, 0, 2 }, 6881, 0 };
	struct dht_addr contact = { { 127, 0, 0, 3 }, 1, 0 };
	struct dht_cb cb;
	unsigned char id[20], seed[32], *c = NULL;
	char err[BT_ERRLEN];
	size_t i;
	int ok, v6;

	err[0] = '\0';
	if ((ok = krpc_parse(d, n, &m, err) == 0)) {
		if (m.tidlen == 0 || m.tidlen > KRPC_MAX_TID ||
		    m.tokenlen > KRPC_MAX_TOKEN ||
		    m.nvalues > KRPC_MAX_VALUES ||
		    (m.nnodes > 0 && m.nodes + m.nnodes * KRPC_NODE_LEN >
		    d + n))
			abort();
		for (i = 0; i < m.nvalues; i++)
			if (m.values[i] < d || m.values[i] + 6 > d + n)
				abort();
		if (m.type == KRPC_QUERY)
			rebuild(&m);
	} else if (err[0] == '\0')
		abort();
	if (!ok)
		return 0;	/* a node drops it unread: nothing more to see */
	for (v6 = 0; v6 < 2; v6++) {
		memset(id, 0x42, sizeof(id));
		memset(seed, 7, sizeof(seed));
		memset(&cb, 0, sizeof(cb));
		cb.send = count_send;
		if ((node = dht_new(id, seed, &cb, 1.0)) == NULL)
			return 0;
		if (v6) {
			dht_set_ipv6(node);
			stranger.v6 = contact.v6 = 1;
			stranger.ip[15] = contact.ip[15] = 1;
		}
		dht_add_contact(node, &contact);
		dht_search(node, id, 1, 6881, 1.0);
		dht_input(node, d, n, &stranger, 1.5);
		if (ok && m.type != KRPC_QUERY &&
		    (c = patched(d, n, &m)) != NULL) {
			dht_input(node, c, n, &contact, 1.6);
			free(c);
		}
		dht_periodic(node, 2.0);
		dht_periodic(node, 5.0);
		dht_free(node);
	}
	return 0;
}
