/*
 * fuzz_peer_mse.c: the peer core (lib/peer.h) with MSE in its transform
 * slot (lib/peer_mse.h) as the receiving side, an accepted connection,
 * fed hostile bytes under a fake clock. The first 4 bytes pick:
 *   d[0] & 3   the stream:
 *     0  the bytes as they are (the sniff, MSE or a plain handshake);
 *     1  a real initiator's MSE handshake, then the rest of the bytes as
 *        its payload (encrypted when it selected RC4): hostile peer
 *        messages behind a valid MSE handshake;
 *     2  the same handshake XORed with the bytes (its later steps
 *        broken), then the rest as they are;
 *     3  a plain BEP 3 handshake, then the bytes;
 *   d[0] >> 2 & 3  the policy (prefer, require, tolerate; 3: prefer);
 *   d[0] >> 4 & 3  what the initiator offers (RC4, plaintext, both);
 *   d[0] & 0x40    its BitTorrent handshake rides as MSE's initial
 *                  payload (else it leads the payload);
 *   d[0] & 0x80    the peer closes its side at the end;
 *   d[1]  the torrent's pieces (1..64); d[2] the piece length (16 KiB
 *         << 0..3), our queue and where the handshake is cut in two;
 *   d[3]  the last piece's length; bit 0 serve (else fetch), 1 fast,
 *         0x40 half the pieces had, 0x80 zero-copy offered.
 * Then each chunk is a length byte, a clock step byte and that many
 * bytes, as in fuzz_peer.c; pieces are zeros, so zero blocks are stored
 * (through RC4 too, in stream 1). Checks what callers rely on: require
 * never ends in a plain stream, a decided method is announced once and
 * is what the machine says, zero-copy is never asked over RC4, the
 * core's bounds hold, and a failure says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "fuzz_host.h"
#include "mse.h"
#include "peer.h"
#include "peer_mse.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Every stream's info-hash and our (fixed) randomness. */
static const unsigned char IH[20] = "peermsepeermsepeerms";

/* The shared host (fuzz_host.h), and the encryption events seen. */
struct fzm {
	struct fz	 c;		/* first: the callbacks' ctx */
	int		 nenc;		/* "encryption ..." events */
	char		 enc[32];	/* the last one's method */
};

/* Zero-copy is asked only on a plain stream: never over RC4. */
static int
f_sendable(void *ctx, uint32_t i, uint32_t b, uint32_t len, char *err)
{
	struct fzm *f = ctx;

	(void)b;
	(void)len;
	(void)err;
	if (strcmp(f->enc, "rc4") == 0)
		abort();
	return i % 2 == 0;
}

static void
f_event(void *ctx, const char *line)
{
	struct fzm *f = ctx;
	size_t n = strlen(line);

	if (n == 0)
		abort();
	if (strncmp(line, "encryption ", 11) == 0) {
		f->nenc++;
		if (n - 11 >= sizeof(f->enc))
			abort();
		memcpy(f->enc, line + 11, n - 11 + 1);
	}
}

static int
lookup(void *ctx, const uint8_t req2[20], uint8_t skey[20])
{
	uint8_t h[20];

	(void)ctx;
	mse_req2(IH, h);
	if (memcmp(h, req2, 20) != 0)
		return 0;
	memcpy(skey, IH, 20);
	return 1;
}

/* Fixed randomness, short pads: more of the bytes reach later states. */
static void
mkrnd(uint8_t rnd[MSE_RAND_LEN], int receiver)
{
	memset(rnd, 0x3c, MSE_RAND_LEN);
	rnd[0] ^= (uint8_t)receiver;
	rnd[20] = rnd[21] = rnd[22] = rnd[23] = 0;
}

static uint32_t
allowed(enum peer_crypto policy)
{
	return policy == PEER_CRYPTO_REQUIRE ? MSE_RC4 : MSE_RC4 | MSE_PLAIN;
}

/*
 * A real initiator's MSE handshake to a receiver with our randomness
 * and policy (so the victim answers it as that receiver did): its steps
 * 1 and 3 into hs, and the initiator as it stands after, to encrypt the
 * payload. Made once per policy, offer and IA: DH is slow.
 */
struct real {
	int		 made, ok;
	struct mse	 a;
	uint8_t		 hs[MSE_OUT_MAX];
	size_t		 len;
};
static struct real reals[3][3][2];

static const struct real *
real_handshake(enum peer_crypto policy, uint32_t offer, int ia,
    const unsigned char bths[WIRE_HANDSHAKE_LEN])
{
	struct real *r = &reals[policy - 1][offer - 1][ia];
	struct mse b;
	uint8_t rnd[MSE_RAND_LEN];
	char err[BT_ERRLEN];
	const uint8_t *o;
	size_t n, used;
	int i, ra = 0, rb = 0;

	if (r->made)
		return r->ok ? r : NULL;
	r->made = 1;
	mkrnd(rnd, 0);
	if (mse_start_initiator(&r->a, IH, offer, ia ? bths : NULL,
	    ia ? WIRE_HANDSHAKE_LEN : 0, rnd, err) == -1)
		return NULL;
	mkrnd(rnd, 1);
	if (mse_start_receiver(&b, allowed(policy), lookup, NULL, rnd,
	    err) == -1)
		return NULL;
	for (i = 0; i < 4 && !(ra == 1 && rb == 1); i++) {
		n = mse_output(&r->a, &o);
		if (r->len + n > sizeof(r->hs))
			return NULL;
		memcpy(r->hs + r->len, o, n);
		r->len += n;
		mse_sent(&r->a, n);
		if (rb != 1 && (rb = mse_input(&b, o, n, &used, err)) == -1)
			return NULL;
		n = mse_output(&b, &o);
		mse_sent(&b, n);
		if (ra != 1 && (ra = mse_input(&r->a, o, n, &used,
		    err)) == -1)
			return NULL;
	}
	/* Step 3 went out in the second turn; A sends nothing after 4. */
	r->ok = ra == 1 && rb == 1;
	return r->ok ? r : NULL;
}

/* Feeds n bytes, then the timers and the requests, as a host's loop. */
static int
feed(struct peer *p, const unsigned char *b, size_t n, int64_t now)
{
	if (peer_input(p, b, n, now) == -1)
		return -1;
	peer_tick(p, now);
	peer_fill(p);
	return 0;
}

/* Drains the core's output as a host would; checks its bounds. */
static void
drain(struct peer *p, const struct peer_cfg *cfg, int64_t now)
{
	const unsigned char *ob;
	struct peer_fileref ref;
	size_t on;

	if (p->outstanding > (uint32_t)cfg->queue || p->nact > p->maxact)
		abort();
	peer_output(p, &ob, &on);
	peer_sent(p, on, now);
	if (peer_output_file(p, &ref)) {
		if (ref.len == 0)
			abort();
		peer_sent_file(p, ref.len, now);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const enum peer_crypto pol[4] = { PEER_CRYPTO_PREFER,
	    PEER_CRYPTO_REQUIRE, PEER_CRYPTO_TOLERATE, PEER_CRYPTO_PREFER };
	static const uint32_t offers[4] = { MSE_RC4, MSE_PLAIN,
	    MSE_RC4 | MSE_PLAIN, MSE_RC4 | MSE_PLAIN };
	unsigned char *hashes, bths[WIRE_HANDSHAKE_LEN], res[8] = { 0 };
	unsigned char buf[MSE_OUT_MAX + WIRE_HANDSHAKE_LEN], blk[256 * 8 + 1];
	uint8_t rnd[MSE_RAND_LEN];
	char err[BT_ERRLEN];
	const struct real *r = NULL;
	struct mse a;
	struct peer_mse pm;
	struct metainfo mi;
	struct peer_host h;
	struct peer_cfg cfg;
	struct peer p;
	struct fzm f;
	enum peer_crypto policy;
	size_t off = 4, len, k, hl = 0;
	int64_t now = 0;
	int mode, encrypt = 0;

	if (n < 4)
		return 0;
	mode = d[0] & 3;
	policy = pol[d[0] >> 2 & 3];
	memset(&mi, 0, sizeof(mi));
	memset(&f, 0, sizeof(f));
	/* Pieces of zeros: a fuzzer that sends zero blocks stores them. */
	if ((hashes = fz_torrent(&mi, &f.c, d[1], d[2], d[3])) == NULL)
		return 0;
	memcpy(mi.info_hash, IH, 20);
	f.c.had = d[3] & 0x40 ? 0x5555555555555555ull : 0;
	f.c.had &= f.c.n == 64 ? ~0ull : (1ull << f.c.n) - 1;
	memset(&h, 0, sizeof(h));
	h.ctx = &f;
	h.event = f_event;
	h.read = f_read;
	h.sendable = d[3] & 0x80 ? f_sendable : NULL;
	h.store = f_store;
	h.can_serve = f_have;
	h.claim = f_claim;
	h.release = f_release;
	h.have = f_have;
	h.complete = f_complete;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = d[3] & 1 ? PEER_SERVE : PEER_FETCH;
	cfg.mi = &mi;
	cfg.queue = 1 + d[2] % 200;
	cfg.timeout = 5 * PEER_SEC;
	cfg.fast = d[3] >> 1 & 1;
	res[5] = 0x10;
	res[7] = 0x04;
	wire_handshake(bths, res, IH,
	    (const unsigned char *)"-LT2080-xxxxxxxxxxxx");

	mkrnd(rnd, 1);
	if (peer_mse_incoming(&pm, policy, IH, rnd, err) == -1)
		abort();
	if (peer_init(&p, &cfg, &h, &pm.tr, now) == -1) {
		peer_free(&p);
		free(hashes);
		return 0;
	}
	if (peer_mse_start(&pm, &p) == -1)
		abort();	/* incoming: nothing to start */
	if (mode == 1 || mode == 2)
		r = real_handshake(policy, offers[d[0] >> 4 & 3],
		    d[0] >> 6 & 1, bths);
	if (r != NULL) {
		memcpy(buf, r->hs, r->len);
		hl = r->len;
		a = r->a;
		/* Without IA our handshake leads the payload. */
		if (!(d[0] & 0x40)) {
			memcpy(buf + hl, bths, sizeof(bths));
			if (a.select == MSE_RC4)
				mse_encrypt(&a, buf + hl, sizeof(bths));
			hl += sizeof(bths);
		}
		if (mode == 2)
			for (k = 0; k < hl && off < n; k++)
				buf[k] ^= d[off++];
		encrypt = mode == 1 && a.select == MSE_RC4;
	} else if (mode == 3) {
		memcpy(buf, bths, sizeof(bths));
		hl = sizeof(bths);
	}
	/* The handshake in two cuts, the first chosen by d[2]. */
	k = hl == 0 ? 0 : (size_t)d[2] * 7 % hl;
	if (hl > 0 && feed(&p, buf, k, now) == 0) {
		drain(&p, &cfg, now);
		if (feed(&p, buf + k, hl - k, now) == 0)
			drain(&p, &cfg, now);
	}
	while (off + 2 <= n && peer_done(&p) < 0) {
		len = d[off] * 8u + 1;
		now += (int64_t)d[off + 1] * d[off + 1] * 10000;
		off += 2;
		if (len > n - off)
			len = n - off;
		memcpy(blk, d + off, len);
		if (encrypt)
			mse_encrypt(&a, blk, len);
		off += len;
		if (feed(&p, blk, len, now) == -1)
			break;
		drain(&p, &cfg, now);
	}
	if (d[0] & 0x80)
		peer_eof(&p, now);
	if (peer_done(&p) > 0 && peer_reason(&p)[0] == '\0')
		abort();
	/* Decided: announced once, as what the machine says. */
	if (peer_mse_method(&pm) != NULL) {
		if (f.nenc != 1 || strcmp(f.enc, peer_mse_method(&pm)) != 0)
			abort();
	} else if (f.nenc != 0)
		abort();
	/* Require: nothing past the handshakes unless over RC4. */
	if (policy == PEER_CRYPTO_REQUIRE && p.phase == PEER_PH_MESSAGES &&
	    (peer_mse_method(&pm) == NULL ||
	    strcmp(peer_mse_method(&pm), "rc4") != 0))
		abort();
	peer_free(&p);
	free(hashes);
	return 0;
}
