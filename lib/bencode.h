/*
 * bencode.h: a strict bencode validator, in-place navigation, and a
 * canonical encoder.
 *
 * Validate once, then navigate: benc_parse checks a whole buffer and hands
 * back a struct bval, a span of the caller's bytes. Every accessor works
 * on validated spans only and never allocates; a bval borrows the caller's
 * buffer, which must outlive it. The raw span of any value (v.p, v.len) is
 * exactly the bytes that were read, so hashing the info span gives the
 * real info-hash even for a non-canonical torrent.
 *
 * Accepted: everything BEP 3 allows. Refused, with the byte offset:
 * leading zeros and "-0" in integers, integers outside int64, string
 * lengths with leading zeros or past the end, unterminated lists and
 * dictionaries, non-string dictionary keys, two equal keys in a row,
 * nesting deeper than BENC_MAX_DEPTH, and (benc_parse) trailing bytes.
 * Dictionaries whose keys are not sorted are accepted (some real torrents
 * have them) and reported through benc_canonical().
 */
#ifndef BT_BENCODE_H
#define BT_BENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Real torrents nest about 6 deep (info, files, a file, path). 64 leaves
 * room for any honest use and bounds the recursion a hostile input gets.
 */
#define BENC_MAX_DEPTH	64

enum benc_type {
	BENC_INT = 'i',
	BENC_STR = 's',
	BENC_LIST = 'l',
	BENC_DICT = 'd'
};

/* A validated value: its first byte and its whole encoded length. */
struct bval {
	const unsigned char	*p;
	size_t			 len;
};

/* A cursor over the elements of a list or the pairs of a dictionary. */
struct biter {
	const unsigned char	*p;
	const unsigned char	*end;	/* the container's closing 'e' */
};

/*
 * Validates buf[0..len) as exactly one value. 0 and *v set, or -1 with
 * err (BT_ERRLEN) saying what is wrong and at which byte offset.
 */
int	benc_parse(const void *buf, size_t len, struct bval *v, char *err);
/* Like benc_parse, but trailing bytes are allowed; *used is the span. */
int	benc_parse_prefix(const void *buf, size_t len, struct bval *v,
	    size_t *used, char *err);

enum benc_type benc_type(struct bval);
/* 0 and the value, or -1 if v is not of that type. */
int	benc_int(struct bval, int64_t *);
int	benc_str(struct bval, const unsigned char **s, size_t *n);
/* 1 if s equals v's string bytes. */
int	benc_str_eq(struct bval, const char *s);

/* Starts iterating a list or dictionary (v must be one). */
void	benc_iter(struct bval, struct biter *);
/* 1 and the next list element, or 0 at the end. */
int	benc_list_next(struct biter *, struct bval *);
/* 1 and the next key (a string value) and its value, or 0 at the end. */
int	benc_dict_next(struct biter *, struct bval *key, struct bval *val);
/* 1 and the value under key in dictionary d, or 0 if absent. */
int	benc_dict_get(struct bval d, const char *key, struct bval *val);
/* Number of elements of a list, or of pairs of a dictionary. */
size_t	benc_count(struct bval);
/* 1 if v and everything in it is canonical (dictionary keys sorted). */
int	benc_canonical(struct bval);

/* Encoder: each appends to b and returns 0, or -1 when b is full. */
int	benc_put_int(struct buf *b, int64_t);
int	benc_put_str(struct buf *b, const void *, size_t);
int	benc_put_cstr(struct buf *b, const char *);
int	benc_put_raw(struct buf *b, struct bval);	/* an existing value */
/* Compares two keys as raw bytes, shorter first on a tie: bencode order. */
int	benc_keycmp(const unsigned char *, size_t, const unsigned char *,
	    size_t);

#endif
