/* ut_metadata.c: BEP 9, the metadata exchange (ut_metadata.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "bencode.h"
#include "buf.h"
#include "peer_int.h"
#include "ut_metadata.h"

static const char *const msg_names[] = { "request", "data", "reject" };

static const char *
msg_name(int64_t t)
{
	return t >= 0 && t <= 2 ? msg_names[t] : "unknown";
}

int
utm_parse(const unsigned char *b, size_t n, int64_t *type, int64_t *piece,
    int64_t *total, size_t *hdr, char *err)
{
	struct bval v, x;

	if (benc_parse_prefix(b, n, &v, hdr, err) == -1)
		return -1;
	if (benc_type(v) != BENC_DICT)
		return bt_err(err, "not a dictionary");
	if (!benc_dict_get(v, "msg_type", &x) || benc_int(x, type) == -1)
		return bt_err(err, "no msg_type");
	if (!benc_dict_get(v, "piece", &x) || benc_int(x, piece) == -1 ||
	    *piece < 0 || *piece > UTM_MAX_SIZE / UTM_PIECE)
		return bt_err(err, "%s: no piece, or out of range",
		    msg_name(*type));
	*total = -1;
	if (benc_dict_get(v, "total_size", &x) && (benc_int(x, total) == -1 ||
	    *total < 0))
		return bt_err(err, "%s: bad total_size", msg_name(*type));
	return 0;
}

/* Sends one message: the header, then data if any. 0, or -1. */
static int
send_msg(struct peer *p, int type, uint32_t piece, const unsigned char *d,
    size_t n, size_t total)
{
	unsigned char hdr[128];
	int len;

	if (d != NULL)
		len = snprintf((char *)hdr, sizeof(hdr),
		    "d8:msg_typei%de5:piecei%ue10:total_sizei%zuee", type,
		    piece, total);
	else
		len = snprintf((char *)hdr, sizeof(hdr),
		    "d8:msg_typei%de5:piecei%uee", type, piece);
	if (p->cfg->verbose)
		peer_trace(p, "> ut_metadata %s %u", msg_name(type), piece);
	if (d == NULL)
		return peer_ext_send(p, UTM_NAME, hdr, (size_t)len) == -1 ?
		    -1 : 0;
	{
		unsigned char *m = malloc((size_t)len + n);
		int r;

		if (m == NULL)
			return peer_fail(p, BT_FAIL_SYSTEM, "out of memory");
		memcpy(m, hdr, (size_t)len);
		memcpy(m + len, d, n);
		r = peer_ext_send(p, UTM_NAME, m, (size_t)len + n);
		free(m);
		return r == -1 ? -1 : 0;
	}
}

static uint32_t
piece_len(uint32_t size, uint32_t i)
{
	uint32_t off = i * UTM_PIECE;

	return size - off < UTM_PIECE ? size - off : UTM_PIECE;
}

/* Keeps UTM_INFLIGHT requests out while pieces are missing. */
static int
request_more(struct utm *u, struct peer *p)
{
	while (u->inflight < UTM_INFLIGHT && u->next < u->npieces) {
		if (u->got[u->next]) {
			u->next++;
			continue;
		}
		if (send_msg(p, UTM_REQUEST, u->next++, NULL, 0, 0) == -1)
			return -1;
		u->inflight++;
	}
	return 0;
}

static int
on_handshake(void *ctx, struct peer *p, const unsigned char *d, size_t n,
    char *err)
{
	struct utm *u = ctx;
	struct bval v, m, x;
	int64_t size, id;

	if (!u->fetch || u->buf != NULL)
		return 0;	/* serving, or a second handshake */
	if (benc_parse(d, n, &v, err) == -1)
		return -1;	/* the core parsed it already */
	if (!benc_dict_get(v, "m", &m) || !benc_dict_get(m, UTM_NAME, &x) ||
	    benc_int(x, &id) == -1 || id <= 0)
		return bt_err(err, "the peer does not offer it");
	if (!benc_dict_get(v, "metadata_size", &x) ||
	    benc_int(x, &size) == -1 || size <= 0)
		return bt_err(err, "the peer gives no metadata_size");
	if (size > UTM_MAX_SIZE)
		return bt_err(err, "metadata_size %lld over the cap of %u",
		    (long long)size, UTM_MAX_SIZE);
	u->size = (uint32_t)size;
	u->npieces = (u->size + UTM_PIECE - 1) / UTM_PIECE;
	u->buf = malloc(u->size);
	u->got = calloc(u->npieces, 1);
	if (u->buf == NULL || u->got == NULL)
		return bt_err(err, "out of memory");
	peer_trace(p, "  ut_metadata: %u bytes in %u pieces", u->size,
	    u->npieces);
	return request_more(u, p) == -1 ? bt_err(err, "%s",
	    peer_reason(p)) : 0;
}

static int
on_data(struct utm *u, struct peer *p, uint32_t i, int64_t total,
    const unsigned char *d, size_t n, char *err)
{
	unsigned char md[SHA_DIGEST_LENGTH];

	if (!u->fetch || u->buf == NULL || u->done)
		return 0;	/* unasked: ignored */
	if (i >= u->npieces || total != (int64_t)u->size)
		return bt_err(err, "data %u of total_size %lld, not of %u bytes",
		    i, (long long)total, u->size);
	if (n != piece_len(u->size, i))
		return bt_err(err, "data %u of %zu bytes, not %u", i, n,
		    piece_len(u->size, i));
	if (u->got[i])
		return 0;
	memcpy(u->buf + (size_t)i * UTM_PIECE, d, n);
	u->got[i] = 1;
	u->ngot++;
	if (u->inflight > 0)
		u->inflight--;
	if (u->ngot < u->npieces)
		return request_more(u, p) == -1 ? bt_err(err, "%s",
		    peer_reason(p)) : 0;
	SHA1(u->buf, u->size, md);
	if (memcmp(md, u->info_hash, sizeof(md)) != 0)
		return bt_err(err, "the metadata's SHA-1 is not the "
		    "info-hash (wrong metadata)");
	u->done = 1;
	peer_trace(p, "  ut_metadata: %u bytes, SHA-1 matches", u->size);
	peer_close(p, BT_FAIL_NONE, "%s", "");
	return 0;
}

static int
on_request(struct utm *u, struct peer *p, uint32_t i)
{
	if (u->info == NULL || (size_t)i * UTM_PIECE >= u->info_len ||
	    p->wlen - p->wpos > UTM_OUT_MAX)
		return send_msg(p, UTM_REJECT, i, NULL, 0, 0);
	u->served++;
	return send_msg(p, UTM_DATA, i, u->info + (size_t)i * UTM_PIECE,
	    piece_len((uint32_t)u->info_len, i), u->info_len);
}

static int
on_message(void *ctx, struct peer *p, const unsigned char *d, size_t n,
    char *err)
{
	struct utm *u = ctx;
	int64_t type, piece, total;
	size_t hdr;

	if (utm_parse(d, n, &type, &piece, &total, &hdr, err) == -1)
		return -1;
	if (p->cfg->verbose)
		peer_trace(p, "< ut_metadata %s %lld", msg_name(type),
		    (long long)piece);
	switch (type) {
	case UTM_REQUEST:
		return on_request(u, p, (uint32_t)piece) == -1 ?
		    bt_err(err, "%s", peer_reason(p)) : 0;
	case UTM_DATA:
		return on_data(u, p, (uint32_t)piece, total, d + hdr, n - hdr,
		    err);
	case UTM_REJECT:
		if (u->fetch && u->buf != NULL && !u->done)
			return bt_err(err, "the peer rejected piece %lld of "
			    "the metadata", (long long)piece);
		return 0;
	default:
		return 0;	/* BEP 9: unknown types are ignored */
	}
}

void
utm_init(struct utm *u, const unsigned char *info, size_t info_len,
    const unsigned char *fetch_hash)
{
	memset(u, 0, sizeof(*u));
	u->info = info;
	u->info_len = info_len;
	if (fetch_hash != NULL) {
		u->fetch = 1;
		memcpy(u->info_hash, fetch_hash, 20);
	}
	u->ext.name = UTM_NAME;
	u->ext.ctx = u;
	u->ext.on_handshake = on_handshake;
	u->ext.on_message = on_message;
}

void
utm_free(struct utm *u)
{
	free(u->buf);
	free(u->got);
	u->buf = u->got = NULL;
}
