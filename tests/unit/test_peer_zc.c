/*
 * test_peer_zc.c: zero-copy upload in the peer core (lib/peer.h): blocks
 * the host says it can send from storage come out as a piece header in
 * the buffer and a reference after it, in stream order with everything
 * else, on the fake clock; blocks it cannot, and every block on a
 * transformed stream, are read as before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "peer.h"
#include "t.h"
#include "wire.h"

/* 3 pieces of 32 KiB, the last 20000 bytes: 2 blocks each. */
#define PLEN	32768
#define TOTAL	(2 * PLEN + 20000)
#define S	PEER_SEC

struct zfake {
	int	 sendable;	/* what sendable answers */
	int	 nread, nasked;
	int	 identity;	/* the transform's identity hook */
};

static struct metainfo mi;
static unsigned char data[TOTAL], hashes[60];
static struct zfake zf;
static struct peer_host host;
static struct peer_cfg cfg;
static struct peer P;
static int xoring;		/* the peer's bytes go through t_xor */

static int
z_can_serve(void *ctx, uint32_t i)
{
	(void)ctx;
	(void)i;
	return 1;
}

static int
z_read(void *ctx, uint32_t i, uint32_t begin, uint32_t len,
    unsigned char *out, char *err)
{
	(void)err;
	((struct zfake *)ctx)->nread++;
	memcpy(out, data + (size_t)i * PLEN + begin, len);
	return 1;
}

static int
z_sendable(void *ctx, uint32_t i, uint32_t begin, uint32_t len, char *err)
{
	struct zfake *f = ctx;

	(void)i;
	(void)begin;
	(void)len;
	f->nasked++;
	if (f->sendable == -1)
		snprintf(err, BT_ERRLEN, "storage is gone");
	return f->sendable;
}

static void
setup(void)
{
	size_t k;

	for (k = 0; k < TOTAL; k++)
		data[k] = (unsigned char)(k * 7 + k / 1000);
	memset(&mi, 0, sizeof(mi));
	memset(mi.info_hash, 0xab, 20);
	mi.piece_length = PLEN;
	mi.npieces = 3;
	mi.pieces = hashes;
	mi.total_length = TOTAL;
	memset(&zf, 0, sizeof(zf));
	zf.sendable = 1;
	memset(&host, 0, sizeof(host));
	host.ctx = &zf;
	host.can_serve = z_can_serve;
	host.read = z_read;
	host.sendable = z_sendable;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = PEER_SERVE;
	cfg.mi = &mi;
	memcpy(cfg.peer_id, "-BP0100-abcdefghijkl", 20);
	cfg.queue = 128;
	cfg.timeout = 5 * S;
}

/*
 * Everything the core wants sent, as the host would send it: buffered
 * bytes taken at most chunk at a time, blocks from storage copied from
 * data at most chunk at a time (partial sends). The stream goes to out.
 */
static size_t
drain(unsigned char *out, size_t max, size_t chunk, int64_t now)
{
	struct peer_fileref ref;
	const unsigned char *b;
	size_t n, got = 0;

	peer_fill(&P);
	for (;;) {
		peer_output(&P, &b, &n);
		if (n > 0) {
			if (n > chunk)
				n = chunk;
			if (got + n > max)
				break;
			memcpy(out + got, b, n);
			got += n;
			peer_sent(&P, n, now);
			continue;
		}
		if (!peer_output_file(&P, &ref))
			break;
		n = ref.len < chunk ? ref.len : chunk;
		if (got + n > max)
			break;
		memcpy(out + got, data + (size_t)ref.index * PLEN + ref.begin,
		    n);
		got += n;
		peer_sent_file(&P, n, now);
		if (peer_unsent(&P) == 0)
			peer_fill(&P);
	}
	return got;
}

static void
feed(const void *b, size_t n, int64_t now)
{
	unsigned char x[256];
	size_t k;

	if (!xoring || n > sizeof(x)) {
		peer_input(&P, b, n, now);
		return;
	}
	for (k = 0; k < n; k++)
		x[k] = ((const unsigned char *)b)[k] ^ 0x5a;
	peer_input(&P, x, n, now);
}

/* The handshake, then interested; our handshake, bitfield, unchoke out. */
static void
start(struct peer_transform *tr)
{
	unsigned char hs[WIRE_HANDSHAKE_LEN], res[8] = { 0 }, m[5];
	unsigned char out[4096];

	xoring = tr != NULL;
	peer_init(&P, &cfg, &host, tr, 0);
	wire_handshake(hs, res, mi.info_hash,
	    (const unsigned char *)"-LT2080-xxxxxxxxxxxx");
	feed(hs, sizeof(hs), 0);
	feed(m, wire_simple(m, WIRE_INTERESTED), 0);
	drain(out, sizeof(out), sizeof(out), 0);
}

static void
request(uint32_t i, uint32_t begin, uint32_t len)
{
	unsigned char m[WIRE_REQUEST_LEN];

	feed(m, wire_request(m, WIRE_REQUEST, i, begin, len), 0);
}

/* out holds whole piece messages for reqs; each carries the right bytes. */
static int
pieces_ok(const unsigned char *out, size_t n, const uint32_t (*reqs)[3],
    size_t nreq)
{
	struct wire_limits l;
	struct wire_msg m;
	size_t need, off = 0, k;
	char err[BT_ERRLEN];
	int r;

	wire_limits_set(&l, 3, PLEN, TOTAL);
	for (k = 0; k < nreq; k++) {
		r = wire_parse(&l, out + off, n - off, &m, &need, err);
		if (r <= 0 || m.type != WIRE_PIECE || m.index != reqs[k][0] ||
		    m.begin != reqs[k][1] || m.length != reqs[k][2] ||
		    memcmp(m.data, data + (size_t)m.index * PLEN + m.begin,
		    m.length) != 0)
			return 0;
		off += (size_t)r;
	}
	return off == n;
}

static void
test_from_storage(void)
{
	static const uint32_t reqs[][3] = {
		{ 0, 0, WIRE_BLOCK }, { 2, 16384, 3616 }, { 1, 100, 5000 },
	};
	unsigned char out[65536];
	size_t n, k;

	setup();
	start(NULL);
	for (k = 0; k < 3; k++)
		request(reqs[k][0], reqs[k][1], reqs[k][2]);
	/* Partial sends of 1000 bytes: headers and blocks stay in order. */
	n = drain(out, sizeof(out), 1000, 0);
	CHECK(zf.nasked == 3 && zf.nread == 0);
	CHECK(pieces_ok(out, n, reqs, 3));
	CHECK(peer_unsent(&P) == 0);
	peer_tick(&P, S);
	peer_free(&P);

	/* The host says no for one: read, and the order is still kept. */
	setup();
	start(NULL);
	request(0, 0, WIRE_BLOCK);
	peer_fill(&P);
	zf.sendable = 0;
	request(1, 0, WIRE_BLOCK);
	peer_fill(&P);
	zf.sendable = 1;
	request(2, 0, WIRE_BLOCK);
	n = drain(out, sizeof(out), 7000, 0);
	{
		static const uint32_t r3[][3] = {
			{ 0, 0, WIRE_BLOCK }, { 1, 0, WIRE_BLOCK },
			{ 2, 0, WIRE_BLOCK },
		};

		CHECK(zf.nread == 1 && zf.nasked == 3);
		CHECK(pieces_ok(out, n, r3, 3));
	}
	peer_free(&P);
}

/* A have queued after a block from storage goes out after it. */
static void
test_order(void)
{
	static const uint32_t reqs[][3] = { { 0, 0, WIRE_BLOCK } };
	unsigned char out[65536];
	struct peer_fileref ref;
	const unsigned char *b;
	size_t n;

	setup();
	start(NULL);
	request(0, 0, WIRE_BLOCK);
	peer_fill(&P);
	peer_output(&P, &b, &n);
	CHECK(n == WIRE_PIECE_HDR);
	peer_sent(&P, n, 0);
	peer_output(&P, &b, &n);
	CHECK(n == 0 && peer_output_file(&P, &ref) == 1);
	CHECK(ref.index == 0 && ref.begin == 0 && ref.len == WIRE_BLOCK);
	peer_sent_file(&P, 100, 0);
	/* An event meanwhile: its message waits for the block. */
	peer_choke(&P, 1);
	peer_output(&P, &b, &n);
	CHECK(n == 0 && peer_output_file(&P, &ref) == 1);
	CHECK(ref.begin == 100 && ref.len == WIRE_BLOCK - 100);
	CHECK(peer_unsent(&P) == WIRE_BLOCK - 100 + 5);
	memcpy(out, "hdr..........", WIRE_PIECE_HDR);
	memcpy(out + WIRE_PIECE_HDR, data, 100);
	n = WIRE_PIECE_HDR + 100 + drain(out + WIRE_PIECE_HDR + 100,
	    sizeof(out) - WIRE_PIECE_HDR - 100, 4096, 0);
	CHECK(n == WIRE_PIECE_HDR + WIRE_BLOCK + 5);
	CHECK(out[n - 1] == WIRE_CHOKE);
	wire_piece_hdr(out, 0, 0, WIRE_BLOCK);
	CHECK(pieces_ok(out, n - 5, reqs, 1));
	peer_free(&P);
}

/* A full reference ring waits for the socket, like a full buffer. */
static void
test_ring_full(void)
{
	uint32_t k;

	setup();
	start(NULL);
	for (k = 0; k < PEER_ZC_MAX + 10; k++)
		request(k % 3, 0, 100);
	peer_fill(&P);
	CHECK(P.nzc == PEER_ZC_MAX);
	CHECK(peer_busy(&P) == 0);
	CHECK(P.rqlen == 10);
	peer_free(&P);
}

static long
t_hs(void *ctx, struct peer *p, const unsigned char *b, size_t n, int *est,
    char *err)
{
	(void)ctx;
	(void)p;
	(void)b;
	(void)n;
	(void)err;
	*est = 1;
	return 0;
}

static void
t_xor(void *ctx, unsigned char *b, size_t n)
{
	(void)ctx;
	while (n-- > 0)
		*b++ ^= 0x5a;
}

static int
t_identity(void *ctx)
{
	return ((struct zfake *)ctx)->identity;
}

/* A transform that changes bytes: every block read; an identity: not. */
static void
test_transform(void)
{
	struct peer_transform tr = { NULL, t_hs, t_xor, t_xor, NULL };
	unsigned char out[65536];

	setup();
	start(&tr);
	request(0, 0, WIRE_BLOCK);
	drain(out, sizeof(out), sizeof(out), 0);
	CHECK(zf.nasked == 0 && zf.nread == 1);
	peer_free(&P);

	setup();
	tr.ctx = &zf;
	tr.identity = t_identity;
	start(&tr);
	request(0, 0, WIRE_BLOCK);
	peer_fill(&P);
	CHECK(zf.nasked == 0 && zf.nread == 1);	/* identity says 0 */
	zf.identity = 1;
	request(1, 0, WIRE_BLOCK);
	peer_fill(&P);
	CHECK(zf.nasked == 1 && zf.nread == 1);
	peer_free(&P);
}

/* The host's storage fails: the connection ends with its reason. */
static void
test_error(void)
{
	setup();
	start(NULL);
	zf.sendable = -1;
	request(0, 0, WIRE_BLOCK);
	CHECK(peer_fill(&P) == -1);
	CHECK(peer_done(&P) == bt_fail_exit(BT_FAIL_SYSTEM));
	CHECK(strcmp(peer_reason(&P), "storage is gone") == 0);
	peer_free(&P);
}

int
main(void)
{
	RUN(test_from_storage);
	RUN(test_order);
	RUN(test_ring_full);
	RUN(test_transform);
	RUN(test_error);
	DONE();
}
