/*
 * spool_read.c: the one door for reading piece files (spool.h): cached
 * block reads for serving, whole pieces for the checkers, and the one
 * rule against reading a recycled file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "spool.h"
#include "spool_int.h"
#include "storage.h"

void
spool_rd_init(struct spool_rd *rd)
{
	rd->fd = -1;
	rd->i = 0;
	rd->slab = 0;
}

void
spool_rd_close(struct spool_rd *rd)
{
	if (rd->fd != -1)
		close(rd->fd);
	rd->fd = -1;
}

/* spool_read_piece from pieces/<i>. */
static int
read_pfile(struct spool *s, struct spool_rd *rd, uint32_t i, uint32_t off,
    void *buf, size_t len, char *err)
{
	char name[16];
	ssize_t r;

	if (!spool_have(s, i) || spool_placed(s, i))
		return 0;
	snprintf(name, sizeof(name), "%u", i);
	if (rd->fd == -1 || rd->slab || rd->i != i) {
		spool_rd_close(rd);
		rd->fd = openat(s->piecesfd, name, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC);
		rd->i = i;
		rd->slab = 0;
		if (rd->fd == -1) {
			/* Moved out (placed) or dropped meanwhile. */
			if (errno == ENOENT)
				return 0;
			return bt_err(err, "pieces/%s: %s", name,
			    strerror(errno));
		}
	}
	r = st_pread_full(rd->fd, buf, len, off);
	/* Placed meanwhile: the file may be recycled, its bytes another's. */
	if (spool_placed(s, i)) {
		spool_rd_close(rd);
		return 0;
	}
	if (r != (ssize_t)len)
		return bt_err(err, "pieces/%s: short read", name);
	return 1;
}

int
spool_read_piece(struct spool *s, struct spool_rd *rd, uint32_t i,
    uint32_t off, void *buf, size_t len, char *err)
{
	int r;

	if (i >= s->npieces || (uint64_t)off + len > mi_piece_size(s->mi, i))
		return bt_err(err, "read piece %u: out of range", i);
	/* A slab spool has piece files only when some were there at open
	 * (made by hand or by an earlier version): then they come first. */
	if (s->slab_n == 0 || s->pfiles) {
		r = read_pfile(s, rd, i, off, buf, len, err);
		if (r != 0 || s->slab_n == 0)
			return r;
	}
	return spool_slab_read(s, rd, i, off, buf, len, err);
}

int
spool_read(struct spool *s, uint32_t i, uint32_t off, void *buf, size_t len,
    char *err)
{
	struct spool_rd rd;
	int r;

	spool_rd_init(&rd);
	r = spool_read_piece(s, &rd, i, off, buf, len, err);
	spool_rd_close(&rd);
	if (r == 0) {
		bt_err(err, "pieces/%u: not there (moved out)", i);
		errno = ENOENT;
		return -1;
	}
	return r == 1 ? 0 : -1;
}

/* spool_open_whole of pieces/<i>. */
static int
open_file(struct spool *s, uint32_t i, int *fdp, char *err)
{
	char name[16];
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), "%u", i);
	fd = openat(s->piecesfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return SPOOL_PIECE_GONE;
		if (errno == ELOOP)
			return SPOOL_PIECE_NOTFILE;
		return bt_err(err, "pieces/%s: %s", name, strerror(errno));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return SPOOL_PIECE_NOTFILE;
	}
	if (st.st_size != (off_t)mi_piece_size(s->mi, i)) {
		close(fd);
		return SPOOL_PIECE_SIZE;
	}
	*fdp = fd;
	return SPOOL_PIECE_OK;
}

int
spool_open_whole(struct spool *s, uint32_t i, int *fdp, uint64_t *offp,
    char *err)
{
	int r;

	if (i >= s->npieces)
		return bt_err(err, "read piece %u: out of range", i);
	*offp = 0;
	if (s->slab_n == 0 || s->pfiles) {
		r = open_file(s, i, fdp, err);
		if (r != SPOOL_PIECE_GONE || s->slab_n == 0)
			return r;
	}
	return spool_slab_open(s, i, fdp, offp, err);
}

int
spool_read_whole(struct spool *s, uint32_t i, void *buf, char *err)
{
	uint32_t sz = i < s->npieces ? mi_piece_size(s->mi, i) : 0;
	uint64_t off;
	ssize_t r;
	int fd, e, o;

	if ((o = spool_open_whole(s, i, &fd, &off, err)) != SPOOL_PIECE_OK)
		return o;
	r = st_pread_full(fd, buf, sz, off);
	e = errno;
	close(fd);
	/* The recycle rule, as in spool_read_piece. */
	if (spool_placed(s, i))
		return SPOOL_PIECE_GONE;
	if (r == -1)
		return bt_err(err, "pieces/%u: %s", i, strerror(e));
	if (r != (ssize_t)sz)
		return SPOOL_PIECE_GONE;	/* cut while we read */
	return SPOOL_PIECE_OK;
}
