/*
 * hash.c: one sequential reader, several hashers.
 *
 * The stream is cut into chunks of whole pieces (CHUNK bytes, or one
 * piece when pieces are larger). In v1 a chunk runs across file
 * boundaries, as v1 pieces do; in v2 and hybrid every file starts on a
 * piece boundary, so a chunk holds pieces of one file only and its tail
 * past the file's end is zeros (the hybrid pad bytes). The reader takes a
 * free buffer, fills it with read(2) and queues it; a worker takes it,
 * hashes every piece in it into the result arrays (each piece has its
 * own slot, so no ordering is needed) and gives the buffer back.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bt.h"
#include "hash.h"
#include "merkle.h"
#include "metainfo.h"

/*
 * 256 KiB a read (or one piece, when pieces are larger): the buffer a
 * hasher takes is still in the cache the reader filled it through.
 * Measured on the 2-core machine, against 1 and 4 MiB chunks in rings of
 * 4 to 64 MiB: the least CPU and wall time per GiB.
 */
#define CHUNK		(256u << 10)
/* All buffers together stay under this, whatever the piece size. */
#define MAX_BUFFERS	((uint64_t)1 << 30)
/*
 * The ring holds at least this much (and a buffer per job plus two), so
 * the reader stays a few chunks ahead of the hashers; a deeper ring (up
 * to 64 MiB) was measured slower: the data leaves the cache before it
 * is hashed.
 */
#define RING		((uint64_t)2 << 20)
/* The progress line is redrawn this often (ms). */
#define TICK_MS		200

struct task {
	unsigned char	*buf;
	size_t		 len;		/* bytes read into buf */
	size_t		 file;		/* v2 and hybrid: the file */
	uint64_t	 v1piece;	/* first v1 piece in buf */
	uint32_t	 lpiece;	/* v2: first piece of the file in buf */
};

struct engine {
	struct mktree	*t;
	const struct hashopts *opt;
	unsigned char	*pieces;
	size_t		 chunk;
	struct task	*tasks;
	int		 ntasks;
	int		*freeq, nfree;	/* a stack of free task indices */
	int		*readyq, rhead, nready;	/* a ring of full ones */
	int		 done;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv_free, cv_ready;
	atomic_ullong	 hashed;
	atomic_int	 failed;
	char		*err;		/* the first failure, under mu */
	EVP_MD		*sha1, *sha256;
	unsigned char	 zero_piece[MERKLE_HASH];	/* pad of a layer */
};

/* v1 piece count and hybrid pad sizes; v2 piece counts per file. */
static int
layout(struct mktree *t, const struct hashopts *o, uint32_t *npieces,
    char *err)
{
	uint64_t pl = o->piece_len, off = 0, n, n2 = 0;
	size_t i;

	for (i = 0; i < t->nfiles; i++) {
		struct mkfile *f = &t->files[i];

		n = (f->length + pl - 1) / pl;
		/* Clamped here, refused below with the total. */
		f->npieces = n > MI_MAX_PIECES ? MI_MAX_PIECES + 1 :
		    (uint32_t)n;
		f->pad = 0;
		/*
		 * Hybrid: every non-empty file ends on a piece boundary, with
		 * a BEP 47 pad file after it, the last one too (as libtorrent
		 * makes them); a single file has no "files" list to pad.
		 */
		if (o->mode == MK_HYBRID && !t->single && f->length % pl != 0)
			f->pad = pl - f->length % pl;
		off += f->length + f->pad;
		n2 += f->npieces;
	}
	n = (off + pl - 1) / pl;
	/* v2 counts pieces file by file, each file starting a new one. */
	if ((o->mode & MK_V2) && n2 > n)
		n = n2;
	if (n > MI_MAX_PIECES)
		return bt_err(err, "%llu pieces: more than %u; choose larger "
		    "pieces", (unsigned long long)n, MI_MAX_PIECES),
		    BT_EXIT_INPUT;
	*npieces = (uint32_t)n;
	return 0;
}

/* Stops everyone; msg is kept unless an earlier failure was. */
static void
fail(struct engine *e, const char *msg)
{
	pthread_mutex_lock(&e->mu);
	if (!atomic_load(&e->failed) && msg != e->err)
		snprintf(e->err, BT_ERRLEN, "%s", msg);
	atomic_store(&e->failed, 1);
	pthread_cond_broadcast(&e->cv_free);
	pthread_cond_broadcast(&e->cv_ready);
	pthread_mutex_unlock(&e->mu);
}

struct worker {
	struct engine	*e;
	pthread_t	 tid;
	EVP_MD_CTX	*ctx;
	unsigned char	*leaves;	/* a piece's leaf hashes */
};

/* Hashes every piece of one full buffer. */
static int
hash_task(struct worker *w, struct task *k)
{
	struct engine *e = w->e;
	const struct hashopts *o = e->opt;
	struct mkfile *f = o->mode & MK_V2 ? &e->t->files[k->file] : NULL;
	uint64_t pl = o->piece_len;
	unsigned char zero[MERKLE_HASH], *dst;
	size_t off, plen, hl, nb;
	unsigned int mdlen;
	uint32_t p;

	memset(zero, 0, sizeof(zero));
	for (off = 0, p = 0; off < k->len; off += pl, p++) {
		plen = k->len - off < pl ? k->len - off : pl;
		if (o->mode & MK_V1) {
			/* The hybrid pad bytes are the zeros after the file. */
			hl = plen;
			if (f != NULL && plen < pl)
				hl += f->pad;
			if (!EVP_DigestInit_ex2(w->ctx, e->sha1, NULL) ||
			    !EVP_DigestUpdate(w->ctx, k->buf + off, hl) ||
			    !EVP_DigestFinal_ex(w->ctx, e->pieces +
			    (k->v1piece + p) * 20, &mdlen))
				return -1;
		}
		if (f == NULL)
			continue;
		nb = (plen + MERKLE_BLOCK - 1) / MERKLE_BLOCK;
		dst = f->npieces > 1 ? f->layer + (size_t)(k->lpiece + p) *
		    MERKLE_HASH : f->root;
		if (merkle_leaves(w->ctx, e->sha256, k->buf + off, plen,
		    w->leaves) == -1 ||
		    merkle_root(w->ctx, e->sha256, w->leaves, nb,
		    f->npieces > 1 ? pl / MERKLE_BLOCK : merkle_pow2(nb), zero,
		    dst) == -1)
			return -1;
	}
	return 0;
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct engine *e = w->e;
	struct task *k;
	int i;

	for (;;) {
		pthread_mutex_lock(&e->mu);
		while (e->nready == 0 && !e->done && !atomic_load(&e->failed))
			pthread_cond_wait(&e->cv_ready, &e->mu);
		if (e->nready == 0 || atomic_load(&e->failed)) {
			pthread_mutex_unlock(&e->mu);
			return NULL;
		}
		i = e->readyq[e->rhead];
		e->rhead = (e->rhead + 1) % e->ntasks;
		e->nready--;
		pthread_mutex_unlock(&e->mu);
		k = &e->tasks[i];
		if (hash_task(w, k) == -1) {
			fail(e, "hashing failed in OpenSSL");
			return NULL;
		}
		atomic_fetch_add(&e->hashed, k->len);
		pthread_mutex_lock(&e->mu);
		e->freeq[e->nfree++] = i;
		pthread_cond_signal(&e->cv_free);
		pthread_mutex_unlock(&e->mu);
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct reader {
	struct engine	*e;
	char		*err;
	double		 start, last;
	int		 fd;
	size_t		 file;		/* the open file */
	uint64_t	 left;		/* its bytes not read yet */
};

static void
progress(struct reader *r, int final)
{
	struct engine *e = r->e;
	double t = now(), s = t - r->start;
	unsigned long long h = atomic_load(&e->hashed);

	if (!e->opt->progress || (!final && t - r->last < TICK_MS / 1e3))
		return;
	r->last = t;
	fprintf(stderr, "\rbtmake: %llu of %llu MiB hashed, %.0f MB/s%s",
	    h >> 20, (unsigned long long)(e->t->total >> 20),
	    s > 0 ? h / s / 1e6 : 0.0, final ? "\n" : "");
}

/* A free buffer, or -1 when a worker failed. */
static int
take_free(struct engine *e)
{
	int i;

	pthread_mutex_lock(&e->mu);
	while (e->nfree == 0 && !atomic_load(&e->failed))
		pthread_cond_wait(&e->cv_free, &e->mu);
	i = atomic_load(&e->failed) ? -1 : e->freeq[--e->nfree];
	pthread_mutex_unlock(&e->mu);
	return i;
}

static void
queue(struct engine *e, int i)
{
	pthread_mutex_lock(&e->mu);
	e->readyq[(e->rhead + e->nready) % e->ntasks] = i;
	e->nready++;
	pthread_cond_signal(&e->cv_ready);
	pthread_mutex_unlock(&e->mu);
}

/* Opens file i and checks it is still what was scanned. */
static int
open_file(struct reader *r, size_t i)
{
	struct mkfile *f = &r->e->t->files[i];
	struct stat st;

	if (r->fd != -1)
		close(r->fd);
	r->file = i;
	r->left = f->length;
	if ((r->fd = open(f->src, O_RDONLY | O_CLOEXEC)) == -1)
		return bt_err(r->err, "%s: %s", f->src, strerror(errno));
	if (fstat(r->fd, &st) == -1)
		return bt_err(r->err, "%s: %s", f->src, strerror(errno));
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != f->length)
		return bt_err(r->err, "%s: changed while btmake ran", f->src);
	(void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

/* Reads n bytes of the open file into p. */
static int
read_in(struct reader *r, unsigned char *p, size_t n)
{
	const char *src = r->e->t->files[r->file].src;
	ssize_t got;

	while (n > 0) {
		if ((got = read(r->fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return bt_err(r->err, "%s: %s", src, strerror(errno));
		}
		if (got == 0)
			return bt_err(r->err, "%s: shrank while btmake ran",
			    src);
		p += got;
		n -= (size_t)got;
		r->left -= (uint64_t)got;
	}
	return 0;
}

/* v1: chunks of the stream of all files, end to end. */
static int
read_v1(struct reader *r)
{
	struct engine *e = r->e;
	struct mktree *t = e->t;
	uint64_t pos = 0;
	size_t i = 0, n;
	struct task *k;
	int ti;

	while (pos < t->total) {
		if ((ti = take_free(e)) == -1)
			return 0;
		k = &e->tasks[ti];
		k->len = 0;
		k->v1piece = pos / e->opt->piece_len;
		while (k->len < e->chunk && pos < t->total) {
			while (r->fd == -1 || r->left == 0)
				if (open_file(r, i++) == -1)
					return -1;
			n = e->chunk - k->len < r->left ? e->chunk - k->len :
			    (size_t)r->left;
			if (read_in(r, k->buf + k->len, n) == -1)
				return -1;
			k->len += n;
			pos += n;
		}
		queue(e, ti);
		progress(r, 0);
	}
	return 0;
}

/* v2 and hybrid: chunks of one file each, zeros past its end. */
static int
read_v2(struct reader *r)
{
	struct engine *e = r->e;
	struct mktree *t = e->t;
	uint64_t pl = e->opt->piece_len, v1off = 0, off;
	struct task *k;
	size_t i, n, end;
	int ti;

	for (i = 0; i < t->nfiles; i++) {
		struct mkfile *f = &t->files[i];

		if (f->length == 0)
			continue;
		if (open_file(r, i) == -1)
			return -1;
		for (off = 0; off < f->length; off += n) {
			if ((ti = take_free(e)) == -1)
				return 0;
			k = &e->tasks[ti];
			n = f->length - off < e->chunk ? f->length - off :
			    e->chunk;
			if (read_in(r, k->buf, n) == -1)
				return -1;
			end = (size_t)((n + pl - 1) / pl * pl);
			memset(k->buf + n, 0, end - n);
			k->len = n;
			k->file = i;
			k->lpiece = (uint32_t)(off / pl);
			k->v1piece = (v1off + off) / pl;
			queue(e, ti);
			progress(r, 0);
		}
		v1off += f->length + f->pad;
	}
	return 0;
}

/* The pieces roots of files longer than a piece, from their layers. */
static int
file_roots(struct engine *e, EVP_MD_CTX *ctx)
{
	struct mktree *t = e->t;
	unsigned char *tmp;
	size_t i, n;

	for (i = 0; i < t->nfiles; i++) {
		struct mkfile *f = &t->files[i];

		if (f->npieces <= 1)
			continue;
		n = merkle_pow2(f->npieces);
		if ((tmp = malloc((size_t)f->npieces * MERKLE_HASH)) == NULL)
			return -1;
		memcpy(tmp, f->layer, (size_t)f->npieces * MERKLE_HASH);
		if (merkle_root(ctx, e->sha256, tmp, f->npieces, n,
		    e->zero_piece, f->root) == -1) {
			free(tmp);
			return -1;
		}
		free(tmp);
	}
	return 0;
}

static int
setup(struct engine *e, struct worker *w, int jobs, char *err)
{
	uint64_t pl = e->opt->piece_len;
	size_t i;

	e->chunk = pl >= CHUNK ? (size_t)pl : CHUNK;
	e->ntasks = jobs + 2;
	if ((uint64_t)e->ntasks * e->chunk < RING)
		e->ntasks = (int)(RING / e->chunk);
	if ((e->tasks = calloc((size_t)e->ntasks, sizeof(*e->tasks))) == NULL ||
	    (e->freeq = calloc((size_t)e->ntasks, sizeof(int))) == NULL ||
	    (e->readyq = calloc((size_t)e->ntasks, sizeof(int))) == NULL)
		return bt_err(err, "out of memory");
	for (i = 0; i < (size_t)e->ntasks; i++) {
		if ((e->tasks[i].buf = malloc(e->chunk)) == NULL)
			return bt_err(err, "out of memory");
		e->freeq[e->nfree++] = (int)i;
	}
	for (i = 0; i < (size_t)jobs; i++) {
		w[i].e = e;
		if ((w[i].ctx = EVP_MD_CTX_new()) == NULL ||
		    (w[i].leaves = malloc(pl / MERKLE_BLOCK * MERKLE_HASH)) ==
		    NULL)
			return bt_err(err, "out of memory");
	}
	for (i = 0; i < e->t->nfiles; i++) {
		struct mkfile *f = &e->t->files[i];

		if ((e->opt->mode & MK_V2) && f->npieces > 1 && (f->layer =
		    malloc((size_t)f->npieces * MERKLE_HASH)) == NULL)
			return bt_err(err, "out of memory");
	}
	if (merkle_zero(w[0].ctx, e->sha256, pl / MERKLE_BLOCK,
	    e->zero_piece) == -1)
		return bt_err(err, "SHA-256 failed");
	return 0;
}

int
mk_hash(struct mktree *t, const struct hashopts *o, unsigned char **pieces,
    uint32_t *npieces, char *err)
{
	struct engine e;
	struct worker w[MK_MAX_JOBS];
	struct reader r;
	char rerr[BT_ERRLEN];
	int jobs = o->jobs, i, started = 0, rc;

	*pieces = NULL;
	if ((rc = layout(t, o, npieces, err)) != 0)
		return rc;
	/* Fewer jobs when huge pieces would make the ring too large. */
	if ((uint64_t)(jobs + 2) * (o->piece_len > CHUNK ? o->piece_len :
	    CHUNK) > MAX_BUFFERS)
		jobs = (int)(MAX_BUFFERS / o->piece_len) - 2;
	if (jobs < 1)
		jobs = 1;
	memset(&e, 0, sizeof(e));
	memset(w, 0, sizeof(w));
	e.t = t;
	e.opt = o;
	e.err = err;
	rc = BT_EXIT_WORLD;
	pthread_mutex_init(&e.mu, NULL);
	pthread_cond_init(&e.cv_free, NULL);
	pthread_cond_init(&e.cv_ready, NULL);
	if ((e.sha1 = EVP_MD_fetch(NULL, "SHA1", NULL)) == NULL ||
	    (e.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		bt_err(err, "OpenSSL has no SHA-1 or SHA-256");
		goto out;
	}
	if ((o->mode & MK_V1) &&
	    (e.pieces = calloc(*npieces ? *npieces : 1, 20)) == NULL) {
		bt_err(err, "out of memory");
		goto out;
	}
	if (setup(&e, w, jobs, err) == -1)
		goto out;
	for (i = 0; i < jobs; i++, started++)
		if (pthread_create(&w[i].tid, NULL, work, &w[i]) != 0) {
			fail(&e, "cannot start a thread");
			break;
		}
	memset(&r, 0, sizeof(r));
	r.e = &e;
	r.err = rerr;
	r.fd = -1;
	r.start = r.last = now();
	i = started == jobs ? (o->mode == MK_V1 ? read_v1(&r) :
	    read_v2(&r)) : -1;
	if (r.fd != -1)
		close(r.fd);
	if (i == -1)
		fail(&e, rerr);
	pthread_mutex_lock(&e.mu);
	e.done = 1;
	pthread_cond_broadcast(&e.cv_ready);
	pthread_mutex_unlock(&e.mu);
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	if (atomic_load(&e.failed))
		goto out;
	progress(&r, 1);
	if ((o->mode & MK_V2) && file_roots(&e, w[0].ctx) == -1) {
		bt_err(err, "SHA-256 failed");
		goto out;
	}
	*pieces = e.pieces;
	e.pieces = NULL;
	rc = 0;
out:
	for (i = 0; i < MK_MAX_JOBS; i++) {
		EVP_MD_CTX_free(w[i].ctx);
		free(w[i].leaves);
	}
	for (i = 0; i < e.ntasks; i++)
		free(e.tasks[i].buf);
	free(e.tasks);
	free(e.freeq);
	free(e.readyq);
	free(e.pieces);
	EVP_MD_free(e.sha1);
	EVP_MD_free(e.sha256);
	pthread_mutex_destroy(&e.mu);
	pthread_cond_destroy(&e.cv_free);
	pthread_cond_destroy(&e.cv_ready);
	return rc;
}
