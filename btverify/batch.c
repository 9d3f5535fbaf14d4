/*
 * batch.c: the reader's half of a job: a batch of pieces readied for the
 * hasher, mapped file by file where it can be (lib/storage_map), else
 * read into the slot's buffer (from the final files, or from a spool),
 * with the pieces that cannot be read marked.
 */
#include <sys/mman.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "spool.h"
#include "storage.h"
#include "storage_map.h"
#include "verify.h"
#include "verify_int.h"

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

void
batch_unmap(struct slot *sl)
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
			batch_unmap(sl);
			return -1;
		}
	}
	return 0;
}

/*
 * The stretches of piece bytes [a, a+len) of the batch in sl, one per
 * file mapped (iov_base NULL for a pad file's zeros); how many.
 */
int
batch_iov(const struct slot *sl, uint64_t a, uint64_t len,
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

int
batch_ready(struct worker *w, struct slot *sl)
{
	struct job *j = w->job;
	uint64_t off = (uint64_t)sl->p0 * j->mi->piece_length;

	batch_unmap(sl);
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

