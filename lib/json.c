#include <stdint.h>
#include <string.h>

#include "json.h"

static const char hexd[] = "0123456789abcdef";

int
utf8_valid(const void *sv, size_t n)
{
	const unsigned char *s = sv, *end = s + n;
	uint32_t cp;
	int more;

	while (s < end) {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf) {
			more = 1;
			cp = *s & 0x1f;
		} else if (*s >= 0xe0 && *s <= 0xef) {
			more = 2;
			cp = *s & 0x0f;
		} else if (*s >= 0xf0 && *s <= 0xf4) {
			more = 3;
			cp = *s & 0x07;
		} else
			return 0;
		if (end - s <= more)
			return 0;
		for (int i = 1; i <= more; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += more + 1;
	}
	return 1;
}

int
json_escape(struct buf *b, const void *sv, size_t n)
{
	const unsigned char *s = sv, *run = s, *end = s + n;
	char esc[8];

	for (; s < end; s++) {
		if (*s >= 0x20 && *s != '"' && *s != '\\' && *s != 0x7f)
			continue;
		if (buf_add(b, run, (size_t)(s - run)) == -1)
			return -1;
		run = s + 1;
		switch (*s) {
		case '"':  memcpy(esc, "\\\"", 3); break;
		case '\\': memcpy(esc, "\\\\", 3); break;
		case '\n': memcpy(esc, "\\n", 3); break;
		case '\t': memcpy(esc, "\\t", 3); break;
		case '\r': memcpy(esc, "\\r", 3); break;
		case '\b': memcpy(esc, "\\b", 3); break;
		case '\f': memcpy(esc, "\\f", 3); break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hexd[*s >> 4];
			esc[5] = hexd[*s & 15];
			esc[6] = '\0';
		}
		if (buf_adds(b, esc) == -1)
			return -1;
	}
	return buf_add(b, run, (size_t)(s - run));
}

int
hex_put(struct buf *b, const void *sv, size_t n)
{
	const unsigned char *s = sv;
	char pair[2];

	for (size_t i = 0; i < n; i++) {
		pair[0] = hexd[s[i] >> 4];
		pair[1] = hexd[s[i] & 15];
		if (buf_add(b, pair, 2) == -1)
			return -1;
	}
	return 0;
}

void
hex_str(char *out, const void *sv, size_t n)
{
	const unsigned char *s = sv;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[s[i] >> 4];
		out[2 * i + 1] = hexd[s[i] & 15];
	}
	out[2 * n] = '\0';
}

void
jw_init(struct jw *w, struct buf *b, int pretty)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->pretty = pretty;
}

static int
chk(struct jw *w, int rc)
{
	if (rc == -1)
		w->failed = 1;
	return w->failed ? -1 : 0;
}

static int
newline(struct jw *w)
{
	if (!w->pretty)
		return 0;
	if (buf_addc(w->b, '\n') == -1)
		return -1;
	for (int i = 0; i < w->depth; i++)
		if (buf_add(w->b, "  ", 2) == -1)
			return -1;
	return 0;
}

/* Comma and indentation before a value or key at the current level. */
static int
pre(struct jw *w)
{
	if (w->failed)
		return -1;
	if (w->afterkey) {
		w->afterkey = 0;
		return 0;
	}
	if (w->depth == 0)
		return 0;
	if (w->count[w->depth] && buf_addc(w->b, ',') == -1)
		return chk(w, -1);
	w->count[w->depth] = 1;
	return chk(w, newline(w));
}

static int
openc(struct jw *w, int c)
{
	if (pre(w) == -1)
		return -1;
	if (w->depth + 1 >= JW_MAX_DEPTH)
		return chk(w, -1);
	w->depth++;
	w->count[w->depth] = 0;
	w->closer[w->depth] = c == '{' ? '}' : ']';
	return chk(w, buf_addc(w->b, c));
}

int
jw_obj(struct jw *w)
{
	return openc(w, '{');
}

int
jw_arr(struct jw *w)
{
	return openc(w, '[');
}

int
jw_end(struct jw *w)
{
	int had, c;

	if (w->failed || w->depth == 0)
		return chk(w, -1);
	had = w->count[w->depth];
	c = w->closer[w->depth];
	w->depth--;
	if (had && newline(w) == -1)
		return chk(w, -1);
	return chk(w, buf_addc(w->b, c));
}

static int
quoted(struct jw *w, const void *s, size_t n)
{
	return chk(w, buf_addc(w->b, '"') == -1 || json_escape(w->b, s, n) ==
	    -1 || buf_addc(w->b, '"') == -1 ? -1 : 0);
}

static int
keyend(struct jw *w)
{
	w->afterkey = 1;
	return chk(w, buf_add(w->b, w->pretty ? ": " : ":",
	    w->pretty ? 2 : 1));
}

int
jw_key(struct jw *w, const char *k)
{
	if (pre(w) == -1 || quoted(w, k, strlen(k)) == -1)
		return -1;
	return keyend(w);
}

int
jw_keyb(struct jw *w, const void *k, size_t n)
{
	int rc;

	if (pre(w) == -1)
		return -1;
	if (utf8_valid(k, n)) {
		rc = buf_addc(w->b, '"');
		if (rc == 0 && n > 0 && *(const char *)k == '$')
			rc = buf_addc(w->b, '$');
		if (rc == 0)
			rc = json_escape(w->b, k, n);
	} else {
		rc = buf_adds(w->b, "\"$hex:");
		if (rc == 0)
			rc = hex_put(w->b, k, n);
	}
	if (rc == 0)
		rc = buf_addc(w->b, '"');
	if (chk(w, rc) == -1)
		return -1;
	return keyend(w);
}

int
jw_strn(struct jw *w, const void *s, size_t n)
{
	if (pre(w) == -1)
		return -1;
	return quoted(w, s, n);
}

int
jw_str(struct jw *w, const char *s)
{
	return jw_strn(w, s, strlen(s));
}

int
jw_bytes(struct jw *w, const void *s, size_t n)
{
	int rc;

	if (utf8_valid(s, n))
		return jw_strn(w, s, n);
	if (pre(w) == -1)
		return -1;
	rc = buf_adds(w->b, "{\"$hex\":\"");
	if (rc == 0)
		rc = hex_put(w->b, s, n);
	if (rc == 0)
		rc = buf_adds(w->b, "\"}");
	return chk(w, rc);
}

int
jw_int(struct jw *w, int64_t n)
{
	if (pre(w) == -1)
		return -1;
	return chk(w, buf_printf(w->b, "%lld", (long long)n));
}

int
jw_uint(struct jw *w, uint64_t n)
{
	if (pre(w) == -1)
		return -1;
	return chk(w, buf_printf(w->b, "%llu", (unsigned long long)n));
}

int
jw_bool(struct jw *w, int v)
{
	if (pre(w) == -1)
		return -1;
	return chk(w, buf_adds(w->b, v ? "true" : "false"));
}

int
jw_null(struct jw *w)
{
	if (pre(w) == -1)
		return -1;
	return chk(w, buf_adds(w->b, "null"));
}

int
jw_benc(struct jw *w, struct bval v)
{
	struct biter it;
	struct bval k, e;
	const unsigned char *s;
	size_t n;
	int64_t i;

	switch (benc_type(v)) {
	case BENC_INT:
		benc_int(v, &i);
		return jw_int(w, i);
	case BENC_STR:
		benc_str(v, &s, &n);
		return jw_bytes(w, s, n);
	case BENC_LIST:
		if (jw_arr(w) == -1)
			return -1;
		benc_iter(v, &it);
		while (benc_list_next(&it, &e))
			if (jw_benc(w, e) == -1)
				return -1;
		return jw_end(w);
	case BENC_DICT:
		if (jw_obj(w) == -1)
			return -1;
		benc_iter(v, &it);
		while (benc_dict_next(&it, &k, &e)) {
			benc_str(k, &s, &n);
			if (jw_keyb(w, s, n) == -1 || jw_benc(w, e) == -1)
				return -1;
		}
		return jw_end(w);
	}
	return -1;
}

int
jw_finish(struct jw *w)
{
	if (w->failed || w->depth != 0)
		return -1;
	return chk(w, buf_addc(w->b, '\n'));
}
