/*
 * slab.c: btassemble's work on slab spools (btspool(5)): fresh slab
 * pieces of a batch are copied at its commit in runs, one
 * copy_file_range per run of consecutive pieces of one slab (the final
 * files are the pieces in order, so a run is one range of them), and
 * after the commit the placed pieces' blocks are freed, or their slab
 * unlinked once all its pieces are placed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assembler.h"
#include "bt.h"
#include "spool.h"

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

static int
is_defer(const struct assembler *a, uint32_t i)
{
	return (a->defer[i / 64] >> (i % 64)) & 1;
}

/* The batch's pieces that pass keep (1: deferred, 0: placed from a
 * slab, not kept) into a->runs, sorted; their count. */
static size_t
sorted(struct assembler *a, int deferred)
{
	size_t k, m = 0;
	uint32_t i;

	for (k = 0; k < a->nbatch; k++) {
		i = a->batch[k];
		if (deferred ? is_defer(a, i) : !is_kept(a, i))
			a->runs[m++] = i;
	}
	qsort(a->runs, m, sizeof(*a->runs), cmp_u32);
	return m;
}

/* The length of the run of consecutive pieces of one slab at runs[k]. */
static uint32_t
run_at(const struct assembler *a, size_t k, size_t m, uint32_t g)
{
	uint32_t i = a->runs[k], n = 1;

	while (k + n < m && a->runs[k + n] == i + n && (i + n) / g == i / g)
		n++;
	return n;
}

/* a->rfd on the slab of piece i, opened and checked if need be. */
static int
slab_fd(struct assembler *a, uint32_t i, uint32_t g)
{
	uint64_t off;
	int fd, r;

	if (a->rfd != -1 && a->rslab == i / g)
		return 0;
	r = spool_open_whole(&a->sp, i, &fd, &off, a->err);
	if (r == -1)
		return -1;
	/* Fresh pieces, written before their bits: only a slab removed
	 * by hand can be missing. */
	if (r != SPOOL_PIECE_OK)
		return bt_err(a->err, "%s/slabs/%u: piece %u is not there",
		    a->opt->spool, i / g, i);
	if (a->rfd != -1)
		close(a->rfd);
	a->rfd = fd;
	a->rslab = i / g;
	return 0;
}

int
copy_slab_runs(struct assembler *a)
{
	uint32_t g = spool_slab_pieces(&a->sp), i, n, j;
	size_t k, m = sorted(a, 1);

	for (k = 0; k < m; k += n) {
		i = a->runs[k];
		n = run_at(a, k, m, g);
		if (slab_fd(a, i, g) == -1 || write_span(a, i, n, NULL, a->rfd,
		    (uint64_t)(i % g) * a->mi->piece_length, 0) == -1)
			return -1;
		for (j = i; j < i + n; j++)
			a->defer[j / 64] &= ~((uint64_t)1 << (j % 64));
	}
	a->ndefer = 0;
	return 0;
}

int
release_slabs(struct assembler *a)
{
	uint32_t g = spool_slab_pieces(&a->sp), i, n;
	size_t k, m = sorted(a, 0);
	int r;

	for (k = 0; k < m; k += n) {
		i = a->runs[k];
		n = run_at(a, k, m, g);
		if ((r = spool_slab_release(&a->sp, i, n, a->err)) == -1)
			return -1;
		if (r == 1) {
			/* Gone: its other runs in the batch need nothing. */
			while (k + n < m && a->runs[k + n] / g == i / g)
				n++;
			if (a->rfd != -1 && a->rslab == i / g) {
				close(a->rfd);
				a->rfd = -1;
			}
		}
	}
	return 0;
}
