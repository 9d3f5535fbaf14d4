/*
 * Bencode to JSON streams out through lib/json.h's writer, flushed in
 * chunks, so memory stays near the input's size even when indentation
 * makes the JSON fifty times longer. JSON to bencode is
 * lib/json_parse.h's, whole in memory because keys must be sorted.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "bt.h"
#include "buf.h"
#include "conv.h"
#include "json.h"
#include "json_parse.h"

/* Output is written in chunks of about this size: a few pipe buffers. */
#define FLUSH_AT	(64u << 10)

struct out {
	struct jw	 w;
	struct buf	 b;
	FILE		*fp;
};

struct key {
	const unsigned char	*s;
	size_t			 n;
	size_t			 at;	/* its offset in the input */
};

static int
keycmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	return benc_keycmp(x->s, x->n, y->s, y->n);
}

/*
 * benc_parse refuses two equal keys only in a row; a non-canonical
 * dictionary could still hold one twice, which JSON cannot carry.
 * 1 and *at set if some dictionary in v has a repeated key, 0 if none,
 * -1 when memory is short.
 */
static int
dupkeys(struct bval v, const unsigned char *base, size_t *at)
{
	struct biter it;
	struct bval k, e;
	struct key *keys;
	size_t n, i;
	int rc = 0, sorted = 1;
	const unsigned char *s, *ps = NULL;
	size_t sn, psn = 0;

	if (benc_type(v) == BENC_LIST) {
		benc_iter(v, &it);
		while (rc == 0 && benc_list_next(&it, &e))
			rc = dupkeys(e, base, at);
		return rc;
	}
	if (benc_type(v) != BENC_DICT)
		return 0;
	benc_iter(v, &it);
	while (rc == 0 && benc_dict_next(&it, &k, &e)) {
		benc_str(k, &s, &sn);
		if (ps != NULL && benc_keycmp(ps, psn, s, sn) >= 0)
			sorted = 0;
		ps = s;
		psn = sn;
		rc = dupkeys(e, base, at);
	}
	if (rc != 0 || sorted)
		return rc;
	n = benc_count(v);
	if ((keys = calloc(n, sizeof(*keys))) == NULL)
		return -1;
	benc_iter(v, &it);
	for (i = 0; benc_dict_next(&it, &k, &e); i++) {
		benc_str(k, &keys[i].s, &keys[i].n);
		keys[i].at = (size_t)(k.p - base);
	}
	qsort(keys, n, sizeof(*keys), keycmp);
	for (i = 1; i < n && rc == 0; i++)
		if (keycmp(&keys[i - 1], &keys[i]) == 0) {
			*at = keys[i].at > keys[i - 1].at ? keys[i].at :
			    keys[i - 1].at;
			rc = 1;
		}
	free(keys);
	return rc;
}

static int
flush(struct out *o, int all)
{
	if (o->b.len < FLUSH_AT && !all)
		return 0;
	if (o->b.len > 0 && fwrite(o->b.p, 1, o->b.len, o->fp) != o->b.len)
		return -1;
	o->b.len = 0;
	return 0;
}

/* Like jw_benc, but writing out as it goes. */
static int
walk(struct out *o, struct bval v)
{
	struct biter it;
	struct bval k, e;
	const unsigned char *s;
	size_t n;

	switch (benc_type(v)) {
	case BENC_LIST:
		if (jw_arr(&o->w) == -1)
			return -1;
		benc_iter(v, &it);
		while (benc_list_next(&it, &e))
			if (walk(o, e) == -1)
				return -1;
		if (jw_end(&o->w) == -1)
			return -1;
		break;
	case BENC_DICT:
		if (jw_obj(&o->w) == -1)
			return -1;
		benc_iter(v, &it);
		while (benc_dict_next(&it, &k, &e)) {
			benc_str(k, &s, &n);
			if (jw_keyb(&o->w, s, n) == -1 || walk(o, e) == -1)
				return -1;
		}
		if (jw_end(&o->w) == -1)
			return -1;
		break;
	default:
		if (jw_benc(&o->w, v) == -1)
			return -1;
	}
	return flush(o, 0);
}

int
conv_decode(const unsigned char *in, size_t len, int pretty, FILE *fp,
    int *bad, char *err)
{
	struct bval v;
	struct out o;
	size_t at;
	int rc;

	*bad = 1;
	if (len == 0)
		return bt_err(err, "unexpected end of input at offset 0");
	if (benc_parse(in, len, &v, err) == -1)
		return -1;
	if ((rc = dupkeys(v, in, &at)) == 1)
		return bt_err(err, "duplicate dictionary key at offset %zu",
		    at);
	*bad = 0;
	if (rc == -1)
		return bt_err(err, "out of memory");
	/*
	 * One string's JSON is at most six bytes a byte ("\u0001"), and
	 * what precedes it in the buffer is less than FLUSH_AT plus an
	 * indentation.
	 */
	buf_init(&o.b, 6 * len + FLUSH_AT + (1u << 20));
	jw_init(&o.w, &o.b, pretty);
	o.fp = fp;
	errno = 0;
	rc = walk(&o, v);
	if (rc == 0 && (jw_finish(&o.w) == -1 || flush(&o, 1) == -1))
		rc = -1;
	if (rc == -1)
		bt_err(err, "%s%s", o.w.failed ? "" : "stdout: ",
		    o.w.failed ? "out of memory" : errno != 0 ?
		    strerror(errno) : "write error");
	buf_free(&o.b);
	return rc;
}

int
conv_encode(const unsigned char *in, size_t len, FILE *fp, int *bad,
    char *err)
{
	struct buf b;
	int rc;

	/* Bencode is at most three times its JSON: "0" becomes "i0e". */
	buf_init(&b, 3 * len + 16);
	*bad = 1;
	rc = json_to_benc(in, len, &b, err);
	if (rc == -1 && strstr(err, "out of memory") != NULL)
		*bad = 0;
	if (rc == 0 && b.len > 0 && fwrite(b.p, 1, b.len, fp) != b.len) {
		*bad = 0;
		rc = bt_err(err, "stdout: %s", strerror(errno));
	}
	buf_free(&b);
	return rc;
}
