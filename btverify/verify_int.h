/*
 * verify_int.h: what verify.c (the jobs, the hashing, the verdicts) and
 * batch.c (readying a batch: mapped or read) share.
 */
#ifndef BTVERIFY_VERIFY_INT_H
#define BTVERIFY_VERIFY_INT_H

#include <sys/uio.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bt.h"
#include "metainfo.h"
#include "spool.h"
#include "storage.h"
#include "storage_map.h"
#include "verify.h"

/*
 * 4 MiB a read: past this the syscall cost is lost in the hashing, and
 * two workers' buffers still sit in a 2nd-level cache's neighbourhood.
 */
#define BATCH		(4u << 20)
/* Segments per st_segments call when tallying pieces by file. */
#define MAXSEG		64
/*
 * Files a mapped batch may span. A batch over more (small files) is read
 * instead: a mapping each would cost more than the copy it saves.
 */
#define MAXMAP		8
/* Buffers a job cycles through: 3 or 4 measured no faster than 2. */
#define NSLOT		2
/* Batch buffers are aligned to, and rounded up to, a huge page. */
#define HUGEPAGE	(2u << 20)

struct job {
	const struct metainfo *mi;
	const struct vopts *opt;
	struct vresult	*res;
	int		 root;		/* data dir or spool dir */
	uint32_t	 per;		/* pieces a batch */
	uint32_t	 nbatch;
	atomic_uint	 next;		/* next batch to take */
	atomic_ullong	 done;		/* bytes hashed or skipped */
	atomic_int	 running;
	atomic_int	 failed;
	char		 err[BT_ERRLEN];
	pthread_mutex_t	 lock;		/* err */
	struct spool	 sp;		/* opt->spool, read-only */
	int		 spool_ok;
	struct spool	 parts;		/* opt->parts, read-only */
	int		 parts_ok;
	atomic_int	 hooked;	/* test builds: truncated once */
};

/* A batch buffer handed from a worker's reader to its hasher. */
enum { SLOT_EMPTY, SLOT_FULL, SLOT_END };
struct slot {
	unsigned char	*buf;		/* allocated when first needed */
	struct st_map	 map[MAXMAP];	/* or the batch, mapped by file */
	uint64_t	 mboff[MAXMAP];	/* where each starts in the batch */
	int		 nmap;		/* 0: in buf */
	unsigned char	*miss;		/* per piece of the batch: 0 to hash,
					   else its PS_* + 1 */
	uint32_t	 p0, n;
	uint64_t	 len;
	int		 state;
};

/*
 * One job: a reader thread fills one buffer while the hasher hashes the
 * other, so the copy out of the page cache overlaps the SHA-1.
 */
struct worker {
	struct job	*job;
	pthread_t	 tid, rtid;
	struct slot	 slot[NSLOT];
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	unsigned char	*buf;		/* the reader's current slot */
	unsigned char	*miss;
	struct st_reader rd;		/* the final files, one open at once */
};

/* Records the first error that stops the check (later ones are dropped). */
void	job_fail(struct job *, const char *what, int e);
/*
 * Readies the batch in slot sl (p0, n, len set): mapped, or read into its
 * buffer (allocated on first use) with sl->miss saying which pieces could
 * not be read. 0, or -1 when the job failed (no memory).
 */
int	batch_ready(struct worker *, struct slot *sl);
/* Unmaps what the slot has mapped. */
void	batch_unmap(struct slot *sl);
/*
 * Piece bytes [a, a+len) of a mapped batch as stretches, one per file
 * (iov_base NULL for a pad file's zeros); how many.
 */
int	batch_iov(const struct slot *sl, uint64_t a, uint64_t len,
	    struct iovec iov[MAXMAP]);

#endif
