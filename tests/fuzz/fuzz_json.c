/*
 * fuzz_json: lib/json_parse.h alone. Whatever it accepts must be valid,
 * canonical bencode, and going back through the JSON writer and the
 * parser again must give the same bytes (the conversion is a fixed point).
 * A refusal must carry an offset inside the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "bt.h"
#include "buf.h"
#include "json.h"
#include "json_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b, j, b2;
	struct bval v;
	struct jw w;
	char err[BT_ERRLEN];
	const char *at;
	unsigned long long off;

	buf_init(&b, 3 * size + 16);
	if (json_to_benc(data, size, &b, err) == -1) {
		if ((at = strstr(err, " at offset ")) == NULL ||
		    sscanf(at, " at offset %llu", &off) != 1 ||
		    off > size)
			abort();
		buf_free(&b);
		return 0;
	}
	if (benc_parse(b.p, b.len, &v, err) == -1 || !benc_canonical(v))
		abort();
	buf_init(&j, 1u << 30);
	buf_init(&b2, 1u << 30);
	jw_init(&w, &j, size & 1);
	if (jw_benc(&w, v) == -1 || jw_finish(&w) == -1)
		abort();
	if (json_to_benc(j.p, j.len, &b2, err) == -1 || b2.len != b.len ||
	    memcmp(b2.p, b.p, b.len) != 0)
		abort();
	buf_free(&b);
	buf_free(&j);
	buf_free(&b2);
	return 0;
}
