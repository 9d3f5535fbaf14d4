/* metadata.h: btpeer --metadata (BEP 9), see metadata.c. */
#ifndef BTPEER_METADATA_H
#define BTPEER_METADATA_H

#include "opts.h"

/* o->torrent is the magnet link, o->addr the peer. The exit code. */
int	metadata_run(struct opts *);

#endif
