/*
 * merkle.c: BEP 52 trees. Each level is reduced in place: node i of the
 * next level is SHA-256(h[2i] || h[2i+1]), with the level's pad standing
 * in for a missing right child; the pad of the next level is
 * SHA-256(pad || pad).
 */
#include <string.h>

#include "merkle.h"

static int
sha256(EVP_MD_CTX *ctx, const EVP_MD *md, const void *a, size_t alen,
    const void *b, size_t blen, unsigned char *out)
{
	unsigned int n;

	if (!EVP_DigestInit_ex2(ctx, md, NULL) ||
	    !EVP_DigestUpdate(ctx, a, alen) ||
	    (blen > 0 && !EVP_DigestUpdate(ctx, b, blen)) ||
	    !EVP_DigestFinal_ex(ctx, out, &n))
		return -1;
	return 0;
}

int
merkle_leaves(EVP_MD_CTX *ctx, const EVP_MD *md, const void *data,
    size_t len, unsigned char *out)
{
	const unsigned char *p = data;
	size_t off, n;

	for (off = 0; off < len; off += MERKLE_BLOCK) {
		n = len - off < MERKLE_BLOCK ? len - off : MERKLE_BLOCK;
		if (sha256(ctx, md, p + off, n, NULL, 0, out) == -1)
			return -1;
		out += MERKLE_HASH;
	}
	return 0;
}

int
merkle_root(EVP_MD_CTX *ctx, const EVP_MD *md, unsigned char *h, size_t n,
    size_t width, const unsigned char pad[MERKLE_HASH],
    unsigned char root[MERKLE_HASH])
{
	unsigned char lp[MERKLE_HASH], pair[2 * MERKLE_HASH];
	size_t i;

	memcpy(lp, pad, MERKLE_HASH);
	if (n == 0) {
		memcpy(h, lp, MERKLE_HASH);
		n = 1;
	}
	while (width > 1) {
		for (i = 0; 2 * i < n; i++) {
			memcpy(pair, h + 2 * i * MERKLE_HASH, MERKLE_HASH);
			memcpy(pair + MERKLE_HASH, 2 * i + 1 < n ?
			    h + (2 * i + 1) * MERKLE_HASH : lp, MERKLE_HASH);
			if (sha256(ctx, md, pair, sizeof(pair), NULL, 0,
			    h + i * MERKLE_HASH) == -1)
				return -1;
		}
		n = i;
		memcpy(pair, lp, MERKLE_HASH);
		memcpy(pair + MERKLE_HASH, lp, MERKLE_HASH);
		if (sha256(ctx, md, pair, sizeof(pair), NULL, 0, lp) == -1)
			return -1;
		width /= 2;
	}
	memcpy(root, h, MERKLE_HASH);
	return 0;
}

int
merkle_zero(EVP_MD_CTX *ctx, const EVP_MD *md, size_t width,
    unsigned char root[MERKLE_HASH])
{
	unsigned char h[MERKLE_HASH], zero[MERKLE_HASH];

	memset(zero, 0, sizeof(zero));
	return merkle_root(ctx, md, h, 0, width, zero, root);
}

uint64_t
merkle_pow2(uint64_t n)
{
	uint64_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}
