/*
 * merkle.h: BEP 52 merkle trees of SHA-256 over 16 KiB blocks.
 *
 * A file's tree has one leaf per 16 KiB block (the last block may be
 * shorter), as many leaves as the next power of two, the missing ones 32
 * zero bytes. A piece's subtree covers piece length / 16 KiB leaves; the
 * piece layer of a file is the roots of those subtrees. The caller owns
 * every buffer and the OpenSSL context; nothing here allocates.
 */
#ifndef BT_MERKLE_H
#define BT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define MERKLE_BLOCK	16384
#define MERKLE_HASH	32

/* The SHA-256 of each 16 KiB block of data[0..len): ceil(len/16K) hashes. */
int	merkle_leaves(EVP_MD_CTX *, const EVP_MD *, const void *data,
	    size_t len, unsigned char *out);
/*
 * Reduces the n hashes at h (n <= width, width a power of two) to the
 * root of a tree of width leaves whose missing leaves are pad (32 zero
 * bytes for block leaves); h is overwritten. 0, or -1 if OpenSSL fails.
 */
int	merkle_root(EVP_MD_CTX *, const EVP_MD *, unsigned char *h, size_t n,
	    size_t width, const unsigned char pad[MERKLE_HASH],
	    unsigned char root[MERKLE_HASH]);
/* The root of a tree of width zero leaves (the pad of a piece layer). */
int	merkle_zero(EVP_MD_CTX *, const EVP_MD *, size_t width,
	    unsigned char root[MERKLE_HASH]);
/* The smallest power of two >= n (1 for 0). */
uint64_t merkle_pow2(uint64_t n);

#endif
