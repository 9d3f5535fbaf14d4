/*
 * storage.c: byte ranges to file segments, and symlink-proof openat walks.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bt.h"
#include "storage.h"

size_t
st_segments(const struct metainfo *mi, uint64_t off, uint64_t len,
    struct st_seg *seg, size_t max)
{
	const struct mi_file *f;
	uint64_t start = off, n;
	size_t i, k = 0;

	if (len == 0 || off >= mi->total_length)
		return 0;
	for (i = mi_file_at(mi, off); i < mi->nfiles && len > 0 && k < max;
	    i++) {
		f = &mi->files[i];
		if (f->length == 0 || f->offset + f->length <= off)
			continue;
		n = f->offset + f->length - off;
		if (n > len)
			n = len;
		seg[k].file = i;
		seg[k].foff = off - f->offset;
		seg[k].boff = off - start;
		seg[k].len = n;
		k++;
		off += n;
		len -= n;
	}
	return k;
}

/* The next component of *pp into comp (NUL-terminated); 0 at the end. */
static int
next_comp(const char **pp, char *comp, size_t size)
{
	const char *p = *pp, *e;
	size_t n;

	while (*p == '/')
		p++;
	if (*p == '\0')
		return 0;
	if ((e = strchr(p, '/')) == NULL)
		e = p + strlen(p);
	n = (size_t)(e - p);
	if (n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(comp, p, n);
	comp[n] = '\0';
	*pp = e;
	return 1;
}

static int
walk(int root, const char *path, int create, const char **last,
    char *comp, size_t size)
{
	const char *p = path, *q;
	int dfd, nfd, r, save;

	if ((dfd = fcntl(root, F_DUPFD_CLOEXEC, 0)) == -1)
		return -1;
	for (;;) {
		q = p;
		if ((r = next_comp(&q, comp, size)) <= 0) {
			save = r == 0 ? EINVAL : errno;
			close(dfd);
			errno = save;
			return -1;
		}
		/* Is this the last component? */
		while (*q == '/')
			q++;
		if (*q == '\0') {
			*last = comp;
			return dfd;
		}
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			close(dfd);
			errno = EINVAL;
			return -1;
		}
		nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (nfd == -1 && errno == ENOENT && create) {
			if (mkdirat(dfd, comp, 0777) == -1 && errno != EEXIST)
				goto fail;
			nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd == -1)
			goto fail;
		close(dfd);
		dfd = nfd;
		p = q;
	}
fail:
	save = errno;
	close(dfd);
	errno = save;
	return -1;
}

int
st_openat(int root, const char *path, int flags, mode_t mode)
{
	char comp[256];
	const char *last;
	int dfd, fd, save;

	if ((dfd = walk(root, path, (flags & O_CREAT) != 0, &last, comp,
	    sizeof(comp))) == -1)
		return -1;
	if (strcmp(last, ".") == 0 || strcmp(last, "..") == 0) {
		close(dfd);
		errno = EINVAL;
		return -1;
	}
	fd = openat(dfd, last, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	save = errno;
	close(dfd);
	errno = save;
	return fd;
}

int
st_mkdirs(int root, const char *path)
{
	char comp[256];
	const char *last;
	int dfd;

	if ((dfd = walk(root, path, 1, &last, comp, sizeof(comp))) == -1)
		return -1;
	close(dfd);
	return 0;
}

void
st_piece_name(char name[ST_PIECE_NAME], uint32_t i)
{
	snprintf(name, ST_PIECE_NAME, "pieces/%u", (unsigned)i);
}

ssize_t
st_pread_full(int fd, void *p, size_t len, uint64_t off)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		r = pread(fd, (char *)p + got, len - got, (off_t)(off + got));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
st_pwrite_full(int fd, const void *p, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t r;

	while (done < len) {
		r = pwrite(fd, (const char *)p + done, len - done,
		    (off_t)(off + done));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

void
st_reader_init(struct st_reader *r, int root)
{
	r->root = root;
	r->fd = -1;
	r->file = 0;
}

void
st_reader_close(struct st_reader *r)
{
	if (r->fd != -1)
		close(r->fd);
	r->fd = -1;
}

int
st_reader_fd(struct st_reader *r, const struct metainfo *mi, size_t file,
    char *err)
{
	const char *path = mi->files[file].path;
	int e;

	if (r->fd != -1 && r->file == file)
		return r->fd;
	st_reader_close(r);
	if ((r->fd = st_openat(r->root, path, O_RDONLY | O_CLOEXEC, 0)) == -1) {
		e = errno;
		bt_err(err, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	r->file = file;
	return r->fd;
}

int
st_read_range(struct st_reader *r, const struct metainfo *mi, uint64_t off,
    void *buf, size_t len, char *err)
{
	unsigned char *p = buf;
	struct st_seg seg[8];
	size_t n, k;
	ssize_t got;

	while (len > 0) {
		n = st_segments(mi, off, len, seg, 8);
		if (n == 0) {
			errno = 0;
			bt_err(err, "no file at offset %llu",
			    (unsigned long long)off);
			return 1;
		}
		for (k = 0; k < n; k++) {
			const struct mi_file *f = &mi->files[seg[k].file];

			if (f->pad) {
				memset(p + seg[k].boff, 0, seg[k].len);
				continue;
			}
			if (st_reader_fd(r, mi, seg[k].file, err) == -1)
				return errno == ENOENT ? 1 : -1;
			got = st_pread_full(r->fd, p + seg[k].boff, seg[k].len,
			    seg[k].foff);
			if (got == -1) {
				int e = errno;

				bt_err(err, "%s: %s", f->path, strerror(e));
				errno = e;
				return -1;
			}
			if (got != (ssize_t)seg[k].len) {
				errno = 0;
				bt_err(err, "%s: short read", f->path);
				return 1;
			}
		}
		k = n - 1;
		off += seg[k].boff + seg[k].len;
		p += seg[k].boff + seg[k].len;
		len -= seg[k].boff + seg[k].len;
	}
	return 0;
}

int
st_piece_ok(const struct metainfo *mi, uint32_t i, const void *data,
    size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;

	if (i >= mi->npieces || len != mi_piece_size(mi, i))
		return 0;
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha1(), NULL) != 1)
		return -1;
	return st_piece_match(mi, i, md);
}

int
st_piece_match(const struct metainfo *mi, uint32_t i,
    const unsigned char md[20])
{
	return i < mi->npieces &&
	    memcmp(md, mi->pieces + (size_t)i * 20, 20) == 0;
}
