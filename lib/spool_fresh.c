/*
 * spool_fresh.c: the fresh rule of the spool (spool.h, btspool(5)): bits
 * tied to the boot id, set by commits, trusted by the one placer.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "spool.h"
#include "spool_int.h"

static size_t
words(uint32_t n)
{
	return ((size_t)n + 63) / 64;
}

/* The byte of DIR/claims btassemble locks as the one placer: past any
 * piece index (claims are bytes 0 to npieces - 1, npieces < 2^32). */
#define PLACER_LOCK	((off_t)1 << 33)
/* A boot id: "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n", 32 hex digits. */
#define BOOT_ID_PATH	"/proc/sys/kernel/random/boot_id"

/* This boot's id into s->boot; s->boot_ok says whether there is one. */
static void
read_boot_id(struct spool *s)
{
	char text[64];
	ssize_t n;
	size_t k, d = 0;
	int fd, hi = -1, v;

	s->boot_ok = 0;
	if ((fd = open(BOOT_ID_PATH, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return;
	for (k = 0; k < (size_t)n && d < sizeof(s->boot); k++) {
		char c = text[k];

		if (c == '-' || c == '\n')
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			return;
		if (hi == -1)
			hi = v;
		else {
			s->boot[d++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	for (k = 0; k < sizeof(s->boot); k++)
		if (s->boot[k] != 0)
			break;
	/* All 16 bytes, and not the zero id the header uses for none. */
	s->boot_ok = d == sizeof(s->boot) && k < sizeof(s->boot);
}

/* Whether the header's boot id is this boot's (the fresh rule). */
static int
same_boot(const struct spool *s)
{
	unsigned char b[16];
	size_t k;

	if (!s->boot_ok || s->fresh == NULL)
		return 0;
	for (k = 0; k < sizeof(b); k++)
		b[k] = __atomic_load_n(&s->hdr->boot_id[k], __ATOMIC_ACQUIRE);
	return memcmp(b, s->boot, sizeof(b)) == 0;
}

/*
 * After a reboot (or on a spool of none): every fresh bit cleared first,
 * then this boot's id, so no bit of another boot is read as of this one.
 * Two openers at once both clear; a bit one of their commits sets in
 * between may be cleared too, which costs a hash, never trust.
 */
static void
claim_boot(struct spool *s)
{
	size_t k;

	if (!s->boot_ok || same_boot(s))
		return;
	for (k = 0; k < words(s->npieces); k++)
		__atomic_store_n(&s->fresh[k], 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (k = 0; k < sizeof(s->boot); k++)
		__atomic_store_n(&s->hdr->boot_id[k], s->boot[k],
		    __ATOMIC_RELEASE);
}

void
spool_boot(struct spool *s)
{
	read_boot_id(s);
	claim_boot(s);
}

void
spool_mark_fresh(struct spool *s, uint32_t i, int on)
{
	uint64_t m = (uint64_t)1 << (i % 64);

	if (i >= s->npieces || s->fresh == NULL)
		return;
	if (!on)
		__atomic_fetch_and(&s->fresh[i / 64], ~m, __ATOMIC_RELEASE);
	else if (same_boot(s))
		__atomic_fetch_or(&s->fresh[i / 64], m, __ATOMIC_RELEASE);
}

int
spool_fresh(const struct spool *s, uint32_t i)
{
	return i < s->npieces && same_boot(s) && ((__atomic_load_n(
	    &s->fresh[i / 64], __ATOMIC_ACQUIRE) >> (i % 64)) & 1);
}

int
spool_lock_placer(struct spool *s, char *err)
{
	if (spool_lockat(s, PLACER_LOCK, F_WRLCK) == 0)
		return 1;
	if (errno == EAGAIN || errno == EACCES)
		return 0;
	return bt_err(err, "claims: lock: %s", strerror(errno));
}
