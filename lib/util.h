/*
 * util.h: small byte-string helpers that several modules share: hex
 * digits, percent-encoding, NUL-terminated copies. memdup0 returns
 * memory the caller frees; nothing else here allocates.
 */
#ifndef BT_UTIL_H
#define BT_UTIL_H

#include <stddef.h>

#include "buf.h"

/* The value of a hex digit (either case), or -1. */
int	hex_digit(int c);
/*
 * Decodes 2n hex digits at s into n bytes at out (out may be s itself).
 * 0, or -1 if a character is not a hex digit (out is then partly written).
 */
int	hex_decode(unsigned char *out, const char *s, size_t n);
/* A malloc'd copy of n bytes with a NUL after them, or NULL. */
char	*memdup0(const void *s, size_t n);
/* A decimal number in [lo, hi] filling all of s: 0 and *v, or -1. */
int	num_parse(const char *s, long lo, long hi, long *v);
/* RFC 3986 percent-encoding of all but the unreserved bytes; 0 or -1. */
int	url_encode(struct buf *, const void *s, size_t n);

#endif
