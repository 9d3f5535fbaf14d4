/*
 * peer_fast.c: BEP 6, the fast extension, once both sides offered it
 * (p->fast): have_all/have_none in place of a bitfield, reject_request
 * for what we will not answer, our allowed fast set (the canonical one,
 * sent as allowed_fast for the pieces we have) and the peer's (pieces we
 * may request while it chokes us), suggest_piece traced as a hint.
 */
#include <string.h>

#include <openssl/sha.h>

#include "peer_int.h"

uint32_t
fast_allowed_set(uint32_t ip, const unsigned char info_hash[20],
    uint32_t npieces, uint32_t k, uint32_t *out)
{
	unsigned char x[24];
	uint32_t n = 0, y, i;
	int j;

	if (k > npieces)
		k = npieces;	/* else the loop below never ends */
	ip &= 0xffffff00u;
	x[0] = (unsigned char)(ip >> 24);
	x[1] = (unsigned char)(ip >> 16);
	x[2] = (unsigned char)(ip >> 8);
	x[3] = (unsigned char)ip;
	memcpy(x + 4, info_hash, 20);
	SHA1(x, 24, x);
	for (;;) {
		for (j = 0; j < 5 && n < k; j++) {
			y = (uint32_t)x[4 * j] << 24 | (uint32_t)x[4 * j + 1] <<
			    16 | (uint32_t)x[4 * j + 2] << 8 | x[4 * j + 3];
			y %= npieces;
			for (i = 0; i < n && out[i] != y; i++)
				;
			if (i == n)
				out[n++] = y;
		}
		if (n >= k)
			return n;
		SHA1(x, 20, x);
	}
}

int
fast_reject(struct peer *p, uint32_t index, uint32_t begin, uint32_t len,
    const char *why)
{
	unsigned char m[WIRE_REQUEST_LEN];

	if (p->cfg->verbose)
		peer_trace(p, "> reject %u %u+%u (%s)", index, begin, len, why);
	return peer_out_add(p, m, wire_request(m, WIRE_REJECT, index, begin,
	    len));
}

static int
in_set(const uint32_t *set, int n, uint32_t i)
{
	int k;

	for (k = 0; k < n; k++)
		if (set[k] == i)
			return 1;
	return 0;
}

int
fast_ours(const struct peer *p, uint32_t i)
{
	return p->fast && in_set(p->fast_out, p->nfast_out, i);
}

int
fast_theirs(const struct peer *p, uint32_t i)
{
	return p->fast && in_set(p->fast_in, p->nfast_in, i);
}

/*
 * After our bitfield: the allowed fast set of this peer's address
 * (/24), offered for the pieces we can serve, so that it can start
 * while we choke it.
 */
int
fast_start(struct peer *p)
{
	uint32_t set[PEER_FAST_K], n, k, ip;
	unsigned char m[9];
	const unsigned char *a = p->cfg->yourip;

	if (!p->fast || p->cfg->yourip_len != 4 || p->host->can_serve == NULL ||
	    p->cfg->mode == PEER_BITFIELD || p->cfg->mode == PEER_PIECE ||
	    p->cfg->mode == PEER_METADATA || p->mi->npieces == 0)
		return 0;
	ip = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	    (uint32_t)a[2] << 8 | a[3];
	n = fast_allowed_set(ip, p->mi->info_hash, p->mi->npieces,
	    PEER_FAST_K, set);
	for (k = 0; k < n; k++) {
		if (!p->host->can_serve(p->host->ctx, set[k]))
			continue;
		p->fast_out[p->nfast_out++] = set[k];
		m[0] = m[1] = m[2] = 0;
		m[3] = 5;
		m[4] = WIRE_ALLOWED_FAST;
		m[5] = (unsigned char)(set[k] >> 24);
		m[6] = (unsigned char)(set[k] >> 16);
		m[7] = (unsigned char)(set[k] >> 8);
		m[8] = (unsigned char)set[k];
		if (p->cfg->verbose)
			peer_trace(p, "> allowed-fast %u", set[k]);
		if (peer_out_add(p, m, sizeof(m)) == -1)
			return -1;
	}
	return 0;
}

/* Suggest and allowed_fast from the peer. */
int
fast_message(struct peer *p, const struct wire_msg *m)
{
	if (!p->fast) {
		peer_trace(p, "< %s %u (ignored: no fast extension)",
		    wire_name(m->type), m->index);
		return 0;
	}
	if (p->lim.loose)
		return 0;	/* PEER_METADATA: the size is not known */
	if (m->type == WIRE_SUGGEST) {
		peer_trace(p, "< suggest %u (a hint; the picker goes by "
		    "its strategy)", m->index);
		return 0;
	}
	peer_trace(p, "< allowed-fast %u", m->index);
	if (p->nfast_in < PEER_FAST_MAX &&
	    !in_set(p->fast_in, p->nfast_in, m->index))
		p->fast_in[p->nfast_in++] = m->index;
	return 0;
}
