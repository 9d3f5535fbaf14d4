/*
 * follow.c: btassemble --follow, placing pieces as they arrive. Each
 * wake-up reads the inotify events of pieces/ and places the pieces they
 * name; a batch is committed when full (assemble.c), once its first
 * piece is COMMIT_MS old, or when it completes the download.
 */
#include <sys/inotify.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "assembler.h"
#include "spool.h"

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Places the pieces the inotify events on ifd name, as many as are
 * waiting: a wake-up costs a read of the events, not a listing of
 * pieces/, which holds a whole open batch. An overflowed queue (or an
 * event without a piece's name) asks for a full scan (*full).
 */
static int
drain(struct assembler *a, int ifd, int *full)
{
	_Alignas(struct inotify_event) char evbuf[4096];
	const struct inotify_event *ev;
	ssize_t n, off;
	uint32_t i;

	while ((n = read(ifd, evbuf, sizeof(evbuf))) > 0)
		for (off = 0; off + (ssize_t)sizeof(*ev) <= n;
		    off += (ssize_t)sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(evbuf + off);
			if (ev->mask & IN_Q_OVERFLOW) {
				*full = 1;
				continue;
			}
			if (ev->wd == a->slabwd) {
				a->slabev = 1;	/* follow() looks */
				continue;
			}
			if (ev->len == 0 || *full ||
			    piece_index(a->mi, ev->name, &i) == -1 ||
			    spool_placed(&a->sp, i))
				continue;	/* not a piece, or seen */
			if (a->solo && !spool_have(&a->sp, i) &&
			    a->nlater < LATER_MAX) {
				a->later[a->nlater++] = i;
				continue;	/* its committer is not done */
			}
			if (place(a, i) == -1)
				return -1;
		}
	return 0;
}

/* The pieces of the later list whose bits are set now, or all of them. */
static int
place_later(struct assembler *a, int all)
{
	size_t k, n = 0;
	uint32_t i;

	for (k = 0; k < a->nlater; k++) {
		i = a->later[k];
		if (!all && !spool_have(&a->sp, i))
			a->later[n++] = i;
		else if (place(a, i) == -1)
			return -1;
	}
	a->nlater = n;
	return 0;
}

int
follow(struct assembler *a)
{
	static const struct timespec slab_nap = { 0, SLAB_NAP_MS * 1000000L };
	struct pollfd pfd;
	char path[MI_MAX_PATH + 16];
	uint64_t age;
	int ifd, wait, full = 1, r;

	snprintf(path, sizeof(path), "%s/pieces", a->opt->spool);
	/* The watch goes first, so nothing lands unseen before a scan. */
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd != -1 && inotify_add_watch(ifd, path, IN_MOVED_TO |
	    IN_CLOSE_WRITE | IN_CREATE) == -1) {
		close(ifd);
		ifd = -1;
	}
	/* Slab pieces arrive as writes into slabs/<k>. */
	a->slabwd = -1;
	snprintf(path, sizeof(path), "%s/slabs", a->opt->spool);
	if (ifd != -1 && spool_slab_pieces(&a->sp) != 0 &&
	    (a->slabwd = inotify_add_watch(ifd, path, IN_MODIFY)) == -1) {
		close(ifd);
		ifd = -1;
	}
	for (;;) {
		if (full) {
			a->nlater = 0;	/* the scan sees them */
			a->rescan = 0;
			if (scan(a, 0) == -1)
				break;
		} else if (a->nlater > 0 && place_later(a, 0) == -1)
			break;
		full = 0;
		/* The open batch waits for more pieces, up to COMMIT_MS. */
		wait = POLL_MS;
		if (a->nbatch > 0) {
			age = now_ms() - a->batch_t0;
			if (age >= COMMIT_MS || finished(a, 1)) {
				/* Slab pieces whose bits came late go too. */
				if (a->rescan && scan_words(a, 0,
				    UINT32_MAX) == -1)
					break;
				if (commit(a) == -1)
					break;
			} else if (COMMIT_MS - age < (uint64_t)wait)
				wait = (int)(COMMIT_MS - age);
		}
		if (finished(a, 0)) {
			if (ifd != -1)
				close(ifd);
			spool_free_clear(&a->sp);	/* nothing to reuse them */
			spool_slab_clear(&a->sp);
			return 0;
		}
		pfd.fd = ifd;
		pfd.events = POLLIN;
		/* With no inotify, a fd of -1 makes poll a plain sleep. */
		if (ifd == -1 && wait > POLL_MS / 5)
			wait = POLL_MS / 5;
		if ((a->nlater > 0 || a->rescan) && wait > LATER_MS)
			wait = LATER_MS;
		if ((r = poll(&pfd, 1, wait)) == 0 && (a->nlater > 0 ||
		    a->rescan)) {
			if (place_later(a, 1) == -1)
				break;
			a->rescan = 0;
			if (spool_slab_pieces(&a->sp) != 0 && scan_words(a, 0,
			    UINT32_MAX) == -1)
				break;
			continue;
		}
		/* Quiet for a while, or no inotify: a full scan, to be sure. */
		if (r <= 0 || ifd == -1) {
			full = r != -1 || errno != EINTR;
			continue;
		}
		a->slabev = 0;
		if (drain(a, ifd, &full) == -1)
			break;
		/*
		 * A slab write: every word's have bits, not only those of
		 * the slab it names (a writer's bit comes after its write's
		 * event, and the next event may name another slab); again
		 * once events pause (a->rescan). A few hundred words a wake.
		 */
		if (a->slabev && !full) {
			a->rescan = 1;
			if (scan_words(a, 0, UINT32_MAX) == -1)
				break;
		}
		/* Slab writes wake us per piece: let them gather. */
		if (a->slabwd != -1 && !full && !finished(a, 1))
			nanosleep(&slab_nap, NULL);
	}
	if (ifd != -1)
		close(ifd);
	return -1;
}

