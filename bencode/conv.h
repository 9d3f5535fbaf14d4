/*
 * conv.h: the two directions of bencode(1). Both read a whole input held
 * in memory and write the other format to a stdio stream; neither prints a
 * diagnostic: a failure fills err (BT_ERRLEN) and returns -1, with *bad
 * set to 1 when the input was at fault (exit 2) and 0 when the output
 * could not be written or memory ran short (exit 1).
 */
#ifndef BENCODE_CONV_H
#define BENCODE_CONV_H

#include <stddef.h>
#include <stdio.h>

/*
 * The largest bencode read: the largest torrent any bt tool accepts
 * (MI_MAX_TORRENT), so every torrent the toolkit reads can be shown.
 */
#define BENCODE_MAX_IN	(128u << 20)
/*
 * The largest JSON read: the JSON of the largest bencode. Hex doubles the
 * binary strings (a torrent is mostly its piece hashes) and --pretty adds
 * indentation, so four times as much.
 */
#define JSON_MAX_IN	(4 * BENCODE_MAX_IN)

/* Bencode in[0..len) to JSON on fp; pretty indents two spaces a level. */
int	conv_decode(const unsigned char *in, size_t len, int pretty, FILE *fp,
	    int *bad, char *err);
/* JSON in[0..len) to canonical bencode on fp. */
int	conv_encode(const unsigned char *in, size_t len, FILE *fp, int *bad,
	    char *err);

#endif
