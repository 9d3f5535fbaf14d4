/*
 * test_fast.c: the peer core's reserved-bit extensions driven by scripted
 * peers and a fake clock (peer_fix.h): BEP 6's fast extension (the
 * allowed fast set of the BEP's own example, have_all/have_none, reject,
 * allowed-fast requests while choked), BEP 5's port message both ways.
 */
#include <stdio.h>
#include <string.h>

#include "peer_fix.h"

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
	RUN(test_fast);
	RUN(test_dht_port);
	DONE();
}
