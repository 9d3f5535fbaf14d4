/*
 * fuzz_roundtrip: the round-trip property of bencode(1). For every input
 * that validates and is canonical, bencode -> JSON (lib/json.h, compact
 * and pretty) -> bencode (lib/json_parse.h) gives back the input byte for
 * byte. A valid but non-canonical input must come back canonical, or be
 * refused only for a repeated key.
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

static void
trip(struct bval v, int pretty, int canon)
{
	struct buf j, b;
	struct jw w;
	struct bval o;
	char err[BT_ERRLEN];

	buf_init(&j, 1u << 30);
	buf_init(&b, 1u << 30);
	jw_init(&w, &j, pretty);
	if (jw_benc(&w, v) == -1 || jw_finish(&w) == -1)
		abort();
	if (json_to_benc(j.p, j.len, &b, err) == -1) {
		if (canon || strstr(err, "duplicate key") == NULL) {
			fprintf(stderr, "json_to_benc: %s\n", err);
			abort();
		}
	} else if (canon) {
		if (b.len != v.len || memcmp(b.p, v.p, v.len) != 0)
			abort();
	} else {
		if (benc_parse(b.p, b.len, &o, err) == -1 ||
		    !benc_canonical(o) || b.len != v.len)
			abort();
	}
	buf_free(&j);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bval v;
	char err[BT_ERRLEN];
	int canon;

	if (benc_parse(data, size, &v, err) == -1)
		return 0;
	canon = benc_canonical(v);
	trip(v, 0, canon);
	trip(v, 1, canon);
	return 0;
}
