/* choke_tab.c: the shared choke table DIR/choke (choke.h, btspool(5)). */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "choke.h"

_Static_assert(sizeof(struct choke_hdr) == 64, "choke header");
_Static_assert(sizeof(struct choke_ent) == 64, "choke entry");

/* The lock byte that serialises creating the table. */
#define INIT_LOCK	(CHOKE_SLOT_BASE - 1)

static size_t
tablen(void)
{
	return sizeof(struct choke_hdr) +
	    (size_t)CHOKE_ENTRIES * sizeof(struct choke_ent);
}

static int
lock(int fd, off_t at, int cmd, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = at;
	fl.l_len = 1;
	return fcntl(fd, cmd, &fl);
}

/* 1 if another open file description holds byte at, else 0. */
static int
held(int fd, off_t at)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = at;
	fl.l_len = 1;
	if (fcntl(fd, F_OFD_GETLK, &fl) == -1)
		return 0;
	return fl.l_type != F_UNLCK;
}

/* Makes the header once, under the init lock. 0, or -1 with err. */
static int
init_file(int fd, char *err)
{
	struct choke_hdr h;
	struct stat st;
	int r = 0;

	while (lock(fd, INIT_LOCK, F_OFD_SETLKW, F_WRLCK) == -1)
		if (errno != EINTR)
			return bt_err(err, "locking choke: %s", strerror(errno));
	if (fstat(fd, &st) == -1) {
		r = bt_err(err, "choke: %s", strerror(errno));
	} else if ((size_t)st.st_size < tablen()) {
		memset(&h, 0, sizeof(h));
		memcpy(h.magic, CHOKE_MAGIC, 8);
		h.version = CHOKE_VERSION;
		h.nent = CHOKE_ENTRIES;
		if (ftruncate(fd, (off_t)tablen()) == -1 ||
		    pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
			r = bt_err(err, "writing choke: %s", strerror(errno));
	}
	lock(fd, INIT_LOCK, F_OFD_SETLK, F_UNLCK);
	return r;
}

int
choke_tab_open(struct choke_tab *t, int dirfd, int slots, char *err)
{
	void *m;
	int k;

	memset(t, 0, sizeof(*t));
	t->me = -1;
	t->held = CHOKE_HELD_NONE;
	t->slots = slots;
	t->fd = openat(dirfd, "choke", O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (t->fd == -1)
		return bt_err(err, "choke: %s", strerror(errno));
	if (init_file(t->fd, err) == -1)
		goto fail;
	m = mmap(NULL, tablen(), PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (m == MAP_FAILED) {
		bt_err(err, "mapping choke: %s", strerror(errno));
		goto fail;
	}
	t->hdr = m;
	t->ent = (struct choke_ent *)(t->hdr + 1);
	t->maplen = tablen();
	if (memcmp(t->hdr->magic, CHOKE_MAGIC, 8) != 0 ||
	    t->hdr->version != CHOKE_VERSION ||
	    t->hdr->nent != CHOKE_ENTRIES) {
		bt_err(err, "choke: not a choke table of this version");
		goto fail;
	}
	for (k = 0; k < CHOKE_ENTRIES; k++)
		if (lock(t->fd, k, F_OFD_SETLK, F_WRLCK) == 0)
			break;
	if (k < CHOKE_ENTRIES) {
		t->me = k;
		choke_tab_publish(t, 0, 0, 0);
		__atomic_store_n(&t->ent[k].pid, (int64_t)getpid(),
		    __ATOMIC_RELAXED);
		__atomic_store_n(&t->ent[k].used, 1, __ATOMIC_RELEASE);
	}
	return 0;
fail:
	if (t->hdr != NULL)
		munmap(t->hdr, t->maplen);
	close(t->fd);
	t->fd = -1;
	t->hdr = NULL;
	return -1;
}

void
choke_tab_close(struct choke_tab *t)
{
	if (t->fd == -1)
		return;
	if (t->me >= 0)
		__atomic_store_n(&t->ent[t->me].used, 0, __ATOMIC_RELEASE);
	munmap(t->hdr, t->maplen);
	close(t->fd);		/* drops the entry's and the slot's locks */
	t->fd = -1;
	t->me = -1;
	t->held = CHOKE_HELD_NONE;
}

void
choke_tab_publish(struct choke_tab *t, uint64_t down, uint64_t up,
    uint32_t flags)
{
	struct choke_ent *e;

	if (t->me < 0)
		return;
	e = &t->ent[t->me];
	__atomic_store_n(&e->down, down, __ATOMIC_RELAXED);
	__atomic_store_n(&e->up, up, __ATOMIC_RELAXED);
	__atomic_store_n(&e->flags, flags, __ATOMIC_RELAXED);
}

void
choke_tab_read(struct choke_tab *t, int seeding, struct choke_peer *out)
{
	const struct choke_ent *e;
	uint32_t f;
	int k;

	for (k = 0; k < CHOKE_ENTRIES; k++) {
		e = &t->ent[k];
		memset(&out[k], 0, sizeof(out[k]));
		if (k != t->me && (!__atomic_load_n(&e->used,
		    __ATOMIC_ACQUIRE) || !held(t->fd, k)))
			continue;
		f = __atomic_load_n(&e->flags, __ATOMIC_RELAXED);
		out[k].live = 1;
		out[k].interested = (f & CHOKE_F_INTERESTED) != 0;
		out[k].snubbed = (f & CHOKE_F_SNUBBED) != 0;
		out[k].unchoked = (f & CHOKE_F_UNCHOKED) != 0;
		out[k].rate = __atomic_load_n(seeding ? &e->up : &e->down,
		    __ATOMIC_RELAXED);
	}
}

int
choke_tab_take(struct choke_tab *t, int opt)
{
	int s;

	if (t->me < 0)
		return 0;
	if (opt) {
		if (t->held == CHOKE_HELD_OPT)
			return 1;
		if (lock(t->fd, CHOKE_SLOT_OPT, F_OFD_SETLK, F_WRLCK) == -1)
			return 0;
		t->held = CHOKE_HELD_OPT;
		return 1;
	}
	if (t->held >= 0)
		return 1;
	for (s = 0; s < t->slots; s++)
		if (lock(t->fd, CHOKE_SLOT_BASE + s, F_OFD_SETLK,
		    F_WRLCK) == 0) {
			t->held = s;
			return 1;
		}
	return 0;
}

void
choke_tab_release(struct choke_tab *t, int slot)
{
	if (slot >= 0)
		lock(t->fd, CHOKE_SLOT_BASE + slot, F_OFD_SETLK, F_UNLCK);
	else if (slot == CHOKE_HELD_OPT)
		lock(t->fd, CHOKE_SLOT_OPT, F_OFD_SETLK, F_UNLCK);
}

void
choke_tab_drop(struct choke_tab *t)
{
	choke_tab_release(t, t->held);
	t->held = CHOKE_HELD_NONE;
}

uint64_t
choke_tab_opt(const struct choke_tab *t)
{
	return __atomic_load_n(&t->hdr->opt, __ATOMIC_ACQUIRE);
}

int
choke_tab_set_opt(struct choke_tab *t, uint64_t old, uint64_t new)
{
	return __atomic_compare_exchange_n(&t->hdr->opt, &old, new, 0,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
