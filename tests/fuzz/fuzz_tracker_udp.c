/*
 * fuzz_tracker_udp.c: UDP tracker replies (BEP 15) on hostile bytes. The
 * first byte picks the exchange (connect, announce over IPv4 or IPv6,
 * scrape) and the transaction id the client waits for is the one the
 * datagram carries when the second byte is even, so both the stray and
 * the matching paths are reached. Also the udp:// URL splitter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "tracker.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct trk_reply r;
	struct trk_scrape s;
	enum trk_udp_verdict vd;
	char err[BT_ERRLEN], host[256], port[8], *url;
	uint64_t cid;
	uint32_t tid = 0x12345678;
	size_t i;

	if (n < 2)
		return 0;
	if (n >= 10 && d[1] % 2 == 0)
		tid = (uint32_t)d[6] << 24 | (uint32_t)d[7] << 16 |
		    (uint32_t)d[8] << 8 | d[9];
	trk_reply_init(&r);
	switch (d[0] % 4) {
	case 0:
		vd = trk_udp_parse_connect(d + 2, n - 2, tid, &cid, &r, err);
		break;
	case 1:
	case 2:
		vd = trk_udp_parse_announce(d + 2, n - 2, tid, d[0] % 4 == 2,
		    &r, err);
		if (vd == TRK_UDP_OK && (r.npeers > TRK_MAX_PEERS ||
		    r.interval < TRK_MIN_INTERVAL ||
		    r.interval > TRK_MAX_INTERVAL))
			abort();
		for (i = 0; vd == TRK_UDP_OK && i < r.npeers; i++)
			if (r.peers[i].family != (d[0] % 4 == 2 ? 6 : 4))
				abort();
		break;
	default:
		vd = trk_udp_parse_scrape(d + 2, n - 2, tid, &s, err);
		if (vd == TRK_UDP_REFUSED && s.failure == NULL)
			abort();
		trk_scrape_free(&s);
		break;
	}
	if (vd == TRK_UDP_REFUSED && d[0] % 4 != 3 && r.failure == NULL)
		abort();
	trk_reply_free(&r);
	/* The same bytes as a URL. */
	if ((url = malloc(n + 7)) == NULL)
		return 0;
	memcpy(url, "udp://", 6);
	memcpy(url + 6, d, n);
	url[n + 6] = '\0';
	if (trk_udp_hostport(url, host, sizeof(host), port, sizeof(port),
	    err) == 0 && (strlen(host) == 0 || strlen(port) == 0))
		abort();
	free(url);
	return 0;
}
