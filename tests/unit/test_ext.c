/*
 * test_ext.c: the peer core's extensions driven by scripted peers and a
 * fake clock: BEP 10's handshake, BEP 9's ut_metadata (fetch and serve),
 * BEP 11's ut_pex (receive and send), BEP 6's fast extension (the
 * allowed fast set of the BEP's own example, have_all/have_none, reject,
 * allowed-fast requests while choked), BEP 5's port message both ways.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "bt.h"
#include "peer.h"
#include "t.h"
#include "ut_metadata.h"
#include "ut_pex.h"
#include "wire.h"

#define S	PEER_SEC
/* 3 pieces of 32 KiB, the last 20000 bytes. */
#define PLEN	32768
#define TOTAL	(2 * PLEN + 20000)
/* The info dictionary served and fetched: two metadata pieces. */
#define INFO_LEN	20000

static struct metainfo mi;
static unsigned char data[TOTAL], hashes[60], info[INFO_LEN];
static struct peer_host host;
static struct peer_cfg cfg;
static struct peer P;
static char log_[16384];
static unsigned char had[3];
static int claimed;

static void
logs(const char *s)
{
	size_t n = strlen(log_);

	snprintf(log_ + n, sizeof(log_) - n, "%s;", s);
}

static void
f_event(void *ctx, const char *line)
{
	(void)ctx;
	logs(line);
}

static int
f_have(void *ctx, uint32_t i)
{
	(void)ctx;
	return had[i];
}

static int
f_complete(void *ctx)
{
	(void)ctx;
	return had[0] && had[1] && had[2];
}

static int64_t
f_claim(void *ctx, const unsigned char *has, int64_t *eg)
{
	int i;

	(void)ctx;
	*eg = -1;
	for (i = 0; i < 3; i++)
		if (!had[i] && (has[0] & (0x80 >> i)) && !(claimed & 1 << i)) {
			claimed |= 1 << i;
			return i;
		}
	return -2;
}

static void
f_release(void *ctx, uint32_t i)
{
	(void)ctx;
	claimed &= ~(1 << i);
}

static int
f_store(void *ctx, uint32_t i, const unsigned char *b, size_t n, char *err)
{
	char l[32];

	(void)ctx;
	(void)b;
	(void)n;
	(void)err;
	snprintf(l, sizeof(l), "store %u", i);
	logs(l);
	had[i] = 1;
	return 1;
}

static int
f_read(void *ctx, uint32_t i, uint32_t begin, uint32_t len,
    unsigned char *out, char *err)
{
	(void)ctx;
	(void)err;
	memcpy(out, data + (size_t)i * PLEN + begin, len);
	return 1;
}

static void
setup(enum peer_mode mode)
{
	size_t k;

	for (k = 0; k < TOTAL; k++)
		data[k] = (unsigned char)(k * 13 + k / 777);
	for (k = 0; k < 3; k++)
		SHA1(data + k * PLEN, k < 2 ? PLEN : 20000, hashes + 20 * k);
	/* An info dictionary: "d4:name<n>:xxx...e", INFO_LEN bytes. */
	memset(info, 'x', sizeof(info));
	memcpy(info, "d4:name19987:", 13);
	info[INFO_LEN - 1] = 'e';
	memset(&mi, 0, sizeof(mi));
	SHA1(info, INFO_LEN, mi.info_hash);
	mi.piece_length = PLEN;
	mi.npieces = 3;
	mi.pieces = hashes;
	mi.total_length = TOTAL;
	mi.info = info;
	mi.info_len = INFO_LEN;
	memset(had, 0, sizeof(had));
	claimed = 0;
	log_[0] = '\0';
	memset(&host, 0, sizeof(host));
	host.event = f_event;
	host.have = f_have;
	host.complete = f_complete;
	host.can_serve = f_have;
	host.read = f_read;
	if (mode == PEER_FETCH || mode == PEER_SERVE) {
		host.claim = f_claim;
		host.release = f_release;
		host.store = f_store;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = mode;
	cfg.mi = &mi;
	memcpy(cfg.peer_id, "-BP0100-abcdefghijkl", 20);
	cfg.queue = 8;
	cfg.timeout = 10 * S;
}

/* Everything queued to send, taken (all sent). */
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

/* Whether the sent bytes hold this extended message (id, payload). */
static int
has_ext(const unsigned char *out, size_t n, unsigned id, const char *pl)
{
	size_t k, len = strlen(pl);

	for (k = 0; k + 6 + len <= n; k++)
		if (out[k + 4] == WIRE_EXTENDED && out[k + 5] == id &&
		    memcmp(out + k + 6, pl, len) == 0 &&
		    ((size_t)out[k + 2] << 8 | out[k + 3]) >= len + 2)
			return 1;
	return 0;
}

/* Whether the sent bytes hold a message of type t (payload p of len). */
static int
has_msg(const unsigned char *out, size_t n, int t, const void *pl,
    size_t len)
{
	size_t k;

	for (k = 0; k + 5 + len <= n; k++)
		if (out[k] == 0 && out[k + 1] == 0 && out[k + 2] == 0 &&
		    out[k + 3] == len + 1 && out[k + 4] == t &&
		    (len == 0 || memcmp(out + k + 5, pl, len) == 0))
			return 1;
	return 0;
}

static void
feed(const void *b, size_t n, int64_t now)
{
	peer_input(&P, b, n, now);
}

static void
handshake(unsigned char res5, unsigned char res7, int64_t now)
{
	unsigned char hs[WIRE_HANDSHAKE_LEN], res[8] = { 0 };

	res[5] = res5;
	res[7] = res7;
	wire_handshake(hs, res, mi.info_hash,
	    (const unsigned char *)"-LT2080-xxxxxxxxxxxx");
	feed(hs, sizeof(hs), now);
}

/* An extended message: id, then n bytes of payload. */
static void
ext(unsigned id, const void *pl, size_t n, int64_t now)
{
	unsigned char *m = malloc(n + 6);
	uint32_t len = (uint32_t)n + 2;

	m[0] = (unsigned char)(len >> 24);
	m[1] = (unsigned char)(len >> 16);
	m[2] = (unsigned char)(len >> 8);
	m[3] = (unsigned char)len;
	m[4] = WIRE_EXTENDED;
	m[5] = (unsigned char)id;
	memcpy(m + 6, pl, n);
	feed(m, n + 6, now);
	free(m);
}

static void
exts(unsigned id, const char *s, int64_t now)
{
	ext(id, s, strlen(s), now);
}

static void
simple(int type, int64_t now)
{
	unsigned char m[5];

	feed(m, wire_simple(m, type), now);
}

static void
msg_index(int type, uint32_t i, int64_t now)
{
	unsigned char m[9] = { 0, 0, 0, 5, (unsigned char)type, 0, 0, 0, 0 };

	m[8] = (unsigned char)i;
	feed(m, sizeof(m), now);
}

/* A ut_metadata data message for piece i of info (or of bad bytes). */
static void
meta_data(unsigned id, uint32_t i, const unsigned char *src, int64_t now)
{
	static unsigned char m[UTM_PIECE + 128];
	uint32_t len = INFO_LEN - i * UTM_PIECE;
	int h;

	if (len > UTM_PIECE)
		len = UTM_PIECE;
	h = snprintf((char *)m, 128, "d8:msg_typei1e5:piecei%ue10:total_sizei"
	    "%ue" "e", i, INFO_LEN);
	memcpy(m + h, src + (size_t)i * UTM_PIECE, len);
	ext(id, m, (size_t)h + len, now);
}

static void
test_allowed_fast(void)
{
	static const uint32_t want[9] = { 1059, 431, 808, 1217, 287, 376,
	    1188, 353, 508 };
	unsigned char ih[20];
	uint32_t a[16], n;

	/* BEP 6's own example: 80.4.4.200, 1313 pieces, 0xaa... */
	memset(ih, 0xaa, sizeof(ih));
	n = fast_allowed_set(80u << 24 | 4 << 16 | 4 << 8 | 200, ih, 1313, 7,
	    a);
	CHECK(n == 7 && memcmp(a, want, 7 * sizeof(*a)) == 0);
	n = fast_allowed_set(80u << 24 | 4 << 16 | 4 << 8 | 200, ih, 1313, 9,
	    a);
	CHECK(n == 9 && memcmp(a, want, 9 * sizeof(*a)) == 0);
	/* The /24 is what counts. */
	n = fast_allowed_set(80u << 24 | 4 << 16 | 4 << 8 | 1, ih, 1313, 9, a);
	CHECK(n == 9 && memcmp(a, want, 9 * sizeof(*a)) == 0);
	/* More asked than there are pieces: all of them, no endless loop. */
	n = fast_allowed_set(0x7f000001, ih, 3, 10, a);
	CHECK(n == 3 && a[0] + a[1] + a[2] == 3);
}

static void
test_ext_handshake(void)
{
	struct utm u;
	const struct peer_ext *list[1];
	unsigned char out[4096];
	size_t n;

	setup(PEER_SERVE);
	utm_init(&u, info, INFO_LEN, NULL);
	list[0] = &u.ext;
	cfg.ext = list;
	cfg.next = 1;
	cfg.port = 6881;
	cfg.metadata_size = INFO_LEN;
	memcpy(cfg.yourip, "\x7f\x00\x00\x05", 4);
	cfg.yourip_len = 4;
	peer_init(&P, &cfg, &host, NULL, 0);
	handshake(WIRE_RES_EXT, 0, 0);
	n = take(out, sizeof(out), 0);
	CHECK(has_ext(out, n, 0, "d1:md11:ut_metadatai1ee13:metadata_sizei"
	    "20000e1:pi6881e4:reqqi2048e1:v10:" PEER_CLIENT_NAME
	    "6:yourip4:\x7f\x00\x00\x05" "e"));
	/* Unknown keys and extensions are ignored; p, v, reqq are kept. */
	exts(0, "d1:md6:ut_fooi9e11:ut_metadatai3ee1:pi51413e4:reqqi250e"
	    "1:v4:Te\x01t1:zi1ee", 0);
	CHECK(peer_done(&P) < 0);
	CHECK(P.ext_port == 51413 && P.ext_reqq == 250 &&
	    strcmp(P.ext_client, "Te?t") == 0);
	CHECK(peer_ext_has(&P, UTM_NAME) && !peer_ext_has(&P, PEX_NAME));
	/* An id we never gave: ignored. */
	exts(7, "whatever", 0);
	CHECK(peer_done(&P) < 0);
	/* Malformed ut_metadata: a protocol error naming it. */
	exts(1, "d8:msg_typei0ee", 0);
	CHECK(peer_done(&P) == BT_EXIT_WORLD);
	CHECK(strcmp(peer_reason(&P), "ut_metadata: request: no piece, or "
	    "out of range") == 0);
	peer_free(&P);

	/* A handshake that is not a dictionary ends the connection. */
	setup(PEER_SERVE);
	cfg.ext = list;
	cfg.next = 1;
	peer_init(&P, &cfg, &host, NULL, 0);
	handshake(WIRE_RES_EXT, 0, 0);
	exts(0, "li1ee", 0);
	CHECK(strstr(peer_reason(&P), "not a dictionary") != NULL);
	peer_free(&P);
}

/* --metadata: fetched in two pieces, checked, then the end. */
static void
fetch_setup(struct utm *u, const struct peer_ext **list)
{
	static struct metainfo bare;

	setup(PEER_METADATA);
	memset(&bare, 0, sizeof(bare));
	memcpy(bare.info_hash, mi.info_hash, 20);
	cfg.mi = &bare;
	host.can_serve = NULL;
	host.read = NULL;
	utm_init(u, NULL, 0, mi.info_hash);
	list[0] = &u->ext;
	cfg.ext = list;
	cfg.next = 1;
	peer_init(&P, &cfg, &host, NULL, 0);
}

static void
test_metadata_fetch(void)
{
	static unsigned char bad[INFO_LEN];
	const struct peer_ext *list[1];
	unsigned char out[8192], bits[200];
	struct utm u;
	size_t n;

	fetch_setup(&u, list);
	handshake(WIRE_RES_EXT, 0, 0);
	/* The size is not known: a bitfield of any length, haves, ignored. */
	memset(bits, 0xff, sizeof(bits));
	bits[0] = 0;
	bits[1] = 0;
	bits[2] = 0;
	bits[3] = 200 - 4;
	bits[4] = WIRE_BITFIELD;
	feed(bits, sizeof(bits), 0);
	msg_index(WIRE_HAVE, 99999, 0);
	CHECK(peer_done(&P) < 0);
	/* A bitfield larger than the first input buffer (800,000 pieces). */
	{
		static unsigned char big[4 + 1 + 100000];

		memset(big, 0xff, sizeof(big));
		big[0] = 0;
		big[1] = (unsigned char)((100001) >> 16);
		big[2] = (unsigned char)((100001) >> 8);
		big[3] = (unsigned char)100001;
		big[4] = WIRE_BITFIELD;
		feed(big, sizeof(big), 0);
		CHECK(peer_done(&P) < 0);
	}
	exts(0, "d1:md11:ut_metadatai3ee13:metadata_sizei20000ee", 0);
	n = take(out, sizeof(out), 0);
	CHECK(has_ext(out, n, 3, "d8:msg_typei0e5:piecei0ee"));
	CHECK(has_ext(out, n, 3, "d8:msg_typei0e5:piecei1ee"));
	meta_data(1, 1, info, S);
	CHECK(peer_done(&P) < 0 && !u.done);
	meta_data(1, 0, info, S);
	CHECK(peer_done(&P) == 0 && u.done && u.size == INFO_LEN &&
	    memcmp(u.buf, info, INFO_LEN) == 0);
	peer_free(&P);
	utm_free(&u);

	/* Wrong metadata: the peer is dropped. */
	fetch_setup(&u, list);
	handshake(WIRE_RES_EXT, 0, 0);
	exts(0, "d1:md11:ut_metadatai3ee13:metadata_sizei20000ee", 0);
	memcpy(bad, info, INFO_LEN);
	bad[100] ^= 1;
	meta_data(1, 0, bad, 0);
	meta_data(1, 1, bad, 0);
	CHECK(peer_done(&P) == BT_EXIT_WORLD && !u.done);
	CHECK(strstr(peer_reason(&P), "SHA-1 is not the info-hash") != NULL);
	peer_free(&P);
	utm_free(&u);

	/* A reject: this peer will not give it. */
	fetch_setup(&u, list);
	handshake(WIRE_RES_EXT, 0, 0);
	exts(0, "d1:md11:ut_metadatai3ee13:metadata_sizei20000ee", 0);
	exts(1, "d8:msg_typei2e5:piecei0ee", 0);
	CHECK(strstr(peer_reason(&P), "rejected piece 0") != NULL);
	peer_free(&P);
	utm_free(&u);

	/* A size over the cap, a wrong data size, no ut_metadata, no BEP 10. */
	fetch_setup(&u, list);
	handshake(WIRE_RES_EXT, 0, 0);
	exts(0, "d1:md11:ut_metadatai3ee13:metadata_sizei999999999ee", 0);
	CHECK(strstr(peer_reason(&P), "over the cap") != NULL);
	peer_free(&P);
	utm_free(&u);
	fetch_setup(&u, list);
	handshake(WIRE_RES_EXT, 0, 0);
	exts(0, "d1:md11:ut_metadatai3ee13:metadata_sizei20000ee", 0);
	exts(1, "d8:msg_typei1e5:piecei1e10:total_sizei20000eeabc", 0);
	CHECK(strstr(peer_reason(&P), "data 1 of 3 bytes") != NULL);
	peer_free(&P);
	utm_free(&u);
	fetch_setup(&u, list);
	handshake(WIRE_RES_EXT, 0, 0);
	exts(0, "d1:md6:ut_pexi1eee", 0);
	CHECK(strstr(peer_reason(&P), "does not offer it") != NULL);
	peer_free(&P);
	utm_free(&u);
	fetch_setup(&u, list);
	handshake(0, 0, 0);
	CHECK(strstr(peer_reason(&P), "does not offer extensions") != NULL);
	peer_free(&P);
	utm_free(&u);
	/* Silence: the timeout. */
	fetch_setup(&u, list);
	handshake(WIRE_RES_EXT, 0, 0);
	peer_tick(&P, 11 * S);
	CHECK(strstr(peer_reason(&P), "no metadata in 10 s") != NULL);
	peer_free(&P);
	utm_free(&u);
}

static void
test_metadata_serve(void)
{
	const struct peer_ext *list[1];
	unsigned char out[40000];
	struct utm u;
	size_t n;

	setup(PEER_SERVE);
	utm_init(&u, info, INFO_LEN, NULL);
	list[0] = &u.ext;
	cfg.ext = list;
	cfg.next = 1;
	peer_init(&P, &cfg, &host, NULL, 0);
	handshake(WIRE_RES_EXT, 0, 0);
	exts(0, "d1:md11:ut_metadatai2eee", 0);
	take(out, sizeof(out), 0);
	exts(1, "d8:msg_typei0e5:piecei1ee", 0);
	exts(1, "d8:msg_typei0e5:piecei5ee", 0);
	exts(1, "d8:msg_typei7e5:piecei0ee", 0);	/* unknown type */
	n = take(out, sizeof(out), 0);
	CHECK(peer_done(&P) < 0);
	CHECK(n > 6 + 45 + INFO_LEN - UTM_PIECE);
	CHECK(has_ext(out, n, 2,
	    "d8:msg_typei1e5:piecei1e10:total_sizei20000ee"));
	CHECK(memcmp(out + 6 + 45, info + UTM_PIECE, INFO_LEN - UTM_PIECE)
	    == 0);
	CHECK(has_ext(out, n, 2, "d8:msg_typei2e5:piecei5ee"));
	CHECK(u.served == 1);
	peer_free(&P);
}

static const char pex1[] = "d5:added12:\x0a\x00\x00\x01\x1a\xe1"
    "\x7f\x00\x00\x02\x00\x50" "7:added.f2:\x06\x00" "6:added618:"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
    "\x1a\xe1" "7:dropped6:\x0a\x00\x00\x09\x00\x01" "e";

static void
test_pex_receive(void)
{
	const struct peer_ext *list[1];
	unsigned char m[1024];
	struct pex x;
	size_t n;
	int k;

	setup(PEER_FETCH);
	pex_init(&x, NULL, NULL);
	list[0] = &x.ext;
	cfg.ext = list;
	cfg.next = 1;
	peer_init(&P, &cfg, &host, NULL, 0);
	handshake(WIRE_RES_EXT, 0, 0);
	exts(0, "d1:md6:ut_pexi4eee", 0);
	ext(1, pex1, sizeof(pex1) - 1, S);
	/* No added6.f: [::1]'s flags are unknown, not none. */
	CHECK(strstr(log_, "peer 10.0.0.1:6881 pex seed,utp;"
	    "peer 127.0.0.2:80 pex -;peer [::1]:6881 pex ?;") != NULL);
	CHECK(strstr(log_, "10.0.0.9") == NULL);
	/* A flood: at most PEX_MAX_IN of one message. */
	log_[0] = '\0';
	n = (size_t)snprintf((char *)m, sizeof(m), "d5:added%d:", 150 * 6);
	for (k = 0; k < 150; k++) {
		unsigned char *a = m + n + 6 * k;

		a[0] = 10;
		a[1] = 1;
		a[2] = (unsigned char)(k >> 8);
		a[3] = (unsigned char)k;
		a[4] = 0;
		a[5] = 1;
	}
	m[n + 900] = 'e';
	ext(1, m, n + 901, 2 * S);
	CHECK(strstr(log_, "peer 10.1.0.99:1 pex ?;") != NULL);
	CHECK(strstr(log_, "peer 10.1.0.100:1") == NULL);
	/* Malformed: a protocol error naming the extension. */
	exts(1, "d5:added5:12345e", 3 * S);
	CHECK(strcmp(peer_reason(&P), "ut_pex: added: not a list of 6-byte "
	    "peers") == 0);
	peer_free(&P);
}

/*
 * BEP 11 flags both ways: names as events print them, parsed back (what
 * btpeer --pex reads), and added.f as we send it (0x01 for a peer we
 * speak RC4 with).
 */
static void
test_pex_flags(void)
{
	struct pex_peer now[2], was[2];
	unsigned char msg[512];
	char s[64];
	uint8_t f;
	size_t n;
	int k, nwas = 0, bad = 0;

	for (k = 0; k < 32; k++) {
		pex_flags((uint8_t)k, s, sizeof(s));
		if (pex_flags_parse(s, &f) == -1 || f != k)
			bad++;
	}
	CHECK(bad == 0);
	CHECK(pex_flags_parse("enc,seed", &f) == 0 && f == 0x03);
	CHECK(pex_flags_parse("-", &f) == 0 && f == 0);
	CHECK(pex_flags_parse("enc,", &f) == -1);
	CHECK(pex_flags_parse("encrypted", &f) == -1);
	CHECK(pex_flags_parse("", &f) == -1);
	memset(now, 0, sizeof(now));
	now[0].ip[0] = now[1].ip[0] = 10;
	now[0].port = 1;
	now[1].port = 2;
	now[0].flags = PEX_F_ENC;
	n = pex_build(now, 2, was, &nwas, msg, sizeof(msg));
	CHECK(n > 0 && memmem(msg, n, "7:added.f2:\x01\x00", 13) != NULL);
}

static int npeers = 60;

static int
list_peers(void *ctx, struct pex_peer *out, int max)
{
	int k;

	(void)ctx;
	for (k = 0; k < npeers && k < max; k++) {
		memset(&out[k], 0, sizeof(out[k]));
		out[k].ip[0] = 10;
		out[k].ip[3] = (unsigned char)k;
		out[k].port = 6881;
	}
	return k;
}

static void
test_pex_send(void)
{
	const struct peer_ext *list[1];
	unsigned char out[8192];
	struct pex x;
	size_t n;

	setup(PEER_FETCH);
	cfg.timeout = 1000 * S;
	pex_init(&x, list_peers, NULL);
	list[0] = &x.ext;
	cfg.ext = list;
	cfg.next = 1;
	peer_init(&P, &cfg, &host, NULL, 0);
	handshake(WIRE_RES_EXT, 0, 0);
	take(out, sizeof(out), 0);
	peer_tick(&P, S / 2);	/* the peer's handshake is not in yet */
	exts(0, "d1:md6:ut_pexi5eee", S);
	peer_tick(&P, S);
	n = take(out, sizeof(out), S);
	CHECK(n == 0);
	peer_tick(&P, 4 * S);
	n = take(out, sizeof(out), 4 * S);
	/* 50 of the 60 at most. */
	CHECK(has_ext(out, n, 5, "d5:added300:\x0a\x00\x00\x00\x1a\xe1"));
	CHECK(x.nsent == PEX_MAX_ADDED && x.nmsgs_out == 1);
	/* Not again within a minute. */
	peer_tick(&P, 30 * S);
	CHECK(take(out, sizeof(out), 30 * S) == 0);
	/* A minute later: the other 10, and the ones gone as dropped. */
	npeers = 55;
	peer_tick(&P, 65 * S);
	n = take(out, sizeof(out), 65 * S);

	CHECK(has_ext(out, n, 5, "d5:added30:\x0a\x00\x00\x32\x1a\xe1"));
	CHECK(x.nsent == 55 && x.nmsgs_out == 2);
	npeers = 50;
	peer_tick(&P, 130 * S);
	n = take(out, sizeof(out), 130 * S);
	CHECK(has_ext(out, n, 5, "d7:dropped30:\x0a\x00\x00\x32\x1a\xe1"));
	CHECK(x.nsent == 50);
	peer_free(&P);
}

static void
test_fast(void)
{
	unsigned char out[200000], m[WIRE_REQUEST_LEN], idx[4];
	uint32_t set[PEER_FAST_K], n2;
	size_t n;

	/* A seeder: have_all, then our allowed fast set, then rejects. */
	setup(PEER_SERVE);
	memset(had, 1, sizeof(had));
	cfg.fast = 1;
	memcpy(cfg.yourip, "\x7f\x00\x00\x05", 4);
	cfg.yourip_len = 4;
	peer_init(&P, &cfg, &host, NULL, 0);
	take(out, sizeof(out), 0);
	handshake(0, WIRE_RES_FAST, 0);
	n = take(out, sizeof(out), 0);
	CHECK(has_msg(out, n, WIRE_HAVE_ALL, NULL, 0));
	n2 = fast_allowed_set(0x7f000005, mi.info_hash, 3, PEER_FAST_K, set);
	CHECK(n2 == 3 && P.nfast_out == 3);
	idx[0] = idx[1] = idx[2] = 0;
	idx[3] = (unsigned char)set[0];
	CHECK(has_msg(out, n, WIRE_ALLOWED_FAST, idx, 4));
	/* Choked, a request of the allowed fast set is answered... */
	feed(m, wire_request(m, WIRE_REQUEST, 1, 0, WIRE_BLOCK), 0);
	n = take(out, sizeof(out), 0);
	CHECK(n == WIRE_PIECE_HDR + WIRE_BLOCK && out[4] == WIRE_PIECE);
	peer_free(&P);

	/* ...and with a smaller set (one piece), others are rejected. */
	setup(PEER_SERVE);
	had[0] = had[1] = 1;
	cfg.fast = 1;
	peer_init(&P, &cfg, &host, NULL, 0);
	handshake(0, WIRE_RES_FAST, 0);
	n = take(out, sizeof(out), 0);
	CHECK(has_msg(out, n, WIRE_BITFIELD, "\xc0", 1));
	CHECK(P.nfast_out == 0);	/* no yourip: no set */
	feed(m, wire_request(m, WIRE_REQUEST, 0, 0, WIRE_BLOCK), 0);
	n = take(out, sizeof(out), 0);
	CHECK(n == WIRE_REQUEST_LEN && out[4] == WIRE_REJECT);
	/* Unchoked: answered; a piece we lack: rejected. */
	simple(WIRE_INTERESTED, 0);
	take(out, sizeof(out), 0);
	feed(m, wire_request(m, WIRE_REQUEST, 2, 0, WIRE_BLOCK), 0);
	n = take(out, sizeof(out), 0);
	CHECK(n == WIRE_REQUEST_LEN && out[4] == WIRE_REJECT);
	/* Choking with requests queued: choke, then a reject each. */
	feed(m, wire_request(m, WIRE_REQUEST, 0, 0, WIRE_BLOCK), 0);
	feed(m, wire_request(m, WIRE_REQUEST, 0, WIRE_BLOCK, WIRE_BLOCK), 0);
	peer_choke(&P, 1);
	n = take(out, sizeof(out), 0);
	CHECK(n == 5 + 2 * WIRE_REQUEST_LEN && out[4] == WIRE_CHOKE &&
	    out[5 + 4] == WIRE_REJECT && out[5 + 17 + 4] == WIRE_REJECT);
	CHECK(peer_done(&P) < 0);
	peer_free(&P);

	/* Downloading, choked: the peer's allowed-fast pieces only. */
	setup(PEER_FETCH);
	cfg.fast = 1;
	peer_init(&P, &cfg, &host, NULL, 0);
	handshake(0, WIRE_RES_FAST, 0);
	simple(WIRE_HAVE_ALL, 0);
	msg_index(WIRE_ALLOWED_FAST, 2, 0);
	msg_index(WIRE_SUGGEST, 1, 0);
	n = take(out, sizeof(out), 0);
	CHECK(n == WIRE_HANDSHAKE_LEN + 5 + 5);	/* not at once */
	peer_tick(&P, PEER_FAST_WAIT);
	n += take(out + n, sizeof(out) - n, PEER_FAST_WAIT);
	CHECK(peer_done(&P) < 0);
	/* have_none, interested, then 2 requests of piece 2 only. */
	CHECK(has_msg(out, n, WIRE_HAVE_NONE, NULL, 0));
	CHECK(n == WIRE_HANDSHAKE_LEN + 5 + 5 + 2 * WIRE_REQUEST_LEN);
	CHECK(out[78 + 4] == WIRE_REQUEST && out[78 + 8] == 2 &&
	    out[78 + 17 + 8] == 2);
	/* A reject: asked again later, the peer kept. */
	feed(m, wire_request(m, WIRE_REJECT, 2, 0, WIRE_BLOCK), 0);
	CHECK(peer_done(&P) < 0);
	peer_free(&P);

	/* A second bitfield (aria2c does that) is an update. */
	setup(PEER_FETCH);
	peer_init(&P, &cfg, &host, NULL, 0);
	handshake(0, 0, 0);
	{
		unsigned char bf[6] = { 0, 0, 0, 2, WIRE_BITFIELD, 0x80 };

		feed(bf, 6, 0);
		bf[5] = 0x60;
		feed(bf, 6, 0);
	}
	CHECK(peer_done(&P) < 0 && P.peer_count == 3);
	CHECK(strstr(log_, "bitfield 1;have-all;") != NULL);
	peer_free(&P);
}

/* A port message of payload pl (2 bytes; other lengths: a bad one). */
static void
port_msg(const unsigned char *pl, size_t n, int64_t now)
{
	unsigned char m[8] = { 0, 0, 0, 0, WIRE_PORT };

	m[3] = (unsigned char)(n + 1);
	memcpy(m + 5, pl, n);
	feed(m, 5 + n, now);
}

/* BEP 5: the reserved bit, our port message, the peer's as an event. */
static void
test_dht_port(void)
{
	unsigned char out[4096];
	static const unsigned char port6882[2] = { 0x1a, 0xe2 };
	size_t n;

	/* --dht-port: the bit set, the port sent to a peer that sets it. */
	setup(PEER_SERVE);
	cfg.dht_port = 6882;
	memcpy(cfg.yourip, "\x7f\x00\x00\x05", 4);
	cfg.yourip_len = 4;
	peer_init(&P, &cfg, &host, NULL, 0);
	n = take(out, sizeof(out), 0);
	CHECK(n == WIRE_HANDSHAKE_LEN && (out[20 + 7] & WIRE_RES_DHT));
	handshake(0, WIRE_RES_DHT, 0);
	n = take(out, sizeof(out), 0);
	CHECK(has_msg(out, n, WIRE_PORT, port6882, 2));
	/* The peer's node: an event with the address we see it at. */
	port_msg((const unsigned char *)"\xc8\xd5", 2, 0);
	CHECK(peer_done(&P) < 0);
	CHECK(strstr(log_, "dht-node 127.0.0.5:51413;") != NULL);
	/* Port 0 is no node: traced, no event. */
	log_[0] = '\0';
	port_msg((const unsigned char *)"\0\0", 2, 0);
	CHECK(peer_done(&P) < 0 && strstr(log_, "dht-") == NULL);
	/* A port message of the wrong length ends the connection. */
	port_msg((const unsigned char *)"\x01\x02\x03", 3, 0);
	CHECK(peer_done(&P) == BT_EXIT_WORLD);
	peer_free(&P);

	/* A peer without the bit is sent no port message. */
	setup(PEER_SERVE);
	cfg.dht_port = 6882;
	peer_init(&P, &cfg, &host, NULL, 0);
	handshake(0, 0, 0);
	n = take(out, sizeof(out), 0);
	CHECK(!has_msg(out, n, WIRE_PORT, port6882, 2));
	/* Its port message is reported all the same; no yourip: the port. */
	port_msg((const unsigned char *)"\x1a\xe1", 2, 0);
	CHECK(strstr(log_, "dht-port 6881;") != NULL);
	peer_free(&P);

	/* Without --dht-port: no bit, no port message. */
	setup(PEER_SERVE);
	peer_init(&P, &cfg, &host, NULL, 0);
	n = take(out, sizeof(out), 0);
	CHECK(n == WIRE_HANDSHAKE_LEN && !(out[20 + 7] & WIRE_RES_DHT));
	handshake(0, WIRE_RES_DHT, 0);
	n = take(out, sizeof(out), 0);
	CHECK(!has_msg(out, n, WIRE_PORT, port6882, 2));
	peer_free(&P);
}

int
main(void)
{
	RUN(test_allowed_fast);
	RUN(test_ext_handshake);
	RUN(test_metadata_fetch);
	RUN(test_metadata_serve);
	RUN(test_pex_receive);
	RUN(test_pex_send);
	RUN(test_pex_flags);
	RUN(test_fast);
	RUN(test_dht_port);
	DONE();
}
