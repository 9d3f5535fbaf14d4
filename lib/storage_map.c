/*
 * storage_map.c: final files mapped for hashing, and the SIGBUS guard
 * that turns a file truncated under the hash into a missing piece.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bt.h"
#include "storage.h"
#include "storage_map.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22	/* Linux 5.14 */
#endif

/*
 * Where the SIGBUS handler jumps to in this thread, set only while a
 * guarded hash runs. A signal handler finds its state in no argument, so
 * this one mutable static is unavoidable; it is thread-local, so each
 * hashing thread has its own, and the handler touches nothing else.
 */
static _Thread_local sigjmp_buf *guard_jump;

int
st_map_range(struct st_reader *r, const struct metainfo *mi, uint64_t off,
    size_t len, struct st_map *m)
{
	struct st_seg seg;
	struct stat st;
	char err[BT_ERRLEN];
	uint64_t start;
	long pg = sysconf(_SC_PAGESIZE);
	int fd;

	memset(m, 0, sizeof(*m));
	if (len == 0 || pg <= 0 || st_segments(mi, off, len, &seg, 1) != 1 ||
	    seg.len != len || mi->files[seg.file].pad)
		return 1;
	if ((fd = st_reader_fd(r, mi, seg.file, err)) == -1 ||
	    fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < seg.foff + len)
		return 1;
	start = seg.foff & ~(uint64_t)(pg - 1);
	m->maplen = (size_t)(seg.foff - start) + len;
	m->base = mmap(NULL, m->maplen, PROT_READ, MAP_SHARED, fd,
	    (off_t)start);
	if (m->base == MAP_FAILED) {
		memset(m, 0, sizeof(*m));
		return 1;
	}
	/* Older kernels lack it (EINVAL): the hash faults the pages in. */
	if (madvise(m->base, m->maplen, MADV_POPULATE_READ) == -1 &&
	    errno != EINVAL) {
		st_unmap(m);
		return 1;
	}
	m->p = (const unsigned char *)m->base + (seg.foff - start);
	m->len = len;
	return 0;
}

void
st_unmap(struct st_map *m)
{
	if (m->base != NULL)
		(void)munmap(m->base, m->maplen);
	memset(m, 0, sizeof(*m));
}

/*
 * A fault (si_code > 0: the kernel's, not a kill) in a guarded thread
 * jumps back into its hash's caller: the faulting load is inside SHA-1
 * over mapped bytes, which holds no lock and no memory of its own (the
 * caller owns the context). Any other SIGBUS takes the default action.
 */
static void
on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (guard_jump != NULL && si != NULL && si->si_code > 0)
		siglongjmp(*guard_jump, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

int
st_guard_install(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	/* Not blocked in the handler, so jumping out needs no saved mask. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, old);
}

void
st_guard_restore(const struct sigaction *old)
{
	(void)sigaction(SIGBUS, old, NULL);
}

/* Zeros standing for a pad file's bytes, hashed a block at a time. */
static const unsigned char zeros[16384];

/* Updates ctx with zeros, or with mapped bytes under the guard. */
static int
update(EVP_MD_CTX *ctx, const void *data, size_t len)
{
	size_t n;

	for (; data == NULL && len > 0; len -= n) {
		n = len < sizeof(zeros) ? len : sizeof(zeros);
		if (EVP_DigestUpdate(ctx, zeros, n) != 1)
			return -1;
	}
	return data == NULL || EVP_DigestUpdate(ctx, data, len) == 1 ? 0 : -1;
}

/* Hashes the stretches of iov into ctx: 0, 1 if bytes vanished, -1. */
static int
update_guarded(EVP_MD_CTX *ctx, const struct iovec *iov, int n)
{
	sigjmp_buf jump;
	int k, r = 0;

	if (sigsetjmp(jump, 0) != 0) {
		guard_jump = NULL;
		return 1;
	}
	guard_jump = &jump;
	for (k = 0; k < n && r == 0; k++)
		r = update(ctx, iov[k].iov_base, iov[k].iov_len);
	guard_jump = NULL;
	return r;
}

int
st_piece_ok_mapped(const struct metainfo *mi, uint32_t i,
    const struct iovec *iov, int n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	EVP_MD_CTX *ctx;
	uint64_t len = 0;
	int k, r = -1;

	for (k = 0; k < n; k++)
		len += iov[k].iov_len;
	if (i >= mi->npieces || len != mi_piece_size(mi, i))
		return 0;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1) {
		switch (update_guarded(ctx, iov, n)) {
		case 0:
			r = EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 ?
			    st_piece_match(mi, i, md) : -1;
			break;
		case 1:
			r = 2;
			break;
		}
	}
	EVP_MD_CTX_free(ctx);
	return r;
}
