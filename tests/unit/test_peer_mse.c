/*
 * test_peer_mse.c: MSE in the peer core's transform slot (peer_mse.h).
 * Two real cores, a downloader that dials and a server that accepted,
 * exchange a small torrent through buffers in chunks of every size
 * from 1 byte, under each pair of policies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bt.h"
#include "peer.h"
#include "peer_mse.h"
#include "t.h"

/* 3 pieces of 32 KiB, the last 20000 bytes. */
#define PLEN	32768
#define TOTAL	(2 * PLEN + 20000)

static struct metainfo mi;
static unsigned char data[TOTAL], hashes[60];

/* One side: what it has, and its events (";"-separated). */
struct side {
	unsigned char	 had[3];
	int		 claimed;
	char		 log[2048];
};

static int64_t
f_claim(void *ctx, const unsigned char *has, int64_t *eg)
{
	struct side *s = ctx;
	int i;

	*eg = -1;
	for (i = 0; i < 3; i++)
		if (!s->had[i] && (has[0] & (0x80 >> i)) &&
		    !(s->claimed & (1 << i))) {
			s->claimed |= 1 << i;
			return i;
		}
	for (i = 0; i < 3; i++)
		if (!s->had[i] && (has[0] & (0x80 >> i)))
			return -1;
	return -2;
}

static void
f_release(void *ctx, uint32_t i)
{
	((struct side *)ctx)->claimed &= ~(1 << i);
}

static int
f_have(void *ctx, uint32_t i)
{
	return ((struct side *)ctx)->had[i];
}

static int
f_complete(void *ctx)
{
	struct side *s = ctx;

	return s->had[0] && s->had[1] && s->had[2];
}

static int
f_store(void *ctx, uint32_t i, const unsigned char *b, size_t n, char *err)
{
	struct side *s = ctx;

	(void)err;
	if (n != mi_piece_size(&mi, i) ||
	    memcmp(b, data + (size_t)i * PLEN, n) != 0)
		return bt_err(err, "wrong bytes stored");
	s->had[i] = 1;
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
f_event(void *ctx, const char *line)
{
	struct side *s = ctx;
	size_t n = strlen(s->log);

	if (strncmp(line, "encryption", 10) == 0)
		snprintf(s->log + n, sizeof(s->log) - n, "%s;", line);
}

static void
setup(void)
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
}

static void
host_init(struct peer_host *h, struct side *s)
{
	memset(h, 0, sizeof(*h));
	h->ctx = s;
	h->claim = f_claim;
	h->release = f_release;
	h->have = f_have;
	h->complete = f_complete;
	h->can_serve = f_have;
	h->store = f_store;
	h->read = f_read;
	h->event = f_event;
}

/*
 * Not 0: the first read of each side stops after this many bytes of
 * its stream, the next takes the rest (a cut at every byte).
 */
static size_t cut_at;

/*
 * Moves up to chunk bytes from one core to the other (*sent counts
 * them, for cut_at); 1 if any moved.
 */
static int
move(struct peer *from, struct peer *to, size_t chunk, int64_t now,
    size_t *sent)
{
	const unsigned char *b;
	size_t n;

	if (peer_done(from) >= 0)
		return 0;
	peer_fill(from);
	peer_output(from, &b, &n);
	if (n > chunk)
		n = chunk;
	if (*sent < cut_at && n > cut_at - *sent)
		n = cut_at - *sent;
	*sent += n;
	if (n == 0)
		return 0;
	if (peer_done(to) < 0)
		peer_input(to, b, n, now);
	peer_sent(from, n, now);
	return 1;
}

struct run {
	struct side	 a, b;		/* a dials and downloads, b serves */
	struct peer	 pa, pb;
	struct peer_mse	 ma, mb;
	int		 fallback;	/* peer_mse_fallback(a) at the end */
	size_t		 b_ia;		/* the IA length b's MSE saw */
	int		 plain_fallback; /* a plain a: peer_plain_fallback */
};

/* a sends its handshake as MSE's initial payload (the default). */
static int use_ia = 1;
/* a's pm.addr: the address its event names. */
static const char *a_addr;
/*
 * 1: a dials with every piece and serves (btpeer's seed-out), b fetches;
 * 2: both have every piece and serve.
 */
static int a_seeds;

/*
 * a with policy ea dials b with policy eb; chunk bytes at a time.
 * Returns a's exit class (-1 if still running when nothing moves).
 */
static int
converse(struct run *r, enum peer_crypto ea, enum peer_crypto eb,
    size_t chunk, unsigned seed)
{
	struct peer_cfg ca, cb;
	struct peer_host ha, hb;
	uint8_t rnd[MSE_RAND_LEN];
	char err[BT_ERRLEN];
	int64_t now = 0;
	size_t k, sa = 0, sb = 0;
	int moved, rounds = 0;

	memset(r, 0, sizeof(*r));
	memset(r->b.had, a_seeds != 1, 3);
	memset(r->a.had, a_seeds != 0, 3);
	host_init(&ha, &r->a);
	host_init(&hb, &r->b);
	memset(&ca, 0, sizeof(ca));
	ca.mode = PEER_FETCH;
	ca.mi = &mi;
	memcpy(ca.peer_id, "-BP0100-aaaaaaaaaaaa", 20);
	ca.queue = 16;
	ca.timeout = 5 * PEER_SEC;
	cb = ca;
	cb.mode = a_seeds == 1 ? PEER_FETCH : PEER_SERVE;
	if (a_seeds)
		ca.mode = PEER_SERVE;
	memcpy(cb.peer_id, "-BP0100-bbbbbbbbbbbb", 20);
	for (k = 0; k < sizeof(rnd); k++)
		rnd[k] = (uint8_t)(k * 31 + seed);
	if (ea != PEER_CRYPTO_OFF && peer_mse_outgoing(&r->ma, ea,
	    mi.info_hash, rnd, err) == -1)
		return -2;
	rnd[0] ^= 0x55;
	if (eb != PEER_CRYPTO_OFF && peer_mse_incoming(&r->mb, eb,
	    mi.info_hash, rnd, err) == -1)
		return -2;
	peer_init(&r->pa, &ca, &ha, ea != PEER_CRYPTO_OFF ? &r->ma.tr : NULL,
	    now);
	peer_init(&r->pb, &cb, &hb, eb != PEER_CRYPTO_OFF ? &r->mb.tr : NULL,
	    now);
	if (ea != PEER_CRYPTO_OFF) {
		r->ma.ia = use_ia;
		r->ma.addr = a_addr;
		peer_mse_start(&r->ma, &r->pa);
	}
	do {
		moved = move(&r->pa, &r->pb, chunk, now, &sa);
		moved |= move(&r->pb, &r->pa, chunk, now, &sb);
		/* A side that failed closes: the other sees end of file. */
		if (peer_done(&r->pb) >= 0 && peer_done(&r->pa) < 0)
			peer_eof(&r->pa, now);
		if (peer_done(&r->pa) >= 0 && peer_done(&r->pb) < 0)
			peer_eof(&r->pb, now);
		now += 10;	/* 10 us a round: no timer fires */
		peer_tick(&r->pa, now);
		peer_tick(&r->pb, now);
		/* Idle: let a second pass for the ticks' own checks. */
		if (!moved && rounds < 10 && peer_done(&r->pa) < 0) {
			now += PEER_SEC;
			moved = 1;
		}
	} while (moved && peer_done(&r->pa) < 0 && ++rounds < 1000000);
	r->fallback = ea != PEER_CRYPTO_OFF &&
	    peer_mse_fallback(&r->ma, &r->pa);
	r->b_ia = eb != PEER_CRYPTO_OFF ? r->mb.m.ia_len : 0;
	r->plain_fallback = ea == PEER_CRYPTO_OFF &&
	    peer_plain_fallback(&r->pa);
	k = (size_t)peer_done(&r->pa);
	peer_free(&r->pa);
	peer_free(&r->pb);
	return (int)k;
}

static struct run R;

/* prefer both ways, each side's stream cut in two at byte cut. */
static int
converse_cut(struct run *r, size_t cut, unsigned seed)
{
	int rc;

	cut_at = cut;
	rc = converse(r, PEER_CRYPTO_PREFER, PEER_CRYPTO_PREFER, 1 << 20,
	    seed);
	cut_at = 0;
	return rc;
}

static void
test_chunks(void)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 19, 20, 21, 95, 96, 97,
	    500, 4096, 1 << 20 };
	/*
	 * b requiring RC4 gets it; b preferring takes the plaintext method
	 * a offers too (the header obfuscated, the payload not).
	 */
	static const struct {
		enum peer_crypto b;
		const char *log;
	} modes[] = {
		{ PEER_CRYPTO_REQUIRE, "encryption rc4;" },
		{ PEER_CRYPTO_PREFER, "encryption plaintext;" },
	};
	size_t k, m;
	int bad = 0;

	setup();
	/* Our handshake in MSE's IA, then after MSE as older peers do. */
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
	for (use_ia = 1; use_ia >= 0; use_ia--)
		for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			if (converse(&R, PEER_CRYPTO_PREFER,
			    modes[m].b, chunks[k], (unsigned)k) !=
			    BT_EXIT_OK || !f_complete(&R.a) ||
			    strcmp(R.a.log, modes[m].log) != 0 ||
			    strcmp(R.b.log, modes[m].log) != 0 ||
			    R.b_ia != (use_ia ? WIRE_HANDSHAKE_LEN : 0)) {
				printf("#   ia %d chunk %zu: a '%s' b '%s' "
				    "ia %zu\n", use_ia, chunks[k], R.a.log,
				    R.b.log, R.b_ia);
				bad++;
			}
		}
	use_ia = 1;
	CHECK(bad == 0);
}

/*
 * Every cut of the first 1400 bytes of each stream (the MSE handshake, the
 * IA and the messages after it) into two reads, with the IA or without.
 */
static void
test_cuts(void)
{
	int bad = 0;

	setup();
	for (use_ia = 1; use_ia >= 0; use_ia--) {
		size_t cut;

		/* Past the longest MSE step 3 with its IA (1244 bytes). */
		for (cut = 1; cut < 1400; cut++) {
			if (converse_cut(&R, cut, (unsigned)cut) != BT_EXIT_OK ||
			    !f_complete(&R.a) ||
			    R.b_ia != (use_ia ? WIRE_HANDSHAKE_LEN : 0)) {
				printf("#   ia %d cut %zu: a '%s' b '%s'\n",
				    use_ia, cut, R.a.log, R.b.log);
				bad++;
			}
		}
	}
	use_ia = 1;
	CHECK(bad == 0);
}

static void
test_policies(void)
{
	setup();
	CHECK(converse(&R, PEER_CRYPTO_REQUIRE, PEER_CRYPTO_PREFER, 777, 1) ==
	    BT_EXIT_OK && f_complete(&R.a));
	CHECK(strcmp(R.b.log, "encryption rc4;") == 0);
	/* A plain dialer: a listener under prefer tells it from MSE. */
	CHECK(converse(&R, PEER_CRYPTO_OFF, PEER_CRYPTO_PREFER, 5, 2) ==
	    BT_EXIT_OK && f_complete(&R.a));
	CHECK(strcmp(R.b.log, "encryption none;") == 0);
	CHECK(R.a.log[0] == '\0');
	/* ... which require refuses. */
	CHECK(converse(&R, PEER_CRYPTO_OFF, PEER_CRYPTO_REQUIRE, 5, 3) ==
	    BT_EXIT_WORLD && !R.a.had[0]);
	/* A plain listener drops our MSE: prefer may retry in plain. */
	CHECK(converse(&R, PEER_CRYPTO_PREFER, PEER_CRYPTO_OFF, 64, 4) ==
	    BT_EXIT_WORLD && R.fallback);
	/* require may not. */
	CHECK(converse(&R, PEER_CRYPTO_REQUIRE, PEER_CRYPTO_OFF, 64, 5) ==
	    BT_EXIT_WORLD && !R.fallback);
	/*
	 * tolerate dials plain first: a peer that requires MSE closes it
	 * before its handshake, worth a retry with MSE; one that answers
	 * is not.
	 */
	CHECK(converse(&R, PEER_CRYPTO_OFF, PEER_CRYPTO_REQUIRE, 64, 6) ==
	    BT_EXIT_WORLD && R.plain_fallback);
	CHECK(converse(&R, PEER_CRYPTO_OFF, PEER_CRYPTO_OFF, 64, 7) ==
	    BT_EXIT_OK && !R.plain_fallback);
	/* Listening, tolerate takes both kinds. */
	CHECK(converse(&R, PEER_CRYPTO_OFF, PEER_CRYPTO_TOLERATE, 64, 8) ==
	    BT_EXIT_OK && strcmp(R.b.log, "encryption none;") == 0);
	CHECK(converse(&R, PEER_CRYPTO_PREFER, PEER_CRYPTO_TOLERATE, 64, 9) ==
	    BT_EXIT_OK && strcmp(R.b.log, "encryption plaintext;") == 0);
	CHECK(converse(&R, PEER_CRYPTO_REQUIRE, PEER_CRYPTO_TOLERATE, 64, 9) ==
	    BT_EXIT_OK && strcmp(R.b.log, "encryption rc4;") == 0);
	/* A dialled peer's address follows in the event. */
	a_addr = "10.0.0.1:6881";
	CHECK(converse(&R, PEER_CRYPTO_PREFER, PEER_CRYPTO_REQUIRE, 64, 10) ==
	    BT_EXIT_OK && strcmp(R.a.log, "encryption rc4 10.0.0.1:6881;") ==
	    0 && strcmp(R.b.log, "encryption rc4;") == 0);
	a_addr = NULL;
}

/*
 * Seeding a peer we dialled: a serves b, MSE as initiator, until b has
 * everything and closes; two seeds part at once, a normal end.
 */
static void
test_seed_out(void)
{
	setup();
	a_seeds = 1;
	CHECK(converse(&R, PEER_CRYPTO_REQUIRE, PEER_CRYPTO_PREFER, 4096, 11) ==
	    BT_EXIT_OK && f_complete(&R.b));
	CHECK(strcmp(R.a.log, "encryption rc4;") == 0 && R.b_ia ==
	    WIRE_HANDSHAKE_LEN);
	a_seeds = 2;
	CHECK(converse(&R, PEER_CRYPTO_PREFER, PEER_CRYPTO_PREFER, 4096, 12) ==
	    BT_EXIT_OK);
	a_seeds = 0;
}

static void
test_parse(void)
{
	enum peer_crypto c;

	CHECK(peer_crypto_parse("off", &c) == 0 && c == PEER_CRYPTO_OFF);
	CHECK(peer_crypto_parse("prefer", &c) == 0 &&
	    c == PEER_CRYPTO_PREFER);
	CHECK(peer_crypto_parse("require", &c) == 0 &&
	    c == PEER_CRYPTO_REQUIRE);
	CHECK(peer_crypto_parse("tolerate", &c) == 0 &&
	    c == PEER_CRYPTO_TOLERATE);
	CHECK(peer_crypto_parse("rc4", &c) == -1);
}

int
main(void)
{
	RUN(test_chunks);
	RUN(test_cuts);
	RUN(test_policies);
	RUN(test_seed_out);
	RUN(test_parse);
	DONE();
}
