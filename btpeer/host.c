/* host.c: the core's actions on the spool and the files (host.h). */
#include <sys/sendfile.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt.h"
#include "host.h"

int64_t
host_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * PEER_SEC + ts.tv_nsec / 1000;
}

void
host_count(struct host *h)
{
	plog_count(&h->plog, h->ev, host_now(), 1);
}

void
host_event(struct host *h, const char *line)
{
	if (h->ev != NULL)
		plog_event(&h->plog, h->ev, line, host_now());
}

static void
on_event(void *ctx, const char *line)
{
	host_event(ctx, line);
}

static void
on_trace(void *ctx, const char *line)
{
	struct host *h = ctx;

	fprintf(stderr, "btpeer: %9.3f %s\n",
	    (double)(host_now() - h->t0) / PEER_SEC, line);
}

/* A selection: only wanted pieces are offered to the pick. */
static int64_t
on_claim(void *ctx, const unsigned char *peer_has, int64_t *endgame)
{
	struct host *h = ctx;
	size_t k, n = ((size_t)h->mi->npieces + 7) / 8;

	if (h->want == NULL)
		return spool_pick(h->sp, h->o->strategy, peer_has, endgame);
	for (k = 0; k < n; k++)
		h->mask[k] = peer_has[k] & h->want[k];
	return spool_pick(h->sp, h->o->strategy, h->mask, endgame);
}

static void
on_release(void *ctx, uint32_t i)
{
	struct host *h = ctx;

	spool_unclaim(h->sp, i);
}

/* For the core's interest, a piece not wanted is as good as had. */
static int
on_have(void *ctx, uint32_t i)
{
	struct host *h = ctx;

	return spool_have(h->sp, i) || (h->o->sel != NULL &&
	    !sel_piece(h->o->sel, i));
}

int
host_complete(const struct host *h)
{
	const struct sel *sel = h->o->sel;
	uint32_t i;

	if (sel == NULL || sel->all)
		return spool_nhave(h->sp) == h->mi->npieces;
	if (spool_nhave(h->sp) < sel->npieces)
		return 0;
	for (i = 0; i < h->mi->npieces; i++)
		if (sel_piece(sel, i) && !spool_have(h->sp, i))
			return 0;
	return 1;
}

static int
on_complete(void *ctx)
{
	return host_complete(ctx);
}

static int
on_can_serve(void *ctx, uint32_t i)
{
	struct host *h = ctx;

	if (h->sp == NULL)
		return h->outfd != -1;
	if (!spool_have(h->sp, i))
		return 0;
	return !spool_placed(h->sp, i) || h->outfd != -1;
}

static int
on_store(void *ctx, uint32_t i, const unsigned char *data, size_t len,
    char *err)
{
	struct host *h = ctx;

	return spool_commit(h->sp, i, data, len, err);
}

/* --piece: stdout is the data. */
static int
on_store_stdout(void *ctx, uint32_t i, const unsigned char *data,
    size_t len, char *err)
{
	(void)ctx;
	(void)i;
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) == EOF)
		return bt_err(err, "writing piece: output error");
	return 1;
}

static void
on_avail(void *ctx, uint32_t i, int delta)
{
	struct host *h = ctx;

	spool_avail_add(h->sp, i, delta);
}

/* No spool: a final-file piece is hashed before its first block goes. */
static int
verify_final(struct host *h, uint32_t i, char *err)
{
	uint32_t size = mi_piece_size(h->mi, i);
	unsigned char *buf;
	int r;

	if ((h->verified[i / 8] >> (i % 8)) & 1)
		return 0;
	if ((buf = malloc(size)) == NULL)
		return bt_err(err, "out of memory");
	r = st_read_range(&h->files, h->mi, (uint64_t)i * h->mi->piece_length,
	    buf, size, err);
	if (r == 0 && st_piece_ok(h->mi, i, buf, size) != 1)
		r = bt_err(err, "piece %u of the files in %s fails its hash", i,
		    h->o->outdir);
	free(buf);
	if (r != 0)
		return -1;
	h->verified[i / 8] |= 1 << (i % 8);
	return 0;
}

static int
on_read(void *ctx, uint32_t i, uint32_t begin, uint32_t len,
    unsigned char *out, char *err)
{
	struct host *h = ctx;
	int r;

	if (h->sp != NULL) {
		r = spool_read_piece(h->sp, &h->rd, i, begin, out, len, err);
		if (r != 0)
			return r;
		/* Not in pieces/: read the final files if placed. */
		if (!spool_placed(h->sp, i))
			return 0;
	}
	if (h->outfd == -1)
		return 0;
	if (h->sp == NULL && verify_final(h, i, err) == -1)
		return -1;
	r = st_read_range(&h->files, h->mi, (uint64_t)i * h->mi->piece_length +
	    begin, out, len, err);
	return r == 0 ? 1 : -1;
}

int
host_sendable(void *ctx, uint32_t i, uint32_t begin, uint32_t len,
    char *err)
{
	struct host *h = ctx;
	struct st_seg seg[HOST_SEGS];
	uint64_t covered = 0;
	size_t n, k;

	if (h->outfd == -1)
		return 0;
	/* A spool piece file may be recycled under us: read (spool.h). */
	if (h->sp != NULL && !spool_placed(h->sp, i))
		return 0;
	if (h->sp == NULL && verify_final(h, i, err) == -1)
		return -1;
	n = st_segments(h->mi, (uint64_t)i * h->mi->piece_length + begin, len,
	    seg, HOST_SEGS);
	for (k = 0; k < n; k++) {
		if (h->mi->files[seg[k].file].pad)
			return 0;	/* zeros are not on disk */
		covered = seg[k].boff + seg[k].len;
	}
	return covered == len;
}

ssize_t
host_sendfile(struct host *h, int sock, const struct peer_fileref *ref,
    size_t max, char *err)
{
	struct st_seg seg;
	const struct mi_file *f;
	off_t foff;
	ssize_t w;

	if (st_segments(h->mi, (uint64_t)ref->index * h->mi->piece_length +
	    ref->begin, ref->len, &seg, 1) != 1) {
		bt_err(err, "piece %u: no file at %u", ref->index, ref->begin);
		return -2;
	}
	f = &h->mi->files[seg.file];
	if (h->files.fd == -1 || h->files.file != seg.file) {
		st_reader_close(&h->files);
		h->files.fd = st_openat(h->outfd, f->path, O_RDONLY | O_CLOEXEC,
		    0);
		if (h->files.fd == -1) {
			bt_err(err, "%s: %s", f->path, strerror(errno));
			return -2;
		}
		h->files.file = seg.file;
	}
	if (seg.len > max)
		seg.len = max;
	foff = (off_t)seg.foff;
	w = sendfile(sock, h->files.fd, &foff, (size_t)seg.len);
	if (w == 0) {
		bt_err(err, "%s: short file", f->path);
		return -2;
	}
	return w;
}

int
host_init(struct host *h, const struct opts *o, const struct metainfo *mi,
    struct spool *sp, FILE *events, char *err, int *code)
{
	struct peer_host *op = &h->ops;
	size_t words = ((size_t)mi->npieces + 63) / 64, w;

	memset(h, 0, sizeof(*h));
	h->ch.tab.fd = -1;
	h->ch.tab.held = CHOKE_HELD_NONE;
	h->o = o;
	h->mi = mi;
	h->sp = sp;
	h->ev = events;
	h->t0 = host_now();
	h->outfd = -1;
	plog_init(&h->plog, o->piecelog);
	spool_rd_init(&h->rd);
	*code = bt_fail_exit(BT_FAIL_SYSTEM);
	if (o->outdir != NULL && (o->mode == PEER_FETCH ||
	    o->mode == PEER_SERVE)) {
		h->outfd = open(o->outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (h->outfd == -1 && sp == NULL) {
			*code = bt_fail_exit(bt_fail_errno(errno));
			return bt_err(err, "%s: %s", o->outdir,
			    strerror(errno));
		}
	}
	st_reader_init(&h->files, h->outfd);
	h->told = calloc(words + 1, 8);
	h->verified = calloc(1, (size_t)mi->npieces / 8 + 1);
	if (h->told == NULL || h->verified == NULL)
		return bt_err(err, "out of memory");
	if (o->sel != NULL && !o->sel->all) {
		h->want = calloc(1, (size_t)mi->npieces / 8 + 1);
		h->mask = calloc(1, (size_t)mi->npieces / 8 + 1);
		if (h->want == NULL || h->mask == NULL)
			return bt_err(err, "out of memory");
		for (uint32_t i = 0; i < mi->npieces; i++)
			if (sel_piece(o->sel, i))
				h->want[i / 8] |= 0x80 >> (i % 8);
	}
	if (sp != NULL)
		for (w = 0; w < words; w++)
			h->told[w] = __atomic_load_n(&sp->have[w],
			    __ATOMIC_ACQUIRE);
	op->ctx = h;
	op->event = on_event;
	op->trace = on_trace;
	if (o->mode == PEER_PIECE) {
		op->store = on_store_stdout;
	} else if (o->mode != PEER_BITFIELD && o->mode != PEER_METADATA) {
		op->can_serve = on_can_serve;
		op->read = on_read;
	}
	if (sp != NULL && o->mode != PEER_BITFIELD && o->mode != PEER_PIECE) {
		op->claim = on_claim;
		op->release = on_release;
		op->have = on_have;
		op->complete = on_complete;
		op->store = on_store;
	}
	if (sp != NULL)
		op->avail = on_avail;
	if (choker_init(h, err) == -1)
		return -1;
	if (h->ch.on)
		op->unchoke = choker_unchoke;
	return 0;
}

void
host_free(struct host *h)
{
	if (h->ev != NULL)
		host_count(h);
	choker_free(h);
	spool_rd_close(&h->rd);
	st_reader_close(&h->files);
	if (h->outfd != -1)
		close(h->outfd);
	h->outfd = -1;
	free(h->told);
	free(h->verified);
	free(h->want);
	free(h->mask);
	h->want = h->mask = NULL;
	h->told = NULL;
	h->verified = NULL;
}

int
host_new_pieces(struct host *h, struct peer *p)
{
	size_t w, words = ((size_t)h->mi->npieces + 63) / 64;
	uint64_t nw;
	uint32_t i;

	if (h->ev != NULL)
		plog_count(&h->plog, h->ev, host_now(), 0);
	if (h->sp == NULL)
		return 0;
	for (w = 0; w < words; w++) {
		nw = __atomic_load_n(&h->sp->have[w], __ATOMIC_ACQUIRE) &
		    ~h->told[w];
		while (nw != 0) {
			i = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(nw));
			nw &= nw - 1;
			h->told[w] |= (uint64_t)1 << (i % 64);
			if (peer_have(p, i) == -1)
				return -1;
		}
	}
	return 0;
}
