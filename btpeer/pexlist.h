/* pexlist.h: the peers btpeer --pex tells about (pexlist.c). */
#ifndef BTPEER_PEXLIST_H
#define BTPEER_PEXLIST_H

#include "ut_pex.h"

int	pexlist_parse(const char *, struct pex_peer *);
/* Up to max peers of file, self left out: how many (0 if unreadable). */
int	pexlist_read(const char *file, const struct pex_peer *self,
	    struct pex_peer *out, int max);

#endif
