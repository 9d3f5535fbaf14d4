/*
 * assembler.h: the placing loop's state, shared by assemble.c (placing
 * and committing pieces) and follow.c (waiting for them). Internal to
 * btassemble.
 */
#ifndef BTASSEMBLE_ASSEMBLER_H
#define BTASSEMBLE_ASSEMBLER_H

#include <stddef.h>
#include <stdint.h>

#include "assemble.h"
#include "spool.h"

/*
 * Following a download, a batch is also committed once its first piece
 * has waited this long (ms): a slow download still sees its pieces
 * placed and recycled within a second, while a fast one pays a sync per
 * full batch, not one per wake-up (up to one per piece).
 */
#define COMMIT_MS	1000
/* Final files kept open at once; a torrent may have a million. */
#define FD_SLOTS	64
/* Without an event, look at the spool again after this long (ms). */
#define POLL_MS		1000
/*
 * Following, a piece seen by its event before its committer set its
 * bits waits this long (ms) in a short list (of LATER_MAX), so that it
 * is placed fresh rather than hashed; past it, place() decides.
 */
#define LATER_MS	5
#define LATER_MAX	64
/*
 * Following a slab spool, a wake-up is followed by a nap this long (ms)
 * while writes gather: every slab piece's write is an event. 10 ms is
 * 128 pieces of 16 KiB at 200 MB/s, a batch; the last piece waits at
 * most that much more. Measured (1 GiB of 16 KiB pieces, 3 alternating
 * rounds on a shared machine): 3.83 CPU-s for the tree against 3.97
 * without the nap, a small gain; wake-ups go from one a piece to one a
 * nap.
 */
#define SLAB_NAP_MS	10

struct slot {
	size_t		 file;
	int		 fd;
	int		 dirty;
};

struct assembler {
	const struct metainfo *mi;
	const struct aopts *opt;
	struct spool	 sp;
	int		 spool_ok;
	int		 out;
	struct slot	 slot[FD_SLOTS];
	int		 nslot, evict;
	uint32_t	 dropped;	/* pieces removed as damaged */
	uint32_t	 trusted;	/* fresh pieces placed unhashed */
	uint32_t	 hashed;	/* pieces placed after a SHA-1 */
	int		 solo;		/* we hold the spool's placer lock */
	int		 nocopy;	/* copy_file_range refused: read/write */
	unsigned char	*buf;
	uint32_t	*batch;
	uint64_t	*kept;		/* straddling pieces written this run */
	uint64_t	*pend;		/* pieces written, in the open batch */
	uint64_t	*defer;		/* slab pieces of it still to copy */
	size_t		 ndefer;
	uint32_t	*runs;		/* maxbatch: copy_slab_runs' list */
	uint64_t	 batch_t0;	/* ms, monotonic: its first piece */
	uint32_t	 later[LATER_MAX];	/* seen before their bits */
	size_t		 nlater;
	int		 rfd;		/* slab rslab, kept for reading */
	uint32_t	 rslab;
	int		 slabwd;	/* inotify watch of slabs/, or -1 */
	int		 rescan;	/* look at every word once events pause */
	int		 slabev;	/* this wake-up read a slabs/ event */
	size_t		 nbatch, maxbatch;
	uint64_t	 batch_bytes;
	char		*err;
};

/* assemble.c */
int	commit(struct assembler *);
int	place(struct assembler *, uint32_t i);
int	piece_index(const struct metainfo *, const char *, uint32_t *);
int	scan(struct assembler *, int flush);
int	scan_words(struct assembler *, uint32_t w0, uint32_t w1);
int	finished(const struct assembler *, int pend);
int	is_pend(const struct assembler *, uint32_t i);

int	is_kept(const struct assembler *, uint32_t i);
int	write_span(struct assembler *, uint32_t i, uint32_t np,
	    const unsigned char *buf, int pfd, uint64_t pbase, int straddles);

/* slab.c */
int	copy_slab_runs(struct assembler *);
int	release_slabs(struct assembler *);

/* follow.c */
uint64_t now_ms(void);
int	follow(struct assembler *);

#endif
