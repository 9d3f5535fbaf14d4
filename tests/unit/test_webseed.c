/* test_webseed.c: lib/webseed: BEP 19 URLs, piece ranges, HTTP verdicts. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bt.h"
#include "metainfo.h"
#include "t.h"
#include "webseed.h"

/*
 * "my dir": "a b.txt" 10 bytes, a BEP 47 pad file of 6, "\xc3\xa9/c%"
 * 25 bytes, an empty "z"; pieces of 16: 3 pieces (16, 16, 9).
 */
static const char multi[] =
    "d4:infod5:filesl"
    "d6:lengthi10e4:pathl7:a b.txtee"
    "d4:attr1:p6:lengthi6e4:pathl4:.pad1:6ee"
    "d6:lengthi25e4:pathl2:\xc3\xa9" "2:c%ee"
    "d6:lengthi0e4:pathl1:zee"
    "e4:name6:my dir12:piece lengthi16e6:pieces60:"
    "AAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCCCCC"
    "ee";

static const char single[] =
    "d4:infod6:lengthi20e4:name6:f?#.gz12:piece lengthi16e"
    "6:pieces40:AAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBBBBBee";

static int
url_is(const struct metainfo *mi, const char *base, size_t f,
    const char *want)
{
	struct buf b;
	int ok;

	buf_init(&b, WS_MAX_URL);
	ok = ws_file_url(&b, base, mi, f) == 0 && buf_addc(&b, '\0') == 0 &&
	    strcmp((char *)b.p, want) == 0;
	if (!ok)
		printf("#   got %s\n", b.p != NULL ? (char *)b.p : "(null)");
	buf_free(&b);
	return ok;
}

static void
urls(void)
{
	struct metainfo mi;
	char err[BT_ERRLEN];

	CHECK(mi_parse(&mi, multi, sizeof(multi) - 1, err) == 0);
	CHECK(url_is(&mi, "http://h/d/", 0, "http://h/d/my%20dir/a%20b.txt"));
	/* Multi-file: the missing slash is added (libtorrent, aria2). */
	CHECK(url_is(&mi, "http://h/d", 2, "http://h/d/my%20dir/%C3%A9/c%25"));
	CHECK(url_is(&mi, "https://h:8443/", 3, "https://h:8443/my%20dir/z"));
	mi_free(&mi);
	CHECK(mi_parse(&mi, single, sizeof(single) - 1, err) == 0);
	/* Single-file: the URL is the file, or a directory with a '/'. */
	CHECK(url_is(&mi, "http://h/x.iso", 0, "http://h/x.iso"));
	CHECK(url_is(&mi, "http://h/pub/", 0, "http://h/pub/f%3F%23.gz"));
	mi_free(&mi);
}

static void
ranges(void)
{
	struct metainfo mi;
	struct ws_range r[4];
	char err[BT_ERRLEN];

	CHECK(mi_parse(&mi, multi, sizeof(multi) - 1, err) == 0);
	CHECK(ws_piece_ranges(&mi, 0, NULL, 0) == 2);
	CHECK(ws_piece_ranges(&mi, 0, r, 4) == 2);
	CHECK(r[0].file == 0 && r[0].off == 0 && r[0].len == 10 &&
	    r[0].poff == 0 && !r[0].pad);
	CHECK(r[1].file == 1 && r[1].off == 0 && r[1].len == 6 &&
	    r[1].poff == 10 && r[1].pad);
	CHECK(ws_piece_ranges(&mi, 0, r, 1) == -1);
	CHECK(ws_piece_ranges(&mi, 1, r, 4) == 1);
	CHECK(r[0].file == 2 && r[0].off == 0 && r[0].len == 16 &&
	    r[0].poff == 0);
	/* The last, short piece; the empty file gives no range. */
	CHECK(ws_piece_ranges(&mi, 2, r, 4) == 1);
	CHECK(r[0].file == 2 && r[0].off == 16 && r[0].len == 9);
	CHECK(ws_piece_ranges(&mi, 3, r, 4) == 0);
	mi_free(&mi);
}

static int
cr(const char *s, uint64_t f, uint64_t l, uint64_t t)
{
	uint64_t a, b, c;

	return ws_content_range(s, strlen(s), &a, &b, &c) == 0 &&
	    a == f && b == l && c == t;
}

static int
cr_bad(const char *s)
{
	uint64_t a, b, c;

	return ws_content_range(s, strlen(s), &a, &b, &c) == -1;
}

static void
content_range(void)
{
	CHECK(cr("bytes 0-99/1000", 0, 99, 1000));
	CHECK(cr(" bytes 5-5/6 \t", 5, 5, 6));
	CHECK(cr("bytes 10-19/*", 10, 19, UINT64_MAX));
	CHECK(cr_bad(""));
	CHECK(cr_bad("bytes"));
	CHECK(cr_bad("bytes */1000"));		/* a 416's form */
	CHECK(cr_bad("bytes 9-5/100"));
	CHECK(cr_bad("bytes 0-100/100"));	/* past the end */
	CHECK(cr_bad("bytes 0-9/10x"));
	CHECK(cr_bad("bytes=0-9/10"));
	CHECK(cr_bad("items 0-9/10"));
	CHECK(cr_bad("bytes -1-9/10"));
	CHECK(cr_bad("bytes 0-99999999999999999999999/1"));
}

static void
retry_after(void)
{
	long s;
	time_t now = 784111777;	/* Sun, 06 Nov 1994 08:49:37 GMT */

	CHECK(ws_retry_after("120", 3, now, &s) == 0 && s == 120);
	CHECK(ws_retry_after(" 0 ", 3, now, &s) == 0 && s == 0);
	CHECK(ws_retry_after("99999999999999999999", 20, now, &s) == 0 &&
	    s == INT32_MAX);
	CHECK(ws_retry_after("Sun, 06 Nov 1994 08:49:57 GMT", 29, now,
	    &s) == 0 && s == 20);
	CHECK(ws_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", 29, now,
	    &s) == 0 && s == 0);
	CHECK(ws_retry_after("Sun, 06 Nov 1994 08:49:37 UTC", 29, now,
	    &s) == -1);
	CHECK(ws_retry_after("Sun, 06 Xyz 1994 08:49:37 GMT", 29, now,
	    &s) == -1);
	CHECK(ws_retry_after("-5", 2, now, &s) == -1);
	CHECK(ws_retry_after("5s", 2, now, &s) == -1);
	CHECK(ws_retry_after("", 0, now, &s) == -1);
}

static void
judge(void)
{
	const char *c = "bytes 100-199/1000";

	CHECK(ws_judge(206, c, strlen(c), 100, 100, 1000) == WS_OK);
	CHECK(ws_judge(206, c, strlen(c), 100, 50, 1000) == WS_BAD_RANGE);
	CHECK(ws_judge(206, c, strlen(c), 100, 100, 999) == WS_MISSING);
	CHECK(ws_judge(206, NULL, 0, 100, 100, 1000) == WS_BAD_RANGE);
	CHECK(ws_judge(200, NULL, 0, 100, 100, 1000) == WS_NO_RANGE);
	/* The whole file asked for: 200 is the right answer. */
	CHECK(ws_judge(200, NULL, 0, 0, 1000, 1000) == WS_OK);
	CHECK(ws_judge(404, NULL, 0, 0, 1, 1000) == WS_MISSING);
	CHECK(ws_judge(416, NULL, 0, 0, 1, 1000) == WS_MISSING);
	CHECK(ws_judge(503, NULL, 0, 0, 1, 1000) == WS_RETRY);
	CHECK(ws_judge(429, NULL, 0, 0, 1, 1000) == WS_RETRY);
	CHECK(ws_judge(403, NULL, 0, 0, 1, 1000) == WS_REFUSED);
	CHECK(ws_judge(302, NULL, 0, 0, 1, 1000) == WS_REFUSED);
}

int
main(void)
{
	RUN(urls);
	RUN(ranges);
	RUN(content_range);
	RUN(retry_after);
	RUN(judge);
	DONE();
}
