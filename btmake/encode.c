/*
 * encode.c: writing the torrent. Keys are emitted in sorted order by
 * hand (the key lists below are already sorted as raw bytes):
 *	top	announce, announce-list, comment, created by, creation date,
 *		info, piece layers, url-list
 *	info	file tree, files, length, meta version, name, piece length,
 *		pieces, private, source
 * In v2 and hybrid the files are in file tree order (component by
 * component), so the tree is written by one pass over the sorted list.
 * The bytes are then read back by lib/metainfo before they are written.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bencode.h"
#include "bt.h"
#include "encode.h"
#include "hash.h"
#include "merkle.h"
#include "metainfo.h"

#define K(b, s)		benc_put_cstr(b, s)

/* The file tree dictionary for files[lo..hi), at path depth d. */
static int
put_tree(struct buf *b, const struct mktree *t, size_t lo, size_t hi,
    size_t d)
{
	size_t i, j;
	const struct mkfile *f;

	if (buf_addc(b, 'd') == -1)
		return -1;
	for (i = lo; i < hi; i = j) {
		f = &t->files[i];
		if (K(b, f->comps[d]) == -1)
			return -1;
		if (f->ncomps == d + 1) {
			/* A file: {"": {length, pieces root}}. */
			j = i + 1;
			if (buf_adds(b, "d0:d") == -1 || K(b, "length") == -1 ||
			    benc_put_int(b, (int64_t)f->length) == -1)
				return -1;
			if (f->length > 0 && (K(b, "pieces root") == -1 ||
			    benc_put_str(b, f->root, MERKLE_HASH) == -1))
				return -1;
			if (buf_adds(b, "ee") == -1)
				return -1;
			continue;
		}
		for (j = i + 1; j < hi && t->files[j].ncomps > d + 1 &&
		    strcmp(t->files[j].comps[d], f->comps[d]) == 0; j++)
			;
		if (put_tree(b, t, i, j, d + 1) == -1)
			return -1;
	}
	return buf_addc(b, 'e');
}

static int
put_file_tree(struct buf *b, const struct mktree *t)
{
	const struct mkfile *f = &t->files[0];

	if (K(b, "file tree") == -1)
		return -1;
	if (!t->single)
		return put_tree(b, t, 0, t->nfiles, 0);
	/* One file: the tree is {name: {"": {...}}}. */
	if (buf_addc(b, 'd') == -1 || K(b, t->name) == -1 ||
	    buf_adds(b, "d0:d") == -1 || K(b, "length") == -1 ||
	    benc_put_int(b, (int64_t)f->length) == -1 ||
	    K(b, "pieces root") == -1 ||
	    benc_put_str(b, f->root, MERKLE_HASH) == -1)
		return -1;
	return buf_adds(b, "eee");
}

/* The v1 files list; hybrid pad files as BEP 47 writes them. */
static int
put_files(struct buf *b, const struct mktree *t)
{
	const struct mkfile *f;
	char pad[24];
	size_t i, c;

	if (K(b, "files") == -1 || buf_addc(b, 'l') == -1)
		return -1;
	for (i = 0; i < t->nfiles; i++) {
		f = &t->files[i];
		if (buf_addc(b, 'd') == -1 || K(b, "length") == -1 ||
		    benc_put_int(b, (int64_t)f->length) == -1 ||
		    K(b, "path") == -1 || buf_addc(b, 'l') == -1)
			return -1;
		for (c = 0; c < f->ncomps; c++)
			if (K(b, f->comps[c]) == -1)
				return -1;
		if (buf_adds(b, "ee") == -1)
			return -1;
		if (f->pad == 0)
			continue;
		snprintf(pad, sizeof(pad), "%llu", (unsigned long long)f->pad);
		if (buf_addc(b, 'd') == -1 || K(b, "attr") == -1 ||
		    K(b, "p") == -1 || K(b, "length") == -1 ||
		    benc_put_int(b, (int64_t)f->pad) == -1 ||
		    K(b, "path") == -1 || buf_addc(b, 'l') == -1 ||
		    K(b, ".pad") == -1 || K(b, pad) == -1 ||
		    buf_adds(b, "ee") == -1)
			return -1;
	}
	return buf_addc(b, 'e');
}

static int
put_info(struct buf *b, const struct mktree *t, const struct mkmeta *m,
    const unsigned char *pieces, uint32_t npieces)
{
	if (K(b, "info") == -1 || buf_addc(b, 'd') == -1)
		return -1;
	if ((m->mode & MK_V2) && put_file_tree(b, t) == -1)
		return -1;
	if (m->mode & MK_V1) {
		if (t->single) {
			if (K(b, "length") == -1 ||
			    benc_put_int(b, (int64_t)t->files[0].length) == -1)
				return -1;
		} else if (put_files(b, t) == -1)
			return -1;
	}
	if ((m->mode & MK_V2) && (K(b, "meta version") == -1 ||
	    benc_put_int(b, 2) == -1))
		return -1;
	if (K(b, "name") == -1 || K(b, t->name) == -1 ||
	    K(b, "piece length") == -1 ||
	    benc_put_int(b, (int64_t)m->piece_len) == -1)
		return -1;
	if ((m->mode & MK_V1) && (K(b, "pieces") == -1 ||
	    benc_put_str(b, pieces, (size_t)npieces * 20) == -1))
		return -1;
	if (m->private && (K(b, "private") == -1 || benc_put_int(b, 1) == -1))
		return -1;
	if (m->source != NULL && (K(b, "source") == -1 ||
	    K(b, m->source) == -1))
		return -1;
	return buf_addc(b, 'e');
}

static int
rootcmp(const void *a, const void *b)
{
	return memcmp((*(const struct mkfile *const *)a)->root,
	    (*(const struct mkfile *const *)b)->root, MERKLE_HASH);
}

/* piece layers: one entry per distinct root of a file over a piece. */
static int
put_layers(struct buf *b, const struct mktree *t)
{
	const struct mkfile **v;
	size_t i, n = 0;
	int rc = -1;

	if ((v = calloc(t->nfiles, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < t->nfiles; i++)
		if (t->files[i].npieces > 1)
			v[n++] = &t->files[i];
	qsort(v, n, sizeof(*v), rootcmp);
	if (K(b, "piece layers") == -1 || buf_addc(b, 'd') == -1)
		goto out;
	for (i = 0; i < n; i++) {
		/* Identical files share a root, and a key appears once. */
		if (i > 0 && memcmp(v[i]->root, v[i - 1]->root,
		    MERKLE_HASH) == 0)
			continue;
		if (benc_put_str(b, v[i]->root, MERKLE_HASH) == -1 ||
		    benc_put_str(b, v[i]->layer, (size_t)v[i]->npieces *
		    MERKLE_HASH) == -1)
			goto out;
	}
	rc = buf_addc(b, 'e');
out:
	free(v);
	return rc;
}

static int
put_top(struct buf *b, const struct mktree *t, const struct mkmeta *m,
    const unsigned char *pieces, uint32_t npieces)
{
	size_t i, j, nurls = 0;

	for (i = 0; i < m->ntiers; i++)
		nurls += m->tiers[i].nurls;
	if (buf_addc(b, 'd') == -1)
		return -1;
	if (nurls > 0 && (K(b, "announce") == -1 ||
	    K(b, m->tiers[0].urls[0]) == -1))
		return -1;
	if (nurls > 1) {
		if (K(b, "announce-list") == -1 || buf_addc(b, 'l') == -1)
			return -1;
		for (i = 0; i < m->ntiers; i++) {
			if (buf_addc(b, 'l') == -1)
				return -1;
			for (j = 0; j < m->tiers[i].nurls; j++)
				if (K(b, m->tiers[i].urls[j]) == -1)
					return -1;
			if (buf_addc(b, 'e') == -1)
				return -1;
		}
		if (buf_addc(b, 'e') == -1)
			return -1;
	}
	if (m->comment != NULL && (K(b, "comment") == -1 ||
	    K(b, m->comment) == -1))
		return -1;
	if (K(b, "created by") == -1 || K(b, "btmake " BT_VERSION) == -1)
		return -1;
	if (!m->no_date && (K(b, "creation date") == -1 ||
	    benc_put_int(b, m->date) == -1))
		return -1;
	if (put_info(b, t, m, pieces, npieces) == -1)
		return -1;
	if ((m->mode & MK_V2) && put_layers(b, t) == -1)
		return -1;
	if (m->nwebseeds > 0) {
		if (K(b, "url-list") == -1 || buf_addc(b, 'l') == -1)
			return -1;
		for (i = 0; i < m->nwebseeds; i++)
			if (K(b, m->webseeds[i]) == -1)
				return -1;
		if (buf_addc(b, 'e') == -1)
			return -1;
	}
	return buf_addc(b, 'e');
}

int
mk_encode(struct buf *b, const struct mktree *t, const struct mkmeta *m,
    const unsigned char *pieces, uint32_t npieces, char *err)
{
	if (put_top(b, t, m, pieces, npieces) == -1)
		return bt_err(err, "the torrent would be larger than %zu bytes",
		    b->max);
	return 0;
}

/*
 * The torrent must read back as lib/metainfo reads a download's: names,
 * piece counts, and for v2 the piece layers against their roots.
 */
int
mk_check(const struct buf *b, int verbose)
{
	struct metainfo mi;
	char err[BT_ERRLEN];
	unsigned i;

	if (mi_parse_v2(&mi, b->p, b->len, err) == -1) {
		fprintf(stderr, "btmake: the torrent made would be refused: "
		    "%s\n", err);
		return -1;
	}
	if (verbose) {
		fputs("btmake: info-hash ", stderr);
		for (i = 0; i < 20; i++)
			fprintf(stderr, "%02x", mi.info_hash[i]);
		if (mi.has_v2) {
			fputs(" v2 ", stderr);
			for (i = 0; i < 32; i++)
				fprintf(stderr, "%02x", mi.info_hash_v2[i]);
		}
		fputc('\n', stderr);
	}
	mi_free(&mi);
	return 0;
}

/*
 * Writes the torrent to stdout, or to a temporary file renamed to out, so
 * that out is never half-written. No fsync: the torrent can be made
 * again, and on a busy disk the fsync cost more than the hashing.
 */
int
mk_write(const char *out, const struct buf *b)
{
	char *tmp;
	FILE *fp;
	mode_t mask;
	int fd;

	if (out == NULL || strcmp(out, "-") == 0) {
		if (fwrite(b->p, 1, b->len, stdout) != b->len ||
		    fflush(stdout) == EOF || ferror(stdout)) {
			fprintf(stderr, "btmake: writing the torrent: %s\n",
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	if (asprintf(&tmp, "%s.XXXXXX", out) == -1)
		return -1;
	if ((fd = mkstemp(tmp)) == -1) {
		fprintf(stderr, "btmake: %s: %s\n", out, strerror(errno));
		free(tmp);
		return -1;
	}
	/* mkstemp makes 0600; a torrent is as public as any new file. */
	mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);
	if ((fp = fdopen(fd, "wb")) == NULL ||
	    fwrite(b->p, 1, b->len, fp) != b->len || fflush(fp) == EOF ||
	    fclose(fp) == EOF || rename(tmp, out) == -1) {
		fprintf(stderr, "btmake: %s: %s\n", out, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}
