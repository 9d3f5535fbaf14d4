/*
 * A .torrent is a bencoded dictionary:
 *	announce	string		one tracker URL
 *	announce-list	[[url...]...]	tiers of trackers (BEP 12)
 *	url-list	string | [url...]	web seeds (BEP 19)
 *	comment, created by, encoding	strings; creation date	integer
 *	nodes		[[host, port]...]	DHT nodes (BEP 5)
 *	info		dictionary, hashed as its raw bytes for the info-hash:
 *		name		string
 *		piece length	integer
 *		pieces		string, 20 bytes of SHA-1 a piece
 *		private		integer, 1 = trackers only (BEP 27)
 *		length		integer (single file), or
 *		files		[{length, path: [component...], attr}...]
 *		meta version	2 in a v2 or hybrid torrent (BEP 52)
 *		source		string, set by some private trackers
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "bencode.h"
#include "bt.h"
#include "buf.h"
#include "metainfo.h"
#include "util.h"

/* Optional string key: 0 (absent is fine), -1 on a wrong type or OOM. */
static int
optstr(struct bval d, const char *key, char **out, char *err)
{
	struct bval v;
	const unsigned char *s;
	size_t n;

	*out = NULL;
	if (!benc_dict_get(d, key, &v))
		return 0;
	if (benc_str(v, &s, &n) == -1)
		return bt_err(err, "'%s' is not a string", key);
	if ((*out = memdup0(s, n)) == NULL)
		return bt_err(err, "out of memory");
	return 0;
}

/* Whether a component could leave the directory; why in err. */
static int
comp_unsafe(const unsigned char *s, size_t n, const char *what, char *err)
{
	if (n == 0)
		return bt_err(err, "%s has an empty path component", what);
	if (memchr(s, '/', n) != NULL)
		return bt_err(err, "%s has '/' in a path component", what);
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return bt_err(err, "%s has a '%.*s' path component", what,
		    (int)n, (const char *)s);
	return 0;
}

/*
 * A path component from a stranger: could it ever leave the directory?
 * With MI_INSPECT, one that could is flagged (*unsafe) instead, unless it
 * holds a NUL, which a C string cannot show.
 */
static int
check_comp(struct metainfo *mi, const unsigned char *s, size_t n,
    const char *what, int *unsafe, char *err)
{
	char why[BT_ERRLEN];

	if (n > 0 && memchr(s, '\0', n) != NULL)
		return bt_err(err, "%s has a NUL in a path component", what);
	if (comp_unsafe(s, n, what, why) == 0)
		return 0;
	if (!(mi->flags & MI_INSPECT))
		return bt_err(err, "%s", why);
	*unsafe = 1;
	if (!mi->unsafe)
		snprintf(mi->unsafe_why, sizeof(mi->unsafe_why), "%s", why);
	mi->unsafe = 1;
	return 0;
}

static int
get_length(struct bval d, uint64_t *out, const char *what, char *err)
{
	struct bval v;
	int64_t n;

	if (!benc_dict_get(d, "length", &v))
		return bt_err(err, "%s has no 'length'", what);
	if (benc_int(v, &n) == -1)
		return bt_err(err, "%s 'length' is not an integer", what);
	if (n < 0)
		return bt_err(err, "%s has a negative length", what);
	*out = (uint64_t)n;
	return 0;
}

static int
add_total(struct metainfo *mi, uint64_t len, char *err)
{
	/* 2^50 bytes: pieces * piece length can never exceed it anyway. */
	if (len > ((uint64_t)1 << 50) || mi->total_length > ((uint64_t)1 << 50)
	    - len)
		return bt_err(err, "total length is too large");
	mi->total_length += len;
	return 0;
}

static int
pathcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two files at one path would overwrite each other: refuse. */
static int
check_dups(struct metainfo *mi, char *err)
{
	char **v;
	size_t i, n;
	int rc = 0;

	if ((v = malloc(mi->nfiles * sizeof(*v))) == NULL)
		return bt_err(err, "out of memory");
	/* Pad files are never written, and hybrids repeat ".pad/N" names. */
	for (i = n = 0; i < mi->nfiles; i++)
		if (!mi->files[i].pad)
			v[n++] = mi->files[i].path;
	qsort(v, n, sizeof(*v), pathcmp);
	for (i = 1; i < n && rc == 0; i++)
		if (strcmp(v[i - 1], v[i]) == 0)
			rc = bt_err(err, "two files share the path '%s'", v[i]);
	free(v);
	return rc;
}

static int
parse_files(struct metainfo *mi, struct bval info, char *err)
{
	struct bval files, f, pv, c, av;
	struct biter it, pit;
	struct mi_file *mf;
	const unsigned char *s;
	size_t n, i, plen, cnt;
	char *p;

	if (!benc_dict_get(info, "files", &files)) {
		/* Single file: the name is the file. */
		if ((mi->files = calloc(1, sizeof(*mi->files))) == NULL)
			return bt_err(err, "out of memory");
		mi->nfiles = 1;
		if (get_length(info, &mi->files[0].length, "info", err) == -1 ||
		    add_total(mi, mi->files[0].length, err) == -1)
			return -1;
		if ((mi->files[0].path = strdup(mi->name)) == NULL)
			return bt_err(err, "out of memory");
		return 0;
	}
	if (benc_type(files) != BENC_LIST)
		return bt_err(err, "'files' is not a list");
	mi->multi = 1;
	if ((cnt = benc_count(files)) == 0)
		return bt_err(err, "'files' is empty");
	if (cnt > MI_MAX_FILES)
		return bt_err(err, "too many files (%zu, limit %u)", cnt,
		    MI_MAX_FILES);
	if ((mi->files = calloc(cnt, sizeof(*mi->files))) == NULL)
		return bt_err(err, "out of memory");
	benc_iter(files, &it);
	for (i = 0; benc_list_next(&it, &f); i++) {
		mf = &mi->files[i];
		mi->nfiles = i + 1;
		if (benc_type(f) != BENC_DICT)
			return bt_err(err, "file %zu is not a dictionary", i);
		if (get_length(f, &mf->length, "a file", err) == -1)
			return -1;
		mf->offset = mi->total_length;
		if (add_total(mi, mf->length, err) == -1)
			return -1;
		if (benc_dict_get(f, "attr", &av) && benc_str(av, &s, &n) == 0) {
			n = n < sizeof(mf->attr) - 1 ? n : sizeof(mf->attr) - 1;
			memcpy(mf->attr, s, n);
			mf->attr[n] = '\0';
			mf->pad = strchr(mf->attr, 'p') != NULL;
		}
		if (!benc_dict_get(f, "path", &pv) || benc_type(pv) != BENC_LIST)
			return bt_err(err, "file %zu has no 'path' list", i);
		if ((mf->ncomps = benc_count(pv)) == 0)
			return bt_err(err, "file %zu has an empty path", i);
		if (mf->ncomps > MI_MAX_PATH / 2)
			return bt_err(err, "file %zu path is too long", i);
		if ((mf->comps = calloc(mf->ncomps, sizeof(char *))) == NULL)
			return bt_err(err, "out of memory");
		plen = strlen(mi->name);
		benc_iter(pv, &pit);
		for (size_t j = 0; benc_list_next(&pit, &c); j++) {
			if (benc_str(c, &s, &n) == -1)
				return bt_err(err, "file %zu path component "
				    "is not a string", i);
			if (check_comp(mi, s, n, "a file path", &mf->unsafe,
			    err) == -1)
				return -1;
			if ((mf->comps[j] = memdup0(s, n)) == NULL)
				return bt_err(err, "out of memory");
			plen += 1 + n;
		}
		if (plen >= MI_MAX_PATH)
			return bt_err(err, "file %zu path is too long", i);
		/* Old BitComet pad files, before BEP 47 gave them attr 'p'. */
		if (strncmp(mf->comps[mf->ncomps - 1], "_____padding_file_", 18)
		    == 0)
			mf->pad = 1;
		if ((p = mf->path = malloc(plen + 1)) == NULL)
			return bt_err(err, "out of memory");
		p += snprintf(p, plen + 1, "%s", mi->name);
		for (size_t j = 0; j < mf->ncomps; j++)
			p += snprintf(p, plen + 1 - (size_t)(p - mf->path),
			    "/%s", mf->comps[j]);
	}
	return check_dups(mi, err);
}

static int
add_url(char ***list, size_t *n, struct bval v, char *err)
{
	const unsigned char *s;
	size_t len;
	char **nl;

	if (benc_str(v, &s, &len) == -1 || len == 0 || len > MI_MAX_URL ||
	    memchr(s, '\0', len) != NULL)
		return 0;	/* skip junk entries, as other clients do */
	for (size_t i = 0; i < *n; i++)
		if (strlen((*list)[i]) == len && memcmp((*list)[i], s, len) == 0)
			return 0;
	if ((nl = realloc(*list, (*n + 1) * sizeof(char *))) == NULL)
		return bt_err(err, "out of memory");
	*list = nl;
	if ((nl[*n] = memdup0(s, len)) == NULL)
		return bt_err(err, "out of memory");
	(*n)++;
	return 0;
}

static int
parse_trackers(struct metainfo *mi, struct bval top, char *err)
{
	struct bval al, tier, u;
	struct biter it, tit;
	struct mi_tier *nt, *t;

	if (benc_dict_get(top, "announce-list", &al) &&
	    benc_type(al) == BENC_LIST) {
		benc_iter(al, &it);
		while (benc_list_next(&it, &tier)) {
			if (benc_type(tier) != BENC_LIST)
				continue;
			nt = realloc(mi->tiers, (mi->ntiers + 1) * sizeof(*nt));
			if (nt == NULL)
				return bt_err(err, "out of memory");
			mi->tiers = nt;
			t = &mi->tiers[mi->ntiers];
			memset(t, 0, sizeof(*t));
			mi->ntiers++;
			benc_iter(tier, &tit);
			while (benc_list_next(&tit, &u))
				if (add_url(&t->urls, &t->nurls, u, err) == -1)
					return -1;
			if (t->nurls == 0)
				mi->ntiers--;
		}
	}
	/* BEP 12: announce-list, when usable, replaces announce. */
	if (mi->ntiers == 0 && benc_dict_get(top, "announce", &u)) {
		free(mi->tiers);
		if ((mi->tiers = calloc(1, sizeof(*mi->tiers))) == NULL)
			return bt_err(err, "out of memory");
		if (add_url(&mi->tiers[0].urls, &mi->tiers[0].nurls, u, err)
		    == -1)
			return -1;
		mi->ntiers = mi->tiers[0].nurls > 0;
	}
	if (benc_dict_get(top, "url-list", &al)) {
		if (benc_type(al) == BENC_STR)
			return add_url(&mi->webseeds, &mi->nwebseeds, al, err);
		if (benc_type(al) == BENC_LIST) {
			benc_iter(al, &it);
			while (benc_list_next(&it, &u))
				if (add_url(&mi->webseeds, &mi->nwebseeds, u,
				    err) == -1)
					return -1;
		}
	}
	return 0;
}

/* "nodes": [host, port] pairs; others are skipped, as clients do. */
static int
parse_nodes(struct metainfo *mi, struct bval top, char *err)
{
	struct bval l, pair, h, p;
	struct biter it, pit;
	struct mi_node *nn;
	const unsigned char *s;
	size_t n;
	int64_t port;

	if (!benc_dict_get(top, "nodes", &l) || benc_type(l) != BENC_LIST)
		return 0;
	benc_iter(l, &it);
	while (benc_list_next(&it, &pair) && mi->nnodes < MI_MAX_NODES) {
		if (benc_type(pair) != BENC_LIST)
			continue;
		benc_iter(pair, &pit);
		if (!benc_list_next(&pit, &h) || !benc_list_next(&pit, &p) ||
		    benc_str(h, &s, &n) == -1 || n == 0 || n > MI_MAX_URL ||
		    memchr(s, '\0', n) != NULL || benc_int(p, &port) == -1 ||
		    port < 1 || port > 65535)
			continue;
		nn = realloc(mi->nodes, (mi->nnodes + 1) * sizeof(*nn));
		if (nn == NULL)
			return bt_err(err, "out of memory");
		mi->nodes = nn;
		if ((nn[mi->nnodes].host = memdup0(s, n)) == NULL)
			return bt_err(err, "out of memory");
		nn[mi->nnodes++].port = (uint16_t)port;
	}
	return 0;
}

static int
parse_info(struct metainfo *mi, struct bval info, char *err)
{
	struct bval v;
	const unsigned char *s;
	size_t n;
	int64_t i;
	uint64_t want;
	int unsafe = 0;

	if (benc_type(info) != BENC_DICT)
		return bt_err(err, "'info' is not a dictionary");
	if ((mi->info = malloc(info.len)) == NULL)
		return bt_err(err, "out of memory");
	memcpy(mi->info, info.p, info.len);
	mi->info_len = info.len;
	SHA1(info.p, info.len, mi->info_hash);
	/* Navigate the copy from now on, so pieces can point into it. */
	if (benc_parse(mi->info, mi->info_len, &info, err) == -1)
		return -1;

	if (benc_dict_get(info, "meta version", &v)) {
		if (benc_int(v, &i) == -1 || (i != 1 && i != 2))
			return bt_err(err, "unsupported 'meta version'");
		if (i == 2) {
			mi->has_v2 = 1;
			SHA256(info.p, info.len, mi->info_hash_v2);
		}
	}
	if (!benc_dict_get(info, "pieces", &v)) {
		if (mi->has_v2)
			return bt_err(err, "v2-only torrents are not supported "
			    "yet");
		return bt_err(err, "info has no 'pieces'");
	}
	if (benc_str(v, &s, &n) == -1)
		return bt_err(err, "'pieces' is not a string");
	if (n % 20 != 0)
		return bt_err(err, "'pieces' length %zu is not a multiple "
		    "of 20", n);
	if (n / 20 > MI_MAX_PIECES)
		return bt_err(err, "too many pieces (%zu, limit %u)", n / 20,
		    MI_MAX_PIECES);
	mi->pieces = s;
	mi->npieces = (uint32_t)(n / 20);

	if (!benc_dict_get(info, "piece length", &v) || benc_int(v, &i) == -1)
		return bt_err(err, "info has no integer 'piece length'");
	if (i <= 0 || (uint64_t)i > MI_MAX_PIECE_LEN)
		return bt_err(err, "piece length %lld is out of range",
		    (long long)i);
	if (mi->has_v2 && (i < 16384 || (i & (i - 1)) != 0))
		return bt_err(err, "v2 piece length %lld is not a power of two "
		    "of at least 16 KiB", (long long)i);
	mi->piece_length = (uint64_t)i;

	if (!benc_dict_get(info, "name", &v) || benc_str(v, &s, &n) == -1)
		return bt_err(err, "info has no string 'name'");
	if (check_comp(mi, s, n, "the torrent name", &unsafe, err) == -1)
		return -1;
	if (n >= MI_MAX_PATH)
		return bt_err(err, "the torrent name is too long");
	if ((mi->name = memdup0(s, n)) == NULL)
		return bt_err(err, "out of memory");

	if (benc_dict_get(info, "private", &v) && benc_int(v, &i) == 0)
		mi->private = i == 1;
	/* Informational: one that is not a string is ignored. */
	if (benc_dict_get(info, "source", &v) && benc_str(v, &s, &n) == 0 &&
	    (mi->source = memdup0(s, n)) == NULL)
		return bt_err(err, "out of memory");

	if (parse_files(mi, info, err) == -1)
		return -1;
	for (size_t f = 0; unsafe && f < mi->nfiles; f++)
		mi->files[f].unsafe = 1;
	if (mi->total_length == 0)
		return bt_err(err, "the torrent holds no data");
	want = (mi->total_length + mi->piece_length - 1) / mi->piece_length;
	if (want != mi->npieces)
		return bt_err(err, "%u piece hashes for %llu bytes in pieces of "
		    "%llu (want %llu)", mi->npieces,
		    (unsigned long long)mi->total_length,
		    (unsigned long long)mi->piece_length,
		    (unsigned long long)want);
	return 0;
}

int
mi_parse(struct metainfo *mi, const void *buf, size_t len, char *err)
{
	return mi_parse_flags(mi, buf, len, 0, err);
}

int
mi_parse_flags(struct metainfo *mi, const void *buf, size_t len, int flags,
    char *err)
{
	struct bval top, info, v;
	int64_t i;

	memset(mi, 0, sizeof(*mi));
	mi->flags = flags;
	if (len > MI_MAX_TORRENT)
		return bt_err(err, "torrent larger than %u bytes",
		    MI_MAX_TORRENT);
	if (benc_parse(buf, len, &top, err) == -1)
		goto fail;
	if (benc_type(top) != BENC_DICT) {
		bt_err(err, "not a dictionary at the top level");
		goto fail;
	}
	if (!benc_dict_get(top, "info", &info)) {
		bt_err(err, "no 'info' dictionary");
		goto fail;
	}
	if (parse_info(mi, info, err) == -1 ||
	    parse_trackers(mi, top, err) == -1 ||
	    optstr(top, "comment", &mi->comment, err) == -1 ||
	    optstr(top, "created by", &mi->created_by, err) == -1 ||
	    optstr(top, "encoding", &mi->encoding, err) == -1 ||
	    parse_nodes(mi, top, err) == -1)
		goto fail;
	if (benc_dict_get(top, "creation date", &v) && benc_int(v, &i) == 0) {
		mi->creation_date = i;
		mi->has_creation_date = 1;
	}
	return 0;
fail:
	mi_free(mi);
	return -1;
}

void
mi_free(struct metainfo *mi)
{
	size_t i, j;

	for (i = 0; i < mi->nfiles; i++) {
		free(mi->files[i].path);
		for (j = 0; j < mi->files[i].ncomps && mi->files[i].comps; j++)
			free(mi->files[i].comps[j]);
		free(mi->files[i].comps);
	}
	free(mi->files);
	for (i = 0; i < mi->ntiers; i++) {
		for (j = 0; j < mi->tiers[i].nurls; j++)
			free(mi->tiers[i].urls[j]);
		free(mi->tiers[i].urls);
	}
	/* A tier being filled when parsing failed is past ntiers. */
	if (mi->tiers != NULL && mi->ntiers == 0)
		free(mi->tiers[0].urls);
	free(mi->tiers);
	for (i = 0; i < mi->nwebseeds; i++)
		free(mi->webseeds[i]);
	free(mi->webseeds);
	free(mi->name);
	free(mi->comment);
	free(mi->created_by);
	free(mi->encoding);
	free(mi->info);
	free(mi->source);
	for (i = 0; i < mi->nnodes; i++)
		free(mi->nodes[i].host);
	free(mi->nodes);
	memset(mi, 0, sizeof(*mi));
}

int
read_file(const char *path, size_t max, unsigned char **data, size_t *len,
    char *err)
{
	struct buf b;
	unsigned char chunk[65536];
	ssize_t n;
	int fd;

	buf_init(&b, max);
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return bt_err(err, "%s", strerror(errno));
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			bt_err(err, "%s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (buf_add(&b, chunk, (size_t)n) == -1) {
			bt_err(err, "larger than %zu bytes", max);
			goto fail;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	/* An empty file still gets a valid pointer. */
	if (b.p == NULL && (b.p = malloc(1)) == NULL)
		return bt_err(err, "out of memory");
	*data = b.p;
	*len = b.len;
	return 0;
fail:
	if (fd != STDIN_FILENO)
		close(fd);
	buf_free(&b);
	return -1;
}

int
mi_load(struct metainfo *mi, const char *path, char *err)
{
	return mi_load_flags(mi, path, 0, err);
}

int
mi_load_flags(struct metainfo *mi, const char *path, int flags, char *err)
{
	unsigned char *data;
	size_t len;
	int rc;

	memset(mi, 0, sizeof(*mi));
	if (read_file(path, MI_MAX_TORRENT, &data, &len, err) == -1)
		return -1;
	rc = mi_parse_flags(mi, data, len, flags, err);
	free(data);
	return rc;
}

uint32_t
mi_piece_size(const struct metainfo *mi, uint32_t i)
{
	if (i + 1 < mi->npieces)
		return (uint32_t)mi->piece_length;
	return (uint32_t)(mi->total_length - (uint64_t)i * mi->piece_length);
}

size_t
mi_file_at(const struct metainfo *mi, uint64_t off)
{
	size_t lo = 0, hi = mi->nfiles, mid;

	/* The last file whose offset <= off and that is not empty. */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (mi->files[mid].offset <= off)
			lo = mid;
		else
			hi = mid;
	}
	while (lo < mi->nfiles && mi->files[lo].offset + mi->files[lo].length
	    <= off)
		lo++;
	return lo;
}

char *
mi_magnet(const struct metainfo *mi)
{
	static const char hexd[] = "0123456789abcdef";
	struct buf b;
	int rc;

	buf_init(&b, 1 << 20);
	rc = buf_adds(&b, "magnet:?xt=urn:btih:");
	for (int i = 0; i < 20 && rc == 0; i++)
		rc = buf_printf(&b, "%c%c", hexd[mi->info_hash[i] >> 4],
		    hexd[mi->info_hash[i] & 15]);
	if (mi->has_v2 && rc == 0) {
		rc = buf_adds(&b, "&xt=urn:btmh:1220");
		for (int i = 0; i < 32 && rc == 0; i++)
			rc = buf_printf(&b, "%c%c",
			    hexd[mi->info_hash_v2[i] >> 4],
			    hexd[mi->info_hash_v2[i] & 15]);
	}
	if (rc == 0)
		rc = buf_adds(&b, "&dn=");
	if (rc == 0)
		rc = url_encode(&b, mi->name, strlen(mi->name));
	for (size_t t = 0; t < mi->ntiers && rc == 0; t++)
		for (size_t u = 0; u < mi->tiers[t].nurls && rc == 0; u++) {
			rc = buf_adds(&b, "&tr=");
			if (rc == 0)
				rc = url_encode(&b, mi->tiers[t].urls[u],
				    strlen(mi->tiers[t].urls[u]));
		}
	for (size_t w = 0; w < mi->nwebseeds && rc == 0; w++) {
		rc = buf_adds(&b, "&ws=");
		if (rc == 0)
			rc = url_encode(&b, mi->webseeds[w],
			    strlen(mi->webseeds[w]));
	}
	if (rc == 0)
		rc = buf_addc(&b, '\0');
	if (rc == -1) {
		buf_free(&b);
		return NULL;
	}
	return (char *)b.p;
}
