/*
 * verify_v2.c: the v2 check. Each file is read piece by piece (files
 * start on piece boundaries in v2, so a piece never spans two); the leaf
 * hashes of a piece are reduced to its subtree root and compared with the
 * piece layer. A file of one piece has no layer: its tree is padded only
 * to the next power of two of its blocks, and its root is the pieces root.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bt.h"
#include "merkle.h"
#include "storage.h"
#include "verify_v2.h"

struct v2job {
	const struct metainfo *mi;
	struct vresult	*res;
	EVP_MD_CTX	*ctx;
	EVP_MD		*md;
	unsigned char	*buf;		/* one piece */
	unsigned char	*leaves;	/* its leaf hashes */
	unsigned char	*hashes;	/* a file's piece hashes (no layer) */
	unsigned char	 pad[MERKLE_HASH];	/* root of a zero piece */
};

/* Checks file i, open on fd, and marks its pieces. 0, or -1 (OpenSSL). */
static int
check_file(struct v2job *j, size_t i, int fd)
{
	const struct metainfo *mi = j->mi;
	const struct mi_file *f = &mi->files[i];
	uint64_t pl = mi->piece_length, off, plen;
	uint32_t p0 = (uint32_t)(f->offset / pl), np, k;
	unsigned char zero[MERKLE_HASH], root[MERKLE_HASH], *h;
	size_t nb;
	ssize_t r;
	int whole;

	memset(zero, 0, sizeof(zero));
	np = (uint32_t)((f->length + pl - 1) / pl);
	/* No layer for a file of several pieces: judge the file whole. */
	whole = np > 1 && f->layer == NULL;
	for (k = 0; k < np; k++) {
		off = (uint64_t)k * pl;
		plen = f->length - off < pl ? f->length - off : pl;
		r = fd == -1 ? 0 : st_pread_full(fd, j->buf, (size_t)plen,
		    off);
		if (r < 0 || (uint64_t)r < plen) {
			j->res->piece[p0 + k] = PS_MISSING;
			continue;
		}
		nb = (size_t)((plen + MERKLE_BLOCK - 1) / MERKLE_BLOCK);
		h = whole ? j->hashes + (size_t)k * MERKLE_HASH : root;
		if (merkle_leaves(j->ctx, j->md, j->buf, (size_t)plen,
		    j->leaves) == -1 || merkle_root(j->ctx, j->md, j->leaves,
		    nb, np > 1 ? pl / MERKLE_BLOCK : merkle_pow2(nb), zero,
		    h) == -1)
			return -1;
		if (whole) {
			j->res->piece[p0 + k] = PS_GOOD;	/* for now */
			continue;
		}
		j->res->piece[p0 + k] = memcmp(h, np > 1 ? f->layer +
		    (size_t)k * MERKLE_HASH : f->root, MERKLE_HASH) == 0 ?
		    PS_GOOD : PS_BAD;
	}
	if (whole) {
		for (k = 0; k < np; k++)
			if (j->res->piece[p0 + k] != PS_GOOD)
				return 0;	/* missing pieces: no verdict */
		if (merkle_root(j->ctx, j->md, j->hashes, np,
		    merkle_pow2(np), j->pad, root) == -1)
			return -1;
		if (memcmp(root, f->root, MERKLE_HASH) != 0)
			for (k = 0; k < np; k++)
				j->res->piece[p0 + k] = PS_BAD;
	}
	return 0;
}

/* Counts pieces and bytes, per file and in all, as verify() does. */
static void
tally_v2(const struct metainfo *mi, struct vresult *res)
{
	uint64_t pl = mi->piece_length, plen;
	struct vfile *vf;
	uint32_t k, np, p;
	size_t i;

	res->complete = 1;
	for (i = 0; i < mi->nfiles; i++) {
		const struct mi_file *f = &mi->files[i];

		vf = &res->file[i];
		np = f->pad ? 0 : (uint32_t)((f->length + pl - 1) / pl);
		for (k = 0; k < np; k++) {
			p = (uint32_t)(f->offset / pl) + k;
			plen = f->length - (uint64_t)k * pl < pl ?
			    f->length - (uint64_t)k * pl : pl;
			if (res->piece[p] == PS_GOOD) {
				vf->good++;
				res->good++;
				res->good_bytes += plen;
			} else if (res->piece[p] == PS_BAD) {
				vf->bad++;
				res->bad++;
				res->bad_bytes += plen;
			} else {
				vf->missing++;
				res->missing++;
				res->missing_bytes += plen;
			}
		}
		if (vf->status != FS_COMPLETE) {
			res->complete = 0;
			continue;
		}
		if (vf->bad > 0)
			vf->status = FS_BAD;
		else if (vf->missing > 0)
			vf->status = vf->good > 0 || vf->exists ?
			    FS_PARTIAL : FS_MISSING;
		if (vf->status != FS_COMPLETE)
			res->complete = 0;
	}
}

int
verify_v2(const struct metainfo *mi, const char *dir, const struct vopts *opt,
    struct vresult *res, char *err)
{
	struct v2job j;
	struct timespec t0, t1;
	uint64_t maxnp = 0, np;
	size_t i;
	int root = -1, fd, rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&j, 0, sizeof(j));
	j.mi = mi;
	j.res = res;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (opt->spool != NULL)
		return bt_err(err, "a spool holds v1 pieces, which v2 trees "
		    "cannot check");
	for (i = 0; i < mi->nfiles; i++) {
		if (mi->files[i].pad || mi->files[i].length == 0)
			continue;
		if (mi->files[i].root == NULL)
			return bt_err(err, "'%s' has no pieces root",
			    mi->files[i].path);
		np = (mi->files[i].length + mi->piece_length - 1) /
		    mi->piece_length;
		maxnp = np > maxnp ? np : maxnp;
	}
	if ((res->piece = calloc(mi->npieces, 1)) == NULL ||
	    (res->file = calloc(mi->nfiles, sizeof(*res->file))) == NULL ||
	    (j.buf = malloc(mi->piece_length)) == NULL ||
	    (j.leaves = malloc(mi->piece_length / MERKLE_BLOCK *
	    MERKLE_HASH)) == NULL ||
	    (j.hashes = malloc(maxnp * MERKLE_HASH + 1)) == NULL) {
		bt_err(err, "out of memory");
		goto out;
	}
	if ((root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		bt_err(err, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if ((j.ctx = EVP_MD_CTX_new()) == NULL ||
	    (j.md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    merkle_zero(j.ctx, j.md, mi->piece_length / MERKLE_BLOCK,
	    j.pad) == -1) {
		bt_err(err, "OpenSSL has no SHA-256");
		goto out;
	}
	precheck(mi, root, res);
	for (i = 0; i < mi->nfiles; i++) {
		const struct mi_file *f = &mi->files[i];

		if (f->pad || f->length == 0)
			continue;
		fd = -1;
		if (res->file[i].status == FS_COMPLETE ||
		    res->file[i].status == FS_WRONGSIZE)
			fd = openat(root, f->path, O_RDONLY | O_CLOEXEC);
		if (fd != -1)
			(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		rc = check_file(&j, i, fd);
		if (fd != -1)
			close(fd);
		if (rc == -1) {
			bt_err(err, "SHA-256 failed");
			goto out;
		}
	}
	tally_v2(mi, res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->seconds = (double)(t1.tv_sec - t0.tv_sec) +
	    (t1.tv_nsec - t0.tv_nsec) / 1e9;
	rc = 0;
out:
	if (root != -1)
		close(root);
	free(j.buf);
	free(j.leaves);
	free(j.hashes);
	EVP_MD_free(j.md);
	EVP_MD_CTX_free(j.ctx);
	if (rc == -1)
		vresult_free(res);
	return rc;
}
