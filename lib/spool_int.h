/*
 * spool_int.h: between lib/spool.c and lib/spool_fresh.c, not for tools.
 */
#ifndef BT_SPOOL_INT_H
#define BT_SPOOL_INT_H

#include <stdint.h>

#include "spool.h"

/* Reads this boot's id; after a reboot clears every fresh bit, then
 * writes the new id into the header (spool_open, mapping done). */
void	spool_boot(struct spool *);
/* Sets (on: only if the header's boot is ours) or clears fresh bit i. */
void	spool_mark_fresh(struct spool *, uint32_t i, int on);

#endif
