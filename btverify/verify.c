/*
 * verify.c: the hashing engine. The pieces are cut into batches of about
 * BATCH bytes; worker threads take the next batch from a shared counter,
 * hash each piece with OpenSSL. Taking batches in order keeps the reads
 * close to sequential whatever the number of workers. Each worker is a
 * pair of threads: a reader readies one of two batches while the hasher
 * hashes the other. A batch of the final layout over at most MAXMAP files
 * is mapped, file by file (lib/storage_map: the hash reads the page cache
 * itself, no copy, about a tenth less CPU; the reader fills the page
 * tables and waits for the disk); any other batch (many small files, a
 * spool, a short file) is read with one large pread per file into the
 * slot's buffer.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt.h"
#include "spool.h"
#include "storage.h"
#include "storage_map.h"
#include "verify.h"

/*
 * 4 MiB a read: past this the syscall cost is lost in the hashing, and
 * two workers' buffers still sit in a 2nd-level cache's neighbourhood.
 */
#define BATCH		(4u << 20)
/* Segments per st_segments call when tallying pieces by file. */
#define MAXSEG		64
/*
 * Files a mapped batch may span. A batch over more (small files) is read
 * instead: a mapping each would cost more than the copy it saves.
 */
#define MAXMAP		8
/* Buffers a job cycles through: 3 or 4 measured no faster than 2. */
#define NSLOT		2
/* All jobs' buffers together: 64 jobs of 4 MiB fit; 256 MiB pieces cut jobs. */
#define MAX_BUFFERS	((uint64_t)1 << 30)
/* Batch buffers are aligned to, and rounded up to, a huge page. */
#define HUGEPAGE	(2u << 20)
/* The progress bar is redrawn this often (ms). */
#define TICK_MS		200

struct job {
	const struct metainfo *mi;
	const struct vopts *opt;
	struct vresult	*res;
	int		 root;		/* data dir or spool dir */
	uint32_t	 per;		/* pieces a batch */
	uint32_t	 nbatch;
	atomic_uint	 next;		/* next batch to take */
	atomic_ullong	 done;		/* bytes hashed or skipped */
	atomic_int	 running;
	atomic_int	 failed;
	char		 err[BT_ERRLEN];
	pthread_mutex_t	 lock;		/* err */
	struct spool	 sp;		/* opt->spool, read-only */
	int		 spool_ok;
	struct spool	 parts;		/* opt->parts, read-only */
	int		 parts_ok;
	atomic_int	 hooked;	/* test builds: truncated once */
};

/* A batch buffer handed from a worker's reader to its hasher. */
enum { SLOT_EMPTY, SLOT_FULL, SLOT_END };
struct slot {
	unsigned char	*buf;		/* allocated when first needed */
	struct st_map	 map[MAXMAP];	/* or the batch, mapped by file */
	uint64_t	 mboff[MAXMAP];	/* where each starts in the batch */
	int		 nmap;		/* 0: in buf */
	unsigned char	*miss;		/* per piece of the batch: 0 to hash,
					   else its PS_* + 1 */
	uint32_t	 p0, n;
	uint64_t	 len;
	int		 state;
};

/*
 * One job: a reader thread fills one buffer while the hasher hashes the
 * other, so the copy out of the page cache overlaps the SHA-1.
 */
struct worker {
	struct job	*job;
	pthread_t	 tid, rtid;
	struct slot	 slot[NSLOT];
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	unsigned char	*buf;		/* the reader's current slot */
	unsigned char	*miss;
	struct st_reader rd;		/* the final files, one open at once */
};

/*
 * A batch buffer on transparent huge pages where the kernel allows it:
 * about a tenth less CPU for the copy and the hashing on a virtual
 * machine, where TLB misses are dear. NULL when memory is short.
 */
static void *
batch_alloc(size_t n)
{
	size_t r = (n + HUGEPAGE - 1) & ~(size_t)(HUGEPAGE - 1);
	void *p;

	if (posix_memalign(&p, HUGEPAGE, r) != 0)
		return NULL;
	(void)madvise(p, r, MADV_HUGEPAGE);
	return p;
}

const char *
fstat_name(enum fstat s)
{
	static const char *const name[] = {
		"complete", "partial", "bad", "wrong-size", "missing",
		"not-a-file", "unreadable", "not-selected"
	};

	return name[s];
}

static void
job_fail(struct job *j, const char *what, int e)
{
	pthread_mutex_lock(&j->lock);
	if (!atomic_load(&j->failed))
		snprintf(j->err, sizeof(j->err), "%s: %s", what, strerror(e));
	atomic_store(&j->failed, 1);
	pthread_mutex_unlock(&j->lock);
}

/*
 * 1 if [off, off+len) of the stream lies partly in a file precheck found
 * missing, not a regular file or not openable: nothing there to read
 * (and a FIFO would block a read), once per file rather than per piece.
 */
static int
in_missing(const struct job *j, uint64_t off, uint64_t len)
{
	struct st_seg seg[MAXSEG];
	uint64_t end = off + len;
	size_t k, i;

	while (off < end) {
		if ((k = st_segments(j->mi, off, end - off, seg, MAXSEG)) == 0)
			break;
		for (i = 0; i < k; i++)
			switch (j->res->file[seg[i].file].status) {
			case FS_MISSING:
			case FS_NOTFILE:
			case FS_UNREADABLE:
				return 1;
			default:
				break;
			}
		off += seg[k - 1].boff + seg[k - 1].len;
	}
	return 0;
}

/*
 * Reads batch pieces [p0, p0+n) of the final layout into w->buf: the
 * whole batch in one go through lib/'s one read loop; if a file is
 * missing or short, again piece by piece to tell which are missing
 * (a piece in a missing file is not read at all; the parts spool may
 * have it).
 */
static void
read_layout(struct worker *w, uint32_t p0, uint32_t n, uint64_t len)
{
	const struct metainfo *mi = w->job->mi;
	uint64_t pl = mi->piece_length, off = (uint64_t)p0 * pl;
	char err[BT_ERRLEN];
	uint32_t i, sz;

	memset(w->miss, 0, n);
	if (!in_missing(w->job, off, len) &&
	    st_read_range(&w->rd, mi, off, w->buf, len, err) == 0)
		return;
	for (i = 0; i < n; i++) {
		sz = mi_piece_size(mi, p0 + i);
		if ((in_missing(w->job, off + i * pl, sz) ||
		    st_read_range(&w->rd, mi, off + i * pl, w->buf + i * pl,
		    sz, err) != 0) &&
		    (!w->job->parts_ok || spool_read_whole(&w->job->parts,
		    p0 + i, w->buf + i * pl, err) != SPOOL_PIECE_OK))
			w->miss[i] = PS_MISSING + 1;
	}
}

/*
 * Reads batch pieces [p0, p0+n) from the spool into w->buf, through the
 * spool's one door (a piece moved out and recycled while we read counts
 * as gone). A piece file of the wrong size is there but bad; one that
 * cannot be read is missing.
 */
static void
read_spool(struct worker *w, uint32_t p0, uint32_t n)
{
	struct job *j = w->job;
	char err[BT_ERRLEN];
	uint32_t i;

	for (i = 0; i < n; i++) {
		switch (spool_read_whole(&j->sp, p0 + i, w->buf +
		    (uint64_t)i * j->mi->piece_length, err)) {
		case SPOOL_PIECE_OK:
			w->miss[i] = 0;
			break;
		case SPOOL_PIECE_SIZE:
			w->miss[i] = PS_BAD + 1;
			break;
		default:
			w->miss[i] = PS_MISSING + 1;
			break;
		}
	}
}

#ifdef BT_TEST_HOOKS
/*
 * Test builds only (make units: build/test-bin/btverify): with
 * BT_TEST_TRUNCATE=path:length in the environment, the first batch
 * mapped is followed by truncate(path, length) before it is hashed, so
 * a file shrinks under the mapped hash on cue.
 */
static void
truncate_hook(struct job *j)
{
	const char *v = getenv("BT_TEST_TRUNCATE"), *c;
	char path[4096];

	if (v == NULL || (c = strrchr(v, ':')) == NULL ||
	    (size_t)(c - v) >= sizeof(path) || atomic_exchange(&j->hooked, 1))
		return;
	memcpy(path, v, (size_t)(c - v));
	path[c - v] = '\0';
	if (truncate(path, strtoll(c + 1, NULL, 10)) == -1)
		fprintf(stderr, "btverify: test hook: %s: %s\n", path,
		    strerror(errno));
}
#endif

static void
unmap_slot(struct slot *sl)
{
	int k;

	for (k = 0; k < sl->nmap; k++)
		st_unmap(&sl->map[k]);
	sl->nmap = 0;
}

/*
 * Maps the batch in slot sl, file by file (a pad file: no mapping, its
 * zeros): 0, or -1 when it spans more than MAXMAP files or one of them
 * cannot be mapped (then nothing is left mapped).
 */
static int
map_batch(struct worker *w, struct slot *sl, uint64_t off)
{
	const struct metainfo *mi = w->job->mi;
	struct st_seg seg[MAXMAP];
	size_t k, i;

	k = st_segments(mi, off, sl->len, seg, MAXMAP);
	if (k == 0 || seg[k - 1].boff + seg[k - 1].len != sl->len)
		return -1;
	for (i = 0; i < k; i++) {
		sl->mboff[i] = seg[i].boff;
		sl->nmap = (int)i + 1;
		if (mi->files[seg[i].file].pad) {
			memset(&sl->map[i], 0, sizeof(sl->map[i]));
			sl->map[i].len = seg[i].len;
		} else if (st_map_range(&w->rd, mi, off + seg[i].boff,
		    seg[i].len, &sl->map[i]) != 0) {
			unmap_slot(sl);
			return -1;
		}
	}
	return 0;
}

/*
 * The stretches of piece bytes [a, a+len) of the batch in sl, one per
 * file mapped (iov_base NULL for a pad file's zeros); how many.
 */
static int
piece_iov(const struct slot *sl, uint64_t a, uint64_t len,
    struct iovec iov[MAXMAP])
{
	uint64_t b = a + len, s, e, lo, hi;
	int k, n = 0;

	for (k = 0; k < sl->nmap; k++) {
		s = sl->mboff[k];
		e = s + sl->map[k].len;
		if (e <= a)
			continue;
		if (s >= b)
			break;
		lo = a > s ? a : s;
		hi = b < e ? b : e;
		iov[n].iov_base = sl->map[k].p == NULL ? NULL :
		    (void *)(sl->map[k].p + (lo - s));
		iov[n].iov_len = (size_t)(hi - lo);
		n++;
	}
	return n;
}

/* A batch into slot sl: mapped where it can be, else read into its buffer. */
static int
ready(struct worker *w, struct slot *sl)
{
	struct job *j = w->job;
	uint64_t off = (uint64_t)sl->p0 * j->mi->piece_length;

	unmap_slot(sl);
	if (j->opt->spool == NULL && !in_missing(j, off, sl->len) &&
	    map_batch(w, sl, off) == 0) {
		memset(sl->miss, 0, sl->n);
#ifdef BT_TEST_HOOKS
		truncate_hook(j);
#endif
		return 0;
	}
	if (sl->buf == NULL &&
	    (sl->buf = batch_alloc((size_t)j->per * j->mi->piece_length)) ==
	    NULL) {
		job_fail(j, "batch buffer", ENOMEM);
		return -1;
	}
	w->buf = sl->buf;
	w->miss = sl->miss;
	if (j->opt->spool != NULL)
		read_spool(w, sl->p0, sl->n);
	else
		read_layout(w, sl->p0, sl->n, sl->len);
	return 0;
}

static void
slot_set(struct worker *w, struct slot *sl, int state)
{
	pthread_mutex_lock(&w->mu);
	sl->state = state;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Waits until slot sl is not in state st; returns its state. */
static int
slot_wait(struct worker *w, struct slot *sl, int st)
{
	int r;

	pthread_mutex_lock(&w->mu);
	while (sl->state == st)
		pthread_cond_wait(&w->cv, &w->mu);
	r = sl->state;
	pthread_mutex_unlock(&w->mu);
	return r;
}

static void *
reader(void *arg)
{
	struct worker *w = arg;
	struct job *j = w->job;
	const struct metainfo *mi = j->mi;
	struct slot *sl;
	uint32_t b;
	int k;

	for (k = 0;; k = (k + 1) % NSLOT) {
		sl = &w->slot[k];
		slot_wait(w, sl, SLOT_FULL);
		if (atomic_load(&j->failed) ||
		    (b = atomic_fetch_add(&j->next, 1)) >= j->nbatch) {
			slot_set(w, sl, SLOT_END);
			break;
		}
		sl->p0 = b * j->per;
		sl->n = mi->npieces - sl->p0 < j->per ? mi->npieces - sl->p0 :
		    j->per;
		sl->len = (uint64_t)(sl->n - 1) * mi->piece_length +
		    mi_piece_size(mi, sl->p0 + sl->n - 1);
		if (ready(w, sl) == -1) {
			slot_set(w, sl, SLOT_END);
			break;
		}
		slot_set(w, sl, SLOT_FULL);
	}
	st_reader_close(&w->rd);
	return NULL;
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct job *j = w->job;
	const struct metainfo *mi = j->mi;
	struct slot *sl;
	struct iovec iov[MAXMAP];
	uint64_t off;
	uint32_t i, sz, p;
	int k, r;

	for (k = 0;; k = (k + 1) % NSLOT) {
		sl = &w->slot[k];
		if (slot_wait(w, sl, SLOT_EMPTY) == SLOT_END)
			break;
		for (i = 0; i < sl->n && !atomic_load(&j->failed); i++) {
			p = sl->p0 + i;
			sz = mi_piece_size(mi, p);
			if (sl->miss[i]) {
				j->res->piece[p] = sl->miss[i] - 1;
				continue;
			}
			off = (uint64_t)i * mi->piece_length;
			r = sl->nmap > 0 ? st_piece_ok_mapped(mi, p, iov,
			    piece_iov(sl, off, sz, iov)) : st_piece_ok(mi, p,
			    sl->buf + off, sz);
			if (r == -1) {
				job_fail(j, "SHA-1", EIO);
				break;
			}
			/* 2: the file shrank under the mapped hash. */
			j->res->piece[p] = r == 1 ? PS_GOOD : r == 2 ?
			    PS_MISSING : PS_BAD;
		}
		atomic_fetch_add(&j->done, sl->len);
		slot_set(w, sl, SLOT_EMPTY);
	}
	atomic_fetch_sub(&j->running, 1);
	return NULL;
}

/* Stats every file once, so the workers know what is there. */
void
precheck(const struct metainfo *mi, int root, struct vresult *res)
{
	struct stat st;
	struct vfile *vf;
	size_t i;
	int fd;

	for (i = 0; i < mi->nfiles; i++) {
		vf = &res->file[i];
		vf->status = FS_COMPLETE;
		if (mi->files[i].pad)
			continue;
		fd = openat(root, mi->files[i].path, O_RDONLY | O_NONBLOCK |
		    O_CLOEXEC);
		if (fd == -1) {
			vf->err = errno;
			vf->status = errno == ENOENT || errno == ENOTDIR ?
			    FS_MISSING : FS_UNREADABLE;
			continue;
		}
		if (fstat(fd, &st) == -1) {
			vf->err = errno;
			vf->status = FS_UNREADABLE;
		} else if (!S_ISREG(st.st_mode)) {
			vf->exists = 1;
			vf->status = FS_NOTFILE;
		} else {
			vf->exists = 1;
			vf->size = (uint64_t)st.st_size;
			if (vf->size != mi->files[i].length)
				vf->status = FS_WRONGSIZE;
		}
		close(fd);
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
bar(struct job *j, double t0, int last)
{
	double total = (double)j->mi->total_length;
	double done = (double)atomic_load(&j->done), dt = now() - t0;
	double rate = dt > 0 ? done / dt : 0, eta;
	char line[128];
	int w = 30, k = total > 0 ? (int)(w * done / total) : w;

	eta = rate > 0 ? (total - done) / rate : 0;
	snprintf(line, sizeof(line), "\r[%-*.*s] %3.0f%% %7.1f MiB/s ETA %d:%02d",
	    w, k, "##############################",
	    total > 0 ? 100 * done / total : 100, rate / 1048576,
	    (int)eta / 60, (int)eta % 60);
	fputs(line, stderr);
	if (last)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

static void
tally(const struct metainfo *mi, struct vresult *res)
{
	struct st_seg seg[MAXSEG];
	struct vfile *vf;
	uint64_t off, end, sz;
	uint32_t p;
	size_t k, i;

	for (p = 0; p < mi->npieces; p++) {
		sz = mi_piece_size(mi, p);
		if (res->piece[p] == PS_GOOD) {
			res->good++;
			res->good_bytes += sz;
		} else if (res->piece[p] == PS_BAD) {
			res->bad++;
			res->bad_bytes += sz;
		} else {
			res->missing++;
			res->missing_bytes += sz;
		}
		off = (uint64_t)p * mi->piece_length;
		end = off + sz;
		while (off < end) {
			if ((k = st_segments(mi, off, end - off, seg,
			    MAXSEG)) == 0)
				break;
			for (i = 0; i < k; i++) {
				vf = &res->file[seg[i].file];
				if (res->piece[p] == PS_GOOD)
					vf->good++;
				else if (res->piece[p] == PS_BAD)
					vf->bad++;
				else
					vf->missing++;
			}
			off += seg[k - 1].boff + seg[k - 1].len;
		}
	}
	res->complete = res->good == mi->npieces;
	for (i = 0; i < mi->nfiles; i++) {
		vf = &res->file[i];
		if (vf->status != FS_COMPLETE) {
			res->complete = 0;
			continue;
		}
		if (vf->bad > 0)
			vf->status = FS_BAD;
		else if (vf->missing > 0)
			vf->status = vf->good > 0 || vf->exists ?
			    FS_PARTIAL : FS_MISSING;
	}
}

int
verify(const struct metainfo *mi, const char *dir, const struct vopts *opt,
    struct vresult *res, char *err)
{
	struct job j;
	struct worker *w = NULL;
	const char *root = opt->spool != NULL ? opt->spool : dir;
	double t0 = now();
	struct sigaction oldbus;
	int i, k, e, nw = 0, started = 0, guarded = 0, rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&j, 0, sizeof(j));
	j.mi = mi;
	j.opt = opt;
	j.res = res;
	j.root = -1;
	pthread_mutex_init(&j.lock, NULL);
	if ((res->piece = calloc(mi->npieces, 1)) == NULL ||
	    (res->file = calloc(mi->nfiles, sizeof(*res->file))) == NULL) {
		bt_err(err, "out of memory");
		goto out;
	}
	if (opt->spool != NULL) {
		if (spool_open_ro(&j.sp, opt->spool, mi, err) == -1)
			goto out;
		j.spool_ok = 1;
	} else if ((j.root = open(root, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		bt_err(err, "%s: %s", root, strerror(errno));
		goto out;
	}
	/* No usable spool for parts: the files alone are judged. */
	if (opt->spool == NULL && opt->parts != NULL &&
	    spool_open_ro(&j.parts, opt->parts, mi, err) == 0)
		j.parts_ok = 1;
	err[0] = '\0';
	if (opt->spool == NULL)
		precheck(mi, j.root, res);
	j.per = mi->piece_length >= BATCH ? 1 :
	    (uint32_t)(BATCH / mi->piece_length);
	j.nbatch = (mi->npieces + j.per - 1) / j.per;
	nw = opt->jobs < 1 ? 1 : opt->jobs;
	if ((uint32_t)nw > j.nbatch)
		nw = (int)j.nbatch;
	while (nw > 1 && (uint64_t)nw * NSLOT * j.per * mi->piece_length >
	    MAX_BUFFERS)
		nw--;
	if ((w = calloc((size_t)nw, sizeof(*w))) == NULL) {
		bt_err(err, "out of memory");
		goto out;
	}
	for (i = 0; i < nw; i++) {
		w[i].job = &j;
		st_reader_init(&w[i].rd, j.root);
		pthread_mutex_init(&w[i].mu, NULL);
		pthread_cond_init(&w[i].cv, NULL);
		for (k = 0; k < NSLOT; k++)
			w[i].slot[k].miss = malloc(j.per);
		for (k = 0; k < NSLOT; k++)
			if (w[i].slot[k].miss == NULL)
				break;
		if (k < NSLOT) {
			bt_err(err, "out of memory");
			nw = i + 1;
			goto out;
		}
	}
	if (st_guard_install(&oldbus) == -1) {
		bt_err(err, "sigaction: %s", strerror(errno));
		goto out;
	}
	guarded = 1;
	atomic_store(&j.running, nw);
	for (started = 0; started < nw; started++) {
		if ((e = pthread_create(&w[started].tid, NULL, work,
		    &w[started])) != 0) {
			job_fail(&j, "pthread_create", e);
			atomic_fetch_sub(&j.running, nw - started);
			break;
		}
		if ((e = pthread_create(&w[started].rtid, NULL, reader,
		    &w[started])) != 0) {
			job_fail(&j, "pthread_create", e);
			slot_set(&w[started], &w[started].slot[0], SLOT_END);
			pthread_join(w[started].tid, NULL);
			atomic_fetch_sub(&j.running, nw - started - 1);
			break;
		}
	}
	while (opt->progress && atomic_load(&j.running) > 0) {
		struct timespec ts = { 0, TICK_MS * 1000000L };

		bar(&j, t0, 0);
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		pthread_join(w[i].rtid, NULL);
	}
	if (opt->progress)
		bar(&j, t0, 1);
	if (atomic_load(&j.failed)) {
		bt_err(err, "%s", j.err);
		goto out;
	}
	tally(mi, res);
	res->seconds = now() - t0;
	rc = 0;
out:
	if (guarded)
		st_guard_restore(&oldbus);
	if (w != NULL) {
		for (i = 0; i < nw; i++) {
			for (k = 0; k < NSLOT; k++) {
				free(w[i].slot[k].buf);
				unmap_slot(&w[i].slot[k]);
				free(w[i].slot[k].miss);
			}
			pthread_mutex_destroy(&w[i].mu);
			pthread_cond_destroy(&w[i].cv);
		}
		free(w);
	}
	if (j.spool_ok)
		spool_close(&j.sp);
	if (j.parts_ok)
		spool_close(&j.parts);
	if (j.root != -1)
		close(j.root);
	pthread_mutex_destroy(&j.lock);
	if (rc == -1)
		vresult_free(res);
	return rc;
}

void
vresult_free(struct vresult *res)
{
	free(res->piece);
	free(res->file);
	res->piece = NULL;
	res->file = NULL;
}
