/*
 * krpc.c: KRPC (BEP 5) datagrams to struct krpc_msg and back. The parser
 * rests on the strict bencode validator; the builders write keys in
 * bencode order by hand into a fixed buffer.
 */
#include <string.h>

#include "bencode.h"
#include "bt.h"
#include "krpc.h"

/* A fixed-size output buffer; a write past cap sets bad. */
struct kw {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
	int		 bad;
};

static void
kw_raw(struct kw *w, const void *s, size_t n)
{
	if (w->bad || n > w->cap - w->len) {
		w->bad = 1;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void
kw_uint(struct kw *w, uint64_t v)
{
	char d[24];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	kw_raw(w, d + i, sizeof(d) - i);
}

static void
kw_str(struct kw *w, const void *s, size_t n)
{
	kw_uint(w, n);
	kw_raw(w, ":", 1);
	kw_raw(w, s, n);
}

static void
kw_cstr(struct kw *w, const char *s)
{
	kw_str(w, s, strlen(s));
}

static void
kw_int(struct kw *w, int64_t v)
{
	kw_raw(w, "i", 1);
	if (v < 0) {
		kw_raw(w, "-", 1);
		kw_uint(w, (uint64_t)-(v + 1) + 1);
	} else
		kw_uint(w, (uint64_t)v);
	kw_raw(w, "e", 1);
}

static size_t
kw_done(struct kw *w)
{
	return w->bad ? 0 : w->len;
}

/* The query envelope up to the start of "a"'s contents. */
static void
kw_query(struct kw *w, const unsigned char id[20])
{
	kw_raw(w, "d1:ad", 5);
	kw_cstr(w, "id");
	kw_str(w, id, 20);
}

/* Closes "a" and writes q, ro (BEP 43) when flags ask, t, y. */
static void
kw_query_end(struct kw *w, const char *method, const unsigned char *tid,
    size_t tidlen, int flags)
{
	kw_raw(w, "e", 1);
	kw_cstr(w, "q");
	kw_cstr(w, method);
	if (flags & KRPC_RO) {
		kw_cstr(w, "ro");
		kw_int(w, 1);
	}
	kw_cstr(w, "t");
	kw_str(w, tid, tidlen);
	kw_cstr(w, "y");
	kw_cstr(w, "q");
	kw_raw(w, "e", 1);
}

size_t
krpc_put_ping(unsigned char *out, size_t cap, const unsigned char *tid,
    size_t tidlen, const unsigned char id[20], int flags)
{
	struct kw w = { out, 0, cap, 0 };

	kw_query(&w, id);
	kw_query_end(&w, "ping", tid, tidlen, flags);
	return kw_done(&w);
}

size_t
krpc_put_find_node(unsigned char *out, size_t cap, const unsigned char *tid,
    size_t tidlen, const unsigned char id[20], const unsigned char target[20],
    int flags)
{
	struct kw w = { out, 0, cap, 0 };

	kw_query(&w, id);
	kw_cstr(&w, "target");
	kw_str(&w, target, 20);
	kw_query_end(&w, "find_node", tid, tidlen, flags);
	return kw_done(&w);
}

size_t
krpc_put_get_peers(unsigned char *out, size_t cap, const unsigned char *tid,
    size_t tidlen, const unsigned char id[20],
    const unsigned char info_hash[20], int flags)
{
	struct kw w = { out, 0, cap, 0 };

	kw_query(&w, id);
	kw_cstr(&w, "info_hash");
	kw_str(&w, info_hash, 20);
	kw_query_end(&w, "get_peers", tid, tidlen, flags);
	return kw_done(&w);
}

size_t
krpc_put_announce_peer(unsigned char *out, size_t cap,
    const unsigned char *tid, size_t tidlen, const unsigned char id[20],
    const unsigned char info_hash[20], int port, int implied_port,
    const unsigned char *token, size_t tokenlen, int flags)
{
	struct kw w = { out, 0, cap, 0 };

	kw_query(&w, id);
	kw_cstr(&w, "implied_port");
	kw_int(&w, implied_port ? 1 : 0);
	kw_cstr(&w, "info_hash");
	kw_str(&w, info_hash, 20);
	kw_cstr(&w, "port");
	kw_int(&w, port);
	kw_cstr(&w, "token");
	kw_str(&w, token, tokenlen);
	kw_query_end(&w, "announce_peer", tid, tidlen, flags);
	return kw_done(&w);
}

size_t
krpc_put_response(unsigned char *out, size_t cap, const unsigned char *tid,
    size_t tidlen, const unsigned char id[20], const unsigned char *nodes,
    size_t nnodes, const unsigned char *token, size_t tokenlen,
    const unsigned char *values, size_t nvalues, int v6)
{
	struct kw w = { out, 0, cap, 0 };
	size_t i, nlen = v6 ? KRPC_NODE6_LEN : KRPC_NODE_LEN;
	size_t vlen = v6 ? KRPC_PEER6_LEN : KRPC_PEER_LEN;

	kw_raw(&w, "d1:rd", 5);
	kw_cstr(&w, "id");
	kw_str(&w, id, 20);
	if (nnodes > 0) {
		kw_cstr(&w, v6 ? "nodes6" : "nodes");
		if (nnodes > cap / nlen)
			return 0;
		kw_str(&w, nodes, nnodes * nlen);
	}
	if (token != NULL) {
		kw_cstr(&w, "token");
		kw_str(&w, token, tokenlen);
	}
	if (nvalues > 0) {
		kw_cstr(&w, "values");
		kw_raw(&w, "l", 1);
		for (i = 0; i < nvalues && !w.bad; i++)
			kw_str(&w, values + i * vlen, vlen);
		kw_raw(&w, "e", 1);
	}
	kw_raw(&w, "e", 1);
	kw_cstr(&w, "t");
	kw_str(&w, tid, tidlen);
	kw_cstr(&w, "y");
	kw_cstr(&w, "r");
	kw_raw(&w, "e", 1);
	return kw_done(&w);
}

size_t
krpc_put_error(unsigned char *out, size_t cap, const unsigned char *tid,
    size_t tidlen, int code, const char *msg)
{
	struct kw w = { out, 0, cap, 0 };

	kw_raw(&w, "d1:el", 5);
	kw_int(&w, code);
	kw_cstr(&w, msg);
	kw_raw(&w, "e", 1);
	kw_cstr(&w, "t");
	kw_str(&w, tid, tidlen);
	kw_cstr(&w, "y");
	kw_cstr(&w, "e");
	kw_raw(&w, "e", 1);
	return kw_done(&w);
}

/* A string of exactly n bytes under key in d, copied to out. */
static int
get_fixed(struct bval d, const char *key, unsigned char *out, size_t n)
{
	struct bval v;
	const unsigned char *s;
	size_t len;

	if (!benc_dict_get(d, key, &v) || benc_str(v, &s, &len) != 0 ||
	    len != n)
		return 0;
	memcpy(out, s, n);
	return 1;
}

static const struct {
	const char		*name;
	enum krpc_method	 method;
} methods[] = {
	{ "ping", KRPC_PING },
	{ "find_node", KRPC_FIND_NODE },
	{ "get_peers", KRPC_GET_PEERS },
	{ "announce_peer", KRPC_ANNOUNCE_PEER },
};

/* The arguments of a query, checked against what its method needs. */
static int
parse_args(struct bval a, struct krpc_msg *m, char *err)
{
	struct bval v;
	const unsigned char *s;
	size_t len;
	int64_t i;

	if (benc_dict_get(a, "target", &v) || benc_dict_get(a, "info_hash",
	    &v)) {
		if (benc_str(v, &s, &len) != 0 || len != 20)
			return bt_err(err, "target or info_hash is not 20 "
			    "bytes");
		memcpy(m->target, s, 20);
		m->has_target = 1;
	}
	if (benc_dict_get(a, "token", &v)) {
		if (benc_str(v, &s, &len) != 0 || len == 0 ||
		    len > KRPC_MAX_TOKEN)
			return bt_err(err, "token is not 1 to %d bytes",
			    KRPC_MAX_TOKEN);
		memcpy(m->token, s, len);
		m->tokenlen = len;
	}
	if (benc_dict_get(a, "port", &v)) {
		if (benc_int(v, &i) != 0 || i < 0 || i > 65535)
			return bt_err(err, "port is not 0 to 65535");
		m->port = (int)i;
	}
	if (benc_dict_get(a, "implied_port", &v) && benc_int(v, &i) == 0)
		m->implied_port = i != 0;
	switch (m->method) {
	case KRPC_FIND_NODE:
	case KRPC_GET_PEERS:
		if (!m->has_target)
			return bt_err(err, "%s without its 20-byte target",
			    m->method == KRPC_FIND_NODE ? "find_node" :
			    "get_peers");
		break;
	case KRPC_ANNOUNCE_PEER:
		if (!m->has_target || m->tokenlen == 0 ||
		    (m->port < 0 && !m->implied_port))
			return bt_err(err, "announce_peer without info_hash, "
			    "token or port");
		break;
	default:
		break;
	}
	return 0;
}

/* The body of a response: nodes, nodes6, token, values. */
static int
parse_reply(struct bval r, struct krpc_msg *m, char *err)
{
	struct bval v, e;
	struct biter it;
	const unsigned char *s;
	size_t len;

	if (benc_dict_get(r, "nodes", &v)) {
		if (benc_str(v, &s, &len) != 0 || len % KRPC_NODE_LEN != 0)
			return bt_err(err, "nodes is not a multiple of %d "
			    "bytes", KRPC_NODE_LEN);
		m->nodes = s;
		m->nnodes = len / KRPC_NODE_LEN;
	}
	if (benc_dict_get(r, "nodes6", &v)) {
		if (benc_str(v, &s, &len) != 0 || len % KRPC_NODE6_LEN != 0)
			return bt_err(err, "nodes6 is not a multiple of %d "
			    "bytes", KRPC_NODE6_LEN);
		m->nodes6 = s;
		m->nnodes6 = len / KRPC_NODE6_LEN;
	}
	if (benc_dict_get(r, "token", &v)) {
		if (benc_str(v, &s, &len) != 0 || len == 0 ||
		    len > KRPC_MAX_TOKEN)
			return bt_err(err, "token is not 1 to %d bytes",
			    KRPC_MAX_TOKEN);
		memcpy(m->token, s, len);
		m->tokenlen = len;
	}
	if (benc_dict_get(r, "values", &v)) {
		if (benc_type(v) != BENC_LIST)
			return bt_err(err, "values is not a list");
		benc_iter(v, &it);
		while (benc_list_next(&it, &e)) {
			if (benc_str(e, &s, &len) != 0)
				return bt_err(err, "a value is not a string");
			if (len == KRPC_PEER_LEN && m->nvalues < KRPC_MAX_VALUES)
				m->values[m->nvalues++] = s;
			else if (len == KRPC_PEER6_LEN &&
			    m->nvalues6 < KRPC_MAX_VALUES)
				m->values6[m->nvalues6++] = s;
		}
	}
	return 0;
}

int
krpc_parse(const void *buf, size_t len, struct krpc_msg *m, char *err)
{
	struct bval d, v, body, e;
	struct biter it;
	const unsigned char *s;
	size_t n, i;
	int64_t ro;
	char berr[BT_ERRLEN];

	memset(m, 0, sizeof(*m));
	m->port = -1;
	if (len > KRPC_MAX_MSG)
		return bt_err(err, "datagram of %zu bytes, more than %d", len,
		    KRPC_MAX_MSG);
	if (benc_parse(buf, len, &d, berr) != 0)
		return bt_err(err, "not bencode: %s", berr);
	if (benc_type(d) != BENC_DICT)
		return bt_err(err, "not a dictionary");
	if (!benc_dict_get(d, "t", &v) || benc_str(v, &s, &n) != 0 ||
	    n == 0 || n > KRPC_MAX_TID)
		return bt_err(err, "no transaction id of 1 to %d bytes",
		    KRPC_MAX_TID);
	memcpy(m->tid, s, n);
	m->tidlen = n;
	if (!benc_dict_get(d, "y", &v) || benc_str(v, &s, &n) != 0 ||
	    n != 1 || (*s != 'q' && *s != 'r' && *s != 'e'))
		return bt_err(err, "no message type y of q, r or e");
	m->type = (enum krpc_type)*s;
	if (benc_dict_get(d, "ro", &v) && benc_int(v, &ro) == 0)
		m->read_only = ro == 1;
	switch (m->type) {
	case KRPC_QUERY:
		if (!benc_dict_get(d, "q", &v) || benc_str(v, &s, &n) != 0)
			return bt_err(err, "a query without a method");
		m->method = KRPC_UNKNOWN;
		for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			if (strlen(methods[i].name) == n &&
			    memcmp(methods[i].name, s, n) == 0)
				m->method = methods[i].method;
		if (!benc_dict_get(d, "a", &body) ||
		    benc_type(body) != BENC_DICT)
			return bt_err(err, "a query without arguments");
		if (!get_fixed(body, "id", m->id, 20))
			return bt_err(err, "a query without a 20-byte id");
		m->has_id = 1;
		return parse_args(body, m, err);
	case KRPC_RESPONSE:
		if (!benc_dict_get(d, "r", &body) ||
		    benc_type(body) != BENC_DICT)
			return bt_err(err, "a response without r");
		if (!get_fixed(body, "id", m->id, 20))
			return bt_err(err, "a response without a 20-byte id");
		m->has_id = 1;
		return parse_reply(body, m, err);
	default:
		if (!benc_dict_get(d, "e", &body) ||
		    benc_type(body) != BENC_LIST)
			return bt_err(err, "an error without its list");
		benc_iter(body, &it);
		if (!benc_list_next(&it, &e) || benc_int(e, &m->ecode) != 0)
			return bt_err(err, "an error without a code");
		if (benc_list_next(&it, &e) && benc_str(e, &m->emsg,
		    &m->emsglen) != 0)
			return bt_err(err, "an error message not a string");
		return 0;
	}
}
