/*
 * peer_ext.c: BEP 10, the extension protocol. Our extensions come from
 * cfg.ext with local ids 1..n in that order; the peer's "m" dictionary
 * maps names to the ids it wants us to use. Extended message id 0 is the
 * handshake; others go to the extension they name. Nothing here knows
 * any one extension.
 */
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "buf.h"
#include "peer_int.h"

/* Our extension handshake: "d1:md" + names (sorted) + "ee" in this. */
#define EXT_HS_OUT	1024

void
ext_reserved(const struct peer_cfg *c, unsigned char reserved[8])
{
	if (c->next > 0)
		reserved[WIRE_RES_EXT_BYTE] |= WIRE_RES_EXT;
}

/* Sends a message of extended id id: length, 20, id, payload. */
static int
ext_out(struct peer *p, uint8_t id, const void *b, size_t n)
{
	unsigned char h[6];
	uint32_t len = (uint32_t)n + 2;

	if (n > p->lim.maxmsg - 2)
		return peer_fail(p, BT_FAIL_PEER, "extension message of %zu "
		    "bytes over the cap", n);
	h[0] = len >> 24;
	h[1] = len >> 16;
	h[2] = len >> 8;
	h[3] = len;
	h[4] = WIRE_EXTENDED;
	h[5] = id;
	if (peer_out_add(p, h, 6) == -1 || peer_out_add(p, b, n) == -1)
		return -1;
	return 0;
}

/* After both handshakes: our extension handshake, if both offer BEP 10. */
int
ext_start(struct peer *p)
{
	const struct peer_ext *const *e = p->cfg->ext;
	int order[PEER_MAX_EXT], n = p->cfg->next, k, j, t, r;
	struct buf b;

	p->ext_on = n > 0 && (p->peer_reserved[WIRE_RES_EXT_BYTE] &
	    WIRE_RES_EXT);
	if (!p->ext_on)
		return 0;
	if (n > PEER_MAX_EXT)
		n = PEER_MAX_EXT;
	/* Bencoded dictionaries have sorted keys. */
	for (k = 0; k < n; k++)
		order[k] = k;
	for (k = 1; k < n; k++)
		for (j = k; j > 0 && strcmp(e[order[j - 1]]->name,
		    e[order[j]]->name) > 0; j--) {
			t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	buf_init(&b, EXT_HS_OUT);
	r = buf_add(&b, "d1:md", 5);
	for (k = 0; k < n && r == 0; k++)
		if (benc_put_cstr(&b, e[order[k]]->name) == -1 ||
		    benc_put_int(&b, order[k] + 1) == -1)
			r = -1;
	if (r == 0)
		r = buf_add(&b, "ee", 2);
	if (r == -1) {
		buf_free(&b);
		return peer_fail(p, BT_FAIL_PEER, "extension handshake over "
		    "%d bytes", EXT_HS_OUT);
	}
	peer_trace(p, "> extended handshake (%d extensions)", n);
	r = ext_out(p, 0, b.p, b.len);
	buf_free(&b);
	return r;
}

static int
ext_handshake(struct peer *p, const unsigned char *d, size_t n)
{
	const struct peer_ext *const *e = p->cfg->ext;
	struct bval v, m, id;
	char err[BT_ERRLEN];
	int64_t x;
	int k;

	if (n > PEER_EXT_HS_MAX)
		return peer_fail(p, BT_FAIL_PEER, "extension handshake of "
		    "%zu bytes", n);
	if (benc_parse(d, n, &v, err) == -1)
		return peer_fail(p, BT_FAIL_PEER, "extension handshake: %s",
		    err);
	if (benc_type(v) != BENC_DICT)
		return peer_fail(p, BT_FAIL_PEER, "extension handshake: not "
		    "a dictionary");
	if (benc_dict_get(v, "m", &m) && benc_type(m) == BENC_DICT)
		for (k = 0; k < p->cfg->next && k < PEER_MAX_EXT; k++) {
			/* BEP 10: 0 disables, ids fit a byte. */
			if (!benc_dict_get(m, e[k]->name, &id) ||
			    benc_int(id, &x) == -1 || x < 0 || x > 255)
				continue;
			p->ext_remote[k] = (uint8_t)x;
		}
	peer_trace(p, "< extended handshake");
	for (k = 0; k < p->cfg->next && k < PEER_MAX_EXT; k++) {
		if (e[k]->on_handshake == NULL)
			continue;
		err[0] = '\0';
		if (e[k]->on_handshake(e[k]->ctx, p, d, n, err) == -1)
			return peer_fail(p, BT_FAIL_PEER, "%s: %s",
			    e[k]->name, err);
	}
	return 0;
}

/* One extended message (BEP 10); unknown ones are ignored. */
int
ext_message(struct peer *p, const struct wire_msg *m)
{
	const struct peer_ext *x;
	char err[BT_ERRLEN];
	unsigned id;

	if (!p->ext_on || m->len < 1)
		return 0;
	id = m->data[0];
	if (id == 0)
		return ext_handshake(p, m->data + 1, m->len - 1);
	if (id > (unsigned)p->cfg->next || id > PEER_MAX_EXT)
		return 0;
	x = p->cfg->ext[id - 1];
	if (x->on_message == NULL)
		return 0;
	err[0] = '\0';
	if (x->on_message(x->ctx, p, m->data + 1, m->len - 1, err) == -1)
		return peer_fail(p, BT_FAIL_PEER, "%s: %s", x->name, err);
	return 0;
}

int
peer_ext_send(struct peer *p, const char *name, const void *b, size_t n)
{
	int k;

	if (!p->ext_on)
		return 1;
	for (k = 0; k < p->cfg->next && k < PEER_MAX_EXT; k++)
		if (strcmp(p->cfg->ext[k]->name, name) == 0) {
			if (p->ext_remote[k] == 0)
				return 1;
			return ext_out(p, p->ext_remote[k], b, n);
		}
	return 1;
}
