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

/*
 * The one loop that reads a range of the torrent from its final files
 * under the directory fd root: pad files read as zeros, files opened
 * with st_openat (O_RDONLY). A struct st_reader caches the last file's
 * descriptor (st_reader_init, st_reader_close). 0, 1 when a file is
 * missing or short (errno ENOENT or 0), or -1 with err on another
 * system error; err names the file in both failing cases.
 */
struct st_reader {
	int		 root;
	int		 fd;
	size_t		 file;
};
void	st_reader_init(struct st_reader *, int root);
void	st_reader_close(struct st_reader *);
int	st_read_range(struct st_reader *, const struct metainfo *,
	    uint64_t off, void *buf, size_t len, char *err);
/*
 * The reader's descriptor for mi->files[file], opened as above (the
 * last one closed), or -1 with errno and err naming the file.
 */
int	st_reader_fd(struct st_reader *, const struct metainfo *, size_t file,
	    char *err);

/*
 * The one piece-hash check: 1 if len bytes at data are piece i (SHA-1
 * against the torrent's hash), 0 if not, -1 if SHA-1 itself failed.
 */
int	st_piece_ok(const struct metainfo *, uint32_t i, const void *data,
	    size_t len);
/* The comparison itself, for a SHA-1 computed as blocks arrived. */
int	st_piece_match(const struct metainfo *, uint32_t i,
	    const unsigned char md[20]);

#endif
