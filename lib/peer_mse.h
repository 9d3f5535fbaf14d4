/*
 * peer_mse.h: MSE/PE (mse.h) in the peer core's transform slot (peer.h),
 * with the encryption policy of btpeer(1)'s --encryption.
 *
 *	struct peer_mse pm;
 *	peer_mse_outgoing(&pm, PEER_CRYPTO_PREFER, info_hash, rnd, err);
 *	peer_init(&p, &cfg, &host, &pm.tr, now);
 *	peer_mse_start(&pm, &p);		Ya and PadA go out first
 *
 * Outgoing, the BitTorrent handshake goes as MSE's initial payload
 * (IA) inside step 3, saving a round trip (pm.ia = 0 before
 * peer_mse_start: it follows the MSE handshake as payload instead).
 * Incoming, the first bytes tell a plain BEP 3 handshake from MSE; the
 * policy says which are accepted; an IA from the peer (libtorrent,
 * aria2c and Transmission send their handshake so) is taken as the
 * start of the stream, as is none. Falling back
 * to a plain connection after a failed outgoing MSE handshake is the
 * caller's (peer_mse_fallback says when), since it owns the socket.
 * When decided, an event "encryption rc4|plaintext|none" (none: a plain
 * BEP 3 handshake, plaintext: MSE header then plain), followed by the
 * peer's HOST:PORT when the caller set pm.addr (a peer we dialled: what
 * bittorrent(1) flags as preferring encryption in its PEX), and a trace.
 */
#ifndef BT_PEER_MSE_H
#define BT_PEER_MSE_H

#include <stdint.h>

#include "mse.h"
#include "peer.h"

enum peer_crypto {
	PEER_CRYPTO_OFF,	/* plain BEP 3 only, both ways */
	PEER_CRYPTO_PREFER,	/* out: MSE, then plain; in: either */
	PEER_CRYPTO_REQUIRE,	/* MSE with RC4 only, both ways */
	/*
	 * out: plain, then MSE if the peer closes a plain handshake (a peer
	 * PEX says does not prefer encryption); in: either. Transmission's
	 * "tolerated". Dialling MSE after plain, pass PREFER.
	 */
	PEER_CRYPTO_TOLERATE
};

struct peer_mse {
	struct peer_transform tr;	/* give &pm->tr to peer_init */
	struct mse	 m;
	enum peer_crypto policy;
	int		 incoming;
	int		 ia;		/* out: our handshake as MSE's IA */
	const char	*addr;		/* out: the peer's, for the event */
	int		 state;		/* see peer_mse.c */
	unsigned char	 ih[20];
	uint8_t		 rnd[MSE_RAND_LEN];
};

/* "off", "prefer", "require", "tolerate" -> policy; -1 if none. */
int	peer_crypto_parse(const char *, enum peer_crypto *);

/*
 * Sets pm up for a connection we open (outgoing) or accepted (incoming)
 * with policy (not OFF: then pass no transform at all) for info-hash ih,
 * with MSE_RAND_LEN random bytes. 0, or -1 with err.
 */
int	peer_mse_outgoing(struct peer_mse *, enum peer_crypto,
	    const unsigned char ih[20], const uint8_t rnd[MSE_RAND_LEN],
	    char *err);
int	peer_mse_incoming(struct peer_mse *, enum peer_crypto,
	    const unsigned char ih[20], const uint8_t rnd[MSE_RAND_LEN],
	    char *err);
/*
 * After peer_init: an outgoing pm starts MSE (with p's handshake as IA
 * unless pm->ia was cleared) and queues its first message. 0 or -1.
 */
int	peer_mse_start(struct peer_mse *, struct peer *);
/* "rc4", "plaintext", "none" once decided, else NULL. */
const char *peer_mse_method(const struct peer_mse *);
/*
 * 1 if the connection p (now over) failed during an outgoing MSE
 * handshake under PEER_CRYPTO_PREFER: worth one retry in plain.
 */
int	peer_mse_fallback(const struct peer_mse *, const struct peer *);
/*
 * 1 if the plain connection p we opened (now over) failed before the
 * peer's BEP 3 handshake came (closed, reset, silent): under
 * PEER_CRYPTO_TOLERATE, worth one retry with MSE.
 */
int	peer_plain_fallback(const struct peer *);

#endif
