/*
 * utp_int.h: what utp.c and utp_pkt.c share, and nothing else uses.
 */
#ifndef BT_UTP_INT_H
#define BT_UTP_INT_H

#include <stddef.h>
#include <stdint.h>

/* Writes a header, with a selective ack when sack_len > 0; its length. */
size_t	utp_hdr_write(unsigned char *out, int type, uint16_t conn_id,
	    uint32_t ts, uint32_t tsdiff, uint32_t wnd, uint16_t seq,
	    uint16_t ack, const unsigned char *sack, size_t sack_len);
/* "DATA", "FIN", ... */
const char *utp_type_name(int type);

#endif
