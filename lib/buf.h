/*
 * buf.h: a growable byte buffer with a hard size cap (curl's dynbuf idea).
 * The buffer owns its memory; buf_free releases it. A failed append frees
 * nothing and leaves the contents as they were; the caller frees once.
 */
#ifndef BT_BUF_H
#define BT_BUF_H

#include <stddef.h>

struct buf {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
	size_t		 max;	/* appends past this many bytes fail */
};

void	buf_init(struct buf *, size_t max);
void	buf_free(struct buf *);
/* 0, or -1 when the cap would be passed or memory is short. */
int	buf_add(struct buf *, const void *, size_t);
int	buf_addc(struct buf *, int);
int	buf_adds(struct buf *, const char *);
int	buf_printf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

#endif
