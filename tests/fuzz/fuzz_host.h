/*
 * fuzz_host.h: what the peer core's fuzz targets (fuzz_peer.c,
 * fuzz_peer_mse.c) share: a torrent of 1 to 64 pieces of zeros, and a
 * host whose spool is a bitmask that aborts on a release of a piece
 * never claimed or a store out of range. Included by one target each:
 * every definition is static.
 */
#ifndef FUZZ_HOST_H
#define FUZZ_HOST_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "metainfo.h"
#include "peer.h"

struct fz {
	uint64_t	 had;
	uint64_t	 claimed;
	uint32_t	 n;
};

/*
 * Sets mi (the info-hash is the caller's) to 1 + d1 % 64 pieces of
 * 16 KiB << (d2 % 4), the last one 1 + d3 * 997 % that long, all
 * zeros, and f to match with nothing had. Returns the piece hashes
 * (mi->pieces, exactly as long as they are: the caller frees them),
 * or NULL.
 */
static unsigned char *
fz_torrent(struct metainfo *mi, struct fz *f, uint8_t d1, uint8_t d2,
    uint8_t d3)
{
	static unsigned char zero[1 << 17], full[4][20];
	static int full_ok[4];
	unsigned char *hashes;
	uint32_t i;

	memset(f, 0, sizeof(*f));
	mi->npieces = f->n = 1 + d1 % 64;
	mi->piece_length = 16384u << (d2 % 4);
	mi->total_length = (uint64_t)(mi->npieces - 1) * mi->piece_length +
	    1 + d3 * 997u % mi->piece_length;
	if ((hashes = malloc(20 * mi->npieces)) == NULL)
		return NULL;
	/* A whole zero piece's hash, computed once per piece length. */
	if (!full_ok[d2 % 4]) {
		EVP_Digest(zero, mi->piece_length, full[d2 % 4], NULL,
		    EVP_sha1(), NULL);
		full_ok[d2 % 4] = 1;
	}
	for (i = 0; i + 1 < mi->npieces; i++)
		memcpy(hashes + 20 * i, full[d2 % 4], 20);
	EVP_Digest(zero, mi_piece_size(mi, i), hashes + 20 * i, NULL,
	    EVP_sha1(), NULL);
	mi->pieces = hashes;
	return hashes;
}

static int64_t
f_claim(void *ctx, const unsigned char *has, int64_t *eg)
{
	struct fz *f = ctx;
	uint32_t i;

	*eg = -1;
	for (i = 0; i < f->n; i++)
		if (!(f->had >> i & 1) && (has[i / 8] >> (7 - i % 8) & 1)) {
			if (f->claimed >> i & 1) {
				*eg = i;
				continue;
			}
			f->claimed |= 1ull << i;
			return i;
		}
	return *eg >= 0 ? -1 : -2;
}

static void
f_release(void *ctx, uint32_t i)
{
	struct fz *f = ctx;

	if (i >= f->n || !(f->claimed >> i & 1))
		abort();	/* released what it never claimed */
	f->claimed &= ~(1ull << i);
}

static int
f_have(void *ctx, uint32_t i)
{
	return ((struct fz *)ctx)->had >> i & 1;
}

static int
f_complete(void *ctx)
{
	struct fz *f = ctx;

	return f->had == (f->n == 64 ? ~0ull : (1ull << f->n) - 1);
}

static int
f_store(void *ctx, uint32_t i, const unsigned char *d, size_t n, char *err)
{
	struct fz *f = ctx;

	(void)d;
	(void)n;
	(void)err;
	if (i >= f->n)
		abort();
	f->had |= 1ull << i;
	return 1;
}

static int
f_read(void *ctx, uint32_t i, uint32_t b, uint32_t len, unsigned char *out,
    char *err)
{
	(void)ctx;
	(void)i;
	(void)b;
	(void)err;
	memset(out, 0, len);
	return 1;
}

#endif
