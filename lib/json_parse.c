/*
 * JSON (RFC 8259) to bencode, in one recursive-descent pass:
 *	value	= ws (object | array | string | integer) ws
 *	object	= '{' [ string ':' value *( ',' string ':' value ) ] '}'
 *	array	= '[' [ value *( ',' value ) ] ']'
 * Values are encoded into the output as they are read. An object's
 * members are written in input order, each one remembered as a span of
 * the output; at '}' the spans are sorted by key bytes and rewritten in
 * place when the input order was not already canonical.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "bt.h"
#include "buf.h"
#include "json.h"
#include "json_parse.h"
#include "util.h"

struct jp {
	const unsigned char	*base;
	const unsigned char	*p;
	const unsigned char	*end;
	struct buf		*out;
	struct buf		 s;	/* the string just read, decoded */
	char			*err;
};

/* One object member, as spans of the output. */
struct member {
	size_t			 off;	/* its key's encoding starts here */
	size_t			 end;	/* its value ends here */
	size_t			 keyoff;	/* the key's bytes */
	size_t			 keylen;
	size_t			 at;	/* the key's offset in the input */
	const unsigned char	*key;	/* out->p + keyoff, set for sorting */
};

static int	value(struct jp *, int);

static int
jerr(struct jp *j, const unsigned char *at, const char *what)
{
	return bt_err(j->err, "%s at offset %zu", what, (size_t)(at - j->base));
}

static int
oom(struct jp *j)
{
	return jerr(j, j->p, "output too large or out of memory");
}

static void
ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* Decodes hex s[0..n) into s itself; the length, or -1 if not hex. */
static long long
unhex(unsigned char *s, size_t n)
{
	if (n % 2 != 0 || hex_decode(s, (const char *)s, n / 2) == -1)
		return -1;
	return (long long)(n / 2);
}

/* The four hex digits of a \u escape. */
static int
u4(const unsigned char *p, uint32_t *out)
{
	uint32_t v = 0;
	int d;

	for (int i = 0; i < 4; i++) {
		if ((d = hex_digit(p[i])) == -1)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

static int
put_utf8(struct buf *b, uint32_t cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_add(b, u, n);
}

/* Length of the well-formed UTF-8 sequence at p, or 0 if there is none. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	if ((size_t)(end - p) < n || !utf8_valid(p, n))
		return 0;
	return n;
}

/* A \uXXXX escape (and its low half, for a surrogate pair) at j->p. */
static int
uescape(struct jp *j, const unsigned char *esc)
{
	uint32_t cp, lo;

	if (j->end - j->p < 4 || u4(j->p, &cp) == -1)
		return jerr(j, esc, "bad \\u escape");
	j->p += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return jerr(j, esc, "lone low surrogate in \\u escape");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
		    u4(j->p + 2, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
			return jerr(j, esc, "lone high surrogate in \\u escape");
		j->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return put_utf8(&j->s, cp) == -1 ? oom(j) : 0;
}

/* Reads the string at j->p (a '"') into j->s, decoded. */
static int
string(struct jp *j)
{
	const unsigned char *start = j->p, *run, *esc;
	size_t n;
	int c;

	j->s.len = 0;
	run = ++j->p;
	for (;;) {
		if (j->p >= j->end)
			return jerr(j, start, "unterminated string");
		if (*j->p >= 0x20 && *j->p < 0x80 && *j->p != '"' &&
		    *j->p != '\\') {
			j->p++;
			continue;
		}
		if (*j->p >= 0x80) {
			if ((n = utf8_len(j->p, j->end)) == 0)
				return jerr(j, j->p, "invalid UTF-8 in string");
			j->p += n;
			continue;
		}
		if (*j->p < 0x20)
			return jerr(j, j->p, "control character in string");
		if (buf_add(&j->s, run, (size_t)(j->p - run)) == -1)
			return oom(j);
		if (*j->p == '"') {
			j->p++;
			return 0;
		}
		esc = j->p++;
		if (j->p >= j->end)
			return jerr(j, start, "unterminated string");
		switch (*j->p++) {
		case '"':	c = '"'; break;
		case '\\':	c = '\\'; break;
		case '/':	c = '/'; break;
		case 'b':	c = '\b'; break;
		case 'f':	c = '\f'; break;
		case 'n':	c = '\n'; break;
		case 'r':	c = '\r'; break;
		case 't':	c = '\t'; break;
		case 'u':
			if (uescape(j, esc) == -1)
				return -1;
			run = j->p;
			continue;
		default:
			return jerr(j, esc, "bad escape in string");
		}
		if (buf_addc(&j->s, c) == -1)
			return oom(j);
		run = j->p;
	}
}

static int
number(struct jp *j)
{
	const unsigned char *start = j->p;
	uint64_t n = 0, max = INT64_MAX, d;
	int neg = 0;

	if (*j->p == '-') {
		neg = 1;
		max = (uint64_t)INT64_MAX + 1;
		j->p++;
	}
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return jerr(j, start, "bad number");
	if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' &&
	    j->p[1] <= '9')
		return jerr(j, start, "leading zero in number");
	for (; j->p < j->end && *j->p >= '0' && *j->p <= '9'; j->p++) {
		d = (uint64_t)(*j->p - '0');
		if (n > (max - d) / 10)
			return jerr(j, start, "integer out of int64 range");
		n = n * 10 + d;
	}
	if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
		return jerr(j, start, "number with a fraction or exponent "
		    "(bencode has integers only)");
	if (neg && n == 0)
		return jerr(j, start, "negative zero (bencode has no -0)");
	/* n <= 2^63 when negative; the conversion wraps to INT64_MIN. */
	if (benc_put_int(j->out, neg ? (int64_t)(0 - n) : (int64_t)n) == -1)
		return oom(j);
	return 0;
}

static int
literal(struct jp *j)
{
	static const char *const lit[] = { "true", "false", "null" };
	size_t n;

	for (size_t i = 0; i < sizeof(lit) / sizeof(lit[0]); i++) {
		n = strlen(lit[i]);
		if ((size_t)(j->end - j->p) >= n && memcmp(j->p, lit[i], n) == 0)
			return bt_err(j->err, "%s has no bencode form at offset "
			    "%zu", lit[i], (size_t)(j->p - j->base));
	}
	return jerr(j, j->p, "unexpected character");
}

static int
array(struct jp *j, int depth)
{
	const unsigned char *open = j->p;

	if (depth >= JSON_MAX_DEPTH)
		return jerr(j, open, "nesting too deep");
	j->p++;
	if (buf_addc(j->out, 'l') == -1)
		return oom(j);
	ws(j);
	if (j->p < j->end && *j->p == ']')
		j->p++;
	else
		for (;;) {
			if (value(j, depth + 1) == -1)
				return -1;
			ws(j);
			if (j->p >= j->end)
				return jerr(j, open, "unterminated array");
			if (*j->p == ']') {
				j->p++;
				break;
			}
			if (*j->p != ',')
				return jerr(j, j->p, "expected ',' or ']'");
			j->p++;
		}
	return buf_addc(j->out, 'e') == -1 ? oom(j) : 0;
}

/* The rest of {"$hex": "<hex>"} once its key is read: a byte string. */
static int
hexobj(struct jp *j)
{
	const unsigned char *vat;
	long long n;

	ws(j);
	if (j->p >= j->end || *j->p != ':')
		return jerr(j, j->p, "expected ':'");
	j->p++;
	ws(j);
	vat = j->p;
	if (j->p >= j->end || *j->p != '"')
		return jerr(j, vat, "\"$hex\" value is not a string");
	if (string(j) == -1)
		return -1;
	if ((n = unhex(j->s.p, j->s.len)) == -1)
		return jerr(j, vat, "\"$hex\" value is not an even number of "
		    "hex digits");
	ws(j);
	if (j->p < j->end && *j->p == ',')
		return jerr(j, j->p, "a \"$hex\" object has other keys");
	if (j->p >= j->end || *j->p != '}')
		return jerr(j, j->p, "expected '}'");
	j->p++;
	return benc_put_str(j->out, j->s.p, (size_t)n) == -1 ? oom(j) : 0;
}

/*
 * Undoes json.h's key convention on the key in j->s and appends its
 * bencode to the output, the key bytes ending there.
 */
static int
putkey(struct jp *j, const unsigned char *kat, size_t *keylen)
{
	unsigned char *k = j->s.p;
	size_t n = j->s.len;
	long long h;

	if (n >= 2 && k[0] == '$' && k[1] == '$') {
		k++;
		n--;
	} else if (n >= 5 && memcmp(k, "$hex:", 5) == 0) {
		if ((h = unhex(k + 5, n - 5)) == -1)
			return jerr(j, kat, "\"$hex:\" key is not an even "
			    "number of hex digits");
		k += 5;
		n = (size_t)h;
	} else if (n >= 1 && k[0] == '$')
		return jerr(j, kat, "key with an unknown '$' tag (a key "
		    "starting with '$' is written \"$$\")");
	*keylen = n;
	return benc_put_str(j->out, k, n) == -1 ? oom(j) : 0;
}

static int
mcmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	return benc_keycmp(x->key, x->keylen, y->key, y->keylen);
}

/*
 * Puts the n members (spans of the output from m[0].off to its end) in
 * key order; two equal keys are an error.
 */
static int
sortmembers(struct jp *j, struct member *m, size_t n)
{
	size_t lo, hi, w, i, at;
	unsigned char *tmp;
	int sorted = 1, c;

	for (i = 0; i < n; i++)
		m[i].key = j->out->p + m[i].keyoff;
	for (i = 1; i < n; i++) {
		if ((c = mcmp(&m[i - 1], &m[i])) == 0)
			return jerr(j, j->base + m[i].at, "duplicate key");
		if (c > 0)
			sorted = 0;
	}
	if (sorted)
		return 0;
	lo = m[0].off;
	hi = j->out->len;
	qsort(m, n, sizeof(*m), mcmp);
	for (i = 1; i < n; i++)
		if (mcmp(&m[i - 1], &m[i]) == 0) {
			at = m[i].at > m[i - 1].at ? m[i].at : m[i - 1].at;
			return jerr(j, j->base + at, "duplicate key");
		}
	if ((tmp = malloc(hi - lo)) == NULL)
		return oom(j);
	memcpy(tmp, j->out->p + lo, hi - lo);
	for (w = lo, i = 0; i < n; i++) {
		memcpy(j->out->p + w, tmp + (m[i].off - lo), m[i].end -
		    m[i].off);
		w += m[i].end - m[i].off;
	}
	free(tmp);
	return 0;
}

static int
object(struct jp *j, int depth)
{
	const unsigned char *open = j->p, *kat;
	struct member *m = NULL, *nm;
	size_t n = 0, cap = 0;
	int rc = -1;

	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		if (depth >= JSON_MAX_DEPTH)
			return jerr(j, open, "nesting too deep");
		return buf_add(j->out, "de", 2) == -1 ? oom(j) : 0;
	}
	for (;;) {
		ws(j);
		if (j->p >= j->end) {
			jerr(j, open, "unterminated object");
			goto out;
		}
		if (*j->p != '"') {
			jerr(j, j->p, "expected a string key");
			goto out;
		}
		kat = j->p;
		if (string(j) == -1)
			goto out;
		if (j->s.len == 4 && memcmp(j->s.p, "$hex", 4) == 0) {
			if (n == 0)
				return hexobj(j);
			jerr(j, kat, "\"$hex\" tag in an object with other keys");
			goto out;
		}
		if (n == 0) {
			/* Not a "$hex" string: a real dictionary. */
			if (depth >= JSON_MAX_DEPTH) {
				jerr(j, open, "nesting too deep");
				goto out;
			}
			if (buf_addc(j->out, 'd') == -1) {
				oom(j);
				goto out;
			}
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			if ((nm = reallocarray(m, cap, sizeof(*m))) == NULL) {
				oom(j);
				goto out;
			}
			m = nm;
		}
		m[n].off = j->out->len;
		m[n].at = (size_t)(kat - j->base);
		if (putkey(j, kat, &m[n].keylen) == -1)
			goto out;
		m[n].keyoff = j->out->len - m[n].keylen;
		ws(j);
		if (j->p >= j->end || *j->p != ':') {
			jerr(j, j->p, "expected ':'");
			goto out;
		}
		j->p++;
		if (value(j, depth + 1) == -1)
			goto out;
		m[n].end = j->out->len;
		n++;
		ws(j);
		if (j->p >= j->end) {
			jerr(j, open, "unterminated object");
			goto out;
		}
		if (*j->p == '}') {
			j->p++;
			break;
		}
		if (*j->p != ',') {
			jerr(j, j->p, "expected ',' or '}'");
			goto out;
		}
		j->p++;
	}
	if (sortmembers(j, m, n) == -1)
		goto out;
	rc = buf_addc(j->out, 'e') == -1 ? oom(j) : 0;
out:
	free(m);
	return rc;
}

static int
value(struct jp *j, int depth)
{
	ws(j);
	if (j->p >= j->end)
		return jerr(j, j->p, "unexpected end of input");
	switch (*j->p) {
	case '"':
		if (string(j) == -1)
			return -1;
		if (benc_put_str(j->out, j->s.p, j->s.len) == -1)
			return oom(j);
		return 0;
	case '[':
		return array(j, depth);
	case '{':
		return object(j, depth);
	case '-':
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return number(j);
	default:
		return literal(j);
	}
}

int
json_to_benc(const void *buf, size_t len, struct buf *out, char *err)
{
	struct jp j;
	int rc;

	j.base = j.p = buf;
	j.end = j.base + len;
	j.out = out;
	j.err = err;
	/* A decoded string is never longer than its JSON text. */
	buf_init(&j.s, len);
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		rc = jerr(&j, j.p, "byte order mark");
	else if (len == 0)
		rc = jerr(&j, j.p, "empty input");
	else if ((rc = value(&j, 0)) == 0) {
		ws(&j);
		if (j.p != j.end)
			rc = jerr(&j, j.p, "trailing garbage");
	}
	buf_free(&j.s);
	return rc;
}
