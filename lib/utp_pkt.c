/*
 * utp_pkt.c: the uTP packet header (BEP 29), parsed and written.
 *
 *	byte 0      type << 4 | version (1)
 *	byte 1      first extension type, 0 for none
 *	bytes 2-3   connection id
 *	bytes 4-7   timestamp, microseconds
 *	bytes 8-11  timestamp difference, microseconds
 *	bytes 12-15 advertised receive window, bytes
 *	bytes 16-17 sequence number
 *	bytes 18-19 ack number
 *	then each extension: next type, length, bytes; then the payload.
 */
#include <stdint.h>
#include <string.h>

#include "bt.h"
#include "utp.h"
#include "utp_int.h"

#define EXT_SACK	1

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

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

int
utp_parse(const void *buf, size_t n, struct utp_hdr *h, char *err)
{
	const unsigned char *p = buf;
	size_t off;
	int ext;

	if (n < UTP_HDR_LEN)
		return bt_err(err, "uTP datagram of %zu bytes is shorter "
		    "than a header", n);
	if ((p[0] & 15) != 1)
		return bt_err(err, "uTP version %d, not 1", p[0] & 15);
	h->type = p[0] >> 4;
	if (h->type > UTP_ST_SYN)
		return bt_err(err, "unknown uTP packet type %d", h->type);
	h->conn_id = (uint16_t)(p[2] << 8 | p[3]);
	h->ts = get32(p + 4);
	h->tsdiff = get32(p + 8);
	h->wnd = get32(p + 12);
	h->seq = (uint16_t)(p[16] << 8 | p[17]);
	h->ack = (uint16_t)(p[18] << 8 | p[19]);
	h->sack = NULL;
	h->sack_len = 0;
	off = UTP_HDR_LEN;
	ext = p[1];
	while (ext != 0) {
		size_t len;

		if (n - off < 2)
			return bt_err(err, "uTP extension header past the end");
		len = p[off + 1];
		if (n - off - 2 < len)
			return bt_err(err, "uTP extension %d of %zu bytes past "
			    "the end", ext, len);
		if (ext == EXT_SACK) {
			/*
			 * BEP 29 says a multiple of 4 bytes, but libtorrent
			 * sends 2 or 3: any non-empty mask is read.
			 */
			if (len == 0)
				return bt_err(err, "uTP empty selective ack");
			h->sack = p + off + 2;
			h->sack_len = len;
		}
		/* Others (libtorrent's close reason, 3) are skipped. */
		ext = p[off];
		off += 2 + len;
	}
	h->data = p + off;
	h->len = n - off;
	if (h->len > 0 && h->type != UTP_ST_DATA)
		return bt_err(err, "uTP %s packet with a payload",
		    utp_type_name(h->type));
	return 0;
}

size_t
utp_hdr_write(unsigned char *out, int type, uint16_t conn_id, uint32_t ts,
    uint32_t tsdiff, uint32_t wnd, uint16_t seq, uint16_t ack,
    const unsigned char *sack, size_t sack_len)
{
	out[0] = (unsigned char)(type << 4 | 1);
	out[1] = sack_len > 0 ? EXT_SACK : 0;
	put16(out + 2, conn_id);
	put32(out + 4, ts);
	put32(out + 8, tsdiff);
	put32(out + 12, wnd);
	put16(out + 16, seq);
	put16(out + 18, ack);
	if (sack_len == 0)
		return UTP_HDR_LEN;
	out[20] = 0;
	out[21] = (unsigned char)sack_len;
	memcpy(out + 22, sack, sack_len);
	return UTP_HDR_LEN + 2 + sack_len;
}

size_t
utp_reset_reply(const struct utp_hdr *h, uint64_t now,
    unsigned char out[UTP_HDR_LEN])
{
	if (h->type == UTP_ST_RESET)
		return 0;
	/*
	 * The id the sender uses is its send id; libutp and libtorrent
	 * match a RESET against both ids of a connection, so echo it.
	 */
	return utp_hdr_write(out, UTP_ST_RESET, h->conn_id, (uint32_t)now, 0,
	    0, 0, h->seq, NULL, 0);
}

const char *
utp_type_name(int type)
{
	static const char *const names[] = { "DATA", "FIN", "STATE", "RESET",
	    "SYN" };

	return type >= 0 && type <= UTP_ST_SYN ? names[type] : "unknown";
}
