/*
 * dht_table.c: the routing table. Bucket i holds up to K nodes whose ids
 * share exactly i leading bits with ours, which is what BEP 5's splitting
 * of the bucket holding our id converges to, with the buckets laid out
 * in advance (160 of them, at most 1280 nodes).
 *
 * A node enters when it answers us, or when it queries us and its bucket
 * has room. A full bucket takes a newcomer only in place of a bad node
 * (DHT_MAX_FAILS queries unanswered in a row); otherwise the newcomer
 * waits as the bucket's replacement while its stalest questionable node
 * is pinged. An id already in the table keeps its address: a datagram
 * from elsewhere under that id does not move it.
 */
#include <string.h>

#include "dht_int.h"

int
dht_common(const unsigned char *a, const unsigned char *b)
{
	int i, bit;
	unsigned char x;

	for (i = 0; i < DHT_ID_LEN; i++) {
		x = a[i] ^ b[i];
		if (x == 0)
			continue;
		for (bit = 0; !(x & 0x80); bit++)
			x = (unsigned char)(x << 1);
		return i * 8 + bit;
	}
	return 160;
}

int
dht_closer(const unsigned char *t, const unsigned char *a,
    const unsigned char *b)
{
	int i, da, db;

	for (i = 0; i < DHT_ID_LEN; i++) {
		da = a[i] ^ t[i];
		db = b[i] ^ t[i];
		if (da != db)
			return da < db ? -1 : 1;
	}
	return 0;
}

int
dht_node_good(const struct dht_node *n, double now)
{
	if (n->replied == 0 || n->fails > 0)
		return 0;
	return now - n->replied < DHT_GOOD_TIME ||
	    now - n->queried < DHT_GOOD_TIME;
}

static struct dht_bucket *
bucket_of(struct dht *d, const unsigned char *id)
{
	int c = dht_common(d->id, id);

	return c >= 160 ? NULL : &d->b[c];
}

static void
node_set(struct dht_node *n, const unsigned char *id,
    const struct dht_addr *a, int replied, double now)
{
	memset(n, 0, sizeof(*n));
	memcpy(n->id, id, DHT_ID_LEN);
	n->a = *a;
	if (replied)
		n->replied = now;
	else
		n->queried = now;
}

void
dht_table_seen(struct dht *d, const unsigned char id[DHT_ID_LEN],
    const struct dht_addr *a, int replied, double now)
{
	struct dht_bucket *b;
	struct dht_node *n, *stale = NULL;
	int i;

	if ((b = bucket_of(d, id)) == NULL || !dht_addr_ok(a))
		return;
	for (i = 0; i < b->count; i++) {
		n = &b->n[i];
		if (memcmp(n->id, id, DHT_ID_LEN) != 0)
			continue;
		if (!dht_addr_eq(&n->a, a))
			return;
		if (replied) {
			n->replied = now;
			n->fails = 0;
			b->changed = now;
		} else
			n->queried = now;
		return;
	}
	if (b->count < DHT_K) {
		node_set(&b->n[b->count++], id, a, replied, now);
		b->changed = now;
		return;
	}
	if (!replied)
		return;
	for (i = 0; i < b->count; i++) {
		n = &b->n[i];
		if (n->fails >= DHT_MAX_FAILS) {
			node_set(n, id, a, replied, now);
			b->changed = now;
			return;
		}
		if (!dht_node_good(n, now) && (stale == NULL ||
		    n->replied < stale->replied))
			stale = n;
	}
	if (stale == NULL)
		return;		/* all good: the newcomer is not needed */
	node_set(&b->repl, id, a, replied, now);
	b->has_repl = 1;
	if (now - stale->pinged >= DHT_QUERY_TIMEOUT) {
		stale->pinged = now;
		dht_send_query(d, &stale->a, KRPC_PING, NULL, -1, now, NULL, 0,
		    0);
	}
}

void
dht_table_failed(struct dht *d, const struct dht_addr *a)
{
	struct dht_bucket *b;
	int i, j;

	for (i = 0; i < 160; i++) {
		b = &d->b[i];
		for (j = 0; j < b->count; j++) {
			if (!dht_addr_eq(&b->n[j].a, a))
				continue;
			if (++b->n[j].fails < DHT_MAX_FAILS)
				return;
			if (b->has_repl) {
				b->n[j] = b->repl;
				b->has_repl = 0;
			} else
				b->n[j] = b->n[--b->count];
			return;
		}
	}
}

int
dht_table_closest(const struct dht *d, const unsigned char *t,
    struct dht_node **out, int max, int answered_only)
{
	const struct dht_bucket *b;
	struct dht_node *n;
	int i, j, k, cnt = 0;

	for (i = 0; i < 160; i++) {
		b = &d->b[i];
		for (j = 0; j < b->count; j++) {
			n = (struct dht_node *)&b->n[j];
			if (n->fails >= DHT_MAX_FAILS || (answered_only &&
			    n->replied == 0))
				continue;
			/* Insertion into the sorted out[0..cnt). */
			for (k = cnt; k > 0 && dht_closer(t, n->id,
			    out[k - 1]->id) < 0; k--)
				if (k < max)
					out[k] = out[k - 1];
			if (k < max) {
				out[k] = n;
				if (cnt < max)
					cnt++;
			}
		}
	}
	return cnt;
}

/* A random id in bucket i: our first i bits, bit i flipped, then noise. */
static void
random_in_bucket(struct dht *d, int i, unsigned char *id)
{
	uint64_t r = 0;
	int k;

	for (k = 0; k < DHT_ID_LEN; k++) {
		if (k % 8 == 0)
			r = dht_rand(d);
		id[k] = (unsigned char)(r >> (k % 8 * 8));
	}
	for (k = 0; k < i; k++) {
		id[k / 8] &= (unsigned char)~(0x80 >> (k % 8));
		id[k / 8] |= d->id[k / 8] & (0x80 >> (k % 8));
	}
	id[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
	id[i / 8] |= (d->id[i / 8] ^ 0x80 >> (i % 8)) & (0x80 >> (i % 8));
}

/* 1 if an internal lookup is running (one at a time is enough). */
static int
internal_running(const struct dht *d)
{
	int i;

	for (i = 0; i < DHT_MAX_SEARCHES; i++)
		if (d->s[i].phase != S_IDLE && d->s[i].internal)
			return 1;
	return 0;
}

static void
internal_search(struct dht *d, const unsigned char *target, double now)
{
	int s;

	if ((s = dht_search(d, target, 0, 0, now)) >= 0)
		d->s[s].internal = 1;
}

void
dht_table_tick(struct dht *d, double now)
{
	struct dht_bucket *b;
	struct dht_node *n;
	unsigned char target[DHT_ID_LEN];
	int i, j, good = 0, deepest = -1, pings = 0;

	for (i = 0; i < 160; i++) {
		b = &d->b[i];
		if (b->count > 0)
			deepest = i;
		for (j = 0; j < b->count; j++) {
			n = &b->n[j];
			if (dht_node_good(n, now)) {
				good++;
				continue;
			}
			if (pings < DHT_PINGS_PER_TICK &&
			    now - n->pinged >= DHT_PING_INTERVAL) {
				n->pinged = now;
				pings++;
				dht_send_query(d, &n->a, KRPC_PING, NULL, -1,
				    now, NULL, 0, 0);
			}
		}
	}
	if (internal_running(d))
		return;
	if (good < DHT_K && (deepest >= 0 || d->ncontacts > 0) &&
	    now - d->bootstrapped >= DHT_BOOTSTRAP_INTERVAL) {
		d->bootstrapped = now;
		internal_search(d, d->id, now);
		return;
	}
	for (i = 0; i <= deepest; i++) {
		b = &d->b[i];
		if (b->count == 0 || now - b->changed < DHT_REFRESH_TIME)
			continue;
		b->changed = now;
		random_in_bucket(d, i, target);
		internal_search(d, target, now);
		return;
	}
}

size_t
dht_nodes(const struct dht *d, struct dht_nodeinfo *out, size_t max,
    double now)
{
	const struct dht_node *n;
	size_t cnt = 0;
	int i, j;

	for (i = 159; i >= 0; i--)
		for (j = 0; j < d->b[i].count && cnt < max; j++) {
			n = &d->b[i].n[j];
			if (n->replied == 0 || n->fails > 0 ||
			    now - n->replied >= DHT_GOOD_TIME * 4)
				continue;
			memcpy(out[cnt].id, n->id, DHT_ID_LEN);
			out[cnt++].a = n->a;
		}
	return cnt;
}

void
dht_add_node(struct dht *d, const unsigned char id[DHT_ID_LEN],
    const struct dht_addr *a, double now)
{
	struct dht_bucket *b;
	int i;

	if ((b = bucket_of(d, id)) == NULL || !dht_addr_ok(a) ||
	    b->count == DHT_K)
		return;
	for (i = 0; i < b->count; i++)
		if (memcmp(b->n[i].id, id, DHT_ID_LEN) == 0)
			return;
	node_set(&b->n[b->count++], id, a, 0, now);
	b->n[b->count - 1].queried = 0;
	b->changed = now;
}
