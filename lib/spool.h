/*
 * spool.h: the piece spool, one directory per torrent shared by every
 * btpeer of that torrent and read by btverify and btassemble (btspool(5)).
 *
 * Layout of a spool directory DIR:
 *
 *   DIR/pieces/<i>   a complete, SHA-1-verified piece i: decimal name, no
 *                    padding, exactly mi_piece_size(i) bytes. It appears
 *                    atomically: written to DIR/tmp/<i>.<pid>, then
 *                    renamed (renameat2 RENAME_NOREPLACE) into pieces/.
 *                    A reader never sees a partial piece. btassemble
 *                    copies it into the final files and moves it to free/
 *                    (or unlinks it) once durable, after setting the
 *                    piece's "placed" bit.
 *   DIR/slabs/<k>    for a torrent of pieces shorter than SPOOL_SLAB_BELOW,
 *                    instead of pieces/<i>: piece i is in slab k = i / n
 *                    (n = SPOOL_SLAB_BYTES / piece length) at offset
 *                    (i % n) * piece length. Any writer creates a slab
 *                    (O_CREAT, no O_EXCL), pwrites the verified piece at
 *                    its offset, then sets the have bit (release,
 *                    fetch-or: the one that set it stored the piece).
 *                    The bit, not a rename, makes the piece visible: a
 *                    reader reads a slab piece only once it sees the bit
 *                    (acquire). Bytes of a had piece are written again
 *                    only with the same verified bytes (a second endgame
 *                    writer) or, after spool_drop, by the piece fetched
 *                    anew. btassemble, once placed bits are durable,
 *                    punches the placed pieces' blocks out of their slab
 *                    and unlinks a slab whose pieces are all placed (a
 *                    placed piece is never written again, so an open fd
 *                    of it still reads right; readers drop what they
 *                    read of a piece found placed afterwards, as for
 *                    recycled files). A pieces/<i> file, if one was there
 *                    at open (made by hand or by an earlier version),
 *                    still counts and is read first.
 *   DIR/tmp/         temporary files of writers; a file whose <pid> is
 *                    no longer alive is garbage and removed by spool_open.
 *   DIR/free/<slot>  recycled piece files, <slot> 0 to nfree - 1 (below):
 *                    btassemble renames a placed piece here (renameat2
 *                    RENAME_NOREPLACE) instead of unlinking it, and
 *                    spool_commit takes one by locking byte
 *                    SPOOL_SLOT_LOCK + slot of DIR/claims, overwrites it
 *                    where it is and renames it into pieces/ without
 *                    replacing, sparing the file system an inode and
 *                    block allocation plus a free per piece (an inode
 *                    allocation scans past recently deleted ones on ext4)
 *                    and a rename through tmp/. A slot name changes only
 *                    under its lock (puts and removals by btassemble take
 *                    it too), so the holder writes its file alone and
 *                    renames that very file. Contents are garbage:
 *                    nothing reads free/ as a piece, and a file is only
 *                    ever a piece again after a full overwrite,
 *                    truncation and the rename into pieces/. Anything in
 *                    free/ may be removed by hand when no process runs;
 *                    btassemble empties it, but for slots being written,
 *                    once every piece is placed.
 *   DIR/claims       an empty file; a process fetching piece i holds an
 *                    OFD write lock (F_OFD_SETLK) on byte i. The kernel
 *                    drops it when the process dies (even by kill -9), so
 *                    no stale claim survives. Claims are per spool_open.
 *   DIR/state        a small file every process maps shared:
 *
 *       offset 0   struct spool_hdr (128 bytes, host byte order)
 *       have       ceil(npieces/64) uint64_t: bit (i % 64) of word i / 64
 *                  is set once piece i is in pieces/ and stays set, so
 *                  pieces btassemble moved out are still known as had;
 *                  only spool_drop clears it, for a damaged piece file.
 *       placed     the same size: set by btassemble when piece i is in
 *                  the final files (durably); never cleared.
 *       avail      npieces uint32_t: how many connected peers (over all
 *                  processes) announced piece i. Each btpeer adds its
 *                  peer's bitfield/have and subtracts them on exit; a
 *                  process killed -9 leaves its counts, so availability
 *                  is a hint for rarest-first, never a correctness input.
 *       fresh      at the next multiple of 8 bytes, ceil(npieces/64)
 *                  uint64_t: set by spool_commit after its rename, so
 *                  pieces/<i> holds bytes a live process hashed and
 *                  wrote since the boot the header's boot_id names.
 *                  A state file of the first layout (without this map)
 *                  is grown to hold it, all clear, by spool_open.
 *
 * The fresh rule (hash once): a piece file whose fresh bit is set while
 * the header's boot_id equals /proc/sys/kernel/random/boot_id needs no
 * second SHA-1 (spool_fresh). A writer killed -9 loses nothing it wrote:
 * the bytes are in the page cache, which outlives the process; only a
 * reboot (a power cut, a crash of the kernel) can lose unsynced pieces,
 * and it changes the boot id. spool_open clears every fresh bit before it
 * writes a new boot_id, so no bit of an earlier boot is ever read as of
 * this one. A file in pieces/ without the bit (put there by hand, by an
 * older version, or renamed in by a writer killed before it set the bit)
 * is hashed as before. spool_drop clears the bit with the file. Without a
 * boot id (no /proc), nothing is fresh.
 *
 *   Every word after the header is updated with atomic operations
 *   (__atomic builtins, relaxed order for counters, release/acquire for
 *   have/placed bits which are set only after the rename/the fsync).
 *   The state file is created under DIR/tmp and linked into place, so
 *   two processes opening a new spool at once agree on one file.
 *   The header records the info-hash: a spool of another torrent is
 *   refused.
 *
 * Crash rules: kill everything at any moment and nothing verified is
 * lost; a piece file present without its have bit (death between rename
 * and bit set) is found again by spool_open, which scans pieces/ once.
 * A slab piece is stored once its bit is set: a writer killed between its
 * pwrite and the bit loses that piece, which is fetched again (its bytes
 * in the slab are unread and overwritten). Slabs are not synced either:
 * after a reboot their pieces are not fresh and are hashed; one damaged,
 * short or missing is dropped and fetched again.
 *
 * Picking costs O(1) amortised: each process keeps a cursor; every
 * strategy scans 64 pieces per word (the peer's bits less have and its
 * own claims, set bits visited lowest first) and tries the claim lock
 * only on missing pieces the peer has; rarest looks at a bounded window
 * (SPOOL_RAREST_WINDOW candidates) from a random start and takes the
 * least available one, not a scan of the whole torrent, and stops at the
 * first claimable piece with availability 1 (only this peer has it).
 * In a slab spool random and rarest start after the last pick while it
 * is in the same slab, else at the first piece of a random slab: a slab
 * fills from one writer (one descriptor, kept) and is unlinked whole
 * once placed, rather than losing its blocks a hole per piece.
 *
 * struct spool owns its descriptors and mapping; spool_close releases
 * them (and with them every claim of this process).
 */
#ifndef BT_SPOOL_H
#define BT_SPOOL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "bt.h"
#include "metainfo.h"

#define SPOOL_MAGIC	"BTSPOOL1"
#define SPOOL_VERSION	1
#define SPOOL_HDRLEN	128
/* Candidates rarest-first compares per pick: bounded cost, good enough
 * rarity when pieces are plenty; a torrent smaller than this is seen whole. */
#define SPOOL_RAREST_WINDOW	1024
/*
 * Recycled files kept in free/: up to SPOOL_FREE_BYTES of pieces, room
 * for several of btassemble's commit batches (at most 16 MiB or 128
 * pieces each, freed at once; a pool smaller than a batch would recycle
 * only part of it), but at least
 * SPOOL_FREE_MIN and at most SPOOL_FREE_SLOTS files. This is disk held
 * beyond the payload while downloading, the same order as the pieces a
 * batch holds in pieces/ anyway.
 */
#define SPOOL_FREE_BYTES	(64u << 20)
#define SPOOL_FREE_MIN		4
#define SPOOL_FREE_SLOTS	1024
/*
 * Slots tried per put or take after the cursor before one read of free/
 * finds the nearest hole or file; then it gives up (unlink / create).
 */
#define SPOOL_FREE_TRIES	4
/* Byte of DIR/claims locked by the writer taking free slot 0 (slot n:
 * this + n): past the piece claims (bytes 0 to 2^32 - 1) and the
 * placer's byte (2^33). */
#define SPOOL_SLOT_LOCK		((off_t)1 << 34)
/*
 * Slabs: a torrent whose pieces are shorter than SPOOL_SLAB_BELOW keeps
 * them in DIR/slabs/<k>, SPOOL_SLAB_BYTES / piece length pieces a file,
 * rather than a file each (see the layout above): with small pieces the
 * create, rename and inode work per piece file cost more than the bytes.
 * 32 KiB keeps pieces of 32 KiB and more (most torrents, and the tests
 * that cut or damage pieces/<i> by hand) in files; measured at 1 GiB,
 * slabs would help 32 KiB pieces too (2.74 against 4.23 CPU-s for the
 * tree, 3 alternating rounds), so 64 KiB is the next step once those
 * tests are moved. 1 MiB slabs are as large as the largest pieces, few
 * enough (1,024 a GiB) to be cheap to list.
 */
#define SPOOL_SLAB_BELOW	(32u << 10)
#define SPOOL_SLAB_BYTES	(1u << 20)

struct spool_hdr {
	char		magic[8];	/* SPOOL_MAGIC, no NUL */
	uint32_t	version;	/* SPOOL_VERSION */
	uint32_t	npieces;
	unsigned char	info_hash[20];
	uint32_t	nhave;		/* atomic: have bits set */
	uint64_t	piece_length;
	uint64_t	total_length;
	uint32_t	nplaced;	/* atomic: placed bits set */
	uint32_t	reserved0;
	/* The boot the fresh bits belong to (the fresh rule, above): the
	 * 16 bytes of /proc/sys/kernel/random/boot_id, zero: none. */
	unsigned char	boot_id[16];
	unsigned char	reserved[48];	/* zero; pads to SPOOL_HDRLEN */
};

enum spool_strategy {
	SPOOL_SEQUENTIAL,
	SPOOL_RANDOM,
	SPOOL_RAREST
};

struct spool {
	int		 dirfd;
	int		 piecesfd;	/* DIR/pieces */
	int		 tmpfd;		/* DIR/tmp */
	int		 claimfd;	/* DIR/claims, for OFD locks */
	int		 freefd;	/* DIR/free, recycled piece files */
	int		 slabfd;	/* DIR/slabs, or -1: no slabs */
	uint32_t	 slab_n;	/* pieces per slab, 0: pieces are files */
	int		 pfiles;	/* pieces/ held a file at open */
	int		 wfd;		/* the slab last written, or -1 */
	uint32_t	 wslab;		/* its number */
	uint32_t	 nfree;		/* slots in free/ */
	uint32_t	 free_put;	/* next slot spool_recycle tries */
	uint32_t	 free_take;	/* next slot spool_commit tries */
	struct spool_hdr *hdr;		/* the mapped state file */
	size_t		 maplen;
	uint64_t	*have;		/* inside the mapping */
	uint64_t	*placed;
	uint32_t	*avail;
	uint64_t	*fresh;		/* inside the mapping, or NULL */
	unsigned char	 boot[16];	/* this boot's id */
	int		 boot_ok;	/* boot read: fresh bits usable */
	uint32_t	 npieces;
	uint32_t	 cursor;	/* where this process's next pick starts */
	uint64_t	*mine;		/* malloc'd: pieces this handle claims */
	int		 direct;	/* commit with O_DIRECT when aligned */
	uint64_t	 rng;		/* per-process xorshift state */
	const struct metainfo *mi;
	enum bt_fail	 fail;		/* why spool_open failed */
};

/*
 * Opens (creating if needed) the spool in dir for torrent mi, which must
 * outlive the spool. 0, or -1 with err and s->fail its class:
 * BT_FAIL_MISMATCH for another torrent's spool or a bad state file,
 * bt_fail_errno() of a system error.
 */
int	spool_open(struct spool *, const char *dir, const struct metainfo *,
	    char *err);
/*
 * Opens dir read-only for reading pieces (btverify): nothing is created,
 * no claim is possible. The state file is mapped read-only when there is
 * one (then refused if another torrent's); without one, every piece file
 * counts as had and none as placed. 0, or -1 with err and s->fail.
 */
int	spool_open_ro(struct spool *, const char *dir, const struct metainfo *,
	    char *err);
void	spool_close(struct spool *);

/* 1 if piece i is verified (in pieces/ or already placed), else 0. */
int	spool_have(const struct spool *, uint32_t i);
/*
 * 1 if pieces/<i> was committed by a live process since this boot (the
 * fresh rule): its bytes were hashed and need no second check.
 */
int	spool_fresh(const struct spool *, uint32_t i);
/*
 * For btassemble: an OFD lock held while it is the only placer of this
 * spool; the one that holds it may copy trusted piece files into place
 * without reading them (no other placer recycles a file under it).
 * 1 held, 0 another process holds it, -1 with err.
 */
int	spool_lock_placer(struct spool *, char *err);
int	spool_placed(const struct spool *, uint32_t i);
uint32_t spool_nhave(const struct spool *);

/*
 * Claims: 1 claimed by this spool handle, 0 held by another process,
 * -1 system error (err). A claim is dropped by spool_unclaim, spool_close
 * or the death of the process.
 */
int	spool_claim(struct spool *, uint32_t i, char *err);
void	spool_unclaim(struct spool *, uint32_t i);

/*
 * Picks a piece that is missing, that the peer has (peer_has: BEP 3
 * bitfield bytes, npieces bits), and that nobody holds, and claims it.
 * Pieces this handle already claims are skipped.
 * Returns the index, -1 when no such piece exists but some missing piece
 * the peer has is claimed by another process (endgame possible), -2 when
 * the peer has nothing we miss. If endgame is non-NULL and -1 would be
 * returned, *endgame gets one such claimed-by-other piece (not claimed).
 */
int64_t	spool_pick(struct spool *, enum spool_strategy,
	    const unsigned char *peer_has, int64_t *endgame);

/*
 * Stores verified piece i (len == mi_piece_size(i)): a file taken from
 * free/ and overwritten under its slot lock when there is one, else a
 * new file in tmp/; rename into pieces/ without replace, have bit. 1 stored, 0 someone else stored it first
 * (nothing written), -1 with err. The caller has checked the SHA-1.
 * With s->direct set (0 after spool_open), a piece whose buffer is
 * 4096-aligned and whose length is a multiple of 4096 is written with
 * O_DIRECT, skipping the copy into the page cache (measured both ways on
 * a busy machine: no clear gain); a file system that refuses it gets a
 * plain write.
 */
int	spool_commit(struct spool *, uint32_t i, const void *data,
	    size_t len, char *err);

/*
 * The one door for reading piece files. A struct spool_rd caches the
 * descriptor of the last piece file read (fd -1: none); spool_rd_close
 * releases it. spool_read_piece reads len bytes at offset off of
 * verified piece i from pieces/<i>: 1 read, 0 the piece is not there
 * (not had, or btassemble moved it: read the final files then), -1 with
 * err. The recycle rule lives here alone: a piece file btassemble placed
 * may be renamed into free/ and overwritten by another piece while we
 * hold it open, so the bytes count only if the placed bit, which is set
 * before the file leaves pieces/, is still clear after the read.
 */
struct spool_rd {
	int		 fd;
	uint32_t	 i;		/* the piece, or with slab the slab */
	int		 slab;		/* fd is slabs/<i> */
};
void	spool_rd_init(struct spool_rd *);
void	spool_rd_close(struct spool_rd *);
int	spool_read_piece(struct spool *, struct spool_rd *, uint32_t i,
	    uint32_t off, void *buf, size_t len, char *err);
/*
 * A whole piece file into buf (mi_piece_size(i) bytes), for checkers
 * (btassemble, btverify), with the same recycle rule: SPOOL_PIECE_OK,
 * _GONE (absent, or placed while we read), _SIZE (the wrong size: a
 * damaged piece), _NOTFILE (not a regular file), or -1 with err.
 */
enum {
	SPOOL_PIECE_GONE = 0,
	SPOOL_PIECE_OK = 1,
	SPOOL_PIECE_SIZE = 2,
	SPOOL_PIECE_NOTFILE = 3
};
int	spool_read_whole(struct spool *, uint32_t i, void *buf, char *err);
/*
 * Opens piece i for a whole read or copy, checked as spool_read_whole
 * checks it: SPOOL_PIECE_OK with *fd (the caller closes it) and *off, the
 * piece's offset in that file (0 for pieces/<i>, its place in a slab),
 * another SPOOL_PIECE_* with no descriptor, or -1 with err.
 */
int	spool_open_whole(struct spool *, uint32_t i, int *fd, uint64_t *off,
	    char *err);
/* The same with no cache: 0, or -1 with err (errno ENOENT: moved out). */
int	spool_read(struct spool *, uint32_t i, uint32_t off, void *buf,
	    size_t len, char *err);

/* Availability: adds delta to piece i, or to every piece set in bits. */
void	spool_avail_add(struct spool *, uint32_t i, int delta);
void	spool_avail_bits(struct spool *, const unsigned char *bits, int delta);
uint32_t spool_avail(const struct spool *, uint32_t i);

/* For btassemble: marks piece i placed in the final files (after fsync). */
void	spool_set_placed(struct spool *, uint32_t i);
/* For a resume: marks piece i had, though no piece file exists. */
void	spool_set_have(struct spool *, uint32_t i);
/*
 * For a piece file found damaged after all (a power cut: pieces are not
 * synced): removes pieces/<i> and clears its have bit, so that it is
 * fetched again. A placed piece is left alone. 0, or -1 with err.
 */
int	spool_drop(struct spool *, uint32_t i, char *err);
/*
 * For btassemble, once piece i is placed and its bit durable: moves
 * pieces/<i> into a free slot for spool_commit to reuse, or unlinks it
 * when the slots it tries are taken. 0 (also when the file is gone), or
 * -1 with err.
 */
int	spool_recycle(struct spool *, uint32_t i, char *err);
/* Removes every file in free/ (the download is over). */
void	spool_free_clear(struct spool *);

/* Pieces per slab file, 0 when this spool keeps pieces as files. */
uint32_t spool_slab_pieces(const struct spool *);
/*
 * For btassemble, once the placed bits of pieces of slab k are durable:
 * unlinks slabs/<k> when every piece in it is placed, else frees the
 * blocks of the placed pieces [i, i + n) of it (a hole punched;
 * readers check the placed bit after reading, the recycle rule). 1 the
 * slab is gone, 0 it stays, -1 with err.
 */
int	spool_slab_release(struct spool *, uint32_t i, uint32_t n, char *err);
/* Unlinks every slab whose pieces are all placed (the download is over). */
void	spool_slab_clear(struct spool *);

#endif
