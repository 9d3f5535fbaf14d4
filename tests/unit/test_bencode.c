#include <stdint.h>
#include <string.h>

#include "bencode.h"
#include "bt.h"
#include "json.h"
#include "t.h"

static int
bad(const char *in, const char *msg)
{
	struct bval v;
	char err[BT_ERRLEN] = "";

	if (benc_parse(in, strlen(in), &v, err) == 0)
		return 0;
	if (strstr(err, msg) == NULL) {
		printf("#   '%s': got '%s', want '%s'\n", in, err, msg);
		return 0;
	}
	return 1;
}

static void
rejects(void)
{
	CHECK(bad("i03e", "leading zero in integer at offset 1"));
	CHECK(bad("i-0e", "negative zero"));
	CHECK(bad("ie", "expected digits"));
	CHECK(bad("i-e", "expected digits"));
	CHECK(bad("i9223372036854775808e", "integer too large"));
	CHECK(bad("i12", "unexpected end"));
	CHECK(bad("5:abc", "string length past end of input at offset 0"));
	CHECK(bad("05:abcde", "leading zero in string length"));
	CHECK(bad("99999999999999999999999:a", "string length too large"));
	CHECK(bad("l1:a", "unterminated list"));
	CHECK(bad("d1:a", "unterminated dictionary"));
	CHECK(bad("d1:ae", "key without value"));
	CHECK(bad("di1e1:ae", "key is not a string"));
	CHECK(bad("d1:ai1e1:ai2ee", "duplicate dictionary key at offset 7"));
	CHECK(bad("i1ex", "trailing garbage at offset 3"));
	CHECK(bad("", "empty input"));
	CHECK(bad("x", "unexpected character at offset 0"));
}

static void
depth(void)
{
	char in[2 * BENC_MAX_DEPTH + 4];
	struct bval v;
	char err[BT_ERRLEN];
	size_t n = BENC_MAX_DEPTH;

	memset(in, 'l', n);
	memset(in + n, 'e', n);
	CHECK(benc_parse(in, 2 * n, &v, err) == 0);
	memset(in, 'l', n + 1);
	memset(in + n + 1, 'e', n + 1);
	CHECK(benc_parse(in, 2 * n + 2, &v, err) == -1);
	CHECK(strstr(err, "nesting too deep") != NULL);
}

static void
accessors(void)
{
	const char *in = "d3:bar4:spam3:fooi-42e4:listli9223372036854775807e"
	    "i-9223372036854775808eee";
	struct bval v, e;
	struct biter it;
	int64_t i;
	const unsigned char *s;
	size_t n;
	char err[BT_ERRLEN];

	CHECK(benc_parse(in, strlen(in), &v, err) == 0);
	CHECK(benc_type(v) == BENC_DICT);
	CHECK(benc_count(v) == 3);
	CHECK(benc_canonical(v));
	CHECK(benc_dict_get(v, "foo", &e) && benc_int(e, &i) == 0 && i == -42);
	CHECK(benc_dict_get(v, "bar", &e) && benc_str(e, &s, &n) == 0 &&
	    n == 4 && memcmp(s, "spam", 4) == 0);
	CHECK(!benc_dict_get(v, "baz", &e));
	CHECK(benc_dict_get(v, "list", &e));
	benc_iter(e, &it);
	CHECK(benc_list_next(&it, &e) && benc_int(e, &i) == 0 &&
	    i == INT64_MAX);
	CHECK(benc_list_next(&it, &e) && benc_int(e, &i) == 0 &&
	    i == INT64_MIN);
	CHECK(!benc_list_next(&it, &e));
	/* Unsorted keys are accepted, and reported as non-canonical. */
	CHECK(benc_parse("d1:bi1e1:ai2ee", 14, &v, err) == 0);
	CHECK(!benc_canonical(v));
}

static void
spans(void)
{
	const char *in = "d4:infod1:xi1ee1:zi2ee";
	struct bval v, info;
	char err[BT_ERRLEN];

	CHECK(benc_parse(in, strlen(in), &v, err) == 0);
	CHECK(benc_dict_get(v, "info", &info));
	CHECK(info.len == 8 && memcmp(info.p, "d1:xi1ee", 8) == 0);
}

static void
json(void)
{
	const char *in = "d2:$xi1e3:bin2:\xff\x00" "4:text5:h\"i\n\x01" "e";
	struct bval v;
	struct buf b;
	struct jw w;
	char err[BT_ERRLEN];

	CHECK(benc_parse(in, 31, &v, err) == 0);
	buf_init(&b, 1 << 16);
	jw_init(&w, &b, 0);
	CHECK(jw_benc(&w, v) == 0 && jw_finish(&w) == 0);
	CHECK(b.len == strlen("{\"$$x\":1,\"bin\":{\"$hex\":\"ff00\"},"
	    "\"text\":\"h\\\"i\\n\\u0001\"}\n"));
	CHECK(memcmp(b.p, "{\"$$x\":1,\"bin\":{\"$hex\":\"ff00\"},"
	    "\"text\":\"h\\\"i\\n\\u0001\"}\n", b.len) == 0);
	buf_free(&b);
	CHECK(utf8_valid("\xc3\xa9", 2));
	CHECK(!utf8_valid("\xc0\xaf", 2));	/* overlong '/' */
	CHECK(!utf8_valid("\xed\xa0\x80", 3));	/* a surrogate */
	CHECK(!utf8_valid("\xf4\x90\x80\x80", 4));	/* past U+10FFFF */
	CHECK(!utf8_valid("\xe2\x82", 2));	/* truncated */
}

int
main(void)
{
	RUN(rejects);
	RUN(depth);
	RUN(accessors);
	RUN(spans);
	RUN(json);
	DONE();
}
