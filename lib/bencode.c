/*
 * Bencode (BEP 3):
 *	integer	i<decimal>e		no leading zeros, no "-0"
 *	string	<length>:<bytes>	length in decimal, no leading zeros
 *	list	l<value>...e
 *	dict	d<string><value>...e	keys are strings, sorted as raw bytes
 * The validator walks the buffer once with every bound checked; the
 * navigators after it trust that walk and only skip.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bencode.h"
#include "bt.h"

struct vctx {
	const unsigned char	*base;
	const unsigned char	*end;
	char			*err;
};

static int
verr(struct vctx *c, const unsigned char *at, const char *what)
{
	return bt_err(c->err, "%s at offset %zu", what, (size_t)(at - c->base));
}

/* Reads an unsigned decimal at *pp up to the terminator; no leading zeros. */
static int
vnum(struct vctx *c, const unsigned char **pp, int term, uint64_t max,
    uint64_t *out, const char *what)
{
	const unsigned char *p = *pp, *start = p;
	uint64_t n = 0;
	char msg[64];

	for (; p < c->end && *p >= '0' && *p <= '9'; p++) {
		if (p > start && *start == '0') {
			snprintf(msg, sizeof(msg), "leading zero in %s", what);
			return verr(c, start, msg);
		}
		if (n > (max - (uint64_t)(*p - '0')) / 10) {
			snprintf(msg, sizeof(msg), "%s too large", what);
			return verr(c, start, msg);
		}
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (p == start) {
		if (p >= c->end)
			return verr(c, p, "unexpected end of input");
		snprintf(msg, sizeof(msg), "expected digits in %s", what);
		return verr(c, p, msg);
	}
	if (p >= c->end)
		return verr(c, p, "unexpected end of input");
	if (*p != term) {
		snprintf(msg, sizeof(msg), "bad character in %s", what);
		return verr(c, p, msg);
	}
	*pp = p + 1;
	*out = n;
	return 0;
}

static int
vstr(struct vctx *c, const unsigned char **pp)
{
	const unsigned char *p = *pp;
	uint64_t n;

	if (vnum(c, &p, ':', UINT64_MAX, &n, "string length") == -1)
		return -1;
	if (n > (uint64_t)(c->end - p))
		return verr(c, *pp, "string length past end of input");
	*pp = p + n;
	return 0;
}

static int
vval(struct vctx *c, const unsigned char **pp, int depth)
{
	const unsigned char *p = *pp, *start, *pk = NULL, *k;
	size_t pklen = 0, klen;
	uint64_t n;
	int neg;

	if (p >= c->end)
		return verr(c, p, "unexpected end of input");
	switch (*p) {
	case 'i':
		start = p++;
		neg = p < c->end && *p == '-';
		if (neg)
			p++;
		if (vnum(c, &p, 'e', neg ? (uint64_t)INT64_MAX + 1 :
		    (uint64_t)INT64_MAX, &n, "integer") == -1)
			return -1;
		if (neg && n == 0)
			return verr(c, start, "negative zero integer");
		*pp = p;
		return 0;
	case 'l':
	case 'd':
		if (depth >= BENC_MAX_DEPTH)
			return verr(c, p, "nesting too deep");
		start = p++;
		for (;;) {
			if (p >= c->end)
				return verr(c, p, *start == 'l' ?
				    "unterminated list" : "unterminated dictionary");
			if (*p == 'e')
				break;
			if (*start == 'd') {
				if (*p < '0' || *p > '9')
					return verr(c, p,
					    "dictionary key is not a string");
				k = p;
				if (vstr(c, &p) == -1)
					return -1;
				klen = (size_t)(p - k);
				/* Compare whole encodings: equal means equal. */
				if (pk != NULL && klen == pklen &&
				    memcmp(pk, k, klen) == 0)
					return verr(c, k, "duplicate dictionary key");
				pk = k;
				pklen = klen;
				if (p >= c->end)
					return verr(c, p,
					    "unterminated dictionary");
				if (*p == 'e')
					return verr(c, p,
					    "dictionary key without value");
			}
			if (vval(c, &p, depth + 1) == -1)
				return -1;
		}
		*pp = p + 1;
		return 0;
	default:
		if (*p >= '0' && *p <= '9')
			return vstr(c, pp);
		return verr(c, p, "unexpected character");
	}
}

int
benc_parse_prefix(const void *buf, size_t len, struct bval *v, size_t *used,
    char *err)
{
	struct vctx c;
	const unsigned char *p = buf;

	c.base = buf;
	c.end = c.base + len;
	c.err = err;
	if (len == 0)
		return bt_err(err, "empty input");
	if (vval(&c, &p, 0) == -1)
		return -1;
	v->p = buf;
	v->len = (size_t)(p - c.base);
	if (used != NULL)
		*used = v->len;
	return 0;
}

int
benc_parse(const void *buf, size_t len, struct bval *v, char *err)
{
	size_t used = 0;

	if (benc_parse_prefix(buf, len, v, &used, err) == -1)
		return -1;
	if (used != len)
		return bt_err(err, "trailing garbage at offset %zu", used);
	return 0;
}

/* Navigation below trusts the validator. */

static const unsigned char *
skip(const unsigned char *p)
{
	size_t n = 0;

	switch (*p) {
	case 'i':
		while (*p != 'e')
			p++;
		return p + 1;
	case 'l':
	case 'd':
		p++;
		while (*p != 'e')
			p = skip(p);
		return p + 1;
	default:
		for (; *p != ':'; p++)
			n = n * 10 + (size_t)(*p - '0');
		return p + 1 + n;
	}
}

static struct bval
mkval(const unsigned char *p)
{
	struct bval v;

	v.p = p;
	v.len = (size_t)(skip(p) - p);
	return v;
}

enum benc_type
benc_type(struct bval v)
{
	if (*v.p == 'i' || *v.p == 'l' || *v.p == 'd')
		return (enum benc_type)*v.p;
	return BENC_STR;
}

int
benc_int(struct bval v, int64_t *out)
{
	const unsigned char *p = v.p + 1;
	uint64_t n = 0;
	int neg;

	if (*v.p != 'i')
		return -1;
	if ((neg = *p == '-'))
		p++;
	for (; *p != 'e'; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	/* The validator bounded n to int64's range; INT64_MIN needs care. */
	*out = neg ? (int64_t)(0 - n) : (int64_t)n;
	return 0;
}

int
benc_str(struct bval v, const unsigned char **s, size_t *n)
{
	const unsigned char *p = v.p;
	size_t len = 0;

	if (benc_type(v) != BENC_STR)
		return -1;
	for (; *p != ':'; p++)
		len = len * 10 + (size_t)(*p - '0');
	*s = p + 1;
	*n = len;
	return 0;
}

int
benc_str_eq(struct bval v, const char *s)
{
	const unsigned char *p;
	size_t n;

	return benc_str(v, &p, &n) == 0 && n == strlen(s) &&
	    memcmp(p, s, n) == 0;
}

void
benc_iter(struct bval v, struct biter *it)
{
	it->p = v.p + 1;
	it->end = v.p + v.len - 1;
}

int
benc_list_next(struct biter *it, struct bval *v)
{
	if (it->p >= it->end)
		return 0;
	*v = mkval(it->p);
	it->p += v->len;
	return 1;
}

int
benc_dict_next(struct biter *it, struct bval *key, struct bval *val)
{
	if (it->p >= it->end)
		return 0;
	*key = mkval(it->p);
	it->p += key->len;
	*val = mkval(it->p);
	it->p += val->len;
	return 1;
}

int
benc_dict_get(struct bval d, const char *key, struct bval *val)
{
	struct biter it;
	struct bval k, v;

	if (benc_type(d) != BENC_DICT)
		return 0;
	benc_iter(d, &it);
	while (benc_dict_next(&it, &k, &v))
		if (benc_str_eq(k, key)) {
			*val = v;
			return 1;
		}
	return 0;
}

size_t
benc_count(struct bval v)
{
	struct biter it;
	struct bval a, b;
	size_t n = 0;

	benc_iter(v, &it);
	if (benc_type(v) == BENC_DICT)
		while (benc_dict_next(&it, &a, &b))
			n++;
	else
		while (benc_list_next(&it, &a))
			n++;
	return n;
}

int
benc_keycmp(const unsigned char *a, size_t an, const unsigned char *b,
    size_t bn)
{
	int c;

	c = memcmp(a, b, an < bn ? an : bn);
	if (c != 0)
		return c;
	return an < bn ? -1 : an > bn;
}

int
benc_canonical(struct bval v)
{
	struct biter it;
	struct bval k, e, pk;
	const unsigned char *a, *b;
	size_t an, bn;
	int first = 1;

	switch (benc_type(v)) {
	case BENC_LIST:
		benc_iter(v, &it);
		while (benc_list_next(&it, &e))
			if (!benc_canonical(e))
				return 0;
		return 1;
	case BENC_DICT:
		benc_iter(v, &it);
		while (benc_dict_next(&it, &k, &e)) {
			if (!first) {
				benc_str(pk, &a, &an);
				benc_str(k, &b, &bn);
				if (benc_keycmp(a, an, b, bn) >= 0)
					return 0;
			}
			if (!benc_canonical(e))
				return 0;
			pk = k;
			first = 0;
		}
		return 1;
	default:
		return 1;
	}
}

int
benc_put_int(struct buf *b, int64_t n)
{
	return buf_printf(b, "i%llde", (long long)n);
}

int
benc_put_str(struct buf *b, const void *s, size_t n)
{
	if (buf_printf(b, "%zu:", n) == -1)
		return -1;
	return buf_add(b, s, n);
}

int
benc_put_cstr(struct buf *b, const char *s)
{
	return benc_put_str(b, s, strlen(s));
}

int
benc_put_raw(struct buf *b, struct bval v)
{
	return buf_add(b, v.p, v.len);
}
