/*
 * test_mse.c: RC4 against published vectors, and the MSE handshake with
 * both roles talking through buffers, the streams cut at every byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bt.h"
#include "mse.h"
#include "rc4.h"
#include "t.h"

static const uint8_t IH[20] = "0123456789abcdefghij";
static const uint8_t OTHER[20] = "ABCDEFGHIJKLMNOPQRST";

static int
hexeq(const uint8_t *p, size_t n, const char *hex)
{
	char buf[256];
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", p[i]);
	if (strcmp(buf, hex) != 0) {
		printf("#   got %s, want %s\n", buf, hex);
		return 0;
	}
	return 1;
}

static int
crypt_eq(const char *key, const char *text, const char *hex)
{
	struct rc4 c;
	uint8_t buf[64];
	size_t n = strlen(text);

	memcpy(buf, text, n);
	rc4_init(&c, (const uint8_t *)key, strlen(key));
	rc4_crypt(&c, buf, n);
	return hexeq(buf, n, hex);
}

/* The classic short vectors, and RFC 6229's 128-bit key at 0 and 1024. */
static void
rc4_vectors(void)
{
	static const uint8_t k[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	    13, 14, 15, 16 };
	struct rc4 c;
	uint8_t z[16];

	CHECK(crypt_eq("Key", "Plaintext", "bbf316e8d940af0ad3"));
	CHECK(crypt_eq("Wiki", "pedia", "1021bf0420"));
	CHECK(crypt_eq("Secret", "Attack at dawn",
	    "45a01f645fc35b383552544b9bf5"));
	rc4_init(&c, k, sizeof k);
	memset(z, 0, sizeof z);
	rc4_crypt(&c, z, sizeof z);
	CHECK(hexeq(z, 16, "9ac7cc9a609d1ef7b2932899cde41b97"));
	rc4_skip(&c, 1024 - 16);
	memset(z, 0, sizeof z);
	rc4_crypt(&c, z, sizeof z);
	CHECK(hexeq(z, 16, "bdf0324e6083dcc6d3cedd3ca8c53c16"));
}

/* Deterministic "randomness": a small xorshift stream from a seed. */
static void
fillrand(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* rnd with pad lengths forced to a and c (each 0..512). */
static void
rnd_pads(uint8_t rnd[MSE_RAND_LEN], uint32_t seed, unsigned a, unsigned c)
{
	fillrand(rnd, MSE_RAND_LEN, seed);
	rnd[20] = (uint8_t)(a >> 8);
	rnd[21] = (uint8_t)a;
	rnd[22] = (uint8_t)(c >> 8);
	rnd[23] = (uint8_t)c;
}

static int
lookup(void *ctx, const uint8_t req2[20], uint8_t skey[20])
{
	const uint8_t *known = ctx;
	uint8_t h[20];

	mse_req2(known, h);
	if (memcmp(h, req2, 20) != 0)
		return 0;
	memcpy(skey, known, 20);
	return 1;
}

/* A lookup that names the wrong torrent: the keys then disagree. */
static int
lookup_wrong(void *ctx, const uint8_t req2[20], uint8_t skey[20])
{
	(void)ctx;
	(void)req2;
	memcpy(skey, OTHER, 20);
	return 1;
}

#define WIRE_MAX 8192
#define IA_TEXT "\x13" "BitTorrent protocol initial payload from A......"
#define B_TEXT "B's first payload bytes"
#define A_TEXT "A's later payload"

/* One side of a conversation: its machine, what it queued, what it read. */
struct side {
	struct mse	 m;
	int		 done, failed, sent;
	char		 err[BT_ERRLEN];
	uint8_t		 wire[WIRE_MAX];	/* bytes on the way out */
	size_t		 wlen, delivered;
	uint8_t		 plain[WIRE_MAX];	/* payload read */
	size_t		 plen;
};

/* Moves queued output (and, once done, the payload) onto the wire. */
static void
flush(struct side *s, const char *payload)
{
	const uint8_t *p;
	size_t n = mse_output(&s->m, &p), k;

	memcpy(s->wire + s->wlen, p, n);
	s->wlen += n;
	mse_sent(&s->m, n);
	if (s->done && !s->sent) {
		k = strlen(payload);
		memcpy(s->wire + s->wlen, payload, k);
		mse_encrypt(&s->m, s->wire + s->wlen, k);
		s->wlen += k;
		s->sent = 1;
	}
}

static void
feed(struct side *s, const uint8_t *p, size_t n)
{
	size_t used = 0;
	int r;

	if (s->failed)
		return;
	if (!s->done) {
		r = mse_input(&s->m, p, n, &used, s->err);
		if (r == -1) {
			s->failed = 1;
			return;
		}
		s->done = r;
	}
	memcpy(s->plain + s->plen, p + used, n - used);
	mse_decrypt(&s->m, s->plain + s->plen, n - used);
	s->plen += n - used;
}

/* Delivers from's wire to to: first up to byte cut, then the rest. */
static int
deliver(struct side *from, struct side *to, size_t cut)
{
	size_t n = from->wlen - from->delivered;

	if (from->delivered < cut && from->delivered + n > cut)
		n = cut - from->delivered;
	if (n == 0)
		return 0;
	feed(to, from->wire + from->delivered, n);
	from->delivered += n;
	return 1;
}

/*
 * Runs A and B to the end with both wires cut at byte cut; 1 if both
 * finished with the expected method and payloads.
 */
static int
converse(struct side *a, struct side *b, uint32_t provide, uint32_t allowed,
    uint32_t seed, unsigned pad, size_t cut, uint32_t want)
{
	uint8_t ra[MSE_RAND_LEN], rb[MSE_RAND_LEN];
	char err[BT_ERRLEN];
	size_t ialen = strlen(IA_TEXT);
	int moved, rounds = 0;

	memset(a, 0, sizeof *a);
	memset(b, 0, sizeof *b);
	rnd_pads(ra, seed, pad, (pad * 7) % 513);
	rnd_pads(rb, seed + 1, (pad * 3) % 513, pad);
	if (mse_start_initiator(&a->m, IH, provide, (const uint8_t *)IA_TEXT,
	    ialen, ra, err) == -1 || mse_start_receiver(&b->m, allowed,
	    lookup, (void *)IH, rb, err) == -1)
		return 0;
	do {
		flush(a, A_TEXT);
		flush(b, B_TEXT);
		moved = deliver(a, b, cut) | deliver(b, a, cut);
	} while (moved && ++rounds < 10000);
	if (a->failed || b->failed || !a->done || !b->done) {
		printf("#   cut %zu: A %s, B %s\n", cut, a->err, b->err);
		return 0;
	}
	return a->m.select == want && b->m.select == want &&
	    b->m.ia_len == ialen && memcmp(b->m.skey, IH, 20) == 0 &&
	    b->plen == ialen + strlen(A_TEXT) &&
	    memcmp(b->plain, IA_TEXT A_TEXT, b->plen) == 0 &&
	    a->plen == strlen(B_TEXT) && memcmp(a->plain, B_TEXT, a->plen) == 0;
}

static struct side A, B;

static void
every_cut(void)
{
	size_t cut, bad = 0, total;

	/* Both pads at 100: a total A->B stream of about 850 bytes. */
	CHECK(converse(&A, &B, MSE_RC4 | MSE_PLAIN, MSE_RC4, 1,
	    100, 0, MSE_RC4));
	total = A.wlen > B.wlen ? A.wlen : B.wlen;
	for (cut = 0; cut <= total; cut++)
		if (!converse(&A, &B, MSE_RC4 | MSE_PLAIN, MSE_RC4,
		    (uint32_t)cut, 100, cut, MSE_RC4))
			bad++;
	CHECK(bad == 0);
	CHECK(total > 400);
	printf("# %zu cuts, every one completed\n", total + 1);
}

/* One byte at a time, both ways, pads at the extremes. */
static int
bytewise(uint32_t provide, uint32_t allowed, unsigned pad, uint32_t want)
{
	uint8_t ra[MSE_RAND_LEN], rb[MSE_RAND_LEN];
	char err[BT_ERRLEN];
	int moved;

	memset(&A, 0, sizeof A);
	memset(&B, 0, sizeof B);
	rnd_pads(ra, pad, pad, pad);
	rnd_pads(rb, pad + 9, pad, pad);
	if (mse_start_initiator(&A.m, IH, provide, (const uint8_t *)IA_TEXT,
	    strlen(IA_TEXT), ra, err) == -1 || mse_start_receiver(&B.m,
	    allowed, lookup, (void *)IH, rb, err) == -1)
		return 0;
	do {
		flush(&A, A_TEXT);
		flush(&B, B_TEXT);
		moved = deliver(&A, &B, A.delivered + 1) |
		    deliver(&B, &A, B.delivered + 1);
	} while (moved);
	return A.done && B.done && !A.failed && !B.failed &&
	    A.m.select == want && B.m.select == want &&
	    memcmp(B.plain, IA_TEXT A_TEXT, B.plen) == 0 &&
	    A.plen == strlen(B_TEXT) && memcmp(A.plain, B_TEXT, A.plen) == 0;
}

static void
methods(void)
{
	/* Both offered, both allowed: plaintext; RC4 when B takes only it. */
	CHECK(bytewise(MSE_RC4 | MSE_PLAIN, MSE_RC4 | MSE_PLAIN, 0, MSE_PLAIN));
	CHECK(bytewise(MSE_RC4 | MSE_PLAIN, MSE_RC4 | MSE_PLAIN, 512,
	    MSE_PLAIN));
	CHECK(bytewise(MSE_RC4 | MSE_PLAIN, MSE_RC4, 512, MSE_RC4));
	CHECK(bytewise(MSE_RC4, MSE_RC4, 512, MSE_RC4));
	CHECK(bytewise(MSE_PLAIN, MSE_RC4 | MSE_PLAIN, 37, MSE_PLAIN));
	CHECK(bytewise(MSE_RC4 | MSE_PLAIN, MSE_PLAIN, 511, MSE_PLAIN));
	/* Plaintext selected: the payload after the header is readable. */
	CHECK(bytewise(MSE_PLAIN, MSE_PLAIN, 5, MSE_PLAIN));
	CHECK(memcmp(A.wire + A.wlen - strlen(A_TEXT), A_TEXT,
	    strlen(A_TEXT)) == 0);
	/* RC4: it is not. */
	CHECK(bytewise(MSE_RC4, MSE_RC4, 5, MSE_RC4));
	CHECK(memcmp(A.wire + A.wlen - strlen(A_TEXT), A_TEXT,
	    strlen(A_TEXT)) != 0);
	CHECK(strcmp(mse_method_name(MSE_RC4), "rc4") == 0);
}

/* B and A after a refusal: the error mentions msg. */
static int
says(const struct side *s, const char *msg)
{
	if (!s->failed || strstr(s->err, msg) == NULL) {
		printf("#   got '%s', want '%s'\n", s->err, msg);
		return 0;
	}
	return 1;
}

static void
refusals(void)
{
	uint8_t ra[MSE_RAND_LEN], rb[MSE_RAND_LEN], junk[700];
	const uint8_t *p;
	char err[BT_ERRLEN];
	size_t n, used;

	/* No method in common. */
	CHECK(!converse(&A, &B, MSE_RC4, MSE_PLAIN, 3, 10, 0, MSE_RC4));
	CHECK(says(&B, "we accept 0x1"));
	/* An info-hash B does not serve. */
	rnd_pads(ra, 4, 20, 20);
	rnd_pads(rb, 5, 20, 20);
	memset(&A, 0, sizeof A);
	memset(&B, 0, sizeof B);
	CHECK(mse_start_initiator(&A.m, OTHER, MSE_RC4, NULL, 0, ra, err) == 0);
	CHECK(mse_start_receiver(&B.m, MSE_RC4, lookup, (void *)IH, rb,
	    err) == 0);
	while (flush(&A, ""), flush(&B, ""), deliver(&A, &B, 0) |
	    deliver(&B, &A, 0))
		;
	CHECK(says(&B, "torrent we do not serve"));
	/* A lookup that answers with the wrong key: VC does not decrypt. */
	memset(&A, 0, sizeof A);
	memset(&B, 0, sizeof B);
	CHECK(mse_start_initiator(&A.m, IH, MSE_RC4, NULL, 0, ra, err) == 0);
	CHECK(mse_start_receiver(&B.m, MSE_RC4, lookup_wrong, NULL, rb,
	    err) == 0);
	while (flush(&A, ""), flush(&B, ""), deliver(&A, &B, 0) |
	    deliver(&B, &A, 0))
		;
	CHECK(says(&B, "bad verification constant"));

	/* B given a real Ya then junk: dropped at byte 628, not before. */
	fillrand(junk, sizeof junk, 77);
	CHECK(mse_start_initiator(&A.m, IH, MSE_RC4, NULL, 0, ra, err) == 0);
	n = mse_output(&A.m, &p);
	CHECK(n >= MSE_DH_LEN);
	memcpy(junk, p, MSE_DH_LEN);
	CHECK(mse_start_receiver(&B.m, MSE_RC4, lookup, (void *)IH, rb,
	    err) == 0);
	CHECK(mse_input(&B.m, junk, MSE_SYNC_REQ1 - 1, &used, err) == 0);
	CHECK(used == MSE_SYNC_REQ1 - 1);
	CHECK(mse_input(&B.m, junk + MSE_SYNC_REQ1 - 1, 50, &used, err) == -1);
	CHECK(used == 1);
	CHECK(strstr(err, "within 628 bytes") != NULL);
	/* Refused once, refused for good. */
	CHECK(mse_input(&B.m, junk, 1, &used, err) == -1);
	CHECK(used == 0);

	/* A given a real Yb then junk: dropped at byte 616. */
	CHECK(mse_start_receiver(&B.m, MSE_RC4, lookup, (void *)IH, rb,
	    err) == 0);
	n = mse_output(&B.m, &p);
	memcpy(junk, p, MSE_DH_LEN);
	CHECK(mse_start_initiator(&A.m, IH, MSE_RC4, NULL, 0, ra, err) == 0);
	CHECK(mse_input(&A.m, junk, MSE_SYNC_VC - 1, &used, err) == 0);
	CHECK(mse_input(&A.m, junk + MSE_SYNC_VC - 1, 50, &used, err) == -1);
	CHECK(strstr(err, "within 616 bytes") != NULL);

	/* Public keys out of range: 0, 1, P-1 and all ones. */
	CHECK(mse_start_receiver(&B.m, MSE_RC4, lookup, (void *)IH, rb,
	    err) == 0);
	memset(junk, 0, MSE_DH_LEN);
	CHECK(mse_input(&B.m, junk, MSE_DH_LEN, &used, err) == -1);
	CHECK(strstr(err, "out of range") != NULL);
	CHECK(mse_start_receiver(&B.m, MSE_RC4, lookup, (void *)IH, rb,
	    err) == 0);
	junk[MSE_DH_LEN - 1] = 1;
	CHECK(mse_input(&B.m, junk, MSE_DH_LEN, &used, err) == -1);
	CHECK(mse_start_initiator(&A.m, IH, MSE_RC4, NULL, 0, ra, err) == 0);
	memset(junk, 0xff, MSE_DH_LEN);
	CHECK(mse_input(&A.m, junk, MSE_DH_LEN, &used, err) == -1);
	CHECK(strstr(err, "out of range") != NULL);

	/* Bad arguments. */
	CHECK(mse_start_initiator(&A.m, IH, 0, NULL, 0, ra, err) == -1);
	CHECK(mse_start_initiator(&A.m, IH, MSE_RC4, junk, MSE_IA_MAX + 1, ra,
	    err) == -1);
	CHECK(mse_start_receiver(&B.m, 4, lookup, NULL, rb, err) == -1);
}

/* A plain BEP 3 handshake is told apart from MSE by its first bytes. */
static void
sniff(void)
{
	static const uint8_t hs[] = "\x13" "BitTorrent protocol\0\0";
	uint8_t y[4] = { 0x13, 'B', 'x', 0 };

	CHECK(mse_sniff(hs, 0) == -1);
	CHECK(mse_sniff(hs, 1) == -1);
	CHECK(mse_sniff(hs, 19) == -1);
	CHECK(mse_sniff(hs, 20) == 1);
	CHECK(mse_sniff(hs, 22) == 1);
	CHECK(mse_sniff(y, 2) == -1);
	CHECK(mse_sniff(y, 3) == 0);
	y[0] = 0x14;
	CHECK(mse_sniff(y, 1) == 0);
}

int
main(void)
{
	RUN(rc4_vectors);
	RUN(methods);
	RUN(every_cut);
	RUN(refusals);
	RUN(sniff);
	DONE();
}
