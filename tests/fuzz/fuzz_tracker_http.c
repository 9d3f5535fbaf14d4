/*
 * fuzz_tracker_http.c: HTTP tracker replies (announce and scrape) on
 * hostile bytes, checking what the callers rely on: a refusal has a
 * NUL-terminated reason, peers are within the limit and printable, and
 * the safe text of any reason never holds a control byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "tracker.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_text(const char *s, size_t n)
{
	char out[TRK_SAFE_TEXTLEN];
	size_t i;

	trk_safe_text(out, sizeof(out), s, n);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			abort();
	if (i >= sizeof(out))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const unsigned char ih[20] = "aaaaaaaaaaaaaaaaaaaa";
	struct trk_reply r;
	struct trk_scrape s;
	char err[BT_ERRLEN], p[TRK_PEER_STRLEN];
	size_t i;

	if (trk_http_parse(d, n, &r, err) == 0) {
		if (r.npeers > TRK_MAX_PEERS)
			abort();
		if (r.failure != NULL) {
			if (strlen(r.failure) > r.failure_len)
				abort();
			check_text(r.failure, r.failure_len);
		}
		if (r.warning != NULL)
			check_text(r.warning, r.warning_len);
		if (r.interval != -1 && (r.interval < TRK_MIN_INTERVAL ||
		    r.interval > TRK_MAX_INTERVAL))
			abort();
		for (i = 0; i < r.npeers; i++) {
			trk_peer_str(&r.peers[i], p);
			if (strlen(p) >= sizeof(p) || r.peers[i].port == 0)
				abort();
		}
		i = trk_peers_dedup(r.peers, r.npeers);
		if (i > r.npeers)
			abort();
		trk_reply_free(&r);
	} else if (strlen(err) == 0)
		abort();
	if (trk_http_parse_scrape(d, n, ih, &s, err) == 0)
		trk_scrape_free(&s);
	check_text((const char *)d, n);
	return 0;
}
