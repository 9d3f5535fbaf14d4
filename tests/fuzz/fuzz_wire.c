/*
 * fuzz_wire.c: the peer wire parsers on hostile bytes. The first 6 bytes
 * pick the torrent's shape (piece count, piece length); the rest is a
 * stream parsed as a handshake then messages, checking every invariant
 * the callers rely on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct wire_limits l;
	struct wire_msg m;
	struct wire_hs hs;
	char err[BT_ERRLEN];
	uint32_t np, plen;
	size_t need, off;
	int r;

	if (n < 6)
		return 0;
	np = ((uint32_t)d[0] << 8 | d[1]) % (1u << 16);
	plen = 16384u << (d[2] % 6);
	if (np == 0)
		np = 1;
	wire_limits_set(&l, np, plen, (uint64_t)(np - 1) * plen +
	    1 + (d[3] << 8 | d[4]) % plen);
	off = 6;
	if (d[5] & 1) {
		r = wire_handshake_parse(d + off, n - off, NULL, &hs, err);
		if (r == -1 || r == 0)
			return 0;
		if (r != WIRE_HANDSHAKE_LEN)
			abort();
		off += (size_t)r;
	}
	while (off < n) {
		r = wire_parse(&l, d + off, n - off, &m, &need, err);
		if (r == -1)
			break;
		if (r == 0) {
			if (need <= n - off || need > 4 + (size_t)l.maxmsg)
				abort();
			break;
		}
		if ((size_t)r > n - off || (size_t)r > 4 + (size_t)l.maxmsg)
			abort();
		if (m.type == WIRE_PIECE || m.type == WIRE_REQUEST ||
		    m.type == WIRE_CANCEL) {
			if (m.index >= np || m.length == 0 ||
			    m.length > WIRE_BLOCK ||
			    (uint64_t)m.begin + m.length >
			    wire_piece_size(&l, m.index))
				abort();
		}
		if (m.type == WIRE_HAVE && m.index >= np)
			abort();
		if (m.type == WIRE_BITFIELD && m.len != (np + 7) / 8)
			abort();
		off += (size_t)r;
	}
	return 0;
}
