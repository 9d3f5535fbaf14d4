/*
 * spool_free.c: recycled piece files in DIR/free/ (spool.h, btspool(5)):
 * btassemble puts placed pieces' files here, spool_commit overwrites
 * them in place under a slot lock and renames them into pieces/.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "spool.h"
#include "spool_int.h"

/*
 * Locks free/<n> and opens its file: 1 locked (*fdp the fd, or -1 for
 * something there that is not ours to use), 0 not locked (another
 * writer's, or no file there).
 */
static int
probe_slot(struct spool *s, uint32_t n, int *fdp)
{
	char slot[16];

	if (spool_lockat(s, SPOOL_SLOT_LOCK + n, F_WRLCK) == -1)
		return 0;	/* another writer's */
	snprintf(slot, sizeof(slot), "%u", n);
	/* O_NOFOLLOW, S_ISREG: whatever else sits in free/ is not used. */
	*fdp = openat(s->freefd, slot, O_WRONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (*fdp != -1 || errno != ENOENT)
		return 1;
	spool_lockat(s, SPOOL_SLOT_LOCK + n, F_UNLCK);
	return 0;
}

/*
 * The slot of free/ nearest after slot from that holds a file (want 1)
 * or none (want 0), 1 if any. Several writers each follow the one
 * putter with a cursor of their own, so a cursor that others overtook
 * finds empty slots ahead of it long after, and the putter full slots
 * ahead of its own where takers took elsewhere; a new file then costs
 * an inode (with four writers, ext4's inode allocator skipping recently
 * freed inodes was a fifth of btpeer's CPU, 1 GiB in 256 KiB pieces)
 * and a putter's unlink another. One read of the directory (at most
 * SPOOL_FREE_SLOTS names) says where the files are.
 */
static int
seek_free(struct spool *s, uint32_t from, int want, uint32_t *np)
{
	unsigned char in[SPOOL_FREE_SLOTS / 8] = { 0 };
	struct dirent *e;
	uint32_t k, n;
	char *end;
	DIR *dir;
	int fd;

	if (s->nfree == 0 || (fd = openat(s->freefd, ".", O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) == -1)
		return 0;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		n = (uint32_t)strtoul(e->d_name, &end, 10);
		if (*end == '\0' && n < s->nfree)
			in[n / 8] |= 1 << (n % 8);
	}
	closedir(dir);
	for (k = 0; k < s->nfree; k++) {
		n = (from + k) % s->nfree;
		if (((in[n / 8] >> (n % 8)) & 1) == want) {
			*np = n;
			return 1;
		}
	}
	return 0;
}

/*
 * Takes a recycled file free/<slot> and writes the piece into it, in
 * place: the slot's lock (byte SPOOL_SLOT_LOCK + slot of DIR/claims)
 * makes it ours alone, and the file at a slot name changes only under
 * its lock (spool_recycle and spool_free_clear take it too), so the one
 * we rename into pieces/ is the one we wrote. Slots are tried
 * round-robin from where the last take succeeded, mirroring
 * spool_recycle's puts, so a lone taker following a lone putter finds
 * each file at the first try; when those tries find nothing, the
 * directory says where the files are (seek_free). Returns the open fd
 * with the file exactly data[0..len) and *slotp locked (the caller
 * renames the file out, then unlocks), or -1 (nothing to take, or any
 * trouble: the caller creates a file as before).
 */
int
spool_free_take(struct spool *s, uint32_t *slotp, const void *data, size_t len)
{
	char slot[16];
	struct stat st;
	uint32_t k, n;
	int fd = -1;

	for (k = 0; ; k++) {
		if (k == SPOOL_FREE_TRIES || k == s->nfree) {
			if (!seek_free(s, s->free_take, 1, &n) ||
			    !probe_slot(s, n, &fd))
				return -1;
			break;
		}
		n = (s->free_take + k) % s->nfree;
		if (probe_slot(s, n, &fd))
			break;
	}
	snprintf(slot, sizeof(slot), "%u", n);
	s->free_take = (n + 1) % s->nfree;
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 || spool_writeall(fd, data, len) == -1 ||
	    ((uint64_t)st.st_size > len && ftruncate(fd, (off_t)len) == -1)) {
		if (fd != -1)
			close(fd);
		if (unlinkat(s->freefd, slot, 0) == -1 && errno == EISDIR)
			unlinkat(s->freefd, slot, AT_REMOVEDIR);
		spool_lockat(s, SPOOL_SLOT_LOCK + n, F_UNLCK);
		return -1;
	}
	*slotp = n;
	return fd;
}

/*
 * The file written from free/<slot> (locked) renamed to pieces/<name>:
 * 0 done, 1 pieces/<name> exists (the file stays a free slot), -1 any
 * other trouble (errno; the caller writes a new file instead).
 */
int
spool_free_put(struct spool *s, int fd, uint32_t n, const char *name)
{
	char slot[16];
	int r = -1, e;

	snprintf(slot, sizeof(slot), "%u", n);
	if (close(fd) == 0) {
		if ((r = renameat2(s->freefd, slot, s->piecesfd, name,
		    RENAME_NOREPLACE)) == -1 && errno == EEXIST)
			r = 1;
	}
	e = errno;
	spool_lockat(s, SPOOL_SLOT_LOCK + n, F_UNLCK);
	errno = e;
	return r;
}

/*
 * pieces/<name> renamed to free/<n> under the slot's lock: 0 done, or
 * the errno (EEXIST a file is there, EAGAIN the slot is another's).
 */
static int
recycle_to(struct spool *s, const char *name, uint32_t n)
{
	char slot[16];
	int r, e;

	/* A slot name changes only under its lock: a writer that holds it
	 * finds its own file there when it renames. */
	if (spool_lockat(s, SPOOL_SLOT_LOCK + n, F_WRLCK) == -1)
		return EAGAIN;
	snprintf(slot, sizeof(slot), "%u", n);
	r = renameat2(s->piecesfd, name, s->freefd, slot, RENAME_NOREPLACE);
	e = errno;
	spool_lockat(s, SPOOL_SLOT_LOCK + n, F_UNLCK);
	return r == 0 ? 0 : e;
}

int
spool_recycle(struct spool *s, uint32_t i, char *err)
{
	char name[16];
	uint32_t k, n;
	int e, last;

	if (i >= s->npieces)
		return 0;
	snprintf(name, sizeof(name), "%u", i);
	for (k = 0; ; k++) {
		/* Then takers took elsewhere: the nearest empty slot. */
		last = k == SPOOL_FREE_TRIES || k == s->nfree;
		if (!last)
			n = (s->free_put + k) % s->nfree;
		else if (!seek_free(s, s->free_put, 0, &n))
			break;
		e = recycle_to(s, name, n);
		if (e == 0) {
			s->free_put = (n + 1) % s->nfree;
			return 0;
		}
		if (e == ENOENT)
			return 0;	/* gone already */
		if ((e != EEXIST && e != EAGAIN) || last)
			break;	/* no free/ (EXDEV?): unlink as before */
	}
	if (unlinkat(s->piecesfd, name, 0) == -1 && errno != ENOENT)
		return bt_err(err, "pieces/%s: %s", name, strerror(errno));
	return 0;
}

void
spool_free_clear(struct spool *s)
{
	char slot[16];
	uint32_t n;

	/* A slot a writer holds is its to rename into pieces/. */
	for (n = 0; n < s->nfree; n++) {
		if (spool_lockat(s, SPOOL_SLOT_LOCK + n, F_WRLCK) == -1)
			continue;
		snprintf(slot, sizeof(slot), "%u", n);
		unlinkat(s->freefd, slot, 0);
		spool_lockat(s, SPOOL_SLOT_LOCK + n, F_UNLCK);
	}
}
