/*
 * test_peer_rx.c: scatter reads (peer_recv_iov/peer_recv_done): block
 * payloads read straight into piece buffers, fed in reads of awkward
 * sizes, with and without a stateful transform; wrong guesses,
 * duplicates and a piece dropped in the middle of a block must never
 * spoil a piece.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bt.h"
#include "peer.h"
#include "t.h"
#include "wire.h"

/* 4 pieces of 64 KiB (4 blocks), the last 40000 bytes (3 blocks). */
#define NP	4
#define PLEN	65536
#define TOTAL	(3 * PLEN + 40000)
#define S	PEER_SEC

struct fake {
	unsigned char	 had[NP];
	int		 claimed[NP];
	int		 stored, wrong, bad;
};

static struct metainfo mi;
static unsigned char data[TOTAL], hashes[20 * NP];
static struct peer_host host;
static struct peer_cfg cfg;
static struct fake fk;
static struct peer P;

/* The transform: a keystream of the stream position, like RC4's. */
struct ks {
	uint64_t	 in, out;
};
static struct ks ks_peer;	/* the peer's encoder of what we read */

static unsigned char
ks_byte(uint64_t pos)
{
	return (unsigned char)(pos * 131 + (pos >> 8) * 7 + 1);
}

static void
t_decode(void *ctx, unsigned char *b, size_t n)
{
	struct ks *k = ctx;

	while (n-- > 0)
		*b++ ^= ks_byte(k->in++);
}

static void
t_encode(void *ctx, unsigned char *b, size_t n)
{
	struct ks *k = ctx;

	while (n-- > 0)
		*b++ ^= ks_byte(k->out++);
}

static int64_t
f_claim(void *ctx, const unsigned char *has, int64_t *eg)
{
	struct fake *f = ctx;
	int i;

	(void)has;
	*eg = -1;
	for (i = 0; i < NP; i++)
		if (!f->had[i] && !f->claimed[i]) {
			f->claimed[i] = 1;
			return i;
		}
	for (i = 0; i < NP; i++)
		if (!f->had[i])
			return -1;
	return -2;
}

static void
f_release(void *ctx, uint32_t i)
{
	((struct fake *)ctx)->claimed[i] = 0;
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
	int i;

	for (i = 0; i < NP; i++)
		if (!f->had[i])
			return 0;
	return 1;
}

static int
f_store(void *ctx, uint32_t i, const unsigned char *b, size_t n, char *err)
{
	struct fake *f = ctx;

	(void)err;
	if (n != mi_piece_size(&mi, i) ||
	    memcmp(b, data + (size_t)i * PLEN, n) != 0)
		f->wrong++;
	f->stored++;
	f->claimed[i] = 0;
	if (f->had[i])
		return 0;
	f->had[i] = 1;
	return 1;
}

static void
f_event(void *ctx, const char *line)
{
	if (strstr(line, " bad") != NULL)
		((struct fake *)ctx)->bad++;
}

static void
setup(void)
{
	size_t k;

	for (k = 0; k < TOTAL; k++)
		data[k] = (unsigned char)(k * 13 + k / 999);
	for (k = 0; k < NP; k++)
		EVP_Digest(data + k * PLEN, k + 1 == NP ? TOTAL - k * PLEN :
		    PLEN, hashes + 20 * k, NULL, EVP_sha1(), NULL);
	memset(&mi, 0, sizeof(mi));
	memset(mi.info_hash, 0xcd, 20);
	mi.piece_length = PLEN;
	mi.npieces = NP;
	mi.pieces = hashes;
	mi.total_length = TOTAL;
	memset(&fk, 0, sizeof(fk));
	memset(&ks_peer, 0, sizeof(ks_peer));
	memset(&host, 0, sizeof(host));
	host.ctx = &fk;
	host.claim = f_claim;
	host.release = f_release;
	host.have = f_have;
	host.complete = f_complete;
	host.store = f_store;
	host.event = f_event;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = PEER_FETCH;
	cfg.mi = &mi;
	memcpy(cfg.peer_id, "-BP0100-abcdefghijkl", 20);
	cfg.queue = 128;
	cfg.timeout = 5 * S;
}

/* Read sizes cycle through these: splits anywhere, across headers. */
static const size_t sizes[] = { 1, 7, 13, 16397, 5, 70000, 16384, 12,
	100000, 3, 30000, 16397 * 3 + 2, 14, 1000000 };
static size_t nsz;
static int scattered, encrypted;

/* Bytes from the peer, as btpeer reads them: readv into the plan. */
static void
feed(const void *buf, size_t n, int64_t now)
{
	const unsigned char *b = buf;
	unsigned char *d;
	struct iovec iov[PEER_RX_IOV];
	size_t want, got, k, i, off = 0;
	int cnt, s;

	while (off < n && peer_done(&P) < 0) {
		cnt = peer_recv_iov(&P, iov);
		CHECK(cnt >= 1 && cnt <= PEER_RX_IOV);
		if (cnt > 1)
			scattered++;
		want = sizes[nsz++ % (sizeof(sizes) / sizeof(sizes[0]))];
		if (want > n - off)
			want = n - off;
		for (got = 0, s = 0; s < cnt && got < want; s++) {
			k = iov[s].iov_len < want - got ? iov[s].iov_len :
			    want - got;
			d = iov[s].iov_base;
			memcpy(d, b + off + got, k);
			if (encrypted)
				for (i = 0; i < k; i++)
					d[i] ^= ks_byte(ks_peer.in++);
			got += k;
		}
		peer_recv_done(&P, got, now);
		off += got;
	}
}

static void
drain(int64_t now)
{
	const unsigned char *b;
	size_t n;

	peer_fill(&P);
	peer_output(&P, &b, &n);
	peer_sent(&P, n, now);
}

static void
start(struct peer_transform *tr)
{
	unsigned char hs[WIRE_HANDSHAKE_LEN], res[8] = { 0 }, m[5 + 1];

	CHECK(peer_init(&P, &cfg, &host, tr, 0) == 0);
	drain(0);
	wire_handshake(hs, res, mi.info_hash,
	    (const unsigned char *)"-LT2080-xxxxxxxxxxxx");
	feed(hs, sizeof(hs), S);
	wire_bitfield_hdr(m, 1);
	m[5] = 0xf0;
	feed(m, 6, S);
	drain(S);
	feed(m, wire_simple(m, WIRE_UNCHOKE), S);
	drain(S);
}

/* Piece message of block b of piece i into out; its length. */
static size_t
block(unsigned char *out, uint32_t i, uint32_t b, int corrupt)
{
	uint32_t begin = b * WIRE_BLOCK, len = mi_piece_size(&mi, i) - begin;

	if (len > WIRE_BLOCK)
		len = WIRE_BLOCK;
	wire_piece_hdr(out, i, begin, len);
	memcpy(out + WIRE_PIECE_HDR, data + (size_t)i * PLEN + begin, len);
	if (corrupt)
		out[WIRE_PIECE_HDR + len / 2] ^= 0xff;
	return WIRE_PIECE_HDR + len;
}

static uint32_t
nblocks(uint32_t i)
{
	return (mi_piece_size(&mi, i) + WIRE_BLOCK - 1) / WIRE_BLOCK;
}

static unsigned char stream[2 * TOTAL];

/* Every block in order, in one stream of many reads. */
static void
in_order(struct peer_transform *tr)
{
	size_t n = 0;
	uint32_t i, b;

	setup();
	start(tr);
	for (i = 0; i < NP; i++)
		for (b = 0; b < nblocks(i); b++)
			n += block(stream + n, i, b, 0);
	scattered = 0;
	feed(stream, n, 2 * S);
	CHECK(scattered > 0);
	CHECK(fk.stored == NP && fk.wrong == 0 && fk.bad == 0);
	CHECK(peer_done(&P) == BT_EXIT_OK);
	peer_free(&P);
}

static void
test_in_order(void)
{
	encrypted = 0;
	in_order(NULL);
}

static void
test_transform(void)
{
	struct ks ours;
	struct peer_transform tr = { &ours, NULL, t_decode, t_encode, NULL };

	memset(&ours, 0, sizeof(ours));
	encrypted = 1;
	in_order(&tr);
	encrypted = 0;
}

/*
 * Out of order, messages between blocks, and duplicates with other
 * bytes: the guesses go wrong, and no good block may be overwritten.
 */
static void
test_wrong_guesses(void)
{
	size_t n = 0;
	uint32_t i;
	int round;

	for (round = 0; round < 3; round++) {
		setup();
		nsz = (size_t)round * 5;
		start(NULL);
		for (i = 0; i < NP; i++) {
			n = 0;
			n += block(stream + n, i, 0, 0);
			n += wire_have(stream + n, i);	/* had already */
			n += block(stream + n, i, 2, 0);
			n += block(stream + n, i, 0, 1);	/* duplicate */
			n += wire_keepalive(stream + n);
			n += block(stream + n, i, 1, 0);
			n += block(stream + n, i, 2, 1);	/* duplicate */
			if (nblocks(i) > 3)
				n += block(stream + n, i, 3, 0);
			n += wire_request(stream + n, WIRE_CANCEL, 0, 0,
			    WIRE_BLOCK);
			feed(stream, n, 2 * S);
			drain(2 * S);
		}
		CHECK(fk.stored == NP && fk.wrong == 0 && fk.bad == 0);
		CHECK(peer_done(&P) == BT_EXIT_OK);
		peer_free(&P);
	}
}

/*
 * A piece stored elsewhere while one of its blocks is being read into
 * its buffer: the rest of that block is thrown away, its buffer (reused
 * by the next piece) untouched.
 */
static void
test_dropped_mid_block(void)
{
	size_t n = 0, half;
	uint32_t b;
	int k;

	setup();
	start(NULL);
	n = block(stream, 1, 0, 0);
	half = n / 2;
	/* Header and half the payload, framed; then the rest is direct. */
	feed(stream, half, 2 * S);
	feed(stream + half, 100, 2 * S);
	CHECK(P.rx.direct == 1 && P.rx.index == 1);
	fk.had[1] = 1;
	peer_have(&P, 1);
	CHECK(P.rx.discard == 1);
	drain(2 * S);
	feed(stream + half + 100, n - half - 100, 2 * S);
	CHECK(P.rx.direct == 0);
	n = 0;
	for (k = 0; k < NP; k++) {
		if (k == 1)
			continue;
		for (b = 0; b < nblocks((uint32_t)k); b++)
			n += block(stream + n, (uint32_t)k, b, 0);
	}
	/* Late blocks of the dropped piece, ignored. */
	n += block(stream + n, 1, 1, 1);
	feed(stream, n, 2 * S);
	CHECK(fk.stored == NP - 1 && fk.wrong == 0 && fk.bad == 0);
	CHECK(peer_done(&P) == BT_EXIT_OK);
	peer_free(&P);
}

/*
 * Reads that each end with a message, as reads that empty the socket
 * do: the next read still goes in place, the block expected next first
 * (in order); in reverse order each first guess is wrong and framed.
 */
static void
test_whole_reads(void)
{
	struct iovec iov[PEER_RX_IOV];
	size_t n, got, k, total;
	uint32_t i, b, nb;
	int cnt, s, rev, blocks;

	for (rev = 0; rev < 2; rev++) {
		setup();
		start(NULL);
		scattered = blocks = 0;
		for (nb = 0; nb < NP; nb++) {
			i = rev ? NP - 1 - nb : nb;
			for (b = 0; b < nblocks(i); b++, blocks++) {
				n = block(stream, i, b, 0);
				cnt = peer_recv_iov(&P, iov);
				if (cnt > 1)
					scattered++;
				for (got = 0, s = 0; s < cnt && got < n; s++) {
					k = iov[s].iov_len < n - got ?
					    iov[s].iov_len : n - got;
					memcpy(iov[s].iov_base, stream + got,
					    k);
					got += k;
				}
				total = got;
				CHECK(total == n);
				peer_recv_done(&P, total, 2 * S);
				drain(2 * S);
			}
		}
		CHECK(fk.stored == NP && fk.wrong == 0 && fk.bad == 0);
		CHECK(rev || scattered == blocks);
		CHECK(P.rx.direct == 0 && P.rpos == P.rlen);
		CHECK(peer_done(&P) == BT_EXIT_OK);
		peer_free(&P);
	}
}

int
main(void)
{
	RUN(test_in_order);
	RUN(test_transform);
	RUN(test_wrong_guesses);
	RUN(test_dropped_mid_block);
	RUN(test_whole_reads);
	DONE();
}
