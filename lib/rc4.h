/*
 * rc4.h: the RC4 stream cipher, for MSE/PE only (mse.h).
 *
 * Our own few lines rather than OpenSSL's: OpenSSL 3 keeps RC4 in its
 * legacy provider, which a system may not ship and which must be loaded
 * into a library context at run time (one more failure mode for a cipher
 * that MSE needs on every encrypted connection); the old RC4() calls are
 * deprecated and trip -Werror. RC4 is a permutation of 256 values and two
 * indices: no table, no allocation, nothing to load.
 */
#ifndef BT_RC4_H
#define BT_RC4_H

#include <stddef.h>
#include <stdint.h>

/*
 * The permutation of 0..255 and the two indices, held in 32-bit words:
 * about 15% faster than bytes on x86-64 (256 MiB in 16 KiB calls, this
 * machine, three runs: 232-264 against 268-315 MB/s).
 */
struct rc4 {
	uint32_t s[256];
	uint32_t i, j;
};

/* Keys the cipher with key[0..len-1] (1 to 256 bytes). */
void	rc4_init(struct rc4 *, const uint8_t *key, size_t len);
/* XORs n bytes of keystream into buf, in place; NULL buf only advances. */
void	rc4_crypt(struct rc4 *, uint8_t *buf, size_t n);
/* Advances the keystream by n bytes (MSE discards the first 1024). */
void	rc4_skip(struct rc4 *, size_t n);

#endif
