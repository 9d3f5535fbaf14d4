/*
 * assemble.c: the placing loop.
 *
 * Order of events for a piece i, each step only after the one before:
 *   1. read pieces/<i>, check its size and SHA-1;
 *   2. pwrite it into the final files (a piece spanning files is split);
 *      or, for a piece the spool calls fresh (committed by a live process
 *      since this boot, spool.h) while we are the only placer, 1 and 2
 *      are a size check and copy_file_range(2) from pieces/<i> into each
 *      file segment: no second SHA-1, no copy through user space;
 *   3. fdatasync every final file written since the last commit;
 *   4. set the spool's "placed" bit of i and msync the state file;
 *   5. move pieces/<i> to free/ for btpeer to reuse, or unlink it
 *      (spool_recycle); for a slab piece, free its blocks in the slab,
 *      or unlink a slab whose pieces are all placed (slab.c).
 * A fresh slab piece's step 2 waits for the commit: the batch's fresh
 * slab pieces are copied then, a run of consecutive pieces of one slab
 * in one copy_file_range (slab.c).
 * A kill at any point leaves either the piece in the spool (it is placed
 * again: writing the same bytes twice is harmless) or its placed bit set
 * (a leftover piece file is just recycled or unlinked). Steps 3 and 4
 * are batched: a commit covers up to COMMIT_BYTES and COMMIT_PIECES of
 * pieces, or, following, the pieces of COMMIT_MS, so the cost of a sync
 * is paid once per batch, not once per piece. A piece of the open batch
 * stays in pieces/ (its placed bit clear) until the commit: a kill loses
 * nothing.
 *
 * The final files are sparse (ftruncate to their length): with pieces
 * moving out of the spool as they are placed, spool plus final files stay
 * near 1x the payload, where preallocation would take the full size up
 * front while the spool still holds pieces.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "assemble.h"
#include "assembler.h"
#include "bt.h"
#include "spool.h"
#include "storage.h"
#include "util.h"

/*
 * A sync every 16 MiB or COMMIT_PIECES pieces, whichever comes first: 64
 * a GiB at most with pieces of 256 KiB or more, few enough (the writeback
 * itself is the same whatever the batch). The pieces of the open batch
 * are not yet recycled for btpeer: with more of them (64 MiB of 256 KiB
 * pieces, 16 MiB of 32 KiB ones, measured), btpeer made new files and
 * the pool's slots collided, which cost the tree more than the fewer
 * syncs saved.
 */
#define COMMIT_BYTES	(16u << 20)
#define COMMIT_PIECES	128
/*
 * Yields to a committer caught between its rename and its bits: its
 * rename woke us, maybe on its own CPU, before it set the fresh bit.
 * A few scheduler turns let it finish; past them the piece is hashed.
 */
#define FRESH_YIELDS	8

static int
sync_fd(struct assembler *a, struct slot *s)
{
	if (s->dirty && !a->opt->nosync && fdatasync(s->fd) == -1)
		return bt_err(a->err, "%s: sync: %s",
		    a->mi->files[s->file].path, strerror(errno));
	s->dirty = 0;
	return 0;
}

static const char *
open_error(int e)
{
	return e == ELOOP || e == ENOTDIR ?
	    "a symbolic link or non-directory in the way, refused" :
	    strerror(e);
}

/* The slot holding an fd open for writing on file i. */
static struct slot *
slot_for(struct assembler *a, size_t i)
{
	struct slot *s;
	int k, fd;

	for (k = 0; k < a->nslot; k++)
		if (a->slot[k].file == i)
			return &a->slot[k];
	fd = st_openat(a->out, a->mi->files[i].path, O_WRONLY, 0);
	if (fd == -1) {
		bt_err(a->err, "%s: %s", a->mi->files[i].path,
		    open_error(errno));
		return NULL;
	}
	if (a->nslot < FD_SLOTS)
		s = &a->slot[a->nslot++];
	else {
		s = &a->slot[a->evict];
		a->evict = (a->evict + 1) % FD_SLOTS;
		if (sync_fd(a, s) == -1) {
			close(fd);
			return NULL;
		}
		close(s->fd);
	}
	s->file = i;
	s->fd = fd;
	s->dirty = 0;
	return s;
}

/* Creates every file (sparse, at its length) and its directories. */
static int
make_files(struct assembler *a)
{
	const struct mi_file *f;
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < a->mi->nfiles; i++) {
		f = &a->mi->files[i];
		if (f->pad || (a->opt->sel != NULL &&
		    !sel_file(a->opt->sel, i)))
			continue;
		fd = st_openat(a->out, f->path, O_WRONLY | O_CREAT | O_NONBLOCK,
		    0666);
		if (fd == -1)
			return bt_err(a->err, "%s: %s", f->path,
			    open_error(errno));
		if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
			close(fd);
			return bt_err(a->err, "%s: not a regular file",
			    f->path);
		}
		if ((uint64_t)st.st_size != f->length &&
		    ftruncate(fd, (off_t)f->length) == -1) {
			bt_err(a->err, "%s: %s", f->path, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
	/* New names and sizes durable before any piece counts as placed. */
	if (!a->opt->nosync && syncfs(a->out) == -1)
		return bt_err(a->err, "%s: sync: %s", a->opt->outdir,
		    strerror(errno));
	return 0;
}

int
is_kept(const struct assembler *a, uint32_t i)
{
	return (a->kept[i / 64] >> (i % 64)) & 1;
}

int
is_pend(const struct assembler *a, uint32_t i)
{
	return (a->pend[i / 64] >> (i % 64)) & 1;
}

/* Steps 3 to 5 for the pieces written since the last commit. */
int
commit(struct assembler *a)
{
	size_t k;
	uint32_t i;

	if (a->nbatch == 0)
		return 0;
	if (a->ndefer > 0 && copy_slab_runs(a) == -1)
		return -1;
	for (k = 0; k < (size_t)a->nslot; k++)
		if (sync_fd(a, &a->slot[k]) == -1)
			return -1;
	for (k = 0; k < a->nbatch; k++) {
		i = a->batch[k];
		a->pend[i / 64] &= ~((uint64_t)1 << (i % 64));
		if (!is_kept(a, i))
			spool_set_placed(&a->sp, i);
	}
	if (!a->opt->nosync && msync(a->sp.hdr, a->sp.maplen, MS_SYNC) == -1)
		return bt_err(a->err, "%s/state: sync: %s", a->opt->spool,
		    strerror(errno));
	if (spool_slab_pieces(&a->sp) != 0 && release_slabs(a) == -1)
		return -1;
	for (k = 0; k < a->nbatch; k++) {
		if (is_kept(a, a->batch[k])) {
			/* Its other bytes belong to a file not wanted. */
			if (a->opt->events != NULL)
				fprintf(a->opt->events, "kept %u\n",
				    a->batch[k]);
			continue;
		}
		/* Piece files: only those of a slab spool made by hand. */
		if ((spool_slab_pieces(&a->sp) == 0 || a->sp.pfiles) &&
		    spool_recycle(&a->sp, a->batch[k], a->err) == -1)
			return -1;
		if (a->opt->events != NULL)
			fprintf(a->opt->events, "placed %u\n", a->batch[k]);
	}
	if (a->opt->events != NULL)
		fflush(a->opt->events);
	a->nbatch = 0;
	a->batch_bytes = 0;
	return 0;
}


/*
 * A spool piece that fails its check (a power cut can leave one: pieces
 * are not synced) is never placed: it is removed and its have bit
 * cleared, so btpeer fetches it again; the run goes on.
 */
static int
drop(struct assembler *a, uint32_t i, const char *name, const char *why)
{
	if (spool_drop(&a->sp, i, a->err) == -1)
		return -1;
	fprintf(stderr, "btassemble: %s/%s: %s, removed to be fetched "
	    "again\n", a->opt->spool, name, why);
	if (a->opt->events != NULL) {
		fprintf(a->opt->events, "dropped %u\n", i);
		fflush(a->opt->events);
	}
	a->dropped++;
	return 0;
}

/*
 * len bytes at offset poff of the piece file pfd into fd at foff, inside
 * the kernel. Falls back to pread/pwrite through a->buf, for good once
 * copy_file_range is refused for what it is (old kernel, two file
 * systems it cannot bridge, a file system without it). 0, or -1 with
 * errno.
 */
static int
copy_range(struct assembler *a, int pfd, uint64_t poff, int fd,
    uint64_t foff, size_t len)
{
	loff_t in = (loff_t)poff, out = (loff_t)foff;
	ssize_t r, got;
	size_t n;

	while (len > 0 && !a->nocopy) {
		r = copy_file_range(pfd, &in, fd, &out, len, 0);
		if (r > 0) {
			len -= (size_t)r;
			continue;
		}
		if (r == 0) {
			errno = EIO;	/* cut under us: size checked before */
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP &&
		    errno != EINVAL)
			return -1;
		a->nocopy = 1;
	}
	/* Through a->buf, a piece at a time (a slab run is longer). */
	for (; len > 0; len -= n, in += (loff_t)n, out += (loff_t)n) {
		n = len < a->mi->piece_length ? len : a->mi->piece_length;
		if ((got = st_pread_full(pfd, a->buf, n, (uint64_t)in)) !=
		    (ssize_t)n) {
			if (got >= 0)
				errno = EIO;	/* short: cut under us */
			return -1;
		}
		if (st_pwrite_full(fd, a->buf, n, (uint64_t)out) == -1)
			return -1;
	}
	return 0;
}

/*
 * Writes the bytes of pieces [i, i + np) into the final files, from buf
 * or, when buf is NULL, from the piece file (or slab) pfd where piece i
 * starts at pbase. A straddling piece writes only the wanted files'
 * bytes.
 */
int
write_span(struct assembler *a, uint32_t i, uint32_t np,
    const unsigned char *buf, int pfd, uint64_t pbase, int straddles)
{
	const struct metainfo *mi = a->mi;
	struct st_seg seg[64];
	struct slot *s;
	uint64_t off = (uint64_t)i * mi->piece_length;
	uint64_t end = (uint64_t)(i + np - 1) * mi->piece_length +
	    mi_piece_size(mi, i + np - 1), base, boff;
	size_t k, n;
	int r;

	for (base = off; off < end; ) {
		if ((n = st_segments(mi, off, end - off, seg, 64)) == 0)
			break;
		for (k = 0; k < n; k++) {
			if (mi->files[seg[k].file].pad || (straddles &&
			    !sel_file(a->opt->sel, seg[k].file)))
				continue;
			if ((s = slot_for(a, seg[k].file)) == NULL)
				return -1;
			s->dirty = 1;
			boff = off - base + seg[k].boff;
			if (buf != NULL)
				r = st_pwrite_full(s->fd, buf + boff,
				    seg[k].len, seg[k].foff);
			else
				r = copy_range(a, pfd, pbase + boff, s->fd,
				    seg[k].foff, seg[k].len);
			if (r == -1)
				return bt_err(a->err, "%s: writing piece %u: "
				    "%s", mi->files[seg[k].file].path, i,
				    strerror(errno));
		}
		off += seg[n - 1].boff + seg[n - 1].len;
	}
	return 0;
}

/*
 * Steps 1 and 2 for a fresh piece: the file checked (spool_open_whole),
 * its bytes copied in the kernel. SPOOL_PIECE_* as spool_read_whole, or
 * -1. Only
 * the placer moves a piece file out (it is us), so the file cannot be
 * recycled under the copy.
 */
static int
place_fresh(struct assembler *a, uint32_t i, int straddles)
{
	uint32_t g = spool_slab_pieces(&a->sp);
	uint64_t off;
	int fd, r;

	/*
	 * A slab's descriptor is kept for its next pieces: one that holds
	 * a piece not placed is never unlinked (nor, then, made anew), and
	 * a fresh piece is whole in it (written before its bit).
	 */
	if (g != 0 && !a->sp.pfiles && a->rfd != -1 && a->rslab == i / g)
		return write_span(a, i, 1, NULL, a->rfd, (uint64_t)(i % g) *
		    a->mi->piece_length, straddles) == -1 ? -1 :
		    SPOOL_PIECE_OK;
	if ((r = spool_open_whole(&a->sp, i, &fd, &off, a->err)) !=
	    SPOOL_PIECE_OK)
		return r;
	r = write_span(a, i, 1, NULL, fd, off, straddles) == -1 ? -1 :
	    SPOOL_PIECE_OK;
	if (g != 0 && !a->sp.pfiles && r != -1) {
		if (a->rfd != -1)
			close(a->rfd);
		a->rfd = fd;
		a->rslab = i / g;
	} else
		close(fd);
	return r;
}

/* Steps 1 and 2 for piece i. */
int
place(struct assembler *a, uint32_t i)
{
	const struct metainfo *mi = a->mi;
	char name[ST_PIECE_NAME], err[BT_ERRLEN];
	uint32_t sz = mi_piece_size(mi, i);
	int r, k, had, straddles = 0, fresh;

	if (a->opt->sel != NULL) {
		if (!sel_piece(a->opt->sel, i) || is_kept(a, i))
			return 0;	/* not wanted, or written already */
		straddles = sel_straddles(a->opt->sel, mi, i);
	}
	if (is_pend(a, i))
		return 0;	/* written, its commit to come */
	st_piece_name(name, i);
	if ((fresh = a->solo && !a->opt->recheck)) {
		/* Fresh is set before have: read have first, and once it
		 * is set, the fresh bit read after it is final. */
		for (k = 0; ; k++) {
			had = spool_have(&a->sp, i);
			if ((fresh = spool_fresh(&a->sp, i)) || had ||
			    k == FRESH_YIELDS)
				break;
			sched_yield();
		}
	}
	if (fresh && !straddles && spool_slab_pieces(&a->sp) != 0 &&
	    !a->sp.pfiles) {
		/* Copied at the commit, in runs (copy_slab_runs). */
		a->defer[i / 64] |= (uint64_t)1 << (i % 64);
		a->ndefer++;
		r = SPOOL_PIECE_OK;
	} else
		r = fresh ? place_fresh(a, i, straddles) :
		    spool_read_whole(&a->sp, i, a->buf, err);
	switch (r) {
	case SPOOL_PIECE_OK:
		break;
	case SPOOL_PIECE_GONE:
		return 0;	/* placed and removed meanwhile */
	case SPOOL_PIECE_SIZE:
		return drop(a, i, name, "wrong size");
	case SPOOL_PIECE_NOTFILE:
		return bt_err(a->err, "%s/%s: not a regular file, left in "
		    "the spool", a->opt->spool, name);
	default:
		if (fresh)
			return -1;	/* a->err says why */
		return bt_err(a->err, "%s/%s", a->opt->spool, err);
	}
	if (fresh)
		a->trusted++;
	else {
		if ((r = st_piece_ok(mi, i, a->buf, sz)) == -1)
			return bt_err(a->err, "SHA-1 failed");
		if (r == 0)
			return drop(a, i, name, "SHA-1 mismatch");
		if (write_span(a, i, 1, a->buf, -1, 0, straddles) == -1)
			return -1;
		a->hashed++;
	}
	if (straddles)
		a->kept[i / 64] |= (uint64_t)1 << (i % 64);
	a->pend[i / 64] |= (uint64_t)1 << (i % 64);
	if (a->nbatch == 0)
		a->batch_t0 = now_ms();
	a->batch[a->nbatch++] = i;
	a->batch_bytes += sz;
	if (a->batch_bytes >= COMMIT_BYTES || a->nbatch == a->maxbatch)
		return commit(a);
	return 0;
}

/* "123" to 123 if it names a piece: digits only, no leading zero. */
int
piece_index(const struct metainfo *mi, const char *s, uint32_t *ip)
{
	uint64_t v = 0;
	const char *p;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || p - s >= 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v >= mi->npieces)
		return -1;
	*ip = (uint32_t)v;
	return 0;
}

/*
 * Places the had pieces of slab spool words [w0, w1) not yet placed:
 * a slab piece has no name to list, its have bit is its arrival.
 */
int
scan_words(struct assembler *a, uint32_t w0, uint32_t w1)
{
	uint64_t cand;
	uint32_t w, i;

	for (w = w0; w < w1 && w < (a->mi->npieces + 63) / 64; w++) {
		cand = __atomic_load_n(&a->sp.have[w], __ATOMIC_ACQUIRE) &
		    ~(__atomic_load_n(&a->sp.placed[w], __ATOMIC_ACQUIRE) |
		    a->pend[w] | a->kept[w]);
		for (; cand != 0; cand &= cand - 1) {
			i = w * 64 + (uint32_t)__builtin_ctzll(cand);
			if (place(a, i) == -1)
				return -1;
		}
	}
	return 0;
}

/* Places every piece now in pieces/ (and slabs), then commits if flush
 * is set. */
int
scan(struct assembler *a, int flush)
{
	struct dirent *de;
	DIR *d;
	uint32_t i;
	int fd;

	if ((fd = openat(a->sp.dirfd, "pieces", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return bt_err(a->err, "%s/pieces: %s", a->opt->spool,
		    strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (piece_index(a->mi, de->d_name, &i) == -1)
			continue;
		if (spool_placed(&a->sp, i)) {
			spool_recycle(&a->sp, i, a->err);	/* a leftover */
			continue;
		}
		if (place(a, i) == -1) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (spool_slab_pieces(&a->sp) != 0 && scan_words(a, 0, UINT32_MAX) ==
	    -1)
		return -1;
	return flush ? commit(a) : 0;
}

/*
 * Every wanted piece placed (or, straddling, written and kept); with
 * pend set, counting the pieces of the open batch as placed: its commit
 * is the last one. (Another placer may have placed some of the batch
 * too: counted twice, the batch is committed early, which is harmless.)
 */
int
finished(const struct assembler *a, int pend)
{
	const struct sel *sel = a->opt->sel;
	uint32_t i;

	if (sel == NULL || sel->all)
		return __atomic_load_n(&a->sp.hdr->nplaced,
		    __ATOMIC_ACQUIRE) + (pend ? a->nbatch : 0) >=
		    a->mi->npieces;
	for (i = 0; i < a->mi->npieces; i++)
		if (sel_piece(sel, i) && !spool_placed(&a->sp, i) &&
		    !is_kept(a, i) && !(pend && is_pend(a, i)))
			return 0;
	return 1;
}

static int
setup(struct assembler *a, const struct metainfo *mi, const struct aopts *opt,
    char *err)
{
	memset(a, 0, sizeof(*a));
	a->mi = mi;
	a->opt = opt;
	a->err = err;
	a->out = -1;
	a->rfd = -1;
	err[0] = '\0';
	if (spool_open(&a->sp, opt->spool, mi, err) == -1)
		return -1;
	a->spool_ok = 1;
	if ((a->solo = spool_lock_placer(&a->sp, err)) == -1)
		return -1;
	a->maxbatch = COMMIT_BYTES / mi->piece_length + 1;
	if (a->maxbatch > COMMIT_PIECES)
		a->maxbatch = COMMIT_PIECES;
	if ((a->kept = calloc(((size_t)mi->npieces + 63) / 64 + 1, 8)) ==
	    NULL || (a->pend = calloc(((size_t)mi->npieces + 63) / 64 + 1,
	    8)) == NULL || (a->buf = malloc(mi->piece_length)) == NULL ||
	    (a->batch = calloc(a->maxbatch, sizeof(*a->batch))) == NULL ||
	    (a->runs = calloc(a->maxbatch, sizeof(*a->runs))) == NULL ||
	    (a->defer = calloc(((size_t)mi->npieces + 63) / 64 + 1, 8)) ==
	    NULL)
		return bt_err(err, "out of memory");
	return 0;
}

static void
teardown(struct assembler *a)
{
	int k;

	for (k = 0; k < a->nslot; k++)
		close(a->slot[k].fd);
	if (a->out != -1)
		close(a->out);
	if (a->rfd != -1)
		close(a->rfd);
	if (a->spool_ok)
		spool_close(&a->sp);
	free(a->buf);
	free(a->batch);
	free(a->runs);
	free(a->defer);
	free(a->kept);
	free(a->pend);
}

int
assemble(const struct metainfo *mi, const struct aopts *opt, char *err)
{
	struct assembler a;
	int rc = BT_EXIT_WORLD;

	if (setup(&a, mi, opt, err) == -1) {
		/* Another torrent's spool is bad input, not a retry. */
		if (a.sp.fail != BT_FAIL_NONE)
			rc = bt_fail_exit(a.sp.fail);
		goto out;
	}
	if (mkdir(opt->outdir, 0777) == -1 && errno != EEXIST) {
		bt_err(err, "%s: %s", opt->outdir, strerror(errno));
		goto out;
	}
	if ((a.out = open(opt->outdir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		bt_err(err, "%s: %s", opt->outdir, strerror(errno));
		goto out;
	}
	if (make_files(&a) == -1)
		goto out;
	if ((opt->follow ? follow(&a) : scan(&a, 1)) == -1)
		goto out;
	rc = finished(&a, 0) ? BT_EXIT_OK : BT_EXIT_WORLD;
	if (opt->verbose)
		fprintf(stderr, "btassemble: %u pieces placed from the fresh "
		    "spool, %u hashed first%s\n", a.trusted, a.hashed,
		    a.solo ? "" : " (another placer runs: all hashed)");
	if (rc == BT_EXIT_OK && !opt->follow) {
		spool_free_clear(&a.sp);	/* nothing to reuse them */
		spool_slab_clear(&a.sp);
	}
out:
	teardown(&a);
	return rc;
}

int
assemble_mark(const struct metainfo *mi, const struct aopts *opt,
    const char *hex, uint32_t *count, char *err)
{
	struct assembler a;
	size_t want = ((size_t)mi->npieces + 7) / 8 * 2, k;
	uint32_t i;
	int hi, lo, byte, rc = -1;

	*count = 0;
	if (strlen(hex) != want)
		return bt_err(err, "--mark: %zu hex digits, want %zu for %u "
		    "pieces", strlen(hex), want, mi->npieces);
	for (k = 0; k < want; k++)
		if (hex_digit((unsigned char)hex[k]) == -1)
			return bt_err(err, "--mark: not a hex digit at %zu",
			    k);
	/* Bits past the last piece must be clear (BEP 3). */
	if (mi->npieces % 8 != 0 && (hex_digit((unsigned char)hex[want - 1]) |
	    hex_digit((unsigned char)hex[want - 2]) << 4) &
	    (0xff >> (mi->npieces % 8)))
		return bt_err(err, "--mark: spare bits set");
	if (setup(&a, mi, opt, err) == -1)
		goto out;
	for (k = 0; k < want; k += 2) {
		hi = hex_digit((unsigned char)hex[k]);
		lo = hex_digit((unsigned char)hex[k + 1]);
		byte = hi << 4 | lo;
		for (int b = 0; b < 8; b++) {
			i = (uint32_t)(k / 2 * 8 + (size_t)b);
			if (!(byte & (0x80 >> b)) || i >= mi->npieces)
				continue;
			spool_set_have(&a.sp, i);
			spool_set_placed(&a.sp, i);
			(*count)++;
		}
	}
	if (!opt->nosync && msync(a.sp.hdr, a.sp.maplen, MS_SYNC) == -1) {
		bt_err(err, "%s/state: sync: %s", opt->spool, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	teardown(&a);
	return rc;
}
