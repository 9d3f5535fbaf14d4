/*
 * metainfo_v2.c: the BEP 52 parts of a torrent.
 *	info	file tree	{component: {... {"": {length, pieces root}}}}
 *		meta version	2
 *		piece length	a power of two, at least 16 KiB
 *	top	piece layers	{pieces root: layer hashes, for files > a piece}
 * A v2-only torrent gets its files from the file tree, in tree order,
 * each starting on a piece boundary. A hybrid's file tree must list the
 * same files, in the same order and with the same lengths, as its v1
 * "files" list without the pad files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "bencode.h"
#include "bt.h"
#include "merkle.h"
#include "metainfo.h"
#include "util.h"

/* 2^50 bytes: as lib/metainfo.c, past any piece count times length. */
#define MAX_TOTAL	((uint64_t)1 << 50)

struct tree {
	struct mi_file	*v;
	size_t		 n, cap;
	const unsigned char *comp[BENC_MAX_DEPTH];	/* the path so far */
	size_t		 clen[BENC_MAX_DEPTH];
	uint64_t	 total;
	char		*err;
};

static void
tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (size_t j = 0; j < t->v[i].ncomps; j++)
			free(t->v[i].comps[j]);
		free(t->v[i].comps);
		free(t->v[i].path);
	}
	free(t->v);
}

/* A file at depth d: its "" dictionary holds length and pieces root. */
static int
tree_file(struct tree *t, struct bval props, size_t d)
{
	struct mi_file *f, *nv;
	struct bval v;
	const unsigned char *s;
	size_t n, plen = 0, i;
	int64_t len;
	char *p;

	if (benc_type(props) != BENC_DICT)
		return bt_err(t->err, "a file tree entry is not a dictionary");
	if (!benc_dict_get(props, "length", &v) || benc_int(v, &len) == -1 ||
	    len < 0)
		return bt_err(t->err, "a file tree entry has no valid length");
	if ((uint64_t)len > MAX_TOTAL || t->total > MAX_TOTAL - (uint64_t)len)
		return bt_err(t->err, "total length is too large");
	if (t->n == MI_MAX_FILES)
		return bt_err(t->err, "too many files (limit %u)",
		    MI_MAX_FILES);
	for (i = 0; i < d; i++)
		plen += t->clen[i] + 1;
	if (plen >= MI_MAX_PATH)
		return bt_err(t->err, "a file tree path is too long");
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		if ((nv = realloc(t->v, t->cap * sizeof(*nv))) == NULL)
			return bt_err(t->err, "out of memory");
		t->v = nv;
	}
	f = &t->v[t->n++];
	memset(f, 0, sizeof(*f));
	f->length = (uint64_t)len;
	t->total += f->length;
	if (benc_dict_get(props, "pieces root", &v)) {
		if (benc_str(v, &s, &n) == -1 || n != MERKLE_HASH)
			return bt_err(t->err, "a 'pieces root' is not 32 "
			    "bytes");
		f->root = s;
	} else if (len > 0)
		return bt_err(t->err, "a non-empty file has no 'pieces root'");
	if ((f->comps = calloc(d, sizeof(char *))) == NULL ||
	    (p = f->path = malloc(plen)) == NULL)
		return bt_err(t->err, "out of memory");
	f->ncomps = d;
	for (i = 0; i < d; i++) {
		if ((f->comps[i] = memdup0(t->comp[i], t->clen[i])) == NULL)
			return bt_err(t->err, "out of memory");
		memcpy(p, t->comp[i], t->clen[i]);
		p += t->clen[i];
		*p++ = i + 1 < d ? '/' : '\0';
	}
	return 0;
}

/* Walks a directory dictionary at depth d (its path in t->comp). */
static int
tree_walk(struct tree *t, struct bval dir, size_t d)
{
	struct biter it;
	struct bval k, v, props;
	const unsigned char *s;
	size_t n;

	if (benc_type(dir) != BENC_DICT)
		return bt_err(t->err, "a file tree node is not a dictionary");
	benc_iter(dir, &it);
	while (benc_dict_next(&it, &k, &v)) {
		(void)benc_str(k, &s, &n);
		if (mi_check_comp(s, n, "the file tree", t->err) == -1)
			return -1;
		if (d + 1 >= BENC_MAX_DEPTH)
			return bt_err(t->err, "the file tree is too deep");
		t->comp[d] = s;
		t->clen[d] = n;
		if (benc_type(v) != BENC_DICT)
			return bt_err(t->err, "a file tree node is not a "
			    "dictionary");
		if (benc_dict_get(v, "", &props)) {
			if (benc_count(v) != 1)
				return bt_err(t->err, "a file in the file tree "
				    "has siblings under its name");
			if (tree_file(t, props, d + 1) == -1)
				return -1;
		} else if (tree_walk(t, v, d + 1) == -1)
			return -1;
	}
	return 0;
}

/* Copies the piece layers and points each file past a piece at its own. */
static int
attach_layers(struct metainfo *mi, struct bval top, char *err)
{
	struct bval pl, v, layers;
	const unsigned char *s;
	size_t n, i;
	uint64_t np;
	EVP_MD_CTX *ctx = NULL;
	EVP_MD *md = NULL;
	unsigned char *tmp = NULL, pad[MERKLE_HASH], root[MERKLE_HASH];
	char key[MERKLE_HASH + 16];
	int rc = -1;

	if (!benc_dict_get(top, "piece layers", &pl))
		return 0;	/* from a magnet link, say: roots only */
	if (benc_type(pl) != BENC_DICT)
		return bt_err(err, "'piece layers' is not a dictionary");
	if ((mi->layers = malloc(pl.len)) == NULL)
		return bt_err(err, "out of memory");
	memcpy(mi->layers, pl.p, pl.len);
	mi->layers_len = pl.len;
	if (benc_parse(mi->layers, mi->layers_len, &layers, err) == -1)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    merkle_zero(ctx, md, mi->piece_length / MERKLE_BLOCK, pad) == -1) {
		bt_err(err, "SHA-256 is not available");
		goto out;
	}
	for (i = 0; i < mi->nfiles; i++) {
		struct mi_file *f = &mi->files[i];

		if (f->root == NULL || f->length <= mi->piece_length)
			continue;
		/* benc_dict_get wants a C string: look the key up by hand. */
		memcpy(key, f->root, MERKLE_HASH);
		np = (f->length + mi->piece_length - 1) / mi->piece_length;
		{
			struct biter it;
			struct bval k;
			int found = 0;

			benc_iter(layers, &it);
			while (!found && benc_dict_next(&it, &k, &v)) {
				(void)benc_str(k, &s, &n);
				found = n == MERKLE_HASH &&
				    memcmp(s, key, MERKLE_HASH) == 0;
			}
			if (!found)
				continue;
		}
		if (benc_str(v, &s, &n) == -1 || n != np * MERKLE_HASH) {
			bt_err(err, "the piece layer of '%s' has the wrong "
			    "length", f->path);
			goto out;
		}
		free(tmp);
		if ((tmp = malloc(n)) == NULL) {
			bt_err(err, "out of memory");
			goto out;
		}
		memcpy(tmp, s, n);
		if (merkle_root(ctx, md, tmp, (size_t)np, merkle_pow2(np), pad,
		    root) == -1) {
			bt_err(err, "SHA-256 failed");
			goto out;
		}
		if (memcmp(root, f->root, MERKLE_HASH) != 0) {
			bt_err(err, "the piece layer of '%s' does not give its "
			    "pieces root", f->path);
			goto out;
		}
		f->layer = s;
	}
	rc = 0;
out:
	free(tmp);
	EVP_MD_free(md);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* The hybrid's v2 half must describe its v1 files, pads aside. */
static int
match_v1(struct metainfo *mi, struct tree *t, char *err)
{
	size_t i, j = 0, c;

	for (i = 0; i < mi->nfiles; i++) {
		struct mi_file *f = &mi->files[i];

		if (f->pad)
			continue;
		if (j == t->n)
			return bt_err(err, "hybrid: '%s' is not in the file "
			    "tree", f->path);
		/* A single file's tree is {name: ...}; its v1 path, name. */
		if (f->length != t->v[j].length || (mi->multi &&
		    f->ncomps != t->v[j].ncomps))
			return bt_err(err, "hybrid: the v1 and v2 file lists "
			    "differ at '%s'", f->path);
		for (c = 0; c < f->ncomps; c++)
			if (strcmp(f->comps[c], t->v[j].comps[c]) != 0)
				return bt_err(err, "hybrid: the v1 and v2 file "
				    "lists differ at '%s'", f->path);
		if (f->length > 0 && (f->offset % mi->piece_length) != 0)
			return bt_err(err, "hybrid: '%s' does not start on a "
			    "piece boundary", f->path);
		f->root = t->v[j++].root;
	}
	if (j != t->n)
		return bt_err(err, "hybrid: the file tree has files that the "
		    "v1 list has not");
	return 0;
}

/* A v2-only torrent: files from the tree, each on a piece boundary. */
static int
v2_files(struct metainfo *mi, struct tree *t, char *err)
{
	uint64_t pl = mi->piece_length, off = 0, np = 0, n;
	char *p;
	size_t i;

	if (t->n == 0)
		return bt_err(err, "the file tree holds no files");
	mi->files = t->v;
	mi->nfiles = t->n;
	t->v = NULL;
	t->n = 0;
	mi->multi = !(mi->nfiles == 1 && mi->files[0].ncomps == 1);
	for (i = 0; i < mi->nfiles; i++) {
		struct mi_file *f = &mi->files[i];

		if (!mi->multi) {
			/* {name: {"": ...}}: the file is called as its key. */
			free(f->comps[0]);
			free(f->comps);
			f->comps = NULL;
			f->ncomps = 0;
			continue;
		}
		if (asprintf(&p, "%s/%s", mi->name, f->path) == -1)
			return bt_err(err, "out of memory");
		free(f->path);
		f->path = p;
		if (strlen(p) >= MI_MAX_PATH)
			return bt_err(err, "'%s' path is too long", p);
	}
	for (i = 0; i < mi->nfiles; i++) {
		struct mi_file *f = &mi->files[i];

		f->offset = off;
		n = (f->length + pl - 1) / pl;
		np += n;
		if (f->length > 0)
			mi->total_length = off + f->length;
		off += n * pl;
	}
	if (mi->total_length == 0)
		return bt_err(err, "the torrent holds no data");
	if (np > MI_MAX_PIECES)
		return bt_err(err, "too many pieces (%llu, limit %u)",
		    (unsigned long long)np, MI_MAX_PIECES);
	mi->npieces = (uint32_t)np;
	return 0;
}

/* The info keys of a v2-only torrent that mi_parse would have read. */
static int
v2_info(struct metainfo *mi, struct bval info, char *err)
{
	struct bval v;
	const unsigned char *s;
	size_t n;
	int64_t i;

	if (!benc_dict_get(info, "piece length", &v) || benc_int(v, &i) == -1)
		return bt_err(err, "info has no integer 'piece length'");
	if (i < MERKLE_BLOCK || (uint64_t)i > MI_MAX_PIECE_LEN ||
	    (i & (i - 1)) != 0)
		return bt_err(err, "v2 piece length %lld is not a power of two "
		    "from 16 KiB to %u", (long long)i, MI_MAX_PIECE_LEN);
	mi->piece_length = (uint64_t)i;
	if (!benc_dict_get(info, "name", &v) || benc_str(v, &s, &n) == -1)
		return bt_err(err, "info has no string 'name'");
	if (mi_check_comp(s, n, "the torrent name", err) == -1)
		return -1;
	if (n >= MI_MAX_PATH)
		return bt_err(err, "the torrent name is too long");
	if ((mi->name = memdup0(s, n)) == NULL)
		return bt_err(err, "out of memory");
	if (benc_dict_get(info, "private", &v) && benc_int(v, &i) == 0)
		mi->private = i == 1;
	return 0;
}

int
mi_parse_v2(struct metainfo *mi, const void *buf, size_t len, char *err)
{
	return mi_parse_v2_flags(mi, buf, len, 0, err);
}

int
mi_parse_v2_flags(struct metainfo *mi, const void *buf, size_t len, int flags,
    char *err)
{
	struct bval top, info, v, ft;
	struct tree t;
	int64_t ver;

	memset(mi, 0, sizeof(*mi));
	memset(&t, 0, sizeof(t));
	t.err = err;
	if (len > MI_MAX_TORRENT)
		return bt_err(err, "torrent larger than %u bytes",
		    MI_MAX_TORRENT);
	if (benc_parse(buf, len, &top, err) == -1)
		return -1;
	if (benc_type(top) != BENC_DICT || !benc_dict_get(top, "info", &info) ||
	    benc_type(info) != BENC_DICT || !benc_dict_get(info, "meta version",
	    &v) || benc_int(v, &ver) == -1 || ver != 2 ||
	    benc_dict_get(info, "pieces", &v)) {
		/* v1 or hybrid: the v1 half first, as every tool reads it. */
		if (mi_parse_flags(mi, buf, len, flags, err) == -1)
			return -1;
		if (!mi->has_v2)
			return 0;
		if (benc_parse(mi->info, mi->info_len, &info, err) == -1)
			goto fail;
		if (!benc_dict_get(info, "file tree", &ft)) {
			bt_err(err, "hybrid: no 'file tree'");
			goto fail;
		}
		if (tree_walk(&t, ft, 0) == -1 || match_v1(mi, &t, err) == -1 ||
		    attach_layers(mi, top, err) == -1)
			goto fail;
		tree_free(&t);
		return 0;
	}
	/* v2 only: its paths are always checked strictly (no MI_INSPECT). */
	mi->flags = flags & ~MI_INSPECT;
	if ((mi->info = malloc(info.len)) == NULL) {
		bt_err(err, "out of memory");
		goto fail;
	}
	memcpy(mi->info, info.p, info.len);
	mi->info_len = info.len;
	mi->has_v2 = mi->v2_only = 1;
	SHA256(mi->info, mi->info_len, mi->info_hash_v2);
	memcpy(mi->info_hash, mi->info_hash_v2, 20);
	if (benc_parse(mi->info, mi->info_len, &info, err) == -1 ||
	    v2_info(mi, info, err) == -1)
		goto fail;
	if (!benc_dict_get(info, "file tree", &ft)) {
		bt_err(err, "info has neither 'pieces' nor 'file tree'");
		goto fail;
	}
	if (tree_walk(&t, ft, 0) == -1 || v2_files(mi, &t, err) == -1 ||
	    mi_parse_outer(mi, top.p, top.len, err) == -1 ||
	    attach_layers(mi, top, err) == -1)
		goto fail;
	tree_free(&t);
	return 0;
fail:
	tree_free(&t);
	mi_free(mi);
	return -1;
}

int
mi_load_v2(struct metainfo *mi, const char *path, char *err)
{
	return mi_load_v2_flags(mi, path, 0, err);
}

int
mi_load_v2_flags(struct metainfo *mi, const char *path, int flags, char *err)
{
	unsigned char *data;
	size_t len;
	int rc;

	memset(mi, 0, sizeof(*mi));
	if (read_file(path, MI_MAX_TORRENT, &data, &len, err) == -1)
		return -1;
	rc = mi_parse_v2_flags(mi, data, len, flags, err);
	free(data);
	return rc;
}
