/* spool.c: the shared piece spool (spool.h, btspool(5)). */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt.h"
#include "spool.h"
#include "spool_int.h"
#include "storage.h"

_Static_assert(sizeof(struct spool_hdr) == SPOOL_HDRLEN, "spool header");

/* O_DIRECT wants buffer, length and offset in logical blocks: 4 KiB
 * covers every block size Linux file systems use. */
#define DIRECT_ALIGN	4096

static size_t
words(uint32_t n)
{
	return ((size_t)n + 63) / 64;
}

/* The first layout: header, have, placed, avail. */
static size_t
maplen1(uint32_t n)
{
	return SPOOL_HDRLEN + 2 * words(n) * 8 + (size_t)n * 4;
}

/* Where the fresh map starts: 8-aligned for its 64-bit atomics. */
static size_t
freshoff(uint32_t n)
{
	return (maplen1(n) + 7) & ~(size_t)7;
}

/* The layout now: the first one, then the fresh map. */
static size_t
maplen(uint32_t n)
{
	return freshoff(n) + words(n) * 8;
}

static int
mkdirat_ok(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0777) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

int
spool_writeall(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Creates DIR/state through a temp file and link(2): one winner. */
static int
create_state(struct spool *s, char *err)
{
	struct spool_hdr h;
	char tmp[64];
	int fd;
	size_t len = maplen(s->npieces);

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SPOOL_MAGIC, 8);
	h.version = SPOOL_VERSION;
	h.npieces = s->npieces;
	memcpy(h.info_hash, s->mi->info_hash, 20);
	h.piece_length = s->mi->piece_length;
	h.total_length = s->mi->total_length;
	snprintf(tmp, sizeof(tmp), "state.%ld", (long)getpid());
	fd = openat(s->tmpfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0666);
	if (fd == -1)
		return bt_err(err, "tmp/%s: %s", tmp, strerror(errno));
	if (ftruncate(fd, (off_t)len) == -1 ||
	    spool_writeall(fd, &h, sizeof(h)) == -1) {
		close(fd);
		unlinkat(s->tmpfd, tmp, 0);
		return bt_err(err, "state: %s", strerror(errno));
	}
	close(fd);
	if (linkat(s->tmpfd, tmp, s->dirfd, "state", 0) == -1 &&
	    errno != EEXIST) {
		unlinkat(s->tmpfd, tmp, 0);
		return bt_err(err, "state: %s", strerror(errno));
	}
	unlinkat(s->tmpfd, tmp, 0);
	return 0;
}

static void
setbit_atomic(uint64_t *w, uint32_t i, uint32_t *count)
{
	uint64_t m = (uint64_t)1 << (i % 64);
	uint64_t old = __atomic_fetch_or(&w[i / 64], m, __ATOMIC_RELEASE);

	if ((old & m) == 0)
		__atomic_fetch_add(count, 1, __ATOMIC_RELAXED);
}

/* Removes temp files of dead writers; sets have bits of pieces found. */
static void
recover(struct spool *s)
{
	DIR *d;
	struct dirent *e;
	char *end;
	unsigned long v;
	long pid;
	int fd;

	if ((fd = openat(s->tmpfd, ".", O_RDONLY | O_DIRECTORY)) != -1 &&
	    (d = fdopendir(fd)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			const char *dot = strrchr(e->d_name, '.');

			if (e->d_name[0] == '.' || dot == NULL)
				continue;
			pid = strtol(dot + 1, &end, 10);
			if (*end != '\0' || pid <= 0)
				continue;
			if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
				unlinkat(s->tmpfd, e->d_name, 0);
		}
		closedir(d);
	} else if (fd != -1)
		close(fd);
	if ((fd = openat(s->piecesfd, ".", O_RDONLY | O_DIRECTORY)) != -1 &&
	    (d = fdopendir(fd)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] < '0' || e->d_name[0] > '9')
				continue;
			errno = 0;
			v = strtoul(e->d_name, &end, 10);
			if (*end != '\0' || errno != 0 || v >= s->npieces)
				continue;
			s->pfiles = 1;
			if (!spool_have(s, (uint32_t)v))
				setbit_atomic(s->have, (uint32_t)v,
				    &s->hdr->nhave);
		}
		closedir(d);
	} else if (fd != -1)
		close(fd);
}

int
spool_open(struct spool *s, const char *dir, const struct metainfo *mi,
    char *err)
{
	struct stat st;
	struct timespec ts;
	void *m;
	int fd = -1;

	memset(s, 0, sizeof(*s));
	s->dirfd = s->piecesfd = s->tmpfd = s->claimfd = s->freefd = -1;
	s->slabfd = s->wfd = -1;
	s->mi = mi;
	s->npieces = mi->npieces;
	s->fail = BT_FAIL_SYSTEM;
	if (mkdir(dir, 0777) == -1 && errno != EEXIST) {
		s->fail = bt_fail_errno(errno);
		return bt_err(err, "%s: %s", dir, strerror(errno));
	}
	if ((s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		s->fail = bt_fail_errno(errno);
		bt_err(err, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (mkdirat_ok(s->dirfd, "pieces") == -1 ||
	    mkdirat_ok(s->dirfd, "tmp") == -1 ||
	    mkdirat_ok(s->dirfd, "free") == -1 ||
	    (s->freefd = openat(s->dirfd, "free",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (s->piecesfd = openat(s->dirfd, "pieces",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (s->tmpfd = openat(s->dirfd, "tmp",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (s->claimfd = openat(s->dirfd, "claims",
	    O_RDWR | O_CREAT | O_CLOEXEC, 0666)) == -1) {
		s->fail = bt_fail_errno(errno);
		bt_err(err, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((fd = openat(s->dirfd, "state", O_RDWR | O_CLOEXEC)) == -1) {
		if (errno != ENOENT) {
			s->fail = bt_fail_errno(errno);
			bt_err(err, "%s/state: %s", dir, strerror(errno));
			goto fail;
		}
		if (create_state(s, err) == -1) {
			s->fail = bt_fail_errno(errno);
			goto fail;
		}
		if ((fd = openat(s->dirfd, "state", O_RDWR | O_CLOEXEC)) ==
		    -1) {
			s->fail = bt_fail_errno(errno);
			bt_err(err, "%s/state: %s", dir, strerror(errno));
			goto fail;
		}
	}
	if (fstat(fd, &st) == -1) {
		s->fail = bt_fail_errno(errno);
		bt_err(err, "%s/state: %s", dir, strerror(errno));
		goto fail;
	}
	/* A first-layout state file gains its fresh map, all clear; two
	 * openers growing it at once agree on the size. */
	if ((size_t)st.st_size == maplen1(s->npieces) &&
	    maplen1(s->npieces) != maplen(s->npieces)) {
		if (ftruncate(fd, (off_t)maplen(s->npieces)) == -1) {
			s->fail = bt_fail_errno(errno);
			bt_err(err, "%s/state: %s", dir, strerror(errno));
			goto fail;
		}
		st.st_size = (off_t)maplen(s->npieces);
	}
	if ((size_t)st.st_size != maplen(s->npieces)) {
		s->fail = BT_FAIL_MISMATCH;
		bt_err(err, "%s/state: wrong size %lld for %u pieces "
		    "(another torrent's spool?)", dir, (long long)st.st_size,
		    s->npieces);
		goto fail;
	}
	m = mmap(NULL, maplen(s->npieces), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (m == MAP_FAILED) {
		s->fail = bt_fail_errno(errno);
		bt_err(err, "%s/state: mmap: %s", dir, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	s->hdr = m;
	s->maplen = maplen(s->npieces);
	if (memcmp(s->hdr->magic, SPOOL_MAGIC, 8) != 0 ||
	    s->hdr->version != SPOOL_VERSION) {
		s->fail = BT_FAIL_MISMATCH;
		bt_err(err, "%s/state: not a version %d spool state file",
		    dir, SPOOL_VERSION);
		goto fail;
	}
	if (s->hdr->npieces != s->npieces ||
	    memcmp(s->hdr->info_hash, mi->info_hash, 20) != 0) {
		s->fail = BT_FAIL_MISMATCH;
		bt_err(err, "%s: spool of another torrent", dir);
		goto fail;
	}
	if ((s->mine = calloc(words(s->npieces) + 1, 8)) == NULL) {
		bt_err(err, "out of memory");
		goto fail;
	}
	s->have = (uint64_t *)((char *)m + SPOOL_HDRLEN);
	s->placed = s->have + words(s->npieces);
	s->avail = (uint32_t *)(s->placed + words(s->npieces));
	s->fresh = (uint64_t *)((char *)m + freshoff(s->npieces));
	spool_boot(s);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->rng = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^
	    0x9e3779b97f4a7c15ULL;
	s->nfree = SPOOL_FREE_BYTES / (mi->piece_length > 0 ?
	    mi->piece_length : 1);
	if (s->nfree < SPOOL_FREE_MIN)
		s->nfree = SPOOL_FREE_MIN;
	if (s->nfree > SPOOL_FREE_SLOTS)
		s->nfree = SPOOL_FREE_SLOTS;
	if (spool_slab_init(s, 1) == -1) {
		s->fail = bt_fail_errno(errno);
		bt_err(err, "%s/slabs: %s", dir, strerror(errno));
		goto fail;
	}
	recover(s);
	s->fail = BT_FAIL_NONE;
	return 0;
fail:
	if (fd != -1)
		close(fd);
	spool_close(s);
	return -1;
}

int
spool_open_ro(struct spool *s, const char *dir, const struct metainfo *mi,
    char *err)
{
	struct stat st;
	void *m;
	int fd;

	memset(s, 0, sizeof(*s));
	s->dirfd = s->piecesfd = s->tmpfd = s->claimfd = s->freefd = -1;
	s->slabfd = s->wfd = -1;
	s->mi = mi;
	s->npieces = mi->npieces;
	s->fail = BT_FAIL_INPUT;
	if ((s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (s->piecesfd = openat(s->dirfd, "pieces", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		s->fail = bt_fail_errno(errno);
		bt_err(err, "%s%s: %s", dir, s->dirfd == -1 ? "" : "/pieces",
		    strerror(errno));
		spool_close(s);
		return -1;
	}
	if ((fd = openat(s->dirfd, "state", O_RDONLY | O_CLOEXEC)) == -1) {
		s->fail = BT_FAIL_NONE;
		return 0;	/* pieces/ alone: nobody recycles its files */
	}
	/* Either layout: a reader has no use for the fresh map. */
	if (fstat(fd, &st) == -1 || ((size_t)st.st_size !=
	    maplen(s->npieces) && (size_t)st.st_size != maplen1(s->npieces)) ||
	    (m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd,
	    0)) == MAP_FAILED) {
		close(fd);
		s->fail = BT_FAIL_MISMATCH;
		bt_err(err, "%s/state: not this torrent's spool state", dir);
		spool_close(s);
		return -1;
	}
	close(fd);
	s->hdr = m;
	s->maplen = (size_t)st.st_size;
	if (memcmp(s->hdr->magic, SPOOL_MAGIC, 8) != 0 ||
	    s->hdr->version != SPOOL_VERSION ||
	    s->hdr->npieces != s->npieces ||
	    memcmp(s->hdr->info_hash, mi->info_hash, 20) != 0) {
		s->fail = BT_FAIL_MISMATCH;
		bt_err(err, "%s: spool of another torrent", dir);
		spool_close(s);
		return -1;
	}
	s->have = (uint64_t *)((char *)m + SPOOL_HDRLEN);
	s->placed = s->have + words(s->npieces);
	s->avail = (uint32_t *)(s->placed + words(s->npieces));
	/* Hand-made piece files may sit beside slabs: look for them. */
	s->pfiles = 1;
	if (spool_slab_init(s, 0) == -1) {
		s->fail = bt_fail_errno(errno);
		bt_err(err, "%s/slabs: %s", dir, strerror(errno));
		spool_close(s);
		return -1;
	}
	s->fail = BT_FAIL_NONE;
	return 0;
}

void
spool_close(struct spool *s)
{
	if (s->hdr != NULL)
		munmap(s->hdr, s->maplen);
	free(s->mine);
	s->mine = NULL;
	if (s->claimfd != -1)
		close(s->claimfd);
	if (s->tmpfd != -1)
		close(s->tmpfd);
	if (s->freefd != -1)
		close(s->freefd);
	if (s->piecesfd != -1)
		close(s->piecesfd);
	if (s->dirfd != -1)
		close(s->dirfd);
	if (s->slabfd != -1)
		close(s->slabfd);
	if (s->wfd != -1)
		close(s->wfd);
	s->hdr = NULL;
	s->dirfd = s->piecesfd = s->tmpfd = s->claimfd = s->freefd = -1;
	s->slabfd = s->wfd = -1;
}

static int
testbit(const uint64_t *w, uint32_t i)
{
	return (__atomic_load_n(&w[i / 64], __ATOMIC_ACQUIRE) >> (i % 64)) & 1;
}

int
spool_have(const struct spool *s, uint32_t i)
{
	/* Read-only, no state file: every piece file is taken as had. */
	if (s->have == NULL)
		return i < s->npieces;
	return i < s->npieces && testbit(s->have, i);
}

int
spool_placed(const struct spool *s, uint32_t i)
{
	return i < s->npieces && s->placed != NULL && testbit(s->placed, i);
}

uint32_t
spool_nhave(const struct spool *s)
{
	return __atomic_load_n(&s->hdr->nhave, __ATOMIC_RELAXED);
}

int
spool_lockat(struct spool *s, off_t at, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = at;
	fl.l_len = 1;
	return fcntl(s->claimfd, F_OFD_SETLK, &fl);
}

static int
lockbyte(struct spool *s, uint32_t i, short type)
{
	return spool_lockat(s, (off_t)i, type);
}

int
spool_claim(struct spool *s, uint32_t i, char *err)
{
	if (i >= s->npieces)
		return bt_err(err, "claim piece %u: out of range", i);
	if (lockbyte(s, i, F_WRLCK) == 0) {
		s->mine[i / 64] |= (uint64_t)1 << (i % 64);
		return 1;
	}
	if (errno == EAGAIN || errno == EACCES)
		return 0;
	return bt_err(err, "claim piece %u: %s", i, strerror(errno));
}

void
spool_unclaim(struct spool *s, uint32_t i)
{
	if (i >= s->npieces)
		return;
	lockbyte(s, i, F_UNLCK);
	s->mine[i / 64] &= ~((uint64_t)1 << (i % 64));
}

static int
peerbit(const unsigned char *bits, uint32_t i)
{
	return (bits[i / 8] >> (7 - i % 8)) & 1;
}


int
spool_commit(struct spool *s, uint32_t i, const void *data, size_t len,
    char *err)
{
	char tmp[48], name[16];
	uint32_t slot;
	int fd;

	if (i >= s->npieces || len != mi_piece_size(s->mi, i))
		return bt_err(err, "commit piece %u: bad length", i);
	if (s->slab_n != 0)
		return spool_slab_commit(s, i, data, len, err);
	if (spool_have(s, i))
		return 0;
	snprintf(tmp, sizeof(tmp), "%u.%ld", i, (long)getpid());
	snprintf(name, sizeof(name), "%u", i);
	/* O_DIRECT writes a new file: recycling is for the plain path.
	 * A recycled file goes from free/ to pieces/ in one rename. */
	fd = s->direct ? -1 : spool_free_take(s, &slot, data, len);
	if (fd != -1) {
		switch (spool_free_put(s, fd, slot, name)) {
		case 0:
			goto stored;
		case 1:
			setbit_atomic(s->have, i, &s->hdr->nhave);
			return 0;
		}
		fd = -1;	/* the slot went away: a new file */
	}
	if (fd == -1 && s->direct && len % DIRECT_ALIGN == 0 &&
	    (uintptr_t)data % DIRECT_ALIGN == 0) {
		fd = openat(s->tmpfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC | O_DIRECT, 0666);
		if (fd != -1 && spool_writeall(fd, data, len) == -1) {
			/* Not for this file system: write it plainly. */
			close(fd);
			fd = -1;
		}
	}
	if (fd == -1) {
		fd = openat(s->tmpfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0666);
		if (fd == -1)
			return bt_err(err, "tmp/%s: %s", tmp,
			    strerror(errno));
		if (spool_writeall(fd, data, len) == -1) {
			bt_err(err, "tmp/%s: %s", tmp, strerror(errno));
			close(fd);
			unlinkat(s->tmpfd, tmp, 0);
			return -1;
		}
	}
	if (close(fd) == -1) {
		bt_err(err, "tmp/%s: %s", tmp, strerror(errno));
		unlinkat(s->tmpfd, tmp, 0);
		return -1;
	}
	if (renameat2(s->tmpfd, tmp, s->piecesfd, name, RENAME_NOREPLACE) ==
	    -1) {
		int e = errno;

		unlinkat(s->tmpfd, tmp, 0);
		if (e == EEXIST) {
			setbit_atomic(s->have, i, &s->hdr->nhave);
			return 0;
		}
		return bt_err(err, "pieces/%s: %s", name, strerror(e));
	}
stored:
	/* Hashed by our caller, written by us, in place: fresh (spool.h). */
	spool_mark_fresh(s, i, 1);
	/* A second copy might land after btassemble unlinked the first. */
	if (spool_have(s, i)) {
		if (spool_placed(s, i))
			unlinkat(s->piecesfd, name, 0);
		return 0;
	}
	setbit_atomic(s->have, i, &s->hdr->nhave);
	return 1;
}

void
spool_avail_add(struct spool *s, uint32_t i, int delta)
{
	if (i < s->npieces)
		__atomic_fetch_add(&s->avail[i], (uint32_t)delta,
		    __ATOMIC_RELAXED);
}

void
spool_avail_bits(struct spool *s, const unsigned char *bits, int delta)
{
	uint32_t i;

	for (i = 0; i < s->npieces; i++)
		if (peerbit(bits, i))
			spool_avail_add(s, i, delta);
}

uint32_t
spool_avail(const struct spool *s, uint32_t i)
{
	return i < s->npieces ?
	    __atomic_load_n(&s->avail[i], __ATOMIC_RELAXED) : 0;
}

void
spool_set_placed(struct spool *s, uint32_t i)
{
	if (i < s->npieces)
		setbit_atomic(s->placed, i, &s->hdr->nplaced);
}

void
spool_set_have(struct spool *s, uint32_t i)
{
	if (i < s->npieces)
		setbit_atomic(s->have, i, &s->hdr->nhave);
}

int
spool_drop(struct spool *s, uint32_t i, char *err)
{
	uint64_t m = (uint64_t)1 << (i % 64), old;
	char name[16];

	if (i >= s->npieces || spool_placed(s, i))
		return 0;
	snprintf(name, sizeof(name), "%u", i);
	/* Never trusted again until a live process commits it anew. */
	spool_mark_fresh(s, i, 0);
	if (unlinkat(s->piecesfd, name, 0) == -1 && errno != ENOENT)
		return bt_err(err, "pieces/%s: %s", name, strerror(errno));
	/* The file goes first: a bit without a file is what we mend. */
	old = __atomic_fetch_and(&s->have[i / 64], ~m, __ATOMIC_RELEASE);
	if (old & m)
		__atomic_fetch_sub(&s->hdr->nhave, 1, __ATOMIC_RELAXED);
	return 0;
}
