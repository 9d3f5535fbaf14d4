/*
 * mse.h: Message Stream Encryption / Protocol Encryption (MSE/PE), the
 * obfuscated handshake every major BitTorrent client speaks, sans I/O.
 *
 *   1 A->B  Ya, PadA
 *   2 B->A  Yb, PadB
 *   3 A->B  HASH('req1',S), HASH('req2',SKEY) xor HASH('req3',S),
 *           ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
 *   4 B->A  ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
 *   5 A->B  ENCRYPT2(payload)
 *
 * Y = 2^X mod P (768-bit P, 160-bit X), S the shared secret, SKEY the
 * info-hash, HASH SHA-1, VC 8 zero bytes, ENCRYPT RC4 keyed with
 * SHA1('keyA'|'keyB', S, SKEY) (A sends with keyA, B with keyB) after
 * dropping 1024 bytes of keystream. ENCRYPT2 is RC4 or nothing, as
 * crypto_select says. IA (the initial payload, usually the BEP 3
 * handshake) is always RC4, whatever is selected.
 *
 * The caller owns the socket, the clock and the randomness: it passes
 * MSE_RAND_LEN random bytes at start, feeds received bytes to mse_input,
 * sends what mse_output holds, and bounds the whole exchange with its own
 * timeout. Once mse_input returns 1 the handshake is over: bytes after
 * *used are payload, passed through mse_decrypt; payload to send goes
 * through mse_encrypt. Nothing here allocates (BIGNUM scratch aside),
 * prints or exits; every failure is the peer's ("the world said no").
 */
#ifndef BT_MSE_H
#define BT_MSE_H

#include <stddef.h>
#include <stdint.h>

#include "rc4.h"

/* crypto_provide / crypto_select bits. */
#define MSE_PLAIN	0x01u
#define MSE_RC4		0x02u

#define MSE_DH_LEN	96	/* a 768-bit public key or secret, big-endian */
#define MSE_PRIV_LEN	20	/* the spec's 160-bit private exponent */
#define MSE_PAD_MAX	512	/* the spec's bound on every PadX */
#define MSE_VC_LEN	8
/* Random bytes for a start: private key, two 16-bit pad lengths, pad. */
#define MSE_RAND_LEN	(MSE_PRIV_LEN + 4 + MSE_PAD_MAX)
/*
 * The spec's synchronisation bounds: B finds HASH('req1',S) within
 * Ya + PadA + 20 = 628 bytes, A finds ENCRYPT(VC) within Yb + PadB + 8 =
 * 616 bytes; a peer that sends no marker by then is dropped.
 */
#define MSE_SYNC_REQ1	(MSE_DH_LEN + MSE_PAD_MAX + 20)
#define MSE_SYNC_VC	(MSE_DH_LEN + MSE_PAD_MAX + MSE_VC_LEN)
/* The initial payload we send: a BEP 3 handshake (68) with room to spare. */
#define MSE_IA_MAX	512
/* Steps 1 and 3 undrained, the most one side queues. */
#define MSE_OUT_MAX	(MSE_DH_LEN + MSE_PAD_MAX + 40 + MSE_VC_LEN + 8 + \
			    MSE_PAD_MAX + MSE_IA_MAX)

/*
 * The receiver's lookup: given HASH('req2', SKEY) (mse_req2), put the
 * matching info-hash in skey_return and return 1, or return 0 if it names
 * no torrent we serve.
 */
typedef int (*mse_lookup_fn)(void *ctx, const uint8_t req2[20],
    uint8_t skey_return[20]);

struct mse {
	int		 state;
	int		 initiator;
	uint32_t	 provide;	/* A: offered; B: accepted */
	uint32_t	 select;	/* once done: MSE_RC4 or MSE_PLAIN */
	uint32_t	 ia_len;	/* B, once done: IA bytes in the stream */
	uint32_t	 ia_left;	/* B: IA bytes mse_decrypt still owes RC4 */
	uint8_t		 skey[20];	/* the info-hash (B: once found) */
	uint8_t		 priv[MSE_PRIV_LEN];
	uint8_t		 s[MSE_DH_LEN];
	uint8_t		 marker[20];	/* what the current sync scans for */
	size_t		 padc;		/* our PadC / PadD length */
	size_t		 skip;		/* their PadC / PadD left to skip */
	size_t		 ialen;
	uint8_t		 ia[MSE_IA_MAX];
	mse_lookup_fn	 lookup;
	void		*lookup_ctx;
	uint8_t		 in[MSE_SYNC_REQ1];
	size_t		 inlen;
	uint8_t		 out[MSE_OUT_MAX];
	size_t		 outlen, outoff;
	struct rc4	 enc, dec;
};

/*
 * Starts the initiator (A) for info-hash skey, offering provide (a
 * nonempty subset of MSE_PLAIN | MSE_RC4) and sending ia (ialen <=
 * MSE_IA_MAX) as the initial payload. Queues step 1. 0, or -1 and err.
 */
int	mse_start_initiator(struct mse *, const uint8_t skey[20],
	    uint32_t provide, const uint8_t *ia, size_t ialen,
	    const uint8_t rnd[MSE_RAND_LEN], char *err);
/*
 * Starts the receiver (B), accepting the methods in allowed and the
 * info-hashes lookup finds. When A offers both and both are allowed,
 * plaintext is selected (libtorrent's default; RC4 is for who asks for
 * it alone).
 */
int	mse_start_receiver(struct mse *, uint32_t allowed,
	    mse_lookup_fn lookup, void *ctx, const uint8_t rnd[MSE_RAND_LEN],
	    char *err);
/*
 * Feeds n received bytes; *used says how many were handshake. Returns 1
 * when the handshake is complete (the rest is payload), 0 when it needs
 * more bytes, -1 with err when the peer broke the protocol. Output may be
 * queued either way.
 */
int	mse_input(struct mse *, const uint8_t *in, size_t n, size_t *used,
	    char *err);
/* The bytes queued to send; mse_sent says n of them went out. */
size_t	mse_output(const struct mse *, const uint8_t **p);
void	mse_sent(struct mse *, size_t n);
/* Payload transforms, in place, once mse_input returned 1. */
void	mse_encrypt(struct mse *, uint8_t *buf, size_t n);
void	mse_decrypt(struct mse *, uint8_t *buf, size_t n);
/* HASH('req2', skey), what a receiver's lookup is keyed by. */
void	mse_req2(const uint8_t skey[20], uint8_t out[20]);
/*
 * Tells an incoming connection's first bytes apart: 1 a plain BEP 3
 * handshake, 0 MSE, -1 too few bytes to say (at most 20 are needed).
 */
int	mse_sniff(const uint8_t *buf, size_t n);
/* "rc4" or "plaintext", for traces and events. */
const char *mse_method_name(uint32_t select);

#endif
