/*
 * pieces.c: the pieces btwebseed holds: claimed through the spool (with
 * the pieces after them in the same file, for one request), hashed and
 * committed once whole, dropped when another process stored them first,
 * their file is missing, or they fail their hash.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "engine.h"
#include "spool.h"

double
wsf_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
wsf_trace(struct eng *e, const char *fmt, ...)
{
	va_list ap;

	if (!e->o->verbose)
		return;
	fprintf(stderr, "btwebseed: %9.3f ", wsf_now() - e->t0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Microseconds of wsf_now, the clock of the piece log. */
int64_t
wsf_usec(void)
{
	return (int64_t)(wsf_now() * 1e6);
}

/* An event line; longer ones (none: errors are BT_ERRLEN) are cut. */
#define WSF_LINE_MAX	512

void
wsf_event(struct eng *e, const char *fmt, ...)
{
	char line[WSF_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	plog_event(&e->plog, e->ev, line, wsf_usec());
}

int
wsf_fail(struct eng *e, const char *fmt, ...)
{
	char why[BT_ERRLEN];
	va_list ap;

	if (e->done >= 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);	/* fmt may name e->err */
	va_end(ap);
	memcpy(e->err, why, sizeof(why));
	e->done = BT_EXIT_WORLD;
	return -1;
}

static void
clear_bit(unsigned char *bits, uint32_t i)
{
	bits[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
}

static int
has_bit(const unsigned char *bits, uint32_t i)
{
	return (bits[i / 8] >> (7 - i % 8)) & 1;
}

struct wpiece *
piece_find(struct eng *e, uint32_t index, int *k)
{
	for (int j = 0; j < e->nact; j++)
		if (e->act[j].index == index) {
			if (k != NULL)
				*k = j;
			return &e->act[j];
		}
	return NULL;
}

struct wpiece *
piece_of(struct eng *e, const struct seg *s)
{
	struct wpiece *a = piece_find(e, s->piece, NULL);

	return a != NULL && a->gen == s->gen ? a : NULL;
}

/*
 * Drops active piece k: its claim; the buffer is kept for the next one.
 * A request whose ranges left to come are all of dropped pieces ends.
 */
void
piece_drop(struct eng *e, int k)
{
	struct wpiece *a = &e->act[k];
	uint64_t gen = a->gen;
	int j, s, live;

	if (!a->endgame)
		spool_unclaim(e->sp, a->index);
	e->pool[e->npool++] = a->data;
	free(a->rg);
	free(a->st);
	e->act[k] = e->act[--e->nact];
	for (j = 0; j < WSF_JOBS_MAX; j++) {
		struct xfer *x = &e->x[j];

		if (!x->busy)
			continue;
		for (s = x->cur, live = 0; s < x->nseg && !live; s++)
			live = x->seg[s].gen != gen &&
			    piece_of(e, &x->seg[s]) != NULL;
		if (!live)
			xfer_release(e, x);
	}
}

static void
finish(struct eng *e, int k)
{
	struct wpiece *a = &e->act[k];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	uint32_t i = a->index;
	int r;

	if (EVP_Digest(a->data, a->size, md, &mdlen, EVP_sha1(), NULL) != 1) {
		wsf_fail(e, "SHA-1 failed");
		return;
	}
	if (memcmp(md, e->mi->pieces + (size_t)i * 20, 20) != 0) {
		e->hashfails++;
		wsf_event(e, "piece %u bad", i);
		wsf_trace(e, "  piece %u fails its hash (%d so far)", i,
		    e->hashfails);
		/* Not from this seed again: another source may have it. */
		clear_bit(e->has, i);
		piece_drop(e, k);
		if (e->hashfails >= WSF_MAX_HASHFAIL)
			wsf_fail(e, "%d pieces failed their hash",
			    e->hashfails);
		return;
	}
	r = spool_commit(e->sp, i, a->data, a->size, e->err);
	if (r == -1) {
		wsf_fail(e, "%s", e->err);
		return;
	}
	wsf_event(e, "piece %u %s", i, r == 1 ? "ok" : "dup");
	wsf_trace(e, "  piece %u %s", i, r == 1 ? "verified, stored" :
	    "verified, already stored");
	piece_drop(e, k);
}

int
piece_finish_ready(struct eng *e)
{
	int n = 0;

	for (int k = e->nact - 1; k >= 0 && e->done < 0; k--)
		if (e->act[k].ndone == e->act[k].nrg) {
			finish(e, k);
			n++;
		}
	return n;
}

static int
start(struct eng *e, uint32_t i, int endgame)
{
	struct wpiece *a = &e->act[e->nact];
	int n, r;

	memset(a, 0, sizeof(*a));
	a->index = i;
	a->size = mi_piece_size(e->mi, i);
	a->gen = ++e->gen;
	a->endgame = endgame;
	n = ws_piece_ranges(e->mi, i, NULL, 0);
	a->rg = calloc(n > 0 ? (size_t)n : 1, sizeof(*a->rg));
	a->st = calloc(n > 0 ? (size_t)n : 1, 1);
	if (e->npool > 0)
		a->data = e->pool[--e->npool];
	else if (posix_memalign((void **)&a->data, 4096,
	    e->mi->piece_length) != 0)
		a->data = NULL;
	if (a->rg == NULL || a->st == NULL || a->data == NULL) {
		free(a->rg);
		free(a->st);
		free(a->data);
		return wsf_fail(e, "out of memory");
	}
	a->nrg = ws_piece_ranges(e->mi, i, a->rg, (size_t)n);
	e->nact++;
	if (endgame)
		wsf_event(e, "endgame %u", i);
	wsf_trace(e, "  start piece %u: %d range%s%s", i, a->nrg,
	    a->nrg == 1 ? "" : "s", endgame ? " (endgame)" : "");
	/* Pad files are zeros: never asked for. */
	for (r = 0; r < a->nrg; r++)
		if (a->rg[r].pad) {
			memset(a->data + a->rg[r].poff, 0, a->rg[r].len);
			a->st[r] = R_DONE;
			a->ndone++;
		}
	return 0;
}

/*
 * After claiming piece i, claims the pieces that follow it in the same
 * file, so that one request can fetch them all (up to --span pieces and
 * WSF_RUN_BYTES), as long as nobody else holds them.
 */
static void
extend(struct eng *e, uint32_t i)
{
	const struct metainfo *mi = e->mi;
	struct wpiece *a = &e->act[e->nact - 1];
	struct ws_range *last;
	uint64_t bytes;
	uint32_t j;
	int n = 1;

	if (a->nrg == 0)
		return;
	last = &a->rg[a->nrg - 1];
	bytes = last->len;
	for (j = i + 1; j < mi->npieces && n < e->o->span &&
	    bytes < WSF_RUN_BYTES && e->nact < e->maxact && e->done < 0;
	    j++, n++) {
		const struct mi_file *f = &mi->files[last->file];
		uint64_t at = (uint64_t)j * mi->piece_length;

		/* Piece j must go on in the same file. */
		if (last->pad || at >= f->offset + f->length ||
		    spool_have(e->sp, j) || !has_bit(e->has, j) ||
		    piece_find(e, j, NULL) != NULL ||
		    spool_claim(e->sp, j, e->err) != 1)
			return;
		if (start(e, j, 0) == -1) {
			spool_unclaim(e->sp, j);
			return;
		}
		a = &e->act[e->nact - 1];
		bytes += a->rg[0].len;
		if (a->nrg != 1)	/* it ends the file */
			return;
		last = &a->rg[0];
	}
}

int
piece_next(struct eng *e)
{
	int64_t r, eg = -1;

	e->nothing_left = 0;
	if (e->nact >= e->maxact)
		return 0;
	r = spool_pick(e->sp, e->o->strategy, e->has, &eg);
	if (r >= 0) {
		if (start(e, (uint32_t)r, 0) == -1) {
			spool_unclaim(e->sp, (uint32_t)r);
			return -1;
		}
		extend(e, (uint32_t)r);
		return 1;
	}
	if (r == -2) {
		e->nothing_left = 1;
		return 0;
	}
	/* Endgame: all we could fetch is claimed elsewhere; help one. */
	if (e->nact == 0 && eg >= 0)
		return start(e, (uint32_t)eg, 1) == -1 ? -1 : 1;
	return 0;
}

void
piece_drop_stored(struct eng *e)
{
	for (int k = e->nact - 1; k >= 0; k--)
		if (spool_have(e->sp, e->act[k].index)) {
			wsf_event(e, "piece %u dup", e->act[k].index);
			piece_drop(e, k);
		}
}

void
piece_file_gone(struct eng *e, size_t f, long status)
{
	const struct mi_file *mf = &e->mi->files[f];
	uint64_t plen = e->mi->piece_length;
	uint32_t i;
	int k, r, hit;

	if (!e->gone[f]) {
		e->gone[f] = 1;
		wsf_event(e, "file %zu unavailable", f);
		wsf_trace(e, "  %s: HTTP %ld, not from this seed", mf->path,
		    status);
		for (i = (uint32_t)(mf->offset / plen);
		    i <= (mf->offset + mf->length - 1) / plen; i++)
			clear_bit(e->has, i);
	}
	for (k = e->nact - 1; k >= 0; k--) {
		for (r = 0, hit = 0; r < e->act[k].nrg; r++)
			hit |= e->act[k].rg[r].file == f;
		if (hit)
			piece_drop(e, k);
	}
}
