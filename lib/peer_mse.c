/* peer_mse.c: MSE/PE as the peer core's transform (peer_mse.h). */
#include <string.h>

#include "bt.h"
#include "peer_int.h"
#include "peer_mse.h"

enum {
	PM_SNIFF,	/* incoming: plain or MSE? */
	PM_MSE,		/* the MSE handshake runs */
	PM_ENCRYPTED,	/* MSE done: mse_encrypt/mse_decrypt */
	PM_PLAIN	/* a plain BEP 3 handshake came: pass through */
};

int
peer_crypto_parse(const char *s, enum peer_crypto *c)
{
	if (strcmp(s, "off") == 0)
		*c = PEER_CRYPTO_OFF;
	else if (strcmp(s, "prefer") == 0)
		*c = PEER_CRYPTO_PREFER;
	else if (strcmp(s, "require") == 0)
		*c = PEER_CRYPTO_REQUIRE;
	else if (strcmp(s, "tolerate") == 0)
		*c = PEER_CRYPTO_TOLERATE;
	else
		return -1;
	return 0;
}

/*
 * What we offer or accept: require means RC4 only; prefer takes the
 * plaintext method too, which the peer may pick to save CPU (the header
 * is obfuscated either way).
 */
static uint32_t
methods(const struct peer_mse *pm)
{
	return pm->policy == PEER_CRYPTO_REQUIRE ? MSE_RC4 :
	    MSE_RC4 | MSE_PLAIN;
}

static int
lookup(void *ctx, const uint8_t req2[20], uint8_t skey[20])
{
	const struct peer_mse *pm = ctx;
	uint8_t h[20];

	mse_req2(pm->ih, h);
	if (memcmp(h, req2, 20) != 0)
		return 0;
	memcpy(skey, pm->ih, 20);
	return 1;
}

/* Moves what the MSE machine queued into the core's output. */
static int
flush(struct peer_mse *pm, struct peer *p)
{
	const uint8_t *b;
	size_t n = mse_output(&pm->m, &b);

	if (n > 0 && peer_out_add(p, b, n) == -1)
		return -1;
	mse_sent(&pm->m, n);
	return 0;
}

static void
decided(struct peer_mse *pm, struct peer *p)
{
	const char *how = peer_mse_method(pm);

	peer_trace(p, "encryption %s", how);
	if (pm->addr != NULL)
		peer_event(p, "encryption %s %s", how, pm->addr);
	else
		peer_event(p, "encryption %s", how);
}

static long
handshake(void *ctx, struct peer *p, const unsigned char *b, size_t n,
    int *established, char *err)
{
	struct peer_mse *pm = ctx;
	char why[BT_ERRLEN];
	size_t used;
	int r;

	if (pm->state == PM_SNIFF) {
		r = mse_sniff(b, n);
		if (r == -1)
			return 0;
		if (r == 1) {
			if (pm->policy == PEER_CRYPTO_REQUIRE)
				return bt_err(err, "plaintext handshake "
				    "refused: encryption is required");
			pm->state = PM_PLAIN;
			*established = 1;
			decided(pm, p);
			return 0;
		}
		if (mse_start_receiver(&pm->m, methods(pm), lookup, pm,
		    pm->rnd, err) == -1)
			return -1;
		pm->state = PM_MSE;
	}
	r = mse_input(&pm->m, b, n, &used, why);
	if (r == -1)
		return bt_err(err, "MSE handshake: %s", why);
	if (flush(pm, p) == -1)
		return bt_err(err, "out of memory");
	if (r == 1) {
		pm->state = PM_ENCRYPTED;
		*established = 1;
		if (pm->m.ia_len > 0)
			peer_trace(p, "< MSE initial payload, %u bytes",
			    (unsigned)pm->m.ia_len);
		decided(pm, p);
	}
	return (long)used;
}

static void
decode(void *ctx, unsigned char *b, size_t n)
{
	struct peer_mse *pm = ctx;

	if (pm->state == PM_ENCRYPTED)
		mse_decrypt(&pm->m, b, n);
}

static void
encode(void *ctx, unsigned char *b, size_t n)
{
	struct peer_mse *pm = ctx;

	if (pm->state == PM_ENCRYPTED)
		mse_encrypt(&pm->m, b, n);
}

/* Bytes go out unchanged: a plain handshake came, or MSE chose plaintext. */
static int
identity(void *ctx)
{
	const struct peer_mse *pm = ctx;

	return pm->state == PM_PLAIN || (pm->state == PM_ENCRYPTED &&
	    pm->m.select != MSE_RC4);
}

static int
setup(struct peer_mse *pm, enum peer_crypto policy, int incoming,
    const unsigned char ih[20], const uint8_t rnd[MSE_RAND_LEN], char *err)
{
	memset(pm, 0, sizeof(*pm));
	if (policy == PEER_CRYPTO_OFF)
		return bt_err(err, "no transform for --encryption off");
	pm->policy = policy;
	pm->incoming = incoming;
	pm->state = incoming ? PM_SNIFF : PM_MSE;
	memcpy(pm->ih, ih, 20);
	memcpy(pm->rnd, rnd, MSE_RAND_LEN);
	pm->tr.ctx = pm;
	pm->tr.handshake = handshake;
	pm->tr.decode = decode;
	pm->tr.encode = encode;
	pm->tr.identity = identity;
	return 0;
}

int
peer_mse_outgoing(struct peer_mse *pm, enum peer_crypto policy,
    const unsigned char ih[20], const uint8_t rnd[MSE_RAND_LEN], char *err)
{
	if (setup(pm, policy, 0, ih, rnd, err) == -1)
		return -1;
	pm->ia = 1;
	return 0;
}

int
peer_mse_incoming(struct peer_mse *pm, enum peer_crypto policy,
    const unsigned char ih[20], const uint8_t rnd[MSE_RAND_LEN], char *err)
{
	return setup(pm, policy, 1, ih, rnd, err);
}

/*
 * Our BitTorrent handshake rides in step 3 as MSE's initial payload, so
 * the peer answers it with its own right after step 4: a round trip
 * saved. Without pm->ia it follows the MSE handshake as payload.
 */
int
peer_mse_start(struct peer_mse *pm, struct peer *p)
{
	char err[BT_ERRLEN];

	if (pm->incoming)
		return 0;
	if (mse_start_initiator(&pm->m, pm->ih, methods(pm), pm->ia ?
	    p->our_hs : NULL, pm->ia ? sizeof(p->our_hs) : 0, pm->rnd,
	    err) == -1)
		return peer_fail(p, BT_FAIL_SYSTEM, "%s", err);
	p->hs_in_tr = pm->ia;
	if (flush(pm, p) == -1)
		return peer_fail(p, BT_FAIL_SYSTEM, "out of memory");
	peer_trace(p, "> MSE handshake (%s)%s", pm->policy ==
	    PEER_CRYPTO_REQUIRE ? "rc4" : "rc4 or plaintext", pm->ia ?
	    ", handshake as initial payload" : "");
	return 0;
}

const char *
peer_mse_method(const struct peer_mse *pm)
{
	if (pm->state == PM_PLAIN)
		return "none";
	if (pm->state == PM_ENCRYPTED)
		return mse_method_name(pm->m.select);
	return NULL;
}

int
peer_mse_fallback(const struct peer_mse *pm, const struct peer *p)
{
	return !pm->incoming && pm->policy == PEER_CRYPTO_PREFER &&
	    pm->state == PM_MSE && p->phase == PEER_PH_TRANSFORM &&
	    peer_done(p) == BT_EXIT_WORLD;
}

int
peer_plain_fallback(const struct peer *p)
{
	return p->tr == NULL && p->phase == PEER_PH_HANDSHAKE &&
	    peer_done(p) == BT_EXIT_WORLD;
}
