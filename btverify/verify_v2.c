/*
 * verify_v2.c: the v2 check. In v2 every file starts on a piece boundary,
 * so a piece never spans two files: piece p lies in the file holding byte
 * p * piece length. Worker threads take pieces in order from a shared
 * counter, a batch at a time (so the reads stay close to sequential),
 * read each with one pread, reduce its 16 KiB leaf hashes to its subtree
 * root and compare that with the piece layer. A file of one piece has no
 * layer: its tree is padded only to the next power of two of its blocks,
 * and its root is the pieces root. A file of several pieces whose layer
 * the torrent lacks is judged whole, by its root, once all is read.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bt.h"
#include "merkle.h"
#include "storage.h"
#include "verify_v2.h"

/* Pieces a worker takes at once: few enough to keep the reads in order. */
#define BATCH		16
/* All workers' piece buffers together stay under this. */
#define MAX_BUFFERS	((uint64_t)1 << 30)

struct v2job {
	const struct metainfo *mi;
	struct vresult	*res;
	int		 root;		/* the data dir */
	EVP_MD		*md;
	unsigned char	**hashes;	/* per file without a layer: its
					   piece hashes, else NULL */
	atomic_uint	 next;		/* next batch's first piece */
	atomic_int	 failed;	/* OpenSSL failed */
};

struct v2worker {
	struct v2job	*j;
	pthread_t	 tid;
	EVP_MD_CTX	*ctx;
	unsigned char	*buf;		/* one piece */
	unsigned char	*leaves;	/* its leaf hashes */
	size_t		 curfile;	/* the one open file, SIZE_MAX if none */
	int		 curfd;
};

/* The open fd of file i, or -1 when it is not there to read. */
static int
file_fd(struct v2worker *w, size_t i)
{
	const struct mi_file *f = &w->j->mi->files[i];
	enum fstat st = w->j->res->file[i].status;

	if (w->curfile == i)
		return w->curfd;
	if (w->curfd != -1)
		close(w->curfd);
	w->curfile = i;
	w->curfd = -1;
	if (st == FS_COMPLETE || st == FS_WRONGSIZE)
		w->curfd = openat(w->j->root, f->path, O_RDONLY | O_CLOEXEC);
	if (w->curfd != -1)
		(void)posix_fadvise(w->curfd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return w->curfd;
}

/* Reads and hashes piece p; its state goes into res->piece[p]. */
static int
check_piece(struct v2worker *w, uint32_t p)
{
	const struct metainfo *mi = w->j->mi;
	uint64_t pl = mi->piece_length, off = (uint64_t)p * pl, plen;
	size_t i = mi_file_at(mi, off), nb;
	const struct mi_file *f;
	unsigned char zero[MERKLE_HASH], root[MERKLE_HASH], *h;
	uint32_t np, k;
	ssize_t r;
	int fd;

	if (i >= mi->nfiles)
		return 0;		/* past every file: stays missing */
	f = &mi->files[i];
	if (f->pad || f->offset > off)
		return 0;
	k = (uint32_t)((off - f->offset) / pl);
	np = (uint32_t)((f->length + pl - 1) / pl);
	plen = f->length - (uint64_t)k * pl < pl ? f->length - (uint64_t)k *
	    pl : pl;
	fd = file_fd(w, i);
	r = fd == -1 ? 0 : st_pread_full(fd, w->buf, (size_t)plen,
	    (uint64_t)k * pl);
	if (r < 0 || (uint64_t)r < plen)
		return 0;		/* PS_MISSING */
	memset(zero, 0, sizeof(zero));
	nb = (size_t)((plen + MERKLE_BLOCK - 1) / MERKLE_BLOCK);
	h = w->j->hashes[i] != NULL ? w->j->hashes[i] + (size_t)k *
	    MERKLE_HASH : root;
	if (merkle_leaves(w->ctx, w->j->md, w->buf, (size_t)plen,
	    w->leaves) == -1 || merkle_root(w->ctx, w->j->md, w->leaves, nb,
	    np > 1 ? pl / MERKLE_BLOCK : merkle_pow2(nb), zero, h) == -1)
		return -1;
	if (w->j->hashes[i] != NULL)
		w->j->res->piece[p] = PS_GOOD;	/* until the root says */
	else
		w->j->res->piece[p] = memcmp(h, np > 1 ? f->layer +
		    (size_t)k * MERKLE_HASH : f->root, MERKLE_HASH) == 0 ?
		    PS_GOOD : PS_BAD;
	return 0;
}

static void *
work(void *arg)
{
	struct v2worker *w = arg;
	struct v2job *j = w->j;
	uint32_t p0, p;

	while (!atomic_load(&j->failed) &&
	    (p0 = atomic_fetch_add(&j->next, BATCH)) < j->mi->npieces)
		for (p = p0; p < p0 + BATCH && p < j->mi->npieces; p++)
			if (check_piece(w, p) == -1) {
				atomic_store(&j->failed, 1);
				break;
			}
	if (w->curfd != -1)
		close(w->curfd);
	return NULL;
}

/* Files judged whole: every piece read, and the root from their hashes. */
static int
check_wholes(struct v2job *j, EVP_MD_CTX *ctx)
{
	const struct metainfo *mi = j->mi;
	uint64_t pl = mi->piece_length;
	unsigned char pad[MERKLE_HASH], root[MERKLE_HASH];
	uint32_t np, p0, k;
	size_t i;

	if (merkle_zero(ctx, j->md, pl / MERKLE_BLOCK, pad) == -1)
		return -1;
	for (i = 0; i < mi->nfiles; i++) {
		if (j->hashes[i] == NULL)
			continue;
		np = (uint32_t)((mi->files[i].length + pl - 1) / pl);
		p0 = (uint32_t)(mi->files[i].offset / pl);
		for (k = 0; k < np && j->res->piece[p0 + k] == PS_GOOD; k++)
			;
		if (k < np)
			continue;	/* missing pieces: no verdict */
		if (merkle_root(ctx, j->md, j->hashes[i], np, merkle_pow2(np),
		    pad, root) == -1)
			return -1;
		if (memcmp(root, mi->files[i].root, MERKLE_HASH) != 0)
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

/* Checks that every file can be judged, and makes room for the wholes. */
static int
prepare(struct v2job *j, char *err)
{
	const struct metainfo *mi = j->mi;
	uint64_t np;
	size_t i;

	if ((j->hashes = calloc(mi->nfiles, sizeof(*j->hashes))) == NULL)
		return bt_err(err, "out of memory");
	for (i = 0; i < mi->nfiles; i++) {
		const struct mi_file *f = &mi->files[i];

		if (f->pad || f->length == 0)
			continue;
		if (f->root == NULL)
			return bt_err(err, "'%s' has no pieces root", f->path);
		np = (f->length + mi->piece_length - 1) / mi->piece_length;
		if (np > 1 && f->layer == NULL &&
		    (j->hashes[i] = malloc(np * MERKLE_HASH)) == NULL)
			return bt_err(err, "out of memory");
	}
	return 0;
}

int
verify_v2(const struct metainfo *mi, const char *dir, const struct vopts *opt,
    struct vresult *res, char *err)
{
	struct v2job j;
	struct v2worker *w = NULL;
	struct timespec t0, t1;
	int i, nw, started = 0, rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&j, 0, sizeof(j));
	j.mi = mi;
	j.res = res;
	j.root = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (opt->spool != NULL)
		return bt_err(err, "a spool holds v1 pieces, which v2 trees "
		    "cannot check");
	nw = opt->jobs < 1 ? 1 : opt->jobs;
	while (nw > 1 && (uint64_t)nw * mi->piece_length > MAX_BUFFERS)
		nw--;
	if (prepare(&j, err) == -1)
		goto out;
	if ((res->piece = calloc(mi->npieces, 1)) == NULL ||
	    (res->file = calloc(mi->nfiles, sizeof(*res->file))) == NULL ||
	    (w = calloc((size_t)nw, sizeof(*w))) == NULL) {
		bt_err(err, "out of memory");
		goto out;
	}
	if ((j.root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		bt_err(err, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if ((j.md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		bt_err(err, "OpenSSL has no SHA-256");
		goto out;
	}
	for (i = 0; i < nw; i++) {
		w[i].j = &j;
		w[i].curfd = -1;
		w[i].curfile = SIZE_MAX;
		if ((w[i].ctx = EVP_MD_CTX_new()) == NULL ||
		    (w[i].buf = malloc(mi->piece_length)) == NULL ||
		    (w[i].leaves = malloc(mi->piece_length / MERKLE_BLOCK *
		    MERKLE_HASH)) == NULL) {
			bt_err(err, "out of memory");
			goto out;
		}
	}
	precheck(mi, j.root, res);
	for (i = 0; i < nw; i++, started++)
		if (pthread_create(&w[i].tid, NULL, work, &w[i]) != 0) {
			atomic_store(&j.failed, 1);
			break;
		}
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	if (started < nw) {
		bt_err(err, "cannot start a thread");
		goto out;
	}
	if (atomic_load(&j.failed) || check_wholes(&j, w[0].ctx) == -1) {
		bt_err(err, "SHA-256 failed");
		goto out;
	}
	tally_v2(mi, res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->seconds = (double)(t1.tv_sec - t0.tv_sec) +
	    (t1.tv_nsec - t0.tv_nsec) / 1e9;
	rc = 0;
out:
	if (j.root != -1)
		close(j.root);
	for (i = 0; w != NULL && i < nw; i++) {
		EVP_MD_CTX_free(w[i].ctx);
		free(w[i].buf);
		free(w[i].leaves);
	}
	free(w);
	for (size_t f = 0; j.hashes != NULL && f < mi->nfiles; f++)
		free(j.hashes[f]);
	free(j.hashes);
	EVP_MD_free(j.md);
	if (rc == -1)
		vresult_free(res);
	return rc;
}
