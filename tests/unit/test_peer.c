/*
 * test_peer.c: the peer core (lib/peer.h) driven by scripted peers and a
 * fake clock: bytes in, then the actions, events and bytes out asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bt.h"
#include "peer.h"
#include "t.h"
#include "wire.h"

/* 3 pieces of 32 KiB, the last 20000 bytes: 2 blocks each. */
#define PLEN	32768
#define TOTAL	(2 * PLEN + 20000)
#define S	PEER_SEC

struct fake {
	char		 log[8192];	/* actions and events, ";"-separated */
	unsigned char	 had[3];
	int		 serve;		/* can_serve answers 1 */
	int		 unchoke;	/* the choking hook's answer */
	int		 nclaimed;
};

static struct metainfo mi;
static unsigned char data[TOTAL], hashes[60];

static void
logf_(struct fake *f, const char *s)
{
	size_t n = strlen(f->log);

	snprintf(f->log + n, sizeof(f->log) - n, "%s;", s);
}

static int64_t
f_claim(void *ctx, const unsigned char *has, int64_t *eg)
{
	struct fake *f = ctx;
	char b[32];
	int i;

	*eg = -1;
	for (i = 0; i < 3; i++)
		if (!f->had[i] && (has[0] & (0x80 >> i)) &&
		    !(f->nclaimed & (1 << i))) {
			f->nclaimed |= 1 << i;
			snprintf(b, sizeof(b), "claim %d", i);
			logf_(f, b);
			return i;
		}
	for (i = 0; i < 3; i++)
		if (!f->had[i] && (has[0] & (0x80 >> i)))
			return -1;
	return -2;
}

static void
f_release(void *ctx, uint32_t i)
{
	struct fake *f = ctx;
	char b[32];

	f->nclaimed &= ~(1 << i);
	snprintf(b, sizeof(b), "release %u", i);
	logf_(f, b);
}

static int
f_have(void *ctx, uint32_t i)
{
	return ((struct fake *)ctx)->had[i];
}

static int
f_complete(void *ctx)
{
	struct fake *f = ctx;

	return f->had[0] && f->had[1] && f->had[2];
}

static int
f_can_serve(void *ctx, uint32_t i)
{
	struct fake *f = ctx;

	return f->serve || f->had[i];
}

static int
f_store(void *ctx, uint32_t i, const unsigned char *b, size_t n, char *err)
{
	struct fake *f = ctx;
	char l[32];

	(void)err;
	if (n != mi_piece_size(&mi, i) ||
	    memcmp(b, data + (size_t)i * PLEN, n) != 0)
		logf_(f, "store of wrong bytes");
	snprintf(l, sizeof(l), "store %u", i);
	logf_(f, l);
	f->nclaimed &= ~(1 << i);
	if (f->had[i])
		return 0;
	f->had[i] = 1;
	return 1;
}

static int
f_read(void *ctx, uint32_t i, uint32_t begin, uint32_t len,
    unsigned char *out, char *err)
{
	char l[48];

	(void)err;
	memcpy(out, data + (size_t)i * PLEN + begin, len);
	snprintf(l, sizeof(l), "read %u %u+%u", i, begin, len);
	logf_(ctx, l);
	return 1;
}

static void
f_event(void *ctx, const char *line)
{
	char l[600];

	snprintf(l, sizeof(l), "event %s", line);
	logf_(ctx, l);
}

static int
f_unchoke(void *ctx, const struct peer *p)
{
	(void)p;
	return ((struct fake *)ctx)->unchoke;
}

static struct peer_host host;
static struct peer_cfg cfg;
static struct fake fk;
static struct peer P;

static void
setup(enum peer_mode mode)
{
	size_t k;

	for (k = 0; k < TOTAL; k++)
		data[k] = (unsigned char)(k * 7 + k / 1000);
	for (k = 0; k < 3; k++)
		EVP_Digest(data + k * PLEN, k < 2 ? PLEN : 20000,
		    hashes + 20 * k, NULL, EVP_sha1(), NULL);
	memset(&mi, 0, sizeof(mi));
	memset(mi.info_hash, 0xab, 20);
	mi.piece_length = PLEN;
	mi.npieces = 3;
	mi.pieces = hashes;
	mi.total_length = TOTAL;
	memset(&fk, 0, sizeof(fk));
	fk.unchoke = 1;
	memset(&host, 0, sizeof(host));
	host.ctx = &fk;
	host.event = f_event;
	host.claim = f_claim;
	host.release = f_release;
	host.have = f_have;
	host.complete = f_complete;
	host.can_serve = f_can_serve;
	host.store = f_store;
	host.read = f_read;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = mode;
	cfg.mi = &mi;
	memcpy(cfg.peer_id, "-BP0100-abcdefghijkl", 20);
	cfg.queue = 128;
	cfg.timeout = 5 * S;
}

/* The bytes the core wants sent, taken (all sent). */
static size_t
take(unsigned char *out, size_t max, int64_t now)
{
	const unsigned char *b;
	size_t n;

	peer_fill(&P);
	peer_output(&P, &b, &n);
	if (n > max)
		n = max;
	memcpy(out, b, n);
	peer_sent(&P, n, now);
	return n;
}

/* The message types in out, as "2,6,6" (after any handshake). */
static void
types(const unsigned char *out, size_t n, char *s, size_t max)
{
	struct wire_limits l;
	struct wire_msg m;
	size_t need, off = 0;
	char err[BT_ERRLEN];
	int r;

	wire_limits_set(&l, 3, PLEN, TOTAL);
	s[0] = '\0';
	if (n >= WIRE_HANDSHAKE_LEN && out[0] == 19)
		off = WIRE_HANDSHAKE_LEN;
	while (off < n && (r = wire_parse(&l, out + off, n - off, &m, &need,
	    err)) > 0) {
		snprintf(s + strlen(s), max - strlen(s), "%s%d",
		    s[0] ? "," : "", m.type);
		off += (size_t)r;
	}
}

static void
feed(const void *b, size_t n, int64_t now)
{
	peer_input(&P, b, n, now);
}

static void
peer_handshake(int64_t now, unsigned char res5, unsigned char res7)
{
	unsigned char hs[WIRE_HANDSHAKE_LEN], res[8] = { 0 };

	res[5] = res5;
	res[7] = res7;
	wire_handshake(hs, res, mi.info_hash,
	    (const unsigned char *)"-LT2080-xxxxxxxxxxxx");
	feed(hs, sizeof(hs), now);
}

static void
send_simple(int type, int64_t now)
{
	unsigned char m[5];

	feed(m, wire_simple(m, type), now);
}

static void
send_bitfield(unsigned char bits, int64_t now)
{
	unsigned char m[6];

	wire_bitfield_hdr(m, 1);
	m[5] = bits;
	feed(m, 6, now);
}

static void
send_block(uint32_t i, uint32_t begin, int64_t now, int corrupt)
{
	static unsigned char m[WIRE_PIECE_HDR + WIRE_BLOCK];
	uint32_t len = mi_piece_size(&mi, i) - begin;

	if (len > WIRE_BLOCK)
		len = WIRE_BLOCK;
	wire_piece_hdr(m, i, begin, len);
	memcpy(m + WIRE_PIECE_HDR, data + (size_t)i * PLEN + begin, len);
	if (corrupt)
		m[WIRE_PIECE_HDR] ^= 1;
	feed(m, WIRE_PIECE_HDR + len, now);
}

static void
test_download(void)
{
	unsigned char out[4096];
	char ty[256];
	size_t n;
	uint32_t i;

	setup(PEER_FETCH);
	CHECK(peer_init(&P, &cfg, &host, NULL, 0) == 0);
	n = take(out, sizeof(out), 0);
	CHECK(n == WIRE_HANDSHAKE_LEN && out[0] == 19 &&
	    memcmp(out + 48, "-BP0100-", 8) == 0);
	peer_handshake(S, 0, 0);
	CHECK(strstr(fk.log, "event peer-id 2d4c54323038302d") != NULL);
	CHECK(strstr(fk.log, " libtorrent 2.0.8;") != NULL);
	send_bitfield(0xe0, S);
	CHECK(strstr(fk.log, "event bitfield 3;event have-all;") != NULL);
	n = take(out, sizeof(out), S);
	types(out, n, ty, sizeof(ty));
	CHECK(strcmp(ty, "2") == 0);		/* interested, no request */
	send_simple(WIRE_UNCHOKE, S);
	n = take(out, sizeof(out), S);
	types(out, n, ty, sizeof(ty));
	CHECK(strcmp(ty, "6,6,6,6,6,6") == 0);	/* every block at once */
	CHECK(strstr(fk.log, "claim 0;claim 1;claim 2;") != NULL);
	for (i = 0; i < 3; i++) {
		send_block(i, WIRE_BLOCK, 2 * S, 0);	/* out of order */
		send_block(i, 0, 2 * S, 0);
	}
	CHECK(strstr(fk.log, "store of wrong") == NULL);
	/* Stored, then the claim released. */
	CHECK(strstr(fk.log, "store 0;release 0;event piece 0 ok;store 1;"
	    "release 1;event piece 1 ok;store 2;release 2;event piece 2 ok;"
	    "event done;") != NULL);
	CHECK(peer_done(&P) == BT_EXIT_OK);
	peer_free(&P);
}

static void
test_bad_pieces(void)
{
	unsigned char out[4096];
	int k;

	setup(PEER_FETCH);
	cfg.queue = 2;
	peer_init(&P, &cfg, &host, NULL, 0);
	peer_handshake(0, 0, 0);
	send_bitfield(0xe0, 0);
	send_simple(WIRE_UNCHOKE, 0);
	for (k = 0; k < 3 && peer_done(&P) < 0; k++) {
		take(out, sizeof(out), 0);
		send_block(0, 0, 0, 1);
		send_block(0, WIRE_BLOCK, 0, 1);
	}
	CHECK(strstr(fk.log, "event piece 0 bad;release 0;") != NULL);
	CHECK(peer_done(&P) == BT_EXIT_WORLD);
	CHECK(strcmp(peer_reason(&P), "3 pieces failed their hash") == 0);
	CHECK(strstr(fk.log, "store") == NULL);
	peer_free(&P);
}

/* Every phase has a deadline: timeouts under a fake clock. */
static void
test_deadlines(void)
{
	unsigned char out[4096], ka[4] = { 0 };
	int64_t t;

	/* No handshake. */
	setup(PEER_FETCH);
	peer_init(&P, &cfg, &host, NULL, 0);
	CHECK(peer_tick(&P, 5 * S) > 5 * S && peer_done(&P) < 0);
	peer_tick(&P, 5 * S + 1);
	CHECK(strcmp(peer_reason(&P), "no handshake in 5 s") == 0);
	peer_free(&P);

	/* Silent after the handshake. */
	setup(PEER_FETCH);
	peer_init(&P, &cfg, &host, NULL, 0);
	peer_handshake(S, 0, 0);
	peer_tick(&P, 6 * S);
	CHECK(peer_done(&P) < 0);
	peer_tick(&P, 6 * S + 1);
	CHECK(peer_done(&P) == BT_EXIT_WORLD);
	CHECK(strcmp(peer_reason(&P), "no bitfield, have or request in 5 s")
	    == 0);
	peer_free(&P);

	/* Keepalives only: the same. */
	setup(PEER_SERVE);
	peer_init(&P, &cfg, &host, NULL, 0);
	peer_handshake(0, 0, 0);
	for (t = S; t <= 10 * S && peer_done(&P) < 0; t += S) {
		feed(ka, 4, t);
		peer_tick(&P, t);
	}
	CHECK(peer_done(&P) == BT_EXIT_WORLD && t == 7 * S);
	CHECK(strcmp(peer_reason(&P), "no bitfield, have or request in 5 s")
	    == 0);
	peer_free(&P);

	/* Choked. */
	setup(PEER_FETCH);
	peer_init(&P, &cfg, &host, NULL, 0);
	peer_handshake(0, 0, 0);
	send_bitfield(0xe0, 0);
	peer_tick(&P, 5 * S);
	CHECK(peer_done(&P) < 0);
	peer_tick(&P, 5 * S + 1);
	CHECK(strcmp(peer_reason(&P), "choked for 5 s") == 0);
	peer_free(&P);

	/* Unchoked, requests out, no block. */
	setup(PEER_FETCH);
	peer_init(&P, &cfg, &host, NULL, 0);
	peer_handshake(0, 0, 0);
	send_bitfield(0xe0, 0);
	send_simple(WIRE_UNCHOKE, 2 * S);
	take(out, sizeof(out), 2 * S);
	feed(ka, 4, 6 * S);	/* a keepalive is no progress */
	peer_tick(&P, 7 * S);
	CHECK(peer_done(&P) < 0);
	peer_tick(&P, 7 * S + 1);
	CHECK(strcmp(peer_reason(&P), "no block for 5 s") == 0);
	peer_free(&P);

	/* A peer interested in us: our keepalive, then its silence. */
	setup(PEER_SERVE);
	fk.serve = 1;
	peer_init(&P, &cfg, &host, NULL, 0);
	peer_handshake(0, 0, 0);
	send_simple(WIRE_INTERESTED, 0);
	take(out, sizeof(out), 0);
	peer_tick(&P, PEER_KEEPALIVE - 1);
	CHECK(take(out, sizeof(out), PEER_KEEPALIVE - 1) == 0);
	peer_tick(&P, PEER_KEEPALIVE);
	CHECK(take(out, sizeof(out), PEER_KEEPALIVE) == 4 &&
	    memcmp(out, ka, 4) == 0);
	peer_tick(&P, PEER_SILENCE_MAX);
	CHECK(peer_done(&P) < 0);
	peer_tick(&P, PEER_SILENCE_MAX + S);
	CHECK(strcmp(peer_reason(&P), "peer silent for 241 s") == 0);
	peer_free(&P);

	/* --bitfield: a peer that announces nothing has nothing. */
	setup(PEER_BITFIELD);
	peer_init(&P, &cfg, &host, NULL, 0);
	peer_handshake(0, 0, 0);
	peer_tick(&P, PEER_ANNOUNCE_WAIT);
	CHECK(peer_done(&P) < 0);
	peer_tick(&P, PEER_ANNOUNCE_WAIT + 1);
	CHECK(peer_done(&P) == BT_EXIT_OK);
	CHECK(strstr(fk.log, "event bitfield 0;event pieces -;") != NULL);
	peer_free(&P);
}

static void
test_serve(void)
{
	unsigned char out[65536], m[WIRE_REQUEST_LEN];
	char ty[256];
	size_t n;

	setup(PEER_SERVE);
	host.claim = NULL;
	fk.had[0] = fk.had[2] = 1;
	peer_init(&P, &cfg, &host, NULL, 0);
	take(out, sizeof(out), 0);
	peer_handshake(0, 0, 0);
	n = take(out, sizeof(out), 0);
	CHECK(n == 6 && out[4] == WIRE_BITFIELD && out[5] == 0xa0);
	/* Choked: ignored. */
	feed(m, wire_request(m, WIRE_REQUEST, 0, 0, WIRE_BLOCK), 0);
	send_simple(WIRE_INTERESTED, 0);
	n = take(out, sizeof(out), 0);
	types(out, n, ty, sizeof(ty));
	CHECK(strcmp(ty, "1") == 0);
	feed(m, wire_request(m, WIRE_REQUEST, 0, 0, WIRE_BLOCK), 0);
	feed(m, wire_request(m, WIRE_REQUEST, 1, 0, WIRE_BLOCK), 0);
	feed(m, wire_request(m, WIRE_REQUEST, 2, 16384, 3616), 0);
	feed(m, wire_request(m, WIRE_REQUEST, 0, 16384, 16384), 0);
	feed(m, wire_request(m, WIRE_CANCEL, 0, 16384, 16384), 0);
	n = take(out, sizeof(out), 0);
	types(out, n, ty, sizeof(ty));
	CHECK(strcmp(ty, "7,7") == 0);
	CHECK(strstr(fk.log, "read 0 0+16384;read 2 16384+3616;") != NULL);
	CHECK(strstr(fk.log, "read 1") == NULL);
	CHECK(memcmp(out + WIRE_PIECE_HDR, data, WIRE_BLOCK) == 0);
	/* Another process stored piece 1: have goes out. */
	fk.had[1] = 1;
	peer_have(&P, 1);
	n = take(out, sizeof(out), 0);
	CHECK(n == WIRE_HAVE_LEN && out[4] == WIRE_HAVE && out[8] == 1);
	peer_tick(&P, S);
	CHECK(strstr(fk.log, "event sent 20000;") != NULL);
	peer_eof(&P, S);
	CHECK(peer_done(&P) == BT_EXIT_OK);
	peer_free(&P);

	/* The choking hook says no; a policy unchokes later. */
	setup(PEER_SERVE);
	fk.serve = 1;
	fk.unchoke = 0;
	host.unchoke = f_unchoke;
	peer_init(&P, &cfg, &host, NULL, 0);
	peer_handshake(0, 0, 0);
	take(out, sizeof(out), 0);
	send_simple(WIRE_INTERESTED, 0);
	CHECK(take(out, sizeof(out), 0) == 0);
	peer_choke(&P, 0);
	n = take(out, sizeof(out), 0);
	CHECK(n == 5 && out[4] == WIRE_UNCHOKE);
	peer_free(&P);
}

static void
test_handshake_causes(void)
{
	unsigned char junk[96];
	size_t k;

	setup(PEER_FETCH);
	peer_init(&P, &cfg, &host, NULL, 0);
	feed("HTT", 3, 0);
	CHECK(peer_done(&P) < 0);
	feed("P/1.1 400 Bad Request\r\n\r\n", 25, 0);
	CHECK(strcmp(peer_reason(&P), "handshake: an HTTP reply (\"HTTP/1.1 "
	    "400 Bad Request\"), not a BitTorrent peer") == 0);
	peer_free(&P);

	setup(PEER_FETCH);
	peer_init(&P, &cfg, &host, NULL, 0);
	for (k = 0; k < sizeof(junk); k++)
		junk[k] = (unsigned char)(k * 151 + 246);
	feed(junk, sizeof(junk), 0);
	CHECK(strstr(peer_reason(&P), "protocol string length 246") != NULL);
	CHECK(strstr(peer_reason(&P), "(MSE)") != NULL);
	peer_free(&P);

	setup(PEER_FETCH);
	peer_init(&P, &cfg, &host, NULL, 0);
	peer_eof(&P, 0);
	CHECK(strstr(peer_reason(&P), "during the handshake") != NULL);
	peer_free(&P);
}

static void
test_piece_and_bitfield(void)
{
	unsigned char out[4096];
	char ty[256];
	size_t n;

	setup(PEER_PIECE);
	host.claim = NULL;
	host.event = NULL;
	cfg.piece = 2;
	peer_init(&P, &cfg, &host, NULL, 0);
	take(out, sizeof(out), 0);
	peer_handshake(0, 0, 0);
	send_bitfield(0x20, 0);
	send_simple(WIRE_UNCHOKE, 0);
	n = take(out, sizeof(out), 0);
	types(out, n, ty, sizeof(ty));
	CHECK(strcmp(ty, "2,6,6") == 0);
	send_block(2, 0, 0, 0);
	send_block(2, WIRE_BLOCK, 0, 0);
	CHECK(strcmp(fk.log, "store 2;") == 0);
	CHECK(peer_done(&P) == BT_EXIT_OK);
	peer_free(&P);

	setup(PEER_BITFIELD);
	peer_init(&P, &cfg, &host, NULL, 0);
	peer_handshake(0, 0, 0);
	send_bitfield(0xa0, 0);
	CHECK(peer_done(&P) == BT_EXIT_OK);
	CHECK(strstr(fk.log, "event bitfield 2;event pieces 0,2;") != NULL);
	peer_free(&P);
}

/* BEP 6: reject puts the block back instead of dropping the peer. */
static void
test_fast_reject(void)
{
	unsigned char out[4096], m[WIRE_REQUEST_LEN];
	char ty[256];
	size_t n;

	setup(PEER_FETCH);
	cfg.queue = 1;
	cfg.fast = 1;
	peer_init(&P, &cfg, &host, NULL, 0);
	n = take(out, sizeof(out), 0);
	CHECK(out[20 + WIRE_RES_FAST_BYTE] & WIRE_RES_FAST);
	peer_handshake(0, 0, WIRE_RES_FAST);
	send_simple(WIRE_HAVE_ALL, 0);
	send_simple(WIRE_UNCHOKE, 0);
	n = take(out, sizeof(out), 0);
	types(out, n, ty, sizeof(ty));
	/* BEP 6: have_none in place of no bitfield. */
	CHECK(strcmp(ty, "15,2,6") == 0);
	feed(m, wire_request(m, WIRE_REJECT, 0, 0, WIRE_BLOCK), 0);
	CHECK(peer_done(&P) < 0);
	n = take(out, sizeof(out), 0);
	types(out, n, ty, sizeof(ty));
	CHECK(strcmp(ty, "6") == 0 && out[8] == 0 && out[12] == 0);
	peer_free(&P);

	/* Without the extension a reject ends the connection. */
	setup(PEER_FETCH);
	peer_init(&P, &cfg, &host, NULL, 0);
	peer_handshake(0, 0, WIRE_RES_FAST);
	feed(m, wire_request(m, WIRE_REJECT, 0, 0, WIRE_BLOCK), 0);
	CHECK(strcmp(peer_reason(&P), "reject without the fast extension")
	    == 0);
	peer_free(&P);
}

/* A BEP 10 extension plugged in through cfg.ext. */
static char ext_got[256];

static int
x_hs(void *ctx, struct peer *p, const unsigned char *d, size_t n,
    char *err)
{
	(void)ctx;
	(void)p;
	(void)err;
	snprintf(ext_got, sizeof(ext_got), "hs %.*s;", (int)n, d);
	return 0;
}

static int
x_msg(void *ctx, struct peer *p, const unsigned char *d, size_t n,
    char *err)
{
	(void)ctx;
	if (n == 3 && memcmp(d, "bad", 3) == 0)
		return bt_err(err, "bad message");
	snprintf(ext_got + strlen(ext_got), sizeof(ext_got) -
	    strlen(ext_got), "msg %.*s;", (int)n, d);
	return peer_ext_send(p, "ut_zeta", "pong", 4);
}

static void
ext_feed(unsigned id, const char *s)
{
	unsigned char m[256];
	size_t n = strlen(s);

	m[0] = m[1] = 0;
	m[2] = (unsigned char)((n + 2) >> 8);
	m[3] = (unsigned char)(n + 2);
	m[4] = WIRE_EXTENDED;
	m[5] = (unsigned char)id;
	memcpy(m + 6, s, n);
	feed(m, n + 6, 0);
}

static void
test_ext(void)
{
	static const struct peer_ext zeta = { "ut_zeta", NULL, x_hs, x_msg, NULL };
	static const struct peer_ext alpha = { "ut_alpha", NULL, NULL, NULL, NULL };
	static const struct peer_ext *const list[] = { &zeta, &alpha };
	unsigned char out[4096];
	size_t n;

	setup(PEER_FETCH);
	cfg.ext = list;
	cfg.next = 2;
	peer_init(&P, &cfg, &host, NULL, 0);
	n = take(out, sizeof(out), 0);
	CHECK(out[20 + WIRE_RES_EXT_BYTE] & WIRE_RES_EXT);
	peer_handshake(0, WIRE_RES_EXT, 0);
	n = take(out, sizeof(out), 0);
	/* Keys sorted; ids in registration order. */
	{
		static const char want[] = "d1:md8:ut_alphai2e7:ut_zetai1ee"
		    "4:reqqi2048e1:v10:" PEER_CLIENT_NAME "e";

		CHECK(n == 6 + sizeof(want) - 1 && out[4] == WIRE_EXTENDED &&
		    out[5] == 0 && memcmp(out + 6, want, n - 6) == 0);
	}
	ext_feed(0, "d1:md7:ut_zetai7eee");
	CHECK(strcmp(ext_got, "hs d1:md7:ut_zetai7eee;") == 0);
	ext_feed(1, "ping");
	CHECK(strstr(ext_got, "msg ping;") != NULL);
	n = take(out, sizeof(out), 0);
	CHECK(n == 10 && out[4] == WIRE_EXTENDED && out[5] == 7 &&
	    memcmp(out + 6, "pong", 4) == 0);
	CHECK(peer_ext_send(&P, "ut_alpha", "x", 1) == 1);	/* peer lacks */
	ext_feed(9, "ignored");
	CHECK(peer_done(&P) < 0);
	ext_feed(0, "not bencode");
	CHECK(strstr(peer_reason(&P), "extension handshake") != NULL);
	peer_free(&P);

	setup(PEER_FETCH);
	cfg.ext = list;
	cfg.next = 2;
	peer_init(&P, &cfg, &host, NULL, 0);
	peer_handshake(0, WIRE_RES_EXT, 0);
	ext_feed(0, "d1:md7:ut_zetai7eee");
	ext_feed(1, "bad");
	CHECK(strcmp(peer_reason(&P), "ut_zeta: bad message") == 0);
	peer_free(&P);
}

/* A transform below the framing: its handshake "MSE!"/"ok", then XOR. */
static long
t_hs(void *ctx, struct peer *p, const unsigned char *b, size_t n,
    int *est, char *err)
{
	(void)ctx;
	if (n < 4)
		return 0;
	if (memcmp(b, "MSE!", 4) != 0)
		return bt_err(err, "transform: bad hello");
	*est = 1;
	return peer_out_add(p, "ok", 2) == -1 ? -1 : 4;
}

static void
t_xor(void *ctx, unsigned char *b, size_t n)
{
	(void)ctx;
	while (n-- > 0)
		*b++ ^= 0x5a;
}

static void
test_transform(void)
{
	struct peer_transform tr = { NULL, t_hs, t_xor, t_xor, NULL };
	unsigned char out[4096], hs[4 + WIRE_HANDSHAKE_LEN], res[8] = { 0 };
	size_t n, k;

	setup(PEER_FETCH);
	peer_init(&P, &cfg, &host, &tr, 0);
	CHECK(take(out, sizeof(out), 0) == 0);	/* ours waits */
	memcpy(hs, "MSE!", 4);
	wire_handshake(hs + 4, res, mi.info_hash,
	    (const unsigned char *)"-TR3000-xxxxxxxxxxxx");
	for (k = 4; k < sizeof(hs); k++)
		hs[k] ^= 0x5a;
	feed(hs, 6, 0);		/* split across reads */
	feed(hs + 6, sizeof(hs) - 6, 0);
	CHECK(strstr(fk.log, "Transmission 3.00") != NULL);
	n = take(out, sizeof(out), 0);
	CHECK(n == 2 + WIRE_HANDSHAKE_LEN && memcmp(out, "ok", 2) == 0 &&
	    (out[2] ^ 0x5a) == 19);
	peer_free(&P);
}

static void
test_client_names(void)
{
	static const struct {
		const char *id, *name;
	} t[] = {
		{ "-LT2080-xxxxxxxxxxxx", "libtorrent 2.0.8" },
		{ "-TR3000-xxxxxxxxxxxx", "Transmission 3.00" },
		{ "-qB4360-xxxxxxxxxxxx", "qBittorrent 4.3.6" },
		{ "-DE13F0-xxxxxxxxxxxx", "Deluge 1.3.F" },
		{ "-BP0100-xxxxxxxxxxxx", "btpeer 0.1.0" },
		{ "A2-1-36-0-xxxxxxxxxx", "aria2 1.36.0" },
		{ "M7-2-2--xxxxxxxxxxxx", "Mainline 7.2.2" },
		{ "S587----xxxxxxxxxxxx", "Shadow 5.8.7" },
		{ "-ZZ1234-xxxxxxxxxxxx", "unknown (-ZZ1234-)" },
		{ "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e"
		    "\x0f\x10\x11\x12\x13\x14", "unknown" },
	};
	char name[64];
	size_t k;

	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		peer_client_name((const unsigned char *)t[k].id, name,
		    sizeof(name));
		if (strcmp(name, t[k].name) != 0)
			printf("#   %s -> %s\n", t[k].id, name);
		CHECK(strcmp(name, t[k].name) == 0);
	}
}

int
main(void)
{
	RUN(test_download);
	RUN(test_bad_pieces);
	RUN(test_deadlines);
	RUN(test_serve);
	RUN(test_handshake_causes);
	RUN(test_piece_and_bitfield);
	RUN(test_fast_reject);
	RUN(test_ext);
	RUN(test_transform);
	RUN(test_client_names);
	DONE();
}
