/*
 * scan.c: walking the input path. Directories are read whole, then their
 * entries are looked at one by one with lstat (stat when following
 * links); regular files are kept, empty directories leave no trace, and
 * the list is sorted at the end so the order never depends on readdir.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "metainfo.h"
#include "scan.h"

/* A directory on the way down, to find symbolic-link loops. */
struct ancestor {
	dev_t		 dev;
	ino_t		 ino;
};

struct walk {
	struct mktree	*t;
	const struct scanopts *opt;
	size_t		 cap;
	struct ancestor	 up[MK_MAX_DEPTH + 1];
	char		*err;
};

int
mk_utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;
	uint32_t c;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			len = 2;
			c = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			len = 3;
			c = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			len = 4;
			c = s[i] & 0x07;
		} else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
		    (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
		    (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* A name as a downloader would accept it, or an error naming it. */
static int
check_name(const char *name, const char *where, char *err)
{
	size_t n = strlen(name);

	if (n == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return bt_err(err, "%s: '%s' cannot name a file in a torrent",
		    where, name);
	if (!mk_utf8_ok((const unsigned char *)name, n))
		return bt_err(err, "%s: name is not valid UTF-8", where);
	return 0;
}

static int
add_file(struct walk *w, const char *src, const char *rel, uint64_t len)
{
	struct mktree *t = w->t;
	struct mkfile *f, *nv;
	char *p, *save;
	size_t i, n;

	if (t->nfiles == MI_MAX_FILES)
		return bt_err(w->err, "more than %u files", MI_MAX_FILES),
		    BT_EXIT_INPUT;
	if (strlen(t->name) + 1 + strlen(rel) >= MI_MAX_PATH)
		return bt_err(w->err, "%s: path too long for a torrent", src),
		    BT_EXIT_INPUT;
	if (t->nfiles == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		if ((nv = realloc(t->files, w->cap * sizeof(*nv))) == NULL)
			goto oom;
		t->files = nv;
	}
	f = &t->files[t->nfiles++];	/* zeroed: mk_tree_free copes */
	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(rel)) == NULL || (f->src = strdup(src)) == NULL)
		goto oom;
	for (n = 1, p = f->path; *p != '\0'; p++)
		n += *p == '/';
	if ((f->comps = calloc(n, sizeof(char *))) == NULL ||
	    (p = strdup(rel)) == NULL)
		goto oom;
	/* comps[0] owns the split copy; the others point into it. */
	for (i = 0, f->comps[0] = strtok_r(p, "/", &save); i + 1 < n; i++)
		f->comps[i + 1] = strtok_r(NULL, "/", &save);
	f->ncomps = *rel == '\0' ? 0 : n;
	if (f->ncomps == 0)
		free(p);
	f->length = len;
	if (t->total > ((uint64_t)1 << 50) - len)
		return bt_err(w->err, "more than 2^50 bytes of data"),
		    BT_EXIT_INPUT;
	t->total += len;
	return 0;
oom:
	return bt_err(w->err, "out of memory"), BT_EXIT_WORLD;
}

static int walk_dir(struct walk *, const char *src, const char *rel,
    int depth);

/* One directory entry: a file to keep, a directory to enter, or a skip. */
static int
walk_entry(struct walk *w, int dfd, const char *src, const char *rel,
    const char *name, int depth)
{
	char *csrc = NULL, *crel = NULL;
	struct stat st;
	int rc = 0;

	if (name[0] == '.' && !w->opt->hidden) {
		w->t->skipped_hidden++;
		return 0;
	}
	if (asprintf(&csrc, "%s/%s", src, name) == -1 ||
	    asprintf(&crel, "%s%s%s", rel, *rel ? "/" : "", name) == -1) {
		free(csrc);
		return bt_err(w->err, "out of memory"), BT_EXIT_WORLD;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		bt_err(w->err, "%s: %s", csrc, strerror(errno));
		rc = BT_EXIT_WORLD;
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		if (!w->opt->follow) {
			w->t->skipped_links++;
			goto out;
		}
		if (fstatat(dfd, name, &st, 0) == -1) {
			/* A dangling link: nothing to put in the torrent. */
			bt_err(w->err, "%s: %s", csrc, strerror(errno));
			rc = errno == ENOENT ? BT_EXIT_INPUT : BT_EXIT_WORLD;
			goto out;
		}
	}
	if (w->opt->skip && S_ISREG(st.st_mode) &&
	    st.st_dev == w->opt->skip_dev && st.st_ino == w->opt->skip_ino) {
		w->t->skipped_out = 1;
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		w->t->skipped_other++;
		goto out;
	}
	if (check_name(name, csrc, w->err) != 0) {
		rc = BT_EXIT_INPUT;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if (depth >= MK_MAX_DEPTH) {
			bt_err(w->err, "%s: nested more than %d deep", csrc,
			    MK_MAX_DEPTH);
			rc = BT_EXIT_INPUT;
			goto out;
		}
		for (int i = 0; i <= depth; i++)
			if (w->up[i].dev == st.st_dev &&
			    w->up[i].ino == st.st_ino) {
				bt_err(w->err, "%s: symbolic link loop", csrc);
				rc = BT_EXIT_INPUT;
				goto out;
			}
		w->up[depth + 1].dev = st.st_dev;
		w->up[depth + 1].ino = st.st_ino;
		rc = walk_dir(w, csrc, crel, depth + 1);
	} else
		rc = add_file(w, csrc, crel, (uint64_t)st.st_size);
out:
	free(csrc);
	free(crel);
	return rc;
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a directory's names, sorted, so that errors come out in order. */
static int
walk_dir(struct walk *w, const char *src, const char *rel, int depth)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, **nn;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if ((d = opendir(src)) == NULL) {
		bt_err(w->err, "%s: %s", src, strerror(errno));
		return errno == ENOENT || errno == ENOTDIR ? BT_EXIT_INPUT :
		    BT_EXIT_WORLD;
	}
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			if ((nn = realloc(names, cap * sizeof(*nn))) == NULL) {
				rc = bt_err(w->err, "out of memory");
				break;
			}
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			rc = bt_err(w->err, "out of memory");
		else
			n++;
	}
	if (rc == 0 && errno != 0)
		rc = bt_err(w->err, "%s: %s", src, strerror(errno));
	if (rc != 0)
		rc = BT_EXIT_WORLD;
	if (rc == 0 && n > 0)
		qsort(names, n, sizeof(*names), namecmp);
	for (i = 0; i < n && rc == 0; i++)
		rc = walk_entry(w, dirfd(d), src, rel, names[i], depth);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct mkfile *)a)->path,
	    ((const struct mkfile *)b)->path);
}

static int
cmp_tree(const void *a, const void *b)
{
	const struct mkfile *x = a, *y = b;
	size_t i;
	int c;

	for (i = 0; i < x->ncomps && i < y->ncomps; i++)
		if ((c = strcmp(x->comps[i], y->comps[i])) != 0)
			return c;
	return x->ncomps < y->ncomps ? -1 : x->ncomps > y->ncomps;
}

/* The torrent's name: the last component of path, resolved if need be. */
static int
tree_name(struct mktree *t, const char *path, char *err)
{
	char *real, *p;

	if ((real = realpath(path, NULL)) == NULL) {
		bt_err(err, "%s: %s", path, strerror(errno));
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ?
		    BT_EXIT_INPUT : BT_EXIT_WORLD;
	}
	/* "dir/" and "dir/." name "dir", as the resolved path says. */
	p = strrchr(real, '/');
	t->name = strdup(p != NULL ? p + 1 : real);
	free(real);
	if (t->name == NULL)
		return bt_err(err, "out of memory"), BT_EXIT_WORLD;
	if (*t->name == '\0')
		return bt_err(err, "%s: the root directory cannot be a "
		    "torrent", path), BT_EXIT_INPUT;
	if (check_name(t->name, path, err) != 0)
		return BT_EXIT_INPUT;
	if (strlen(t->name) >= MI_MAX_PATH)
		return bt_err(err, "%s: name too long", path), BT_EXIT_INPUT;
	return 0;
}

int
mk_scan(struct mktree *t, const char *path, const struct scanopts *opt,
    char *err)
{
	struct walk w;
	struct stat st;
	int rc;

	memset(t, 0, sizeof(*t));
	memset(&w, 0, sizeof(w));
	w.t = t;
	w.opt = opt;
	w.err = err;
	/* The operand itself is followed, as find -H and cp -H do. */
	if (stat(path, &st) == -1) {
		bt_err(err, "%s: %s", path, strerror(errno));
		return errno == EACCES || errno == EIO ? BT_EXIT_WORLD :
		    BT_EXIT_INPUT;
	}
	if ((rc = tree_name(t, path, err)) != 0)
		return rc;
	if (S_ISREG(st.st_mode)) {
		t->single = 1;
		if ((rc = add_file(&w, path, "", (uint64_t)st.st_size)) != 0)
			return rc;
	} else if (S_ISDIR(st.st_mode)) {
		w.up[0].dev = st.st_dev;
		w.up[0].ino = st.st_ino;
		if ((rc = walk_dir(&w, path, "", 0)) != 0)
			return rc;
		if (t->nfiles == 0)
			return bt_err(err, "%s: no files to put in a torrent",
			    path), BT_EXIT_INPUT;
		qsort(t->files, t->nfiles, sizeof(*t->files),
		    opt->order == MK_ORDER_TREE ? cmp_tree : cmp_path);
	} else
		return bt_err(err, "%s: not a file or a directory", path),
		    BT_EXIT_INPUT;
	if (t->total == 0)
		return bt_err(err, "%s: no data (every file is empty)", path),
		    BT_EXIT_INPUT;
	return 0;
}

void
mk_tree_free(struct mktree *t)
{
	size_t i;

	for (i = 0; i < t->nfiles; i++) {
		free(t->files[i].path);
		free(t->files[i].src);
		if (t->files[i].comps != NULL && t->files[i].ncomps > 0)
			free(t->files[i].comps[0]);
		free(t->files[i].comps);
		free(t->files[i].layer);
	}
	free(t->files);
	free(t->name);
	memset(t, 0, sizeof(*t));
}
