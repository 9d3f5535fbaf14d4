/*
 * test_ext.c: the peer core's BEP 10 extensions driven by scripted peers
 * and a fake clock (peer_fix.h): the extension handshake, BEP 9's
 * ut_metadata (fetch and serve), BEP 11's ut_pex (receive and send).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_fix.h"
#include "ut_metadata.h"
#include "ut_pex.h"

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

int
main(void)
{
	RUN(test_ext_handshake);
	RUN(test_metadata_fetch);
	RUN(test_metadata_serve);
	RUN(test_pex_receive);
	RUN(test_pex_send);
	RUN(test_pex_flags);
	DONE();
}
