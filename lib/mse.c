/*
 * mse.c: the MSE/PE handshake as a byte-driven state machine (mse.h).
 * Each state names the bytes it waits for; m->in collects them, and the
 * two synchronisation states scan it one byte at a time so that nothing
 * past the marker is ever consumed.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/sha.h>

#include "bt.h"
#include "mse.h"

/* The spec's 768-bit safe prime (the Oakley group 1 prime); g = 2. */
static const char mse_prime[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563";

/* RC4 keystream bytes dropped after keying, as the spec says. */
#define MSE_DISCARD	1024

enum {
	A_YB,		/* 96 bytes of Yb */
	A_SYNC,		/* PadB then ENCRYPT(VC) */
	A_SELECT,	/* crypto_select, len(PadD) */
	A_PADD,		/* PadD */
	B_YA,		/* 96 bytes of Ya */
	B_SYNC,		/* PadA then HASH('req1', S) */
	B_REQ23,	/* HASH('req2', SKEY) xor HASH('req3', S) */
	B_PROVIDE,	/* VC, crypto_provide, len(PadC) */
	B_PADC,		/* PadC */
	B_IALEN,	/* len(IA) */
	MSE_DONE,
	MSE_FAILED	/* refused once, refused for good */
};

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
sha1_3(const char *tag, const uint8_t *a, size_t alen, const uint8_t *b,
    size_t blen, uint8_t out[20])
{
	uint8_t buf[4 + MSE_DH_LEN + 20];	/* the longest: keyX, S, SKEY */
	size_t n = strlen(tag);

	memcpy(buf, tag, n);
	memcpy(buf + n, a, alen);
	n += alen;
	if (b != NULL)
		memcpy(buf + n, b, blen);
	SHA1(buf, n + (b != NULL ? blen : 0), out);
}

void
mse_req2(const uint8_t skey[20], uint8_t out[20])
{
	sha1_3("req2", skey, 20, NULL, 0, out);
}

/*
 * out = base^priv mod P, MSE_DH_LEN bytes big-endian; base is 2 when
 * peer is NULL, else the peer's public key, refused unless 1 < Y < P-1
 * (the values that would make the secret guessable).
 */
static int
dh(const uint8_t priv[MSE_PRIV_LEN], const uint8_t *peer,
    uint8_t out[MSE_DH_LEN], char *err)
{
	BN_CTX *ctx;
	BIGNUM *p, *x, *y, *r, *pm1;
	int ok = 0;

	ctx = BN_CTX_new();
	p = NULL;
	if (ctx == NULL || BN_hex2bn(&p, mse_prime) == 0) {
		BN_CTX_free(ctx);
		return bt_err(err, "out of memory");
	}
	BN_CTX_start(ctx);
	x = BN_CTX_get(ctx);
	y = BN_CTX_get(ctx);
	r = BN_CTX_get(ctx);
	pm1 = BN_CTX_get(ctx);
	if (pm1 == NULL || BN_bin2bn(priv, MSE_PRIV_LEN, x) == NULL)
		goto done;
	BN_set_flags(x, BN_FLG_CONSTTIME);
	if (peer == NULL) {
		if (!BN_set_word(y, 2))
			goto done;
	} else {
		if (BN_bin2bn(peer, MSE_DH_LEN, y) == NULL ||
		    BN_copy(pm1, p) == NULL || !BN_sub_word(pm1, 1))
			goto done;
		if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, pm1) >= 0) {
			ok = -1;
			goto done;
		}
	}
	if (BN_mod_exp(r, y, x, p, ctx) && BN_bn2binpad(r, out,
	    MSE_DH_LEN) == MSE_DH_LEN)
		ok = 1;
done:
	BN_CTX_end(ctx);
	BN_CTX_free(ctx);
	BN_free(p);
	if (ok == -1)
		return bt_err(err, "peer's public key is out of range");
	if (ok == 0)
		return bt_err(err, "Diffie-Hellman failed (out of memory)");
	return 0;
}

static void
queue(struct mse *m, const void *p, size_t n)
{
	if (m->outoff > 0) {
		memmove(m->out, m->out + m->outoff, m->outlen - m->outoff);
		m->outlen -= m->outoff;
		m->outoff = 0;
	}
	/* Sizes are fixed by MSE_OUT_MAX; a caller never drains less. */
	if (n > sizeof m->out - m->outlen)
		n = sizeof m->out - m->outlen;
	if (p != NULL)
		memcpy(m->out + m->outlen, p, n);
	else
		memset(m->out + m->outlen, 0, n);
	m->outlen += n;
}

static void
queue16(struct mse *m, size_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	queue(m, b, 2);
}

static void
queue32(struct mse *m, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	queue(m, b, 4);
}

/* Encrypts everything queued from offset from on. */
static void
seal(struct mse *m, size_t from)
{
	rc4_crypt(&m->enc, m->out + from, m->outlen - from);
}

/* Keys enc and dec from S and SKEY, each 1024 bytes in. */
static void
keys(struct mse *m)
{
	uint8_t ka[20], kb[20];

	sha1_3("keyA", m->s, MSE_DH_LEN, m->skey, 20, ka);
	sha1_3("keyB", m->s, MSE_DH_LEN, m->skey, 20, kb);
	rc4_init(&m->enc, m->initiator ? ka : kb, 20);
	rc4_init(&m->dec, m->initiator ? kb : ka, 20);
	rc4_skip(&m->enc, MSE_DISCARD);
	rc4_skip(&m->dec, MSE_DISCARD);
}

/* Ours: Y, then a random-length random pad. */
static int
start(struct mse *m, const uint8_t rnd[MSE_RAND_LEN], char *err)
{
	uint8_t y[MSE_DH_LEN];
	size_t pad;

	memcpy(m->priv, rnd, MSE_PRIV_LEN);
	pad = ((size_t)rnd[20] << 8 | rnd[21]) % (MSE_PAD_MAX + 1);
	m->padc = ((size_t)rnd[22] << 8 | rnd[23]) % (MSE_PAD_MAX + 1);
	if (dh(m->priv, NULL, y, err) == -1)
		return -1;
	queue(m, y, sizeof y);
	queue(m, rnd + 24, pad);
	return 0;
}

int
mse_start_initiator(struct mse *m, const uint8_t skey[20], uint32_t provide,
    const uint8_t *ia, size_t ialen, const uint8_t rnd[MSE_RAND_LEN],
    char *err)
{
	memset(m, 0, sizeof *m);
	provide &= MSE_PLAIN | MSE_RC4;
	if (provide == 0)
		return bt_err(err, "no encryption method to offer");
	if (ialen > MSE_IA_MAX)
		return bt_err(err, "initial payload of %zu bytes, the most is %d",
		    ialen, MSE_IA_MAX);
	m->initiator = 1;
	m->provide = provide;
	m->state = A_YB;
	memcpy(m->skey, skey, 20);
	if (ialen > 0)
		memcpy(m->ia, ia, ialen);
	m->ialen = ialen;
	return start(m, rnd, err);
}

int
mse_start_receiver(struct mse *m, uint32_t allowed, mse_lookup_fn lookup,
    void *ctx, const uint8_t rnd[MSE_RAND_LEN], char *err)
{
	memset(m, 0, sizeof *m);
	allowed &= MSE_PLAIN | MSE_RC4;
	if (allowed == 0)
		return bt_err(err, "no encryption method to accept");
	m->provide = allowed;
	m->state = B_YA;
	m->lookup = lookup;
	m->lookup_ctx = ctx;
	return start(m, rnd, err);
}

/* A has Yb: step 3, then look for ENCRYPT(VC). */
static int
a_got_yb(struct mse *m, char *err)
{
	uint8_t h[20], h3[20];
	size_t from, i;

	if (dh(m->priv, m->in, m->s, err) == -1)
		return -1;
	keys(m);
	memset(m->marker, 0, MSE_VC_LEN);
	rc4_crypt(&m->dec, m->marker, MSE_VC_LEN);
	sha1_3("req1", m->s, MSE_DH_LEN, NULL, 0, h);
	queue(m, h, 20);
	mse_req2(m->skey, h);
	sha1_3("req3", m->s, MSE_DH_LEN, NULL, 0, h3);
	for (i = 0; i < 20; i++)
		h[i] ^= h3[i];
	queue(m, h, 20);
	from = m->outlen;
	queue(m, NULL, MSE_VC_LEN);
	queue32(m, m->provide);
	queue16(m, m->padc);
	queue(m, NULL, m->padc);
	queue16(m, m->ialen);
	queue(m, m->ia, m->ialen);
	seal(m, from);
	m->state = A_SYNC;
	return 0;
}

/* A has crypto_select and len(PadD), decrypted. */
static int
a_got_select(struct mse *m, char *err)
{
	uint32_t sel = get32(m->in);
	size_t pad = (size_t)m->in[4] << 8 | m->in[5];

	if ((sel != MSE_RC4 && sel != MSE_PLAIN) || !(sel & m->provide))
		return bt_err(err, "peer selected crypto method 0x%x, "
		    "offered 0x%x", sel, m->provide);
	if (pad > MSE_PAD_MAX)
		return bt_err(err, "peer's PadD is %zu bytes, the most is %d",
		    pad, MSE_PAD_MAX);
	m->select = sel;
	m->skip = pad;
	m->state = pad > 0 ? A_PADD : MSE_DONE;
	return 0;
}

/* B has Ya: step 2, then look for HASH('req1', S). */
static int
b_got_ya(struct mse *m, char *err)
{
	if (dh(m->priv, m->in, m->s, err) == -1)
		return -1;
	sha1_3("req1", m->s, MSE_DH_LEN, NULL, 0, m->marker);
	m->state = B_SYNC;
	return 0;
}

/* B has HASH('req2', SKEY) xor HASH('req3', S): which torrent? */
static int
b_got_req23(struct mse *m, char *err)
{
	uint8_t h3[20], req2[20];
	size_t i;

	sha1_3("req3", m->s, MSE_DH_LEN, NULL, 0, h3);
	for (i = 0; i < 20; i++)
		req2[i] = m->in[i] ^ h3[i];
	if (m->lookup == NULL || !m->lookup(m->lookup_ctx, req2, m->skey))
		return bt_err(err, "peer asked for a torrent we do not serve");
	keys(m);
	m->state = B_PROVIDE;
	return 0;
}

/* B has VC, crypto_provide and len(PadC), decrypted. */
static int
b_got_provide(struct mse *m, char *err)
{
	static const uint8_t vc[MSE_VC_LEN];
	uint32_t prov = get32(m->in + MSE_VC_LEN);
	size_t pad = (size_t)m->in[12] << 8 | m->in[13];

	if (memcmp(m->in, vc, MSE_VC_LEN) != 0)
		return bt_err(err, "bad verification constant "
		    "(wrong info-hash or not MSE)");
	if (pad > MSE_PAD_MAX)
		return bt_err(err, "peer's PadC is %zu bytes, the most is %d",
		    pad, MSE_PAD_MAX);
	/*
	 * Offered both and we take both: plaintext, as libtorrent does by
	 * default. The header is obfuscated either way, and RC4 would cost
	 * both ends about twice the CPU of the transfer; a side that wants
	 * RC4 offers (or accepts) RC4 alone.
	 */
	if (prov & m->provide & MSE_PLAIN)
		m->select = MSE_PLAIN;
	else if (prov & m->provide & MSE_RC4)
		m->select = MSE_RC4;
	else
		return bt_err(err, "peer offers crypto methods 0x%x, "
		    "we accept 0x%x", prov, m->provide);
	m->skip = pad;
	m->state = pad > 0 ? B_PADC : B_IALEN;
	return 0;
}

/* B has len(IA): step 4, and the handshake is over. */
static void
b_got_ialen(struct mse *m)
{
	size_t from;

	m->ia_len = m->ia_left = (uint32_t)m->in[0] << 8 | m->in[1];
	from = m->outlen - m->outoff;
	queue(m, NULL, MSE_VC_LEN);
	queue32(m, m->select);
	queue16(m, m->padc);
	queue(m, NULL, m->padc);
	seal(m, from);
	m->state = MSE_DONE;
}

/* Collects bytes into m->in until it holds want; 1 once it does. */
static int
fill(struct mse *m, const uint8_t *in, size_t n, size_t *off, size_t want)
{
	size_t k = want - m->inlen;

	if (k > n - *off)
		k = n - *off;
	memcpy(m->in + m->inlen, in + *off, k);
	m->inlen += k;
	*off += k;
	if (m->inlen < want)
		return 0;
	m->inlen = 0;
	return 1;
}

/*
 * One byte of a synchronisation scan: 1 when the last len bytes are the
 * marker, 0 to go on, -1 when bound bytes passed without it.
 */
static int
scan(struct mse *m, uint8_t c, size_t len, size_t bound)
{
	m->in[m->inlen++] = c;
	if (m->inlen >= len &&
	    memcmp(m->in + m->inlen - len, m->marker, len) == 0) {
		m->inlen = 0;
		return 1;
	}
	return m->inlen >= bound ? -1 : 0;
}

/* Skips (decrypting) m->skip bytes of padding; 1 when none are left. */
static int
skip(struct mse *m, const uint8_t *in, size_t n, size_t *off)
{
	uint8_t tmp[MSE_PAD_MAX];
	size_t k = m->skip < n - *off ? m->skip : n - *off;

	memcpy(tmp, in + *off, k);
	rc4_crypt(&m->dec, tmp, k);
	*off += k;
	m->skip -= k;
	return m->skip == 0;
}

/* Decrypts the k bytes fill just completed in m->in. */
static void
open_in(struct mse *m, size_t k)
{
	rc4_crypt(&m->dec, m->in, k);
}

int
mse_input(struct mse *m, const uint8_t *in, size_t n, size_t *used,
    char *err)
{
	size_t off = 0;
	int r = 0;

	*used = 0;
	if (m->state == MSE_FAILED)
		return bt_err(err, "MSE handshake already failed");
	while (r == 0 && m->state != MSE_DONE && off < n) {
		switch (m->state) {
		case A_YB:
			if (fill(m, in, n, &off, MSE_DH_LEN))
				r = a_got_yb(m, err);
			break;
		case A_SYNC:
			switch (scan(m, in[off++], MSE_VC_LEN,
			    MSE_SYNC_VC - MSE_DH_LEN)) {
			case 1:
				m->state = A_SELECT;
				break;
			case -1:
				r = bt_err(err, "no MSE verification constant "
				    "within %d bytes", MSE_SYNC_VC);
			}
			break;
		case A_SELECT:
			if (fill(m, in, n, &off, 6)) {
				open_in(m, 6);
				r = a_got_select(m, err);
			}
			break;
		case A_PADD:
			if (skip(m, in, n, &off))
				m->state = MSE_DONE;
			break;
		case B_YA:
			if (fill(m, in, n, &off, MSE_DH_LEN))
				r = b_got_ya(m, err);
			break;
		case B_SYNC:
			switch (scan(m, in[off++], 20,
			    MSE_SYNC_REQ1 - MSE_DH_LEN)) {
			case 1:
				m->state = B_REQ23;
				break;
			case -1:
				r = bt_err(err, "no MSE request hash "
				    "within %d bytes", MSE_SYNC_REQ1);
			}
			break;
		case B_REQ23:
			if (fill(m, in, n, &off, 20))
				r = b_got_req23(m, err);
			break;
		case B_PROVIDE:
			if (fill(m, in, n, &off, MSE_VC_LEN + 6)) {
				open_in(m, MSE_VC_LEN + 6);
				r = b_got_provide(m, err);
			}
			break;
		case B_PADC:
			if (skip(m, in, n, &off))
				m->state = B_IALEN;
			break;
		case B_IALEN:
			if (fill(m, in, n, &off, 2)) {
				open_in(m, 2);
				b_got_ialen(m);
			}
			break;
		}
	}
	*used = off;
	if (r == -1) {
		m->state = MSE_FAILED;
		m->select = 0;
		return -1;
	}
	return m->state == MSE_DONE ? 1 : 0;
}

size_t
mse_output(const struct mse *m, const uint8_t **p)
{
	*p = m->out + m->outoff;
	return m->outlen - m->outoff;
}

void
mse_sent(struct mse *m, size_t n)
{
	m->outoff += n < m->outlen - m->outoff ? n : m->outlen - m->outoff;
	if (m->outoff == m->outlen)
		m->outoff = m->outlen = 0;
}

void
mse_encrypt(struct mse *m, uint8_t *buf, size_t n)
{
	if (m->select == MSE_RC4)
		rc4_crypt(&m->enc, buf, n);
}

void
mse_decrypt(struct mse *m, uint8_t *buf, size_t n)
{
	size_t k = m->ia_left < n ? m->ia_left : n;

	/* B's view of IA: RC4 under keyA whatever was selected. */
	rc4_crypt(&m->dec, buf, k);
	m->ia_left -= (uint32_t)k;
	if (m->select == MSE_RC4)
		rc4_crypt(&m->dec, buf + k, n - k);
}

int
mse_sniff(const uint8_t *buf, size_t n)
{
	static const char hs[] = "\x13" "BitTorrent protocol";
	size_t k = n < 20 ? n : 20;

	if (memcmp(buf, hs, k) != 0)
		return 0;
	return k == 20 ? 1 : -1;
}

const char *
mse_method_name(uint32_t select)
{
	return select == MSE_RC4 ? "rc4" : select == MSE_PLAIN ?
	    "plaintext" : "none";
}
