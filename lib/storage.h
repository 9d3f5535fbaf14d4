/*
 * storage.h: the torrent's bytes on disk. Maps ranges of the torrent's
 * byte stream onto its files, opens files under an output directory
 * without ever following a symbolic link, and names spool pieces.
 *
 * Paths come from lib/metainfo, which has already refused "..", absolute
 * paths and empty components; st_openat adds the other half of the rule:
 * no component under the root may be a symbolic link, so a link planted in
 * the output directory cannot redirect a write (or a read) elsewhere.
 */
#ifndef BT_STORAGE_H
#define BT_STORAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "metainfo.h"

/* "pieces/4294967295" and a NUL. */
#define ST_PIECE_NAME	32

/* One stretch of a byte range that lies in one file. */
struct st_seg {
	size_t		 file;	/* index in mi->files */
	uint64_t	 foff;	/* offset in that file */
	uint64_t	 boff;	/* offset from the start of the range */
	uint64_t	 len;
};

/*
 * Splits [off, off+len) of the torrent stream by file, zero-length files
 * skipped, pad files included (seg.file says which). Fills at most max
 * segments and returns how many it filled; call again from where the
 * last one ended if it returned max. off + len <= mi->total_length.
 */
size_t	st_segments(const struct metainfo *, uint64_t off, uint64_t len,
	    struct st_seg *, size_t max);

/*
 * openat(2) of a relative '/'-separated path under the directory fd root,
 * each directory opened with O_NOFOLLOW|O_DIRECTORY and the last component
 * with O_NOFOLLOW, so a symbolic link anywhere under root fails (ELOOP or
 * ENOTDIR). With O_CREAT in flags, missing directories are made (0777 less
 * the umask). Returns an fd, or -1 with errno set.
 */
int	st_openat(int root, const char *path, int flags, mode_t mode);

/* Makes the directories of path (all but the last component) under root. */
int	st_mkdirs(int root, const char *path);

/* Writes "pieces/<i>" (the spool's name for verified piece i) into name. */
void	st_piece_name(char name[ST_PIECE_NAME], uint32_t i);

/*
 * pread until len bytes or end of file: the count read (short only at end
 * of file), or -1 with errno. pwrite until done: 0, or -1 with errno.
 */
ssize_t	st_pread_full(int fd, void *, size_t, uint64_t off);
int	st_pwrite_full(int fd, const void *, size_t, uint64_t off);

#endif
