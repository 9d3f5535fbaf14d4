/* wire.c: BEP 3 peer wire framing, sans I/O (wire.h). */
#include <string.h>

#include "bt.h"
#include "wire.h"

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

void
wire_limits_set(struct wire_limits *l, uint32_t npieces,
    uint64_t piece_length, uint64_t total_length)
{
	uint32_t bf = (npieces + 7) / 8;

	l->npieces = npieces;
	l->piece_length = piece_length;
	l->total_length = total_length;
	l->bitfield_len = bf;
	l->loose = 0;
	l->maxmsg = 1 + bf > 9 + WIRE_BLOCK ? 1 + bf : 9 + WIRE_BLOCK;
}

void
wire_limits_init(struct wire_limits *l, const struct metainfo *mi)
{
	wire_limits_set(l, mi->npieces, mi->piece_length, mi->total_length);
}

uint32_t
wire_piece_size(const struct wire_limits *l, uint32_t i)
{
	uint64_t off;

	if (i >= l->npieces || l->piece_length == 0)
		return 0;
	off = (uint64_t)i * l->piece_length;
	if (off >= l->total_length)
		return 0;
	if (l->total_length - off < l->piece_length)
		return (uint32_t)(l->total_length - off);
	return (uint32_t)l->piece_length;
}

void
wire_handshake(unsigned char out[WIRE_HANDSHAKE_LEN],
    const unsigned char reserved[8], const unsigned char info_hash[20],
    const unsigned char peer_id[20])
{
	out[0] = WIRE_PSTRLEN;
	memcpy(out + 1, WIRE_PSTR, WIRE_PSTRLEN);
	memcpy(out + 20, reserved, 8);
	memcpy(out + 28, info_hash, 20);
	memcpy(out + 48, peer_id, 20);
}

int
wire_handshake_parse(const void *buf, size_t len, const unsigned char *want,
    struct wire_hs *hs, char *err)
{
	const unsigned char *p = buf;
	size_t n = len < 20 ? len : 20;

	if (n > 0 && p[0] != WIRE_PSTRLEN)
		return bt_err(err, "handshake: protocol string length %u, "
		    "not 19", p[0]);
	if (n > 1 && memcmp(p + 1, WIRE_PSTR, n - 1) != 0)
		return bt_err(err, "handshake: not \"BitTorrent protocol\"");
	if (len < WIRE_HANDSHAKE_LEN)
		return 0;
	memcpy(hs->reserved, p + 20, 8);
	memcpy(hs->info_hash, p + 28, 20);
	memcpy(hs->peer_id, p + 48, 20);
	if (want != NULL && memcmp(want, hs->info_hash, 20) != 0)
		return bt_err(err, "handshake: info-hash is not this torrent's");
	return WIRE_HANDSHAKE_LEN;
}

/* Exact payload size (after the id) of fixed-size messages; -1 varies. */
static long
fixed_size(int type)
{
	switch (type) {
	case WIRE_CHOKE:
	case WIRE_UNCHOKE:
	case WIRE_INTERESTED:
	case WIRE_NOT_INTERESTED:
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
		return 0;
	case WIRE_HAVE:
	case WIRE_SUGGEST:
	case WIRE_ALLOWED_FAST:
		return 4;
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		return 12;
	case WIRE_PORT:
		return 2;
	default:
		return -1;
	}
}

static int
check_range(const struct wire_limits *l, const struct wire_msg *m,
    char *err)
{
	uint32_t ps = wire_piece_size(l, m->index);

	if (m->index >= l->npieces)
		return bt_err(err, "%s: piece index %u out of range (%u pieces)",
		    wire_name(m->type), m->index, l->npieces);
	if (m->length == 0 || m->length > WIRE_BLOCK)
		return bt_err(err, "%s: block length %u not in 1..%u",
		    wire_name(m->type), m->length, WIRE_BLOCK);
	if ((uint64_t)m->begin + m->length > ps)
		return bt_err(err, "%s: block %u+%u past the end of piece %u "
		    "(%u bytes)", wire_name(m->type), m->begin, m->length,
		    m->index, ps);
	return 0;
}

int
wire_parse(const struct wire_limits *l, const void *buf, size_t len,
    struct wire_msg *m, size_t *need, char *err)
{
	const unsigned char *p = buf;
	uint32_t n;
	long fs;

	if (len < 4) {
		*need = 4;
		return 0;
	}
	n = get32(p);
	if (n > l->maxmsg)
		return bt_err(err, "message length %u over the cap of %u",
		    n, l->maxmsg);
	if (len < 4 + (size_t)n) {
		*need = 4 + (size_t)n;
		return 0;
	}
	memset(m, 0, sizeof(*m));
	if (n == 0) {
		m->type = WIRE_KEEPALIVE;
		return 4;
	}
	m->type = p[4];
	m->len = n - 1;
	m->data = p + 5;
	fs = fixed_size(m->type);
	if (fs >= 0 && m->len != (uint32_t)fs)
		return bt_err(err, "%s: payload of %u bytes, not %ld",
		    wire_name(m->type), m->len, fs);
	switch (m->type) {
	case WIRE_HAVE:
	case WIRE_SUGGEST:
	case WIRE_ALLOWED_FAST:
		m->index = get32(p + 5);
		if (m->index >= l->npieces)
			return bt_err(err, "%s: piece index %u out of range "
			    "(%u pieces)", wire_name(m->type), m->index,
			    l->npieces);
		break;
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		m->index = get32(p + 5);
		m->begin = get32(p + 9);
		m->length = get32(p + 13);
		if (check_range(l, m, err) == -1)
			return -1;
		break;
	case WIRE_PIECE:
		if (m->len < 8)
			return bt_err(err, "piece: payload of %u bytes, under 8",
			    m->len);
		m->index = get32(p + 5);
		m->begin = get32(p + 9);
		m->length = m->len - 8;
		m->data = p + 13;
		if (check_range(l, m, err) == -1)
			return -1;
		break;
	case WIRE_BITFIELD:
		if (l->loose && m->len >= 1 && m->len <= l->bitfield_len)
			break;
		if (m->len != l->bitfield_len)
			return bt_err(err, "bitfield: %u bytes, not %u for %u "
			    "pieces", m->len, l->bitfield_len, l->npieces);
		if (l->npieces % 8 != 0 &&
		    (p[4 + n - 1] & (0xffu >> (l->npieces % 8))) != 0)
			return bt_err(err, "bitfield: spare bits set");
		break;
	case WIRE_PORT:
		m->port = (uint16_t)(p[5] << 8 | p[6]);
		break;
	default:
		break;
	}
	return (int)(4 + n);
}

size_t
wire_keepalive(unsigned char out[4])
{
	put32(out, 0);
	return 4;
}

size_t
wire_simple(unsigned char out[5], int type)
{
	put32(out, 1);
	out[4] = (unsigned char)type;
	return 5;
}

size_t
wire_have(unsigned char out[WIRE_HAVE_LEN], uint32_t index)
{
	put32(out, 5);
	out[4] = WIRE_HAVE;
	put32(out + 5, index);
	return WIRE_HAVE_LEN;
}

size_t
wire_request(unsigned char out[WIRE_REQUEST_LEN], int type, uint32_t index,
    uint32_t begin, uint32_t length)
{
	put32(out, 13);
	out[4] = (unsigned char)type;
	put32(out + 5, index);
	put32(out + 9, begin);
	put32(out + 13, length);
	return WIRE_REQUEST_LEN;
}

size_t
wire_piece_hdr(unsigned char out[WIRE_PIECE_HDR], uint32_t index,
    uint32_t begin, uint32_t blocklen)
{
	put32(out, 9 + blocklen);
	out[4] = WIRE_PIECE;
	put32(out + 5, index);
	put32(out + 9, begin);
	return WIRE_PIECE_HDR;
}

size_t
wire_bitfield_hdr(unsigned char out[5], uint32_t nbytes)
{
	put32(out, 1 + nbytes);
	out[4] = WIRE_BITFIELD;
	return 5;
}

const char *
wire_name(int type)
{
	switch (type) {
	case WIRE_CHOKE:		return "choke";
	case WIRE_UNCHOKE:		return "unchoke";
	case WIRE_INTERESTED:		return "interested";
	case WIRE_NOT_INTERESTED:	return "not-interested";
	case WIRE_HAVE:			return "have";
	case WIRE_BITFIELD:		return "bitfield";
	case WIRE_REQUEST:		return "request";
	case WIRE_PIECE:		return "piece";
	case WIRE_CANCEL:		return "cancel";
	case WIRE_PORT:			return "port";
	case WIRE_SUGGEST:		return "suggest";
	case WIRE_HAVE_ALL:		return "have-all";
	case WIRE_HAVE_NONE:		return "have-none";
	case WIRE_REJECT:		return "reject";
	case WIRE_ALLOWED_FAST:		return "allowed-fast";
	case WIRE_EXTENDED:		return "extended";
	case WIRE_KEEPALIVE:		return "keepalive";
	default:			return "unknown";
	}
}
