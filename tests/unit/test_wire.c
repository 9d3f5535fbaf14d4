#include <stdint.h>
#include <string.h>

#include "bt.h"
#include "t.h"
#include "wire.h"

static struct wire_limits L;

static int
parse(const void *buf, size_t len, struct wire_msg *m, size_t *need,
    char *err)
{
	return wire_parse(&L, buf, len, m, need, err);
}

static int
refused(const void *buf, size_t len, const char *msg)
{
	struct wire_msg m;
	size_t need;
	char err[BT_ERRLEN] = "";

	if (parse(buf, len, &m, &need, err) != -1)
		return 0;
	if (strstr(err, msg) == NULL) {
		printf("#   got '%s', want '%s'\n", err, msg);
		return 0;
	}
	return 1;
}

static void
handshake(void)
{
	unsigned char hs[WIRE_HANDSHAKE_LEN], res[8] = {0}, ih[20], id[20];
	unsigned char other[20];
	struct wire_hs h;
	char err[BT_ERRLEN];
	size_t i;

	memset(ih, 0xab, 20);
	memset(other, 0xcd, 20);
	memcpy(id, "-BT0100-abcdefghijkl", 20);
	res[7] = WIRE_RES_FAST;
	wire_handshake(hs, res, ih, id);
	CHECK(hs[0] == 19 && memcmp(hs + 1, "BitTorrent protocol", 19) == 0);
	for (i = 0; i < WIRE_HANDSHAKE_LEN; i++)
		CHECK(wire_handshake_parse(hs, i, ih, &h, err) == 0);
	CHECK(wire_handshake_parse(hs, 68, ih, &h, err) == 68);
	CHECK(memcmp(h.peer_id, id, 20) == 0);
	CHECK(h.reserved[7] == WIRE_RES_FAST);
	CHECK(wire_handshake_parse(hs, 68, NULL, &h, err) == 68);
	CHECK(wire_handshake_parse(hs, 68, other, &h, err) == -1);
	CHECK(strstr(err, "info-hash") != NULL);
	CHECK(wire_handshake_parse("GET / HTTP/1.1", 3, ih, &h, err) == -1);
	hs[5] = 'X';
	CHECK(wire_handshake_parse(hs, 6, ih, &h, err) == -1);
}

static void
framing(void)
{
	unsigned char b[64];
	struct wire_msg m;
	size_t need, n, i;
	char err[BT_ERRLEN];

	n = wire_request(b, WIRE_REQUEST, 3, 16384, 16384);
	CHECK(n == 17);
	for (i = 0; i < n; i++) {
		CHECK(parse(b, i, &m, &need, err) == 0);
		CHECK(need == (i < 4 ? 4 : 17));
	}
	CHECK(parse(b, n, &m, &need, err) == 17);
	CHECK(m.type == WIRE_REQUEST && m.index == 3 && m.begin == 16384 &&
	    m.length == 16384);
	n = wire_keepalive(b);
	CHECK(parse(b, n, &m, &need, err) == 4 && m.type == WIRE_KEEPALIVE);
	n = wire_have(b, 9);
	CHECK(parse(b, n, &m, &need, err) == 9 && m.type == WIRE_HAVE &&
	    m.index == 9);
	n = wire_simple(b, WIRE_UNCHOKE);
	CHECK(parse(b, n, &m, &need, err) == 5 && m.type == WIRE_UNCHOKE);
	/* Unknown ids pass through. */
	memcpy(b, "\0\0\0\3\x63xy", 7);
	CHECK(parse(b, 7, &m, &need, err) == 7 && m.type == 0x63 &&
	    m.len == 2);
}

static void
sizes(void)
{
	unsigned char b[64];

	/* L: 10 pieces of 32 KiB, the last 1000 bytes. */
	memcpy(b, "\0\0\0\2\1x", 6);
	CHECK(refused(b, 6, "unchoke: payload of 1 bytes, not 0"));
	memcpy(b, "\0\0\0\4\4\0\0\0", 8);
	CHECK(refused(b, 8, "have: payload of 3 bytes, not 4"));
	wire_have(b, 10);
	CHECK(refused(b, 9, "have: piece index 10 out of range"));
	wire_request(b, WIRE_REQUEST, 0, 0, 16385);
	CHECK(refused(b, 17, "block length 16385"));
	wire_request(b, WIRE_REQUEST, 0, 0, 0);
	CHECK(refused(b, 17, "block length 0"));
	wire_request(b, WIRE_CANCEL, 9, 0, 1001);
	CHECK(refused(b, 17, "past the end of piece 9"));
	wire_request(b, WIRE_REQUEST, 0, 0xffffffffu, 16384);
	CHECK(refused(b, 17, "past the end"));
	memcpy(b, "\0\0\0\5\7\0\0\0\0", 9);
	CHECK(refused(b, 9, "piece: payload of 4 bytes, under 8"));
	memcpy(b, "\0\0\0\3\11\0\1", 7);
	memcpy(b, "\0\0\0\4\11\0\1\2", 8);
	CHECK(refused(b, 8, "port: payload of 3 bytes, not 2"));
}

static void
caps(void)
{
	unsigned char b[8];
	struct wire_limits big;

	CHECK(L.maxmsg == 9 + WIRE_BLOCK);
	memcpy(b, "\0\0\x40\x0a", 4);
	CHECK(refused(b, 4, "message length 16394 over the cap of 16393"));
	memcpy(b, "\xff\xff\xff\xff", 4);
	CHECK(refused(b, 4, "over the cap"));
	/* 2^22 pieces: a 512 KiB bitfield must fit. */
	wire_limits_set(&big, 1u << 22, 16384, (uint64_t)16384 << 22);
	CHECK(big.maxmsg == 1 + (1u << 19));
	CHECK(big.bitfield_len == 1u << 19);
}

static void
bitfield(void)
{
	unsigned char b[8];
	struct wire_msg m;
	size_t need;
	char err[BT_ERRLEN];

	wire_bitfield_hdr(b, 2);
	b[5] = 0xff;
	b[6] = 0xc0;
	CHECK(parse(b, 7, &m, &need, err) == 7 && m.type == WIRE_BITFIELD &&
	    m.data[0] == 0xff && m.data[1] == 0xc0);
	b[6] = 0xe0;
	CHECK(refused(b, 7, "bitfield: spare bits set"));
	b[6] = 0x01;
	CHECK(refused(b, 7, "spare bits"));
	wire_bitfield_hdr(b, 3);
	b[5] = b[6] = b[7] = 0;
	CHECK(refused(b, 8, "bitfield: 3 bytes, not 2 for 10 pieces"));
}

static void
piece(void)
{
	unsigned char b[WIRE_PIECE_HDR + 1000];
	struct wire_msg m;
	size_t need, n;
	char err[BT_ERRLEN];

	CHECK(wire_piece_size(&L, 9) == 1000);
	CHECK(wire_piece_size(&L, 8) == 32768);
	CHECK(wire_piece_size(&L, 10) == 0);
	n = wire_piece_hdr(b, 9, 0, 1000);
	memset(b + n, 'z', 1000);
	CHECK(parse(b, n + 999, &m, &need, err) == 0 && need == n + 1000);
	CHECK(parse(b, n + 1000, &m, &need, err) == (int)(n + 1000));
	CHECK(m.type == WIRE_PIECE && m.index == 9 && m.length == 1000 &&
	    m.data == b + 13);
	wire_piece_hdr(b, 9, 1, 1000);
	CHECK(refused(b, n + 1000, "past the end of piece 9"));
}

int
main(void)
{
	wire_limits_set(&L, 10, 32768, 9 * 32768 + 1000);
	RUN(handshake);
	RUN(framing);
	RUN(sizes);
	RUN(caps);
	RUN(bitfield);
	RUN(piece);
	DONE();
}
