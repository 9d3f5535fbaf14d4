/*
 * json_parse.h: a strict JSON (RFC 8259) reader that turns a document
 * straight into canonical bencode, undoing json.h's binary-string
 * convention:
 *
 *   - A JSON string is its UTF-8 bytes (\uXXXX escapes decoded, surrogate
 *     pairs joined; a lone surrogate is an error).
 *   - An object whose only key is "$hex" with a string of hex digits
 *     (either case) is that byte string.
 *   - An object key "$$x" is the bencode key "$x"; "$hex:<hex>" is the
 *     key with those bytes; any other key starting with a single '$' is
 *     an error; every other key is itself.
 *   - A number must be an integer in int64's range: a fraction, an
 *     exponent, -0, true, false and null have no bencode form and are
 *     errors.
 *   - Object keys are sorted as raw bytes (canonical bencode); two keys
 *     naming the same bytes are an error.
 *
 * Nothing is guessed: raw bytes that are not UTF-8, control characters in
 * strings, leading zeros, a byte order mark and trailing bytes after the
 * value are refused. Errors read "<what> at offset N", N counting bytes of
 * the JSON input. The parser keeps no state between calls.
 */
#ifndef BT_JSON_PARSE_H
#define BT_JSON_PARSE_H

#include <stddef.h>

#include "bencode.h"
#include "buf.h"

/*
 * Bencode nesting the output may reach: the decoder's own limit, so what
 * this writes always passes benc_parse. A "$hex" object is a string and
 * does not count as a level.
 */
#define JSON_MAX_DEPTH	BENC_MAX_DEPTH

/*
 * Converts the JSON document buf[0..len) and appends its bencode to out.
 * 0, or -1 with err (BT_ERRLEN) set; on error out may hold a partial
 * encoding, which the caller discards. out's cap bounds the output ("output
 * too large").
 */
int	json_to_benc(const void *buf, size_t len, struct buf *out, char *err);

#endif
