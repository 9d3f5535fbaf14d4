/* test_merkle: BEP 52 trees against vectors from Python's hashlib. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "merkle.h"
#include "t.h"
#include "util.h"

static EVP_MD_CTX *ctx;
static EVP_MD *md;

static int
is_hex(const unsigned char *h, const char *want)
{
	unsigned char w[MERKLE_HASH];

	return hex_decode(w, want, MERKLE_HASH) == 0 &&
	    memcmp(h, w, MERKLE_HASH) == 0;
}

/* 40000 bytes: three leaves (the last 7232 bytes), a tree of four. */
static void
test_file_root(void)
{
	unsigned char *d = malloc(40000), h[4 * MERKLE_HASH], zero[32];
	unsigned char root[MERKLE_HASH];

	memset(zero, 0, sizeof(zero));
	for (int i = 0; i < 40000; i++)
		d[i] = (unsigned char)(i % 251);
	CHECK(merkle_leaves(ctx, md, d, 40000, h) == 0);
	CHECK(merkle_root(ctx, md, h, 3, merkle_pow2(3), zero, root) == 0);
	CHECK(is_hex(root, "ab671631a9fa97a1fdac651fff6c6877"
	    "3b9acf0735b9c7f6ecdd54cbf1bf5dc2"));
	/* One short block: the root is the SHA-256 of the data. */
	CHECK(merkle_leaves(ctx, md, d, 5, h) == 0);
	CHECK(merkle_root(ctx, md, h, 1, 1, zero, root) == 0);
	CHECK(is_hex(root, "08bb5e5d6eaac1049ede0893d30ed022"
	    "b1a4d9b5b48db414871f51c9cb35283d"));
	free(d);
}

static void
test_zero(void)
{
	unsigned char root[MERKLE_HASH], h[MERKLE_HASH], pad[MERKLE_HASH];
	unsigned char r2[MERKLE_HASH];

	CHECK(merkle_zero(ctx, md, 4, root) == 0);
	CHECK(is_hex(root, "db56114e00fdd4c1f85c892bf35ac9a8"
	    "9289aaecb1ebd0a96cde606a748b5d71"));
	/* A layer padded with zero subtrees equals the tree of zeros. */
	memset(pad, 0, sizeof(pad));
	CHECK(merkle_zero(ctx, md, 2, pad) == 0);
	memcpy(h, pad, MERKLE_HASH);
	CHECK(merkle_root(ctx, md, h, 1, 2, pad, r2) == 0);
	CHECK(memcmp(r2, root, MERKLE_HASH) == 0);
	CHECK(merkle_pow2(0) == 1 && merkle_pow2(1) == 1 &&
	    merkle_pow2(3) == 4 && merkle_pow2(4) == 4 &&
	    merkle_pow2(5) == 8);
}

int
main(void)
{
	ctx = EVP_MD_CTX_new();
	md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (ctx == NULL || md == NULL)
		return 1;
	RUN(test_file_root);
	RUN(test_zero);
	EVP_MD_free(md);
	EVP_MD_CTX_free(ctx);
	DONE();
}
