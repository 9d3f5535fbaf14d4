/*
 * json.h: a small JSON writer that handles commas and indentation, and the
 * project's one convention for bytes that are not text (DESIGN.md):
 *
 *   - A byte string that is valid UTF-8 is a JSON string.
 *   - Any other byte string is the one-key object {"$hex": "<hex>"}.
 *   - A dictionary key that is valid UTF-8 is written as itself, except
 *     that a key beginning with '$' gets one more '$' in front ("$x" is
 *     written "$$x"); a key that is not UTF-8 is written "$hex:<hex>".
 * So an object key with a single leading '$' is always a tag, and a real
 * dictionary can never be mistaken for a binary string.
 *
 * The writer appends to a caller's struct buf and owns nothing. Calls
 * return 0, or -1 once the buffer is full (the error sticks).
 */
#ifndef BT_JSON_H
#define BT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "bencode.h"
#include "buf.h"

#define JW_MAX_DEPTH	(BENC_MAX_DEPTH + 8)

struct jw {
	struct buf	*b;
	int		 pretty;	/* indent by two spaces a level */
	int		 depth;
	int		 failed;
	unsigned char	 count[JW_MAX_DEPTH];	/* 0 empty, 1 has items */
	char		 closer[JW_MAX_DEPTH];	/* '}' or ']' */
	unsigned char	 afterkey;
};

void	jw_init(struct jw *, struct buf *, int pretty);
int	jw_obj(struct jw *);		/* { */
int	jw_arr(struct jw *);		/* [ */
int	jw_end(struct jw *);		/* } or ] */
int	jw_key(struct jw *, const char *);	/* a plain key, as is */
int	jw_keyb(struct jw *, const void *, size_t);	/* a bencode key */
int	jw_str(struct jw *, const char *);	/* NUL-terminated text */
int	jw_strn(struct jw *, const void *, size_t);	/* text, escaped */
int	jw_bytes(struct jw *, const void *, size_t);	/* the convention */
int	jw_int(struct jw *, int64_t);
int	jw_uint(struct jw *, uint64_t);
int	jw_bool(struct jw *, int);
int	jw_null(struct jw *);
/* A bencode value, converted with the convention above. */
int	jw_benc(struct jw *, struct bval);
/* Ends the document with a newline; -1 if anything failed. */
int	jw_finish(struct jw *);

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, surrogates, >U+10FFFF). */
int	utf8_valid(const void *s, size_t n);
/* Appends s as a JSON string body (no quotes), escaping as RFC 8259 needs. */
int	json_escape(struct buf *, const void *s, size_t n);
/* Appends lowercase hex of s. */
int	hex_put(struct buf *, const void *s, size_t n);
/* Writes lowercase hex of s[0..n) and a NUL into out (2n+1 bytes). */
void	hex_str(char *out, const void *s, size_t n);

#endif
