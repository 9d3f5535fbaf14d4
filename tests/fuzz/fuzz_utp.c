/*
 * fuzz_utp.c: a uTP connection fed hostile datagrams. The input is a
 * sequence of records: a control byte (low bits advance the clock,
 * others pick a write, a read, a close), a length byte and that many
 * bytes of datagram. Byte 0 picks an outgoing or an accepted connection
 * (whose SYN's id the datagrams then mostly carry, so they reach the
 * state machine). After every step every datagram out must parse and
 * fit UTP_MTU, and the deadline must not lie in the past after output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "utp.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
drain(struct utp_conn *c, uint64_t now)
{
	unsigned char out[UTP_MTU];
	struct utp_hdr h;
	char err[BT_ERRLEN];
	size_t n;
	int k = 0;

	while ((n = utp_output(c, now, out)) > 0) {
		if (n > UTP_MTU || utp_parse(out, n, &h, err) == -1)
			abort();
		if (++k > 4096)
			abort();	/* output must run dry */
	}
	if (utp_deadline(c) < now)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const unsigned char junk[4096];
	unsigned char dg[UTP_HDR_LEN + 255], buf[4096];
	struct utp_conn *c;
	struct utp_hdr syn;
	uint64_t now = 1000000;
	size_t off = 1, len;

	if (n < 1)
		return 0;
	if (d[0] & 1) {
		c = utp_connect(0x1234, now);
	} else {
		memset(&syn, 0, sizeof(syn));
		syn.type = UTP_ST_SYN;
		syn.conn_id = 0x1233;
		syn.seq = 0xfff0;
		syn.wnd = 1 << 20;
		c = utp_accept(&syn, 0xffe0, now);
	}
	if (c == NULL)
		return 0;
	drain(c, now);
	while (off + 2 <= n) {
		uint8_t ctl = d[off];

		len = d[off + 1];
		off += 2;
		if (len > n - off)
			len = n - off;
		now += (uint64_t)(ctl & 15) * (ctl & 16 ? 400000 : 1000);
		switch (ctl >> 5) {
		case 0:
			utp_write(c, junk, (size_t)len * 16);
			break;
		case 1:
			utp_read(c, buf, sizeof(buf));
			break;
		case 2:
			utp_close(c);
			break;
		default:
			/* Mostly our id, so the packet is not just ignored. */
			if (len >= 4 && (ctl >> 5) >= 5) {
				memcpy(dg, d + off, len);
				dg[2] = 0x12;
				dg[3] = 0x34;
				utp_input(c, dg, len, now);
			} else
				utp_input(c, d + off, len, now);
			off += len;
			break;
		}
		drain(c, now);
		if (utp_state(c) == UTP_TIMEDOUT || utp_state(c) == UTP_RESET)
			break;
	}
	utp_free(c);
	return 0;
}
