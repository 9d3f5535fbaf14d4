/*
 * spool_int.h: between lib/spool.c and its neighbours (spool_fresh.c,
 * spool_free.c, spool_pick.c, spool_slab.c), not for tools.
 */
#ifndef BT_SPOOL_INT_H
#define BT_SPOOL_INT_H

#include <sys/types.h>

#include <stdint.h>

#include "spool.h"

/* Reads this boot's id; after a reboot clears every fresh bit, then
 * writes the new id into the header (spool_open, mapping done). */
void	spool_boot(struct spool *);
/* Sets (on: only if the header's boot is ours) or clears fresh bit i. */
void	spool_mark_fresh(struct spool *, uint32_t i, int on);
/* An OFD lock (F_OFD_SETLK, no wait) of type on byte at of claims:
 * 0, or -1 with errno (EAGAIN or EACCES: another holds it). */
int	spool_lockat(struct spool *, off_t at, short type);
/* write(2) of all n bytes: 0, or -1 with errno. */
int	spool_writeall(int fd, const void *p, size_t n);

/* spool_free.c */
/*
 * Takes a recycled file free/<slot>, locks the slot and overwrites the
 * file with data[0..len): its fd with *slotp locked (the caller renames
 * it out with spool_free_put), or -1 (nothing to take, or any trouble:
 * the caller writes a new file).
 */
int	spool_free_take(struct spool *, uint32_t *slotp, const void *data,
	    size_t len);
/*
 * Closes fd, renames free/<slot> to pieces/<name> and unlocks the slot:
 * 0 done, 1 pieces/<name> exists (the file stays a free slot), -1 any
 * other trouble (errno).
 */
int	spool_free_put(struct spool *, int fd, uint32_t slot,
	    const char *name);

/* spool_slab.c */
/* Sets slab_n and opens DIR/slabs (made when create is set) for a
 * torrent of small pieces: 0, or -1 with errno. */
int	spool_slab_init(struct spool *, int create);
/* spool_commit of a piece of a slab spool (spool_commit's returns). */
int	spool_slab_commit(struct spool *, uint32_t i, const void *data,
	    size_t len, char *err);
/* spool_open_whole of a piece in a slab (its returns). */
int	spool_slab_open(struct spool *, uint32_t i, int *fd, uint64_t *off,
	    char *err);
/* spool_read_piece of a piece in a slab (its returns). */
int	spool_slab_read(struct spool *, struct spool_rd *, uint32_t i,
	    uint32_t off, void *buf, size_t len, char *err);

#endif
