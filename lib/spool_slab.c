/*
 * spool_slab.c: slab files of the spool (spool.h, btspool(5)). With
 * pieces shorter than SPOOL_SLAB_BELOW, piece i lives in slabs/<k>, k =
 * i / n (n = spool_slab_pieces), at offset (i % n) * piece length. A
 * commit is a pwrite there, then the have bit (release); the bit, not a
 * rename, makes the piece visible, so a reader reads a slab piece only
 * after it sees the bit (acquire). Bytes of a had piece are written
 * again only with the same verified bytes (a second endgame writer) or,
 * after spool_drop, by the piece fetched anew.
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

uint32_t
spool_slab_pieces(const struct spool *s)
{
	return s->slab_n;
}

int
spool_slab_init(struct spool *s, int create)
{
	uint64_t pl = s->mi->piece_length;

	s->slabfd = s->wfd = -1;
	s->slab_n = 0;
	/* Without a state file there are no have bits to trust a slab by. */
	if (s->have == NULL || pl == 0 || pl >= SPOOL_SLAB_BELOW)
		return 0;
	s->slab_n = (uint32_t)(SPOOL_SLAB_BYTES / pl);
	if (create && mkdirat(s->dirfd, "slabs", 0777) == -1 &&
	    errno != EEXIST)
		return -1;
	s->slabfd = openat(s->dirfd, "slabs", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (s->slabfd == -1 && (create || errno != ENOENT))
		return -1;
	return 0;
}

static uint64_t
slab_off(const struct spool *s, uint32_t i)
{
	return (uint64_t)(i % s->slab_n) * s->mi->piece_length;
}

/*
 * The cached descriptor of slab k open for writing, opened (created
 * with create: any writer may make it) if needed; -1 with errno.
 */
static int
slab_wfd(struct spool *s, uint32_t k, int create)
{
	char name[16];

	if (s->wfd != -1 && s->wslab == k)
		return s->wfd;
	if (s->wfd != -1)
		close(s->wfd);
	snprintf(name, sizeof(name), "%u", k);
	s->wfd = s->slabfd == -1 ? -1 : openat(s->slabfd, name, O_WRONLY |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (create ? O_CREAT : 0),
	    0666);
	if (s->slabfd == -1)
		errno = ENOENT;
	s->wslab = k;
	return s->wfd;
}

static int
pwrite_full(int fd, const void *p, size_t len, uint64_t off)
{
	const unsigned char *c = p;
	ssize_t w;

	while (len > 0) {
		w = pwrite(fd, c, len, (off_t)off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		c += w;
		len -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int
spool_slab_commit(struct spool *s, uint32_t i, const void *data, size_t len,
    char *err)
{
	uint64_t m = (uint64_t)1 << (i % 64), old;
	uint32_t k = i / s->slab_n;
	int fd;

	if (spool_have(s, i))
		return 0;
	if ((fd = slab_wfd(s, k, 1)) == -1)
		return bt_err(err, "slabs/%u: %s", k, strerror(errno));
	if (pwrite_full(fd, data, len, slab_off(s, i)) == -1)
		return bt_err(err, "slabs/%u: %s", k, strerror(errno));
	/* Hashed by our caller, written by us: fresh (spool.h), set
	 * before have so that a reader who sees have sees it final. */
	spool_mark_fresh(s, i, 1);
	old = __atomic_fetch_or(&s->have[i / 64], m, __ATOMIC_RELEASE);
	if (old & m) {
		/* A second copy: if the first is placed and its slab was
		 * unlinked, ours may have made it anew. */
		if (spool_placed(s, i))
			spool_slab_release(s, i, 1, err);
		return 0;
	}
	__atomic_fetch_add(&s->hdr->nhave, 1, __ATOMIC_RELAXED);
	return 1;
}

int
spool_slab_open(struct spool *s, uint32_t i, int *fdp, uint64_t *offp,
    char *err)
{
	char name[16];
	struct stat st;
	uint32_t k = i / s->slab_n;
	uint64_t off = slab_off(s, i);
	int fd;

	/* The bit first: only then are the bytes there. */
	if (!spool_have(s, i))
		return SPOOL_PIECE_GONE;
	snprintf(name, sizeof(name), "%u", k);
	fd = s->slabfd == -1 ? -1 : openat(s->slabfd, name, O_RDONLY |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (s->slabfd == -1)
		errno = ENOENT;
	if (fd == -1) {
		/* Had, not placed, and no slab: lost (a reboot). */
		if (errno == ENOENT)
			return spool_placed(s, i) ? SPOOL_PIECE_GONE :
			    SPOOL_PIECE_SIZE;
		if (errno == ELOOP)
			return SPOOL_PIECE_NOTFILE;
		return bt_err(err, "slabs/%s: %s", name, strerror(errno));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return SPOOL_PIECE_NOTFILE;
	}
	if ((uint64_t)st.st_size < off + mi_piece_size(s->mi, i)) {
		close(fd);
		return spool_placed(s, i) ? SPOOL_PIECE_GONE : SPOOL_PIECE_SIZE;
	}
	*fdp = fd;
	*offp = off;
	return SPOOL_PIECE_OK;
}

int
spool_slab_read(struct spool *s, struct spool_rd *rd, uint32_t i,
    uint32_t off, void *buf, size_t len, char *err)
{
	char name[16];
	uint32_t k = i / s->slab_n;
	ssize_t r;

	if (!spool_have(s, i) || spool_placed(s, i))
		return 0;
	snprintf(name, sizeof(name), "%u", k);
	if (rd->fd == -1 || !rd->slab || rd->i != k) {
		spool_rd_close(rd);
		rd->fd = s->slabfd == -1 ? -1 : openat(s->slabfd, name,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (s->slabfd == -1)
			errno = ENOENT;
		rd->i = k;
		rd->slab = 1;
		if (rd->fd == -1) {
			if (errno == ENOENT)
				return 0;	/* placed and gone */
			return bt_err(err, "slabs/%s: %s", name,
			    strerror(errno));
		}
	}
	r = st_pread_full(rd->fd, buf, len, slab_off(s, i) + off);
	/* Placed meanwhile: its blocks may be punched out (the recycle
	 * rule); the final files have it. */
	if (spool_placed(s, i))
		return 0;
	if (r != (ssize_t)len)
		return bt_err(err, "slabs/%s: short read", name);
	return 1;
}

/* Whether every piece of slab k is placed. */
static int
slab_placed(const struct spool *s, uint32_t k)
{
	uint32_t j = k * s->slab_n, end = j + s->slab_n;

	if (end > s->npieces)
		end = s->npieces;
	for (; j < end; j++)
		if (!spool_placed(s, j))
			return 0;
	return 1;
}

int
spool_slab_release(struct spool *s, uint32_t i, uint32_t n, char *err)
{
	char name[16];
	uint32_t k;
	uint64_t len;
	int fd;

	if (s->slab_n == 0 || i >= s->npieces || n == 0)
		return 0;
	k = i / s->slab_n;
	snprintf(name, sizeof(name), "%u", k);
	if (slab_placed(s, k)) {
		if (s->wfd != -1 && s->wslab == k) {
			close(s->wfd);
			s->wfd = -1;
		}
		if (unlinkat(s->slabfd, name, 0) == -1 && errno != ENOENT)
			return bt_err(err, "slabs/%s: %s", name,
			    strerror(errno));
		return 1;
	}
	if ((fd = slab_wfd(s, k, 0)) == -1)
		return errno == ENOENT ? 0 :
		    bt_err(err, "slabs/%s: %s", name, strerror(errno));
	len = (uint64_t)(n - 1) * s->mi->piece_length +
	    mi_piece_size(s->mi, i + n - 1);
	/* Disk use stays about 1x; a file system without holes keeps the
	 * blocks until the slab goes. */
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	    (off_t)slab_off(s, i), (off_t)len) == -1 && errno != EOPNOTSUPP)
		return bt_err(err, "slabs/%s: %s", name, strerror(errno));
	return 0;
}

void
spool_slab_clear(struct spool *s)
{
	uint32_t k, nslab;

	if (s->slab_n == 0 || s->slabfd == -1)
		return;
	nslab = (s->npieces + s->slab_n - 1) / s->slab_n;
	for (k = 0; k < nslab; k++)
		if (slab_placed(s, k))
			spool_slab_release(s, k * s->slab_n, 1, NULL);
}
