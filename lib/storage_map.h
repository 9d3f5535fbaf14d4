/*
 * storage_map.h: hashing the final files where they lie, in the page
 * cache, instead of copying them out first (btverify's fast path).
 *
 * A mapped file can shrink under the reader: another process truncates
 * it, and touching a page past the new end raises SIGBUS. No check made
 * before the touch can rule that out (a size check or MAP_POPULATE is
 * undone by a truncate a moment later), so the hashing of mapped bytes
 * runs under a guard: st_guard_install sets a SIGBUS handler that, in a
 * thread inside st_piece_ok_mapped, jumps back out of the hash and makes
 * it report the bytes gone (a piece missing, as a short read would say).
 * A SIGBUS anywhere else takes its default action.
 */
#ifndef BT_STORAGE_MAP_H
#define BT_STORAGE_MAP_H

#include <sys/uio.h>

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "metainfo.h"
#include "storage.h"

/* A range of one file, mapped read-only: p..p+len (base, maplen for munmap). */
struct st_map {
	void		*base;
	size_t		 maplen;
	const unsigned char *p;
	size_t		 len;
};

/*
 * Maps [off, off+len) of the torrent stream when it lies inside one
 * regular, non-pad file whose size covers it, through the reader's
 * cached descriptor (st_reader_fd), and asks the kernel to fill the page
 * tables now (MADV_POPULATE_READ: the faults and any disk reads happen
 * here, in the caller's thread, not in the hash). 0 with m filled; 1
 * when the range is not mappable so (several files, a pad file, a short
 * or missing file, a failed map or read): the caller reads it instead,
 * and st_read_range says what is wrong.
 */
int	st_map_range(struct st_reader *, const struct metainfo *, uint64_t off,
	    size_t len, struct st_map *m);
/* Unmaps (a zeroed or already unmapped m is a no-op). */
void	st_unmap(struct st_map *m);

/* The SIGBUS handler for st_piece_ok_mapped; old is restored by st_guard_restore. */
int	st_guard_install(struct sigaction *old);
void	st_guard_restore(const struct sigaction *old);

/*
 * st_piece_ok on mapped bytes, under the guard: piece i is the n
 * stretches of iov in order (one per file it spans; a NULL iov_base is
 * that many zeros, a pad file). 1 good, 0 bad, 2 the bytes vanished
 * while hashed (a file was truncated: the piece is missing), -1 SHA-1
 * failed. The guard must be installed.
 */
int	st_piece_ok_mapped(const struct metainfo *, uint32_t i,
	    const struct iovec *iov, int n);

#endif
