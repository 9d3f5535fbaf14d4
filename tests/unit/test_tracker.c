#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "buf.h"
#include "tracker.h"
#include "t.h"

static const unsigned char IH[20] = {
	0x00, 0xff, '-', 'A', '.', '_', '~', ' ', '%', '?',
	'&', 1, 2, 3, 4, 5, 6, 7, 8, 9
};

static void
params(struct trk_params *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->info_hash, IH, 20);
	memcpy(p->peer_id, "-BT0100-abcdefghijkl", 20);
	p->port = 6881;
	p->left = 1000;
	p->numwant = -1;
}

static int
url_is(const char *base, const struct trk_params *p, const char *want)
{
	struct buf b;
	char err[BT_ERRLEN];
	int ok;

	buf_init(&b, 4096);
	ok = trk_http_announce_url(&b, base, p, err) == 0 &&
	    buf_addc(&b, '\0') == 0 && strcmp((char *)b.p, want) == 0;
	if (!ok)
		printf("#   got %s\n", b.p != NULL ? (char *)b.p : err);
	buf_free(&b);
	return ok;
}

static void
announce_url(void)
{
	struct trk_params p;

	params(&p);
	CHECK(url_is("http://t/announce", &p, "http://t/announce?info_hash="
	    "%00%FF-A._~%20%25%3F%26%01%02%03%04%05%06%07%08%09"
	    "&peer_id=-BT0100-abcdefghijkl&port=6881&uploaded=0"
	    "&downloaded=0&left=1000&compact=1"));
	p.event = TRK_EV_STARTED;
	p.numwant = 50;
	p.key = 0xab;
	p.has_key = 1;
	p.uploaded = UINT64_MAX;
	CHECK(url_is("https://t/a?pk=1", &p, "https://t/a?pk=1&info_hash="
	    "%00%FF-A._~%20%25%3F%26%01%02%03%04%05%06%07%08%09"
	    "&peer_id=-BT0100-abcdefghijkl&port=6881"
	    "&uploaded=18446744073709551615&downloaded=0&left=1000"
	    "&compact=1&event=started&numwant=50&key=000000ab"));
	CHECK(!url_is("udp://t:1", &p, ""));
	CHECK(!url_is("http://t/a b", &p, ""));
	CHECK(!url_is("http://t/a#frag", &p, ""));
}

static int
scrape_is(const char *url, const char *want)
{
	struct buf b;
	char err[BT_ERRLEN];
	int rc;

	buf_init(&b, 4096);
	rc = trk_http_scrape_url(&b, url, IH, err);
	if (want == NULL) {
		buf_free(&b);
		return rc == -1 && strstr(err, "BEP 48") != NULL;
	}
	rc = rc == 0 && buf_addc(&b, '\0') == 0 &&
	    strncmp((char *)b.p, want, strlen(want)) == 0 &&
	    strstr((char *)b.p, "info_hash=%00%FF-A") != NULL;
	if (!rc)
		printf("#   %s: got %s\n", url, b.p);
	buf_free(&b);
	return rc;
}

static void
scrape_url(void)
{
	CHECK(scrape_is("http://t/announce", "http://t/scrape?info_hash="));
	CHECK(scrape_is("http://t/x/announce.php?k=1",
	    "http://t/x/scrape.php?k=1&info_hash="));
	CHECK(scrape_is("http://t/announce?", "http://t/scrape?&info_hash="));
	CHECK(scrape_is("http://t/a", NULL));
	CHECK(scrape_is("http://t/announce/x", NULL));
	CHECK(scrape_is("http://t/x%064announce", NULL));
	CHECK(scrape_is("http://announce", NULL));
	CHECK(scrape_is("https://announce", NULL));
}

static int
parse_bad(const char *body, size_t n, const char *msg)
{
	struct trk_reply r;
	char err[BT_ERRLEN] = "";

	if (trk_http_parse(body, n, &r, err) == 0) {
		trk_reply_free(&r);
		printf("#   accepted: %s\n", body);
		return 0;
	}
	if (strstr(err, msg) == NULL) {
		printf("#   got '%s', want '%s'\n", err, msg);
		return 0;
	}
	return 1;
}

#define S(lit)	lit, sizeof(lit) - 1

static void
http_reply(void)
{
	struct trk_reply r;
	char err[BT_ERRLEN], s[TRK_PEER_STRLEN];

	CHECK(trk_http_parse(S("d8:completei3e10:incompletei-1e8:intervali"
	    "30e12:min intervali99999999e5:peers12:\x7f\0\0\1\x1a\xe1"
	    "\x0a\0\0\2\0\0" "6:peers618:\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1"
	    "\x1a\xe2" "10:tracker id2:t\xff" "e\r\n"), &r, err) == 0);
	CHECK(r.failure == NULL && r.complete == 3 && r.incomplete == -1);
	CHECK(r.interval == TRK_MIN_INTERVAL && r.min_interval ==
	    TRK_MAX_INTERVAL && r.interval_clamped);
	CHECK(r.npeers == 2 && r.peers_dropped == 1);	/* port 0 */
	trk_peer_str(&r.peers[0], s);
	CHECK(strcmp(s, "127.0.0.1:6881") == 0);
	trk_peer_str(&r.peers[1], s);
	CHECK(strcmp(s, "[::1]:6882") == 0);
	CHECK(r.tracker_id_len == 2 && memcmp(r.tracker_id, "t\xff", 2) == 0);
	trk_reply_free(&r);

	CHECK(trk_http_parse(S("d5:peersld2:ip9:127.0.0.27:peer id20:"
	    "AAAAAAAAAAAAAAAAAAAA4:porti80eed2:ip3:::14:porti1eed2:ip1:x"
	    "4:porti1eed2:ip9:127.0.0.24:porti65536eei5eee"), &r, err) == 0);
	CHECK(r.npeers == 2 && r.peers_dropped == 3);
	CHECK(r.npeers == 2 && r.peers[0].has_peer_id &&
	    r.peers[0].port == 80 && r.peers[1].family == 6);
	trk_reply_free(&r);

	CHECK(trk_http_parse(S("d14:failure reason3:no!8:intervali5ee"), &r,
	    err) == 0);
	CHECK(r.failure != NULL && strcmp(r.failure, "no!") == 0 &&
	    r.interval == -1);
	trk_reply_free(&r);

	CHECK(parse_bad(S(""), "empty reply"));
	CHECK(parse_bad(S("<html>"), "reply is not bencode (unexpected"));
	CHECK(parse_bad(S("le"), "not a dictionary"));
	CHECK(parse_bad(S("de"), "no peers, no interval"));
	CHECK(parse_bad(S("d8:intervali5eeXX"), "junk after"));
	CHECK(parse_bad(S("d5:peers5:abcdee"), "truncated compact peer list: "
	    "5 bytes is not a multiple of 6"));
	CHECK(parse_bad(S("d6:peers64:abcde"), "not a multiple of 18"));
	CHECK(parse_bad(S("d5:peersi1ee"), "neither a string nor a list"));
	CHECK(parse_bad(S("d14:failure reasoni1ee"), "not a string"));
	CHECK(parse_bad(S("d8:interval1:xe"), "not an integer"));
}

static void
many_peers(void)
{
	struct buf b;
	struct trk_reply r;
	char err[BT_ERRLEN];
	size_t n = TRK_MAX_PEERS + 10, i;

	buf_init(&b, TRK_MAX_REPLY);
	buf_printf(&b, "d5:peers%zu:", n * 6);
	for (i = 0; i < n; i++)
		buf_add(&b, "\x7f\0\0\1\0\1", 6);
	buf_addc(&b, 'e');
	CHECK(trk_http_parse(b.p, b.len, &r, err) == 0);
	CHECK(r.npeers == TRK_MAX_PEERS && r.peers_dropped == 10);
	/* All the same peer: one is left. */
	CHECK(trk_peers_dedup(r.peers, r.npeers) == 1);
	trk_reply_free(&r);
	buf_free(&b);
}

static void
http_scrape(void)
{
	struct trk_scrape s;
	struct buf b;
	char err[BT_ERRLEN];

	buf_init(&b, 4096);
	buf_adds(&b, "d5:filesd20:");
	buf_add(&b, IH, 20);
	buf_adds(&b, "d8:completei1e10:downloadedi3e10:incompletei2eeee");
	CHECK(trk_http_parse_scrape(b.p, b.len, IH, &s, err) == 0);
	CHECK(s.complete == 1 && s.incomplete == 2 && s.downloaded == 3);
	trk_scrape_free(&s);
	CHECK(trk_http_parse_scrape(S("d5:filesdee"), IH, &s, err) == -1 &&
	    strstr(err, "no entry") != NULL);
	CHECK(trk_http_parse_scrape(S("d14:failure reason1:xe"), IH, &s,
	    err) == 0 && s.failure != NULL);
	trk_scrape_free(&s);
	buf_free(&b);
}

static void
udp_packets(void)
{
	unsigned char pkt[128], rep[64];
	struct trk_params p;
	struct trk_reply r;
	struct trk_scrape s;
	char err[BT_ERRLEN];
	uint64_t cid = 0;

	CHECK(trk_udp_connect(pkt, 0x01020304) == 16);
	CHECK(memcmp(pkt, "\0\0\x04\x17\x27\x10\x19\x80\0\0\0\0\1\2\3\4",
	    16) == 0);
	params(&p);
	p.event = TRK_EV_STOPPED;
	p.key = 0xdeadbeef;
	CHECK(trk_udp_announce(pkt, 0x1122334455667788ULL, 7, &p) == 98);
	CHECK(memcmp(pkt, "\x11\x22\x33\x44\x55\x66\x77\x88\0\0\0\1\0\0\0\7",
	    16) == 0 && memcmp(pkt + 16, IH, 20) == 0);
	CHECK(memcmp(pkt + 64, "\0\0\0\0\0\0\x03\xe8", 8) == 0);
	CHECK(memcmp(pkt + 80, "\0\0\0\3\0\0\0\0\xde\xad\xbe\xef"
	    "\xff\xff\xff\xff\x1a\xe1", 18) == 0);
	CHECK(trk_udp_scrape(pkt, 1, 2, IH) == 36);

	trk_reply_init(&r);
	memcpy(rep, "\0\0\0\0\0\0\0\7\1\2\3\4\5\6\7\x08", 16);
	CHECK(trk_udp_parse_connect(rep, 16, 7, &cid, &r, err) == TRK_UDP_OK &&
	    cid == 0x0102030405060708ULL);
	CHECK(trk_udp_parse_connect(rep, 16, 8, &cid, &r, err) ==
	    TRK_UDP_STRAY && strstr(err, "wrong transaction id") != NULL);
	CHECK(trk_udp_parse_connect(rep, 12, 7, &cid, &r, err) == TRK_UDP_BAD);
	CHECK(trk_udp_parse_connect(rep, 4, 7, &cid, &r, err) ==
	    TRK_UDP_STRAY);
	memcpy(rep, "\0\0\0\3\0\0\0\7nope", 12);
	CHECK(trk_udp_parse_connect(rep, 12, 7, &cid, &r, err) ==
	    TRK_UDP_REFUSED && r.failure_len == 4 &&
	    strcmp(r.failure, "nope") == 0);
	trk_reply_free(&r);

	memcpy(rep, "\0\0\0\1\0\0\0\7\0\0\0\1\0\0\0\2\0\0\0\3"
	    "\x7f\0\0\1\x1a\xe1", 26);
	CHECK(trk_udp_parse_announce(rep, 26, 7, 0, &r, err) == TRK_UDP_OK);
	CHECK(r.interval == TRK_MIN_INTERVAL && r.incomplete == 2 &&
	    r.complete == 3 && r.npeers == 1 && r.peers[0].port == 6881);
	trk_reply_free(&r);
	CHECK(trk_udp_parse_announce(rep, 26, 7, 1, &r, err) == TRK_UDP_BAD &&
	    strstr(err, "6 bytes is not a multiple of 18") != NULL);
	CHECK(trk_udp_parse_announce(rep, 19, 7, 0, &r, err) == TRK_UDP_BAD);
	CHECK(trk_udp_parse_announce(rep, 16, 7, 0, &r, err) == TRK_UDP_BAD);
	rep[3] = 2;
	CHECK(trk_udp_parse_announce(rep, 26, 7, 0, &r, err) == TRK_UDP_BAD &&
	    strstr(err, "action 2") != NULL);
	CHECK(trk_udp_parse_scrape(rep, 20, 7, &s, err) == TRK_UDP_OK &&
	    s.complete == 1 && s.downloaded == 2 && s.incomplete == 3);
	trk_scrape_free(&s);
}

static int
hp(const char *url, const char *host, const char *port)
{
	char h[64], p[8], err[BT_ERRLEN];

	if (trk_udp_hostport(url, h, sizeof(h), p, sizeof(p), err) != 0)
		return host == NULL;
	return host != NULL && strcmp(h, host) == 0 && strcmp(p, port) == 0;
}

static void
hostport(void)
{
	CHECK(hp("udp://t.example:6969", "t.example", "6969"));
	CHECK(hp("UDP://t:1/announce?x", "t", "1"));
	CHECK(hp("udp://[::1]:80", "::1", "80"));
	CHECK(hp("udp://t", NULL, NULL));
	CHECK(hp("udp://t:", NULL, NULL));
	CHECK(hp("udp://t:0", NULL, NULL));
	CHECK(hp("udp://t:65536", NULL, NULL));
	CHECK(hp("udp://t:123456", NULL, NULL));
	CHECK(hp("udp://:80", NULL, NULL));
	CHECK(hp("udp://[::1:80", NULL, NULL));
	CHECK(hp("udp://u@t:80", NULL, NULL));
	CHECK(hp("http://t:80", NULL, NULL));
	CHECK(hp("udp://t:80x", NULL, NULL));
}

static int
safe_is(const char *in, size_t n, const char *want)
{
	char out[TRK_SAFE_TEXTLEN];

	trk_safe_text(out, sizeof(out), in, n);
	if (strcmp(out, want) != 0) {
		printf("#   got '%s', want '%s'\n", out, want);
		return 0;
	}
	return 1;
}

static void
safe_text(void)
{
	char big[TRK_MAX_TEXT + 50], want[TRK_MAX_TEXT + 8];

	CHECK(safe_is(S("plain text"), "plain text"));
	CHECK(safe_is(S("\x1b[2J\r\n\t\\\x7f"), "\\x1b[2J\\x0d\\x0a\\x09\\\\"
	    "\\x7f"));
	CHECK(safe_is(S("h\xc3\xa9llo \xe2\x82\xac"), "h\xc3\xa9llo \xe2\x82\xac"));
	CHECK(safe_is(S("\xc2\x9b" "1m"), "\\xc2\\x9b1m"));	/* C1 CSI */
	CHECK(safe_is(S("\xe2\x80\xae" "evil"), "\\xe2\\x80\\xaeevil"));
	CHECK(safe_is(S("\xff\xc3"), "\\xff\\xc3"));
	CHECK(safe_is(S("a\0b"), "a\\x00b"));
	memset(big, 'x', sizeof(big));
	memset(want, 'x', TRK_MAX_TEXT);
	memcpy(want + TRK_MAX_TEXT, "...", 4);
	CHECK(safe_is(big, sizeof(big), want));
	/* Every byte escaped still fits. */
	memset(big, 1, sizeof(big));
	{
		char out[TRK_SAFE_TEXTLEN];

		trk_safe_text(out, sizeof(out), big, sizeof(big));
		CHECK(strlen(out) == 4 * TRK_MAX_TEXT + 3);
	}
}

static void
tiers(void)
{
	char *u[] = { "a", "b", "c", "d" };
	struct trk_tier t = { u, 4 };
	unsigned char rnd[4] = { 0, 1, 2, 3 };
	int seen[4] = { 0 };
	size_t i;

	trk_tier_shuffle(&t, rnd, sizeof(rnd));
	for (i = 0; i < 4; i++)
		seen[u[i][0] - 'a']++;
	CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1 && seen[3] == 1);
	u[0] = "a";
	u[1] = "b";
	u[2] = "c";
	u[3] = "d";
	trk_tier_promote(&t, 2);
	CHECK(strcmp(u[0], "c") == 0 && strcmp(u[1], "a") == 0 &&
	    strcmp(u[2], "b") == 0 && strcmp(u[3], "d") == 0);
	trk_tier_promote(&t, 0);
	trk_tier_promote(&t, 9);
	CHECK(strcmp(u[0], "c") == 0);
}

static void
dedup(void)
{
	struct trk_peer p[4];

	memset(p, 0, sizeof(p));
	p[0].family = p[1].family = p[2].family = 4;
	p[3].family = 6;
	p[0].port = p[1].port = 5;
	p[2].port = 6;
	p[3].port = 5;
	CHECK(trk_peers_dedup(p, 4) == 3);
	CHECK(p[0].port == 5 && p[1].port == 6 && p[2].family == 6);
}

static void
events(void)
{
	enum trk_event ev;

	CHECK(trk_event_parse("started", &ev) == 0 && ev == TRK_EV_STARTED);
	CHECK(trk_event_parse("stopped", &ev) == 0 && ev == TRK_EV_STOPPED);
	CHECK(trk_event_parse("completed", &ev) == 0 &&
	    strcmp(trk_event_name(ev), "completed") == 0);
	CHECK(trk_event_parse("paused", &ev) == -1);
}

int
main(void)
{
	RUN(announce_url);
	RUN(scrape_url);
	RUN(http_reply);
	RUN(many_peers);
	RUN(http_scrape);
	RUN(udp_packets);
	RUN(hostport);
	RUN(safe_text);
	RUN(tiers);
	RUN(dedup);
	RUN(events);
	DONE();
}
