/*
 * verify.c: the hashing engine. The pieces are cut into batches of about
 * BATCH bytes; worker threads take the next batch from a shared counter,
 * hash each piece with OpenSSL. Taking batches in order keeps the reads
 * close to sequential whatever the number of workers. Each worker is a
 * pair of threads: a reader readies one of two batches while the hasher
 * hashes the other. batch.c readies a batch: a batch of the final layout
 * over at most MAXMAP files is mapped, file by file (lib/storage_map: the
 * hash reads the page cache itself, no copy, about a tenth less CPU; the
 * reader fills the page tables and waits for the disk); any other batch
 * (many small files, a spool, a short file) is read with one large pread
 * per file into the slot's buffer.
 */
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
#include "verify_int.h"

/* All jobs' buffers together: 64 jobs of 4 MiB fit; 256 MiB pieces cut jobs. */
#define MAX_BUFFERS	((uint64_t)1 << 30)
/* The progress bar is redrawn this often (ms). */
#define TICK_MS		200

const char *
fstat_name(enum fstat s)
{
	static const char *const name[] = {
		"complete", "partial", "bad", "wrong-size", "missing",
		"not-a-file", "unreadable", "not-selected"
	};

	return name[s];
}

void
job_fail(struct job *j, const char *what, int e)
{
	pthread_mutex_lock(&j->lock);
	if (!atomic_load(&j->failed))
		snprintf(j->err, sizeof(j->err), "%s: %s", what, strerror(e));
	atomic_store(&j->failed, 1);
	pthread_mutex_unlock(&j->lock);
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
		if (batch_ready(w, sl) == -1) {
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
			    batch_iov(sl, off, sz, iov)) : st_piece_ok(mi, p,
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
				batch_unmap(&w[i].slot[k]);
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
