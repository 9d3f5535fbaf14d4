/* ut_pex.c: BEP 11, peer exchange (ut_pex.h). */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "bencode.h"
#include "buf.h"
#include "peer_int.h"
#include "ut_pex.h"

void
pex_addr(const struct pex_peer *a, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(a->v6 ? AF_INET6 : AF_INET, a->ip, ip, sizeof(ip));
	snprintf(out, n, a->v6 ? "[%s]:%u" : "%s:%u", ip, a->port);
}

/* BEP 11's added.f bits from 0x01 up, as events name them. */
static const char *const flag_names[] = { "enc", "seed", "utp",
    "holepunch", "reachable" };

int
pex_flags_parse(const char *s, uint8_t *f)
{
	size_t n;
	int k;

	*f = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	for (;;) {
		n = strcspn(s, ",");
		for (k = 0; k < 5; k++)
			if (strlen(flag_names[k]) == n &&
			    strncmp(s, flag_names[k], n) == 0)
				break;
		if (k == 5)
			return -1;
		*f |= (uint8_t)(1 << k);
		if (s[n] == '\0')
			return 0;
		s += n + 1;
	}
}

void
pex_flags(uint8_t f, char *out, size_t n)
{
	const char *const *names = flag_names;
	size_t off = 0;
	int k;

	out[0] = '\0';
	for (k = 0; k < 5; k++)
		if ((f & (1 << k)) && off < n)
			off += (size_t)snprintf(out + off, n - off, "%s%s",
			    off ? "," : "", names[k]);
	if (off == 0)
		snprintf(out, n, "-");
}

/* Compact peers (BEP 23 style) in s: 6 or 18 bytes each. */
static int
each(struct bval s, struct bval fl, int v6, int added, int *left,
    void (*fn)(void *, const struct pex_peer *, int), void *ctx, char *err)
{
	const unsigned char *b, *f = NULL;
	size_t n, nf = 0, k, w = v6 ? 18 : 6, al = v6 ? 16 : 4;
	struct pex_peer a;

	if (benc_str(s, &b, &n) == -1 || n % w != 0)
		return bt_err(err, "%s: not a list of %zu-byte peers",
		    added ? (v6 ? "added6" : "added") : (v6 ? "dropped6" :
		    "dropped"), w);
	if (fl.p != NULL && benc_str(fl, &f, &nf) == -1)
		nf = 0;
	for (k = 0; k < n / w; k++) {
		if (added && (*left)-- <= 0)
			return 0;
		memset(&a, 0, sizeof(a));
		memcpy(a.ip, b + k * w, al);
		a.v6 = v6;
		a.port = (uint16_t)(b[k * w + al] << 8 | b[k * w + al + 1]);
		a.flags = k < nf ? f[k] : 0;
		a.noflags = k >= nf;
		if (a.port != 0)
			fn(ctx, &a, added);
	}
	return 0;
}

int
pex_parse(const unsigned char *d, size_t n, int max_added,
    void (*fn)(void *, const struct pex_peer *, int), void *ctx, char *err)
{
	static const struct { const char *key, *fkey; int v6, added; } keys[] = {
		{ "added", "added.f", 0, 1 },
		{ "added6", "added6.f", 1, 1 },
		{ "dropped", NULL, 0, 0 },
		{ "dropped6", NULL, 1, 0 },
	};
	struct bval v, s, f;
	size_t k;
	int left = max_added;

	if (benc_parse(d, n, &v, err) == -1)
		return -1;
	if (benc_type(v) != BENC_DICT)
		return bt_err(err, "not a dictionary");
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (!benc_dict_get(v, keys[k].key, &s))
			continue;
		memset(&f, 0, sizeof(f));
		if (keys[k].fkey != NULL)
			benc_dict_get(v, keys[k].fkey, &f);
		if (each(s, f, keys[k].v6, keys[k].added, &left, fn, ctx,
		    err) == -1)
			return -1;
	}
	return 0;
}

static int
same(const struct pex_peer *a, const struct pex_peer *b)
{
	return a->v6 == b->v6 && a->port == b->port &&
	    memcmp(a->ip, b->ip, a->v6 ? 16 : 4) == 0;
}

static int
find(const struct pex_peer *set, int n, const struct pex_peer *a)
{
	int k;

	for (k = 0; k < n; k++)
		if (same(&set[k], a))
			return k;
	return -1;
}

static int
put_peers(struct buf *b, const char *key, const struct pex_peer *const *l,
    int n, int v6, int flags)
{
	unsigned char c[18];
	size_t w = v6 ? 18 : 6, al = v6 ? 16 : 4;
	int k, m = 0, r;

	for (k = 0; k < n; k++)
		m += l[k]->v6 == v6;
	if (m == 0)
		return 0;
	r = benc_put_cstr(b, key) | buf_printf(b, "%zu:", (size_t)m *
	    (flags ? 1 : w));
	for (k = 0; k < n; k++) {
		if (l[k]->v6 != v6)
			continue;
		if (flags) {
			r |= buf_addc(b, l[k]->flags);
			continue;
		}
		memcpy(c, l[k]->ip, al);
		c[al] = (unsigned char)(l[k]->port >> 8);
		c[al + 1] = (unsigned char)l[k]->port;
		r |= buf_add(b, c, w);
	}
	return r;
}

size_t
pex_build(const struct pex_peer *now, int nnow, struct pex_peer *was,
    int *nwas, unsigned char *out, size_t max)
{
	const struct pex_peer *add[PEX_MAX_ADDED], *drop[PEX_MAX_ADDED];
	struct pex_peer keep[PEX_MAX_KNOWN];
	int na = 0, nd = 0, nk = 0, k;
	struct buf b;
	size_t len = 0;

	for (k = 0; k < nnow && na < PEX_MAX_ADDED; k++)
		if (find(was, *nwas, &now[k]) < 0 &&
		    *nwas + na < PEX_MAX_KNOWN)
			add[na++] = &now[k];
	for (k = 0; k < *nwas; k++)
		if (find(now, nnow, &was[k]) < 0 && nd < PEX_MAX_ADDED)
			drop[nd++] = &was[k];
		else
			keep[nk++] = was[k];
	if (na == 0 && nd == 0)
		return 0;
	buf_init(&b, max);
	/* Keys sorted: added, added.f, added6, added6.f, dropped, dropped6. */
	if (buf_addc(&b, 'd') == 0 &&
	    put_peers(&b, "added", add, na, 0, 0) == 0 &&
	    put_peers(&b, "added.f", add, na, 0, 1) == 0 &&
	    put_peers(&b, "added6", add, na, 1, 0) == 0 &&
	    put_peers(&b, "added6.f", add, na, 1, 1) == 0 &&
	    put_peers(&b, "dropped", drop, nd, 0, 0) == 0 &&
	    put_peers(&b, "dropped6", drop, nd, 1, 0) == 0 &&
	    buf_addc(&b, 'e') == 0 && b.len <= max) {
		memcpy(out, b.p, b.len);
		len = b.len;
		/* What the peer knows now; the rest of now goes next time. */
		for (k = 0; k < na && nk < PEX_MAX_KNOWN; k++)
			keep[nk++] = *add[k];
		memcpy(was, keep, (size_t)nk * sizeof(*keep));
		*nwas = nk;
	}
	buf_free(&b);
	return len;
}

struct learn {
	struct pex	*x;
	struct peer	*p;
};

static void
learned(void *ctx, const struct pex_peer *a, int added)
{
	struct learn *l = ctx;
	char addr[64], fl[64];

	pex_addr(a, addr, sizeof(addr));
	if (!added) {
		peer_trace(l->p, "  ut_pex: dropped %s", addr);
		return;
	}
	if (l->x->learned >= PEX_MAX_LEARNED) {
		peer_trace(l->p, "  ut_pex: %s ignored, %d learned already",
		    addr, PEX_MAX_LEARNED);
		return;
	}
	l->x->learned++;
	if (a->noflags)
		snprintf(fl, sizeof(fl), "?");
	else
		pex_flags(a->flags, fl, sizeof(fl));
	peer_event(l->p, "peer %s pex %s", addr, fl);
}

static int
on_message(void *ctx, struct peer *p, const unsigned char *d, size_t n,
    char *err)
{
	struct learn l = { ctx, p };

	l.x->nmsgs_in++;
	return pex_parse(d, n, PEX_MAX_IN, learned, &l, err);
}

static int
on_tick(void *ctx, struct peer *p, int64_t now, char *err)
{
	struct pex *x = ctx;
	struct pex_peer cur[PEX_MAX_KNOWN];
	unsigned char msg[4096];
	size_t len;
	int n, r;

	if (x->list == NULL || !peer_ext_has(p, PEX_NAME))
		return 0;
	if (x->next_send == 0)
		x->next_send = now + PEX_FIRST;
	if (now < x->next_send)
		return 0;
	x->next_send = now + PEX_INTERVAL;
	n = x->list(x->list_ctx, cur, PEX_MAX_KNOWN);
	len = pex_build(cur, n < 0 ? 0 : n, x->sent, &x->nsent, msg,
	    sizeof(msg));
	if (len == 0)
		return 0;
	if (p->cfg->verbose) {
		char a[64];
		int k;

		for (k = 0; k < x->nsent; k++) {
			pex_addr(&x->sent[k], a, sizeof(a));
			peer_trace(p, "  ut_pex: telling about %s", a);
		}
	}
	r = peer_ext_send(p, PEX_NAME, msg, len);
	if (r == -1)
		return bt_err(err, "%s", peer_reason(p));
	if (r == 0)
		x->nmsgs_out++;
	return 0;
}

void
pex_init(struct pex *x, pex_list_fn list, void *list_ctx)
{
	memset(x, 0, sizeof(*x));
	x->list = list;
	x->list_ctx = list_ctx;
	x->ext.name = PEX_NAME;
	x->ext.ctx = x;
	x->ext.on_message = on_message;
	x->ext.on_tick = on_tick;
}
