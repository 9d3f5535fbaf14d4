/*
 * fuzz_bencode: benc_parse on anything, then every navigator over what it
 * accepted. Invariants: children tile their parent exactly, benc_count
 * agrees with iteration, benc_dict_get finds every key, ints and strings
 * re-encode to their own bytes, benc_canonical agrees with a key scan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "bt.h"
#include "buf.h"

/* Re-encodes a scalar with the encoder; it must give the raw span back. */
static void
scalar(struct bval v)
{
	struct buf b;
	const unsigned char *s;
	size_t n;
	int64_t i;

	buf_init(&b, v.len + 32);
	if (benc_type(v) == BENC_INT) {
		if (benc_int(v, &i) != 0 || benc_put_int(&b, i) != 0)
			abort();
	} else {
		if (benc_str(v, &s, &n) != 0 || benc_put_str(&b, s, n) != 0)
			abort();
		if (s + n != v.p + v.len)
			abort();
	}
	if (b.len != v.len || memcmp(b.p, v.p, v.len) != 0)
		abort();
	buf_free(&b);
}

/* Returns whether v is canonical, checking everything on the way. */
static int
walk(struct bval v)
{
	struct biter it;
	struct bval k, e, got;
	const unsigned char *at = NULL, *s, *ps = NULL;
	size_t n, cnt = 0, psn = 0;
	int canon = 1, sorted = 1;
	char key[64];

	switch (benc_type(v)) {
	case BENC_INT:
	case BENC_STR:
		scalar(v);
		return 1;
	case BENC_LIST:
		benc_iter(v, &it);
		at = v.p + 1;
		while (benc_list_next(&it, &e)) {
			if (e.p != at)
				abort();
			at += e.len;
			canon &= walk(e);
			cnt++;
		}
		break;
	case BENC_DICT:
		benc_iter(v, &it);
		at = v.p + 1;
		while (benc_dict_next(&it, &k, &e)) {
			if (k.p != at || benc_type(k) != BENC_STR ||
			    e.p != k.p + k.len)
				abort();
			at = e.p + e.len;
			scalar(k);
			benc_str(k, &s, &n);
			if (ps != NULL && benc_keycmp(ps, psn, s, n) >= 0)
				canon = sorted = 0;
			if (ps != NULL && psn == n && memcmp(ps, s, n) == 0)
				abort();	/* equal keys in a row */
			ps = s;
			psn = n;
			/* dict_get takes a C string: keys without NUL only. */
			if (n < sizeof(key) && memchr(s, '\0', n) == NULL) {
				memcpy(key, s, n);
				key[n] = '\0';
				if (!benc_dict_get(v, key, &got))
					abort();
				if (sorted && (got.p != e.p || got.len != e.len))
					abort();
			}
			canon &= walk(e);
			cnt++;
		}
		break;
	}
	if (at != v.p + v.len - 1 || *at != 'e')
		abort();
	if (benc_count(v) != cnt)
		abort();
	return canon;
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bval v, pv;
	char err[BT_ERRLEN];
	size_t used;

	if (benc_parse_prefix(data, size, &pv, &used, err) == 0) {
		if (used == 0 || used > size || pv.len != used)
			abort();
		if (benc_parse(data, used, &v, err) != 0)
			abort();
	}
	if (benc_parse(data, size, &v, err) != 0) {
		if (strstr(err, "offset") == NULL && strcmp(err, "empty input"))
			abort();
		return 0;
	}
	if (v.p != data || v.len != size)
		abort();
	if (walk(v) != benc_canonical(v))
		abort();
	return 0;
}
