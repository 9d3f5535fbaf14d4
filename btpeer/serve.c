/*
 * serve.c: uploading. Requests are answered from verified data only:
 * spool pieces, or final files under -o for pieces btassemble placed
 * (or, with no spool at all, final files checked piece by piece before
 * the first block of each is sent).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bt.h"
#include "session.h"
#include "storage.h"

/* State of the serving side not in struct session. */
static int outfd = -1;		/* -o directory */
static int filefd = -1;		/* cached final file */
static size_t filefd_i;
static uint64_t *told;		/* spool bitmap layout: decided pieces */

static int
can_serve(const struct session *s, uint32_t i)
{
	if (s->sp == NULL)
		return outfd != -1;
	if (!spool_have(s->sp, i))
		return 0;
	return !spool_placed(s->sp, i) || outfd != -1;
}

int
serve_init(struct session *s)
{
	size_t words = ((size_t)s->mi->npieces + 63) / 64;

	if (s->o->outdir != NULL && (s->o->mode == MODE_FETCH ||
	    s->o->mode == MODE_SERVE)) {
		outfd = open(s->o->outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (outfd == -1 && s->sp == NULL)
			return fail(s, BT_EXIT_INPUT, "%s: %s", s->o->outdir,
			    strerror(errno));
	}
	s->reqs = calloc(SESS_PEER_REQS, sizeof(*s->reqs));
	told = calloc(words + 1, 8);
	if (s->sp == NULL)
		s->verified = calloc(1, (size_t)s->lim.bitfield_len + 1);
	if (s->reqs == NULL || told == NULL ||
	    (s->sp == NULL && s->verified == NULL))
		return fail(s, BT_EXIT_WORLD, "out of memory");
	return 0;
}

void
serve_free(struct session *s)
{
	free(s->reqs);
	free(told);
	free(s->verified);
	told = NULL;
	if (s->piecefd != -1)
		close(s->piecefd);
	if (filefd != -1)
		close(filefd);
	if (outfd != -1)
		close(outfd);
	s->piecefd = filefd = outfd = -1;
}

static void
set_told(uint32_t i)
{
	told[i / 64] |= (uint64_t)1 << (i % 64);
}

int
serve_bitfield(struct session *s)
{
	unsigned char hdr[5], *bits;
	uint32_t i, n = 0;
	int r;

	if (s->o->mode == MODE_BITFIELD || s->o->mode == MODE_PIECE)
		return 0;
	bits = calloc(1, (size_t)s->lim.bitfield_len + 1);
	if (bits == NULL)
		return fail(s, BT_EXIT_WORLD, "out of memory");
	for (i = 0; i < s->mi->npieces; i++) {
		if (s->sp != NULL && spool_have(s->sp, i))
			set_told(i);
		if (can_serve(s, i)) {
			bits[i / 8] |= 0x80 >> (i % 8);
			set_told(i);
			n++;
		}
	}
	r = 0;
	if (n > 0) {
		trace(s, "> bitfield %u", n);
		if (out_add(s, hdr, wire_bitfield_hdr(hdr,
		    s->lim.bitfield_len)) == -1 ||
		    out_add(s, bits, s->lim.bitfield_len) == -1)
			r = -1;
	}
	free(bits);
	return r;
}

int
serve_request(struct session *s, const struct wire_msg *m)
{
	struct preq *q;

	if (s->o->verbose)
		trace(s, "< request %u %u+%u", m->index, m->begin, m->length);
	if (s->peer_choked) {
		trace(s, "  ignored: the peer is choked");
		return 0;
	}
	if (!can_serve(s, m->index)) {
		trace(s, "  ignored: we do not have piece %u", m->index);
		return 0;
	}
	if (s->rqlen == SESS_PEER_REQS) {
		trace(s, "  ignored: %d requests queued already",
		    SESS_PEER_REQS);
		return 0;
	}
	q = &s->reqs[(s->rqhead + s->rqlen++) % SESS_PEER_REQS];
	q->index = m->index;
	q->begin = m->begin;
	q->length = m->length;
	return 0;
}

void
serve_cancel(struct session *s, const struct wire_msg *m)
{
	size_t k;
	struct preq *q;

	for (k = 0; k < s->rqlen; k++) {
		q = &s->reqs[(s->rqhead + k) % SESS_PEER_REQS];
		if (q->index == m->index && q->begin == m->begin &&
		    q->length == m->length)
			q->length = 0;
	}
}

/* Reads [off, off+len) of the torrent from the final files. */
static int
read_final(struct session *s, uint64_t off, unsigned char *p, size_t len)
{
	struct st_seg seg[8];
	size_t n, k;
	ssize_t r;

	while (len > 0) {
		n = st_segments(s->mi, off, len, seg, 8);
		if (n == 0)
			return fail(s, BT_EXIT_WORLD, "no file at offset %llu",
			    (unsigned long long)off);
		for (k = 0; k < n; k++) {
			const struct mi_file *f = &s->mi->files[seg[k].file];

			if (f->pad) {
				memset(p + seg[k].boff, 0, seg[k].len);
				continue;
			}
			if (filefd == -1 || filefd_i != seg[k].file) {
				if (filefd != -1)
					close(filefd);
				filefd = st_openat(outfd, f->path,
				    O_RDONLY | O_CLOEXEC, 0);
				if (filefd == -1)
					return fail(s, BT_EXIT_WORLD,
					    "%s: %s", f->path,
					    strerror(errno));
				filefd_i = seg[k].file;
			}
			r = st_pread_full(filefd, p + seg[k].boff, seg[k].len,
			    seg[k].foff);
			if (r != (ssize_t)seg[k].len)
				return fail(s, BT_EXIT_WORLD, "%s: short read",
				    f->path);
		}
		k = n - 1;
		off += seg[k].boff + seg[k].len;
		p += seg[k].boff + seg[k].len;
		len -= seg[k].boff + seg[k].len;
	}
	return 0;
}

/* No spool: a final-file piece is hashed before its first block goes. */
static int
verify_final(struct session *s, uint32_t i)
{
	uint32_t size = mi_piece_size(s->mi, i);
	unsigned char *buf, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	int r;

	if ((s->verified[i / 8] >> (i % 8)) & 1)
		return 0;
	if ((buf = malloc(size)) == NULL)
		return fail(s, BT_EXIT_WORLD, "out of memory");
	r = read_final(s, (uint64_t)i * s->mi->piece_length, buf, size);
	if (r == 0 && (EVP_Digest(buf, size, md, &mdlen, EVP_sha1(), NULL)
	    != 1 || memcmp(md, s->mi->pieces + (size_t)i * 20, 20) != 0))
		r = fail(s, BT_EXIT_WORLD, "piece %u of the files in %s "
		    "fails its hash", i, s->o->outdir);
	free(buf);
	if (r == 0)
		s->verified[i / 8] |= 1 << (i % 8);
	return r;
}

static int
read_block(struct session *s, const struct preq *q, unsigned char *p)
{
	char name[16];
	ssize_t r;

	if (s->sp != NULL && !spool_placed(s->sp, q->index)) {
		if (s->piecefd == -1 || s->piecefd_i != q->index) {
			if (s->piecefd != -1)
				close(s->piecefd);
			snprintf(name, sizeof(name), "%u", q->index);
			s->piecefd = openat(s->sp->piecesfd, name,
			    O_RDONLY | O_CLOEXEC);
			s->piecefd_i = q->index;
		}
		if (s->piecefd != -1) {
			r = st_pread_full(s->piecefd, p, q->length, q->begin);
			/*
			 * Placed by now, the file may have been recycled
			 * (btspool(5) free/) and hold another piece: the
			 * bit is set before it leaves pieces/, so it is
			 * seen set here if what we read was overwritten.
			 */
			if (r == (ssize_t)q->length &&
			    !spool_placed(s->sp, q->index))
				return 1;
		}
		/* Moved out by btassemble meanwhile: the final files. */
		if (!spool_placed(s->sp, q->index))
			return 0;
	}
	if (outfd == -1)
		return 0;
	if (s->sp == NULL && verify_final(s, q->index) == -1)
		return -1;
	if (read_final(s, (uint64_t)q->index * s->mi->piece_length + q->begin,
	    p, q->length) == -1)
		return -1;
	return 1;
}

int
serve_fill(struct session *s)
{
	unsigned char *p;
	struct preq q;
	int r;

	while (s->rqlen > 0 && s->wlen - s->wpos < SESS_WLOW) {
		q = s->reqs[s->rqhead];
		s->rqhead = (s->rqhead + 1) % SESS_PEER_REQS;
		s->rqlen--;
		if (q.length == 0)
			continue;	/* cancelled */
		/* Header and block straight into the output buffer. */
		if (out_space(s, WIRE_PIECE_HDR + q.length) == -1)
			return -1;
		p = s->wbuf + s->wlen;
		wire_piece_hdr(p, q.index, q.begin, q.length);
		r = read_block(s, &q, p + WIRE_PIECE_HDR);
		if (r == -1)
			return -1;
		if (r == 0) {
			trace(s, "  cannot read piece %u now: request dropped",
			    q.index);
			continue;
		}
		s->wlen += WIRE_PIECE_HDR + q.length;
		s->up += q.length;
		if (s->o->verbose)
			trace(s, "> piece %u %u+%u", q.index, q.begin,
			    q.length);
	}
	return 0;
}

int
serve_tick(struct session *s)
{
	unsigned char m[WIRE_HAVE_LEN];
	size_t w, words = ((size_t)s->mi->npieces + 63) / 64;
	uint64_t nw;
	uint32_t i;

	if (s->up > s->up_reported) {
		event(s, "sent %llu", (unsigned long long)(s->up -
		    s->up_reported));
		s->up_reported = s->up;
	}
	if (s->sp == NULL || !s->hs_done || s->o->mode == MODE_BITFIELD ||
	    s->o->mode == MODE_PIECE)
		return 0;
	/* Pieces this or another process stored since: send have. */
	for (w = 0; w < words; w++) {
		nw = __atomic_load_n(&s->sp->have[w], __ATOMIC_ACQUIRE) &
		    ~told[w];
		while (nw != 0) {
			i = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(nw));
			nw &= nw - 1;
			set_told(i);
			if (!can_serve(s, i) || peer_bit(s, i))
				continue;
			trace(s, "> have %u", i);
			if (out_add(s, m, wire_have(m, i)) == -1)
				return -1;
		}
	}
	return 0;
}
