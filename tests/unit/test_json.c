/* Unit tests for lib/json_parse.h: JSON to canonical bencode. */
#include <stdio.h>
#include <string.h>

#include "bencode.h"
#include "bt.h"
#include "buf.h"
#include "json.h"
#include "json_parse.h"
#include "t.h"

/* 1 if JSON in (n bytes) converts to bencode want (wn bytes). */
static int
conv(const char *in, size_t n, const char *want, size_t wn)
{
	struct buf b;
	char err[BT_ERRLEN] = "";
	int ok;

	buf_init(&b, 1 << 20);
	if (json_to_benc(in, n, &b, err) == -1) {
		printf("#   '%s': %s\n", in, err);
		buf_free(&b);
		return 0;
	}
	ok = b.len == wn && memcmp(b.p, want, wn) == 0;
	if (!ok)
		printf("#   '%s': got '%.*s'\n", in, (int)b.len, b.p);
	buf_free(&b);
	return ok;
}
#define OK(in, want) conv(in, sizeof(in) - 1, want, sizeof(want) - 1)

/* 1 if JSON in is refused with an error containing msg. */
static int
bad(const char *in, const char *msg)
{
	struct buf b;
	char err[BT_ERRLEN] = "";
	int rc;

	buf_init(&b, 1 << 20);
	rc = json_to_benc(in, strlen(in), &b, err);
	buf_free(&b);
	if (rc == 0 || strstr(err, msg) == NULL) {
		printf("#   '%s': got '%s', want '%s'\n", in, rc == 0 ? "ok" :
		    err, msg);
		return 0;
	}
	return 1;
}

static void
values(void)
{
	CHECK(OK("0", "i0e"));
	CHECK(OK(" -9223372036854775808 ", "i-9223372036854775808e"));
	CHECK(OK("9223372036854775807", "i9223372036854775807e"));
	CHECK(OK("\"\"", "0:"));
	CHECK(OK("[]", "le"));
	CHECK(OK("{}", "de"));
	CHECK(OK("[1,[2],{\"a\":\"b\"}]", "li1eli2eed1:a1:bee"));
	CHECK(OK("\"\\u0000\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
	    "15:\0\xc3\xa9\xf0\x9f\x98\x80\"\\/\b\f\n\r\t"));
	CHECK(OK("\"\xe6\x97\xa5\"", "3:\xe6\x97\xa5"));
}

static void
convention(void)
{
	CHECK(OK("{\"$hex\":\"00fF\"}", "2:\0\xff"));
	CHECK(OK("{ \"$hex\" : \"\" }", "0:"));
	CHECK(OK("{\"$$hex\":1}", "d4:$hexi1ee"));
	CHECK(OK("{\"$$\":1}", "d1:$i1ee"));
	CHECK(OK("{\"$hex:ff00\":1}", "d2:\xff\0i1ee"));
	CHECK(OK("{\"$hex:\":1}", "d0:i1ee"));
	/* Sorted as raw bytes whatever the JSON order. */
	CHECK(OK("{\"b\":1,\"$hex:ff\":2,\"a\":3,\"$$\":4}",
	    "d1:$i4e1:ai3e1:bi1e1:\xffi2ee"));
	CHECK(OK("{\"ab\":1,\"a\":2}", "d1:ai2e2:abi1ee"));
}

static void
rejects(void)
{
	CHECK(bad("1.0", "fraction or exponent"));
	CHECK(bad("1E2", "fraction or exponent"));
	CHECK(bad("-0", "negative zero (bencode has no -0) at offset 0"));
	CHECK(bad("-", "bad number at offset 0"));
	CHECK(bad("[00]", "leading zero in number at offset 1"));
	CHECK(bad("9223372036854775808", "int64 range"));
	CHECK(bad("-9223372036854775809", "int64 range"));
	CHECK(bad("false", "false has no bencode form at offset 0"));
	CHECK(bad("nul", "unexpected character at offset 0"));
	CHECK(bad("{\"a\":1,\"a\":1}", "duplicate key at offset 7"));
	CHECK(bad("{\"b\":1,\"a\":1,\"b\":2}", "duplicate key at offset 13"));
	CHECK(bad("{\"$hex:61\":1,\"a\":1}", "duplicate key at offset 13"));
	CHECK(bad("{\"$\":1}", "unknown '$' tag"));
	CHECK(bad("{\"$hexa\":1}", "unknown '$' tag"));
	CHECK(bad("{\"$hex\":\"0\"}", "hex digits at offset 8"));
	CHECK(bad("{\"$hex\":\"0g\"}", "hex digits"));
	CHECK(bad("{\"$hex\":[]}", "not a string"));
	CHECK(bad("{\"$hex\":\"\",\"a\":1}", "has other keys at offset 10"));
	CHECK(bad("{\"a\":1,\"$hex\":\"\"}", "with other keys at offset 7"));
	CHECK(bad("{\"$hex:0\":1}", "hex digits"));
	CHECK(bad("\"\\ud800\"", "lone high surrogate in \\u escape at offset 1"));
	CHECK(bad("\"\\ud800\\u0041\"", "lone high surrogate"));
	CHECK(bad("\"\\udfff\"", "lone low surrogate"));
	CHECK(bad("\"\\u12\"", "bad \\u escape"));
	CHECK(bad("\"\\x\"", "bad escape in string at offset 1"));
	CHECK(bad("\"\x01\"", "control character in string at offset 1"));
	CHECK(bad("\"\xff\"", "invalid UTF-8 in string at offset 1"));
	CHECK(bad("\"\xed\xa0\x80\"", "invalid UTF-8"));
	CHECK(bad("\"\xc0\x80\"", "invalid UTF-8"));
	CHECK(bad("\"\xe6\x97\"", "invalid UTF-8"));
	CHECK(bad("\"abc", "unterminated string at offset 0"));
	CHECK(bad("[1", "unterminated array at offset 0"));
	CHECK(bad("{\"a\":1", "unterminated object at offset 0"));
	CHECK(bad("{\"a\" 1}", "expected ':' at offset 5"));
	CHECK(bad("{a:1}", "expected a string key at offset 1"));
	CHECK(bad("[1 2]", "expected ',' or ']' at offset 3"));
	CHECK(bad("{\"a\":1 \"b\":2}", "expected ',' or '}' at offset 7"));
	CHECK(bad("[1,]", "unexpected character at offset 3"));
	CHECK(bad("1 2", "trailing garbage at offset 2"));
	CHECK(bad("", "empty input"));
	CHECK(bad(" \n", "unexpected end of input at offset 2"));
	CHECK(bad("\xef\xbb\xbf{}", "byte order mark at offset 0"));
}

static void
depth(void)
{
	char in[4 * JSON_MAX_DEPTH + 32], *p;
	struct buf b;
	struct bval v;
	char err[BT_ERRLEN];
	int n;

	for (n = JSON_MAX_DEPTH; n <= JSON_MAX_DEPTH + 1; n++) {
		p = in;
		/* Objects and arrays in turn: {"k":[{"k":[ ... */
		for (int i = 0; i < n; i++) {
			if (i % 2) {
				*p++ = '[';
				continue;
			}
			memcpy(p, "{\"k\":", 5);
			p += 5;
		}
		memcpy(p, "{\"$hex\":\"ff\"}", 13);
		p += 13;
		for (int i = n - 1; i >= 0; i--)
			*p++ = i % 2 ? ']' : '}';
		buf_init(&b, 1 << 20);
		if (n == JSON_MAX_DEPTH) {
			CHECK(json_to_benc(in, (size_t)(p - in), &b, err) == 0);
			CHECK(benc_parse(b.p, b.len, &v, err) == 0);
		} else {
			CHECK(json_to_benc(in, (size_t)(p - in), &b, err) == -1);
			CHECK(strstr(err, "nesting too deep") != NULL);
		}
		buf_free(&b);
	}
}

/* bencode -> JSON (lib/json.h) -> bencode gives the bytes back. */
static void
roundtrip(void)
{
#define S(x)	{ x, sizeof(x) - 1 }
	static const struct {
		const char	*s;
		size_t		 n;
	} in[] = {
		S("d1:$i1e2:$$i2e4:$hex4:abcde"),
		S("d1:k3:\xed\xa0\x80" "2:\xff\x01l2:\xc1\x81" "0:ee"),
		S("l4:\x00\x01\x1f\x7f" "2:\t\"i-9223372036854775808ee"),
		S("d0:de1:ad5:$hex:d2:\xff\xfe" "leeee"),
	};
	struct buf j, b;
	struct jw w;
	struct bval v;
	char err[BT_ERRLEN];
	size_t n;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		n = in[i].n;	/* some hold NUL bytes */
		CHECK(benc_parse(in[i].s, n, &v, err) == 0);
		CHECK(benc_canonical(v));
		buf_init(&j, 1 << 20);
		buf_init(&b, 1 << 20);
		jw_init(&w, &j, (int)(i & 1));
		CHECK(jw_benc(&w, v) == 0 && jw_finish(&w) == 0);
		CHECK(json_to_benc(j.p, j.len, &b, err) == 0);
		CHECK(b.len == n && memcmp(b.p, in[i].s, n) == 0);
		buf_free(&j);
		buf_free(&b);
	}
}

int
main(void)
{
	RUN(values);
	RUN(convention);
	RUN(rejects);
	RUN(depth);
	RUN(roundtrip);
	DONE();
}
