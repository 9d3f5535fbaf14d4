/*
 * spool_int.h: between lib/spool.c and lib/spool_fresh.c, not for tools.
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

#endif
