/*
 * fuzz_ext.c: the peer core's extensions fed hostile peer byte streams
 * under a fake clock: the extended handshake (BEP 10), ut_metadata
 * fetching and serving (BEP 9), ut_pex in and out (BEP 11), the fast
 * extension's messages (BEP 6); and the ut_metadata and ut_pex decoders
 * on the raw input. The first 3 bytes pick the mode (metadata fetch,
 * fetch, serve), the fast extension, whether a valid handshake and an
 * extension handshake naming our extensions come first, and the
 * metadata_size it claims; then each chunk is a length byte, a clock
 * step byte and that many bytes of input. Checks the core's invariants.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "bt.h"
#include "peer.h"
#include "ut_metadata.h"
#include "ut_pex.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The info dictionary served, 40000 bytes: three metadata pieces. */
#define INFO_LEN	40000

static unsigned char info[INFO_LEN];

static int
f_have(void *ctx, uint32_t i)
{
	(void)ctx;
	return i % 2 == 0;
}

static int
f_read(void *ctx, uint32_t i, uint32_t b, uint32_t len, unsigned char *out,
    char *err)
{
	(void)ctx;
	(void)i;
	(void)b;
	(void)err;
	memset(out, 0, len);
	return 1;
}

static int64_t
f_claim(void *ctx, const unsigned char *has, int64_t *eg)
{
	(void)ctx;
	(void)has;
	*eg = -1;
	return -2;
}

static void
f_event(void *ctx, const char *line)
{
	(void)ctx;
	if (strlen(line) == 0)
		abort();
}

static int
f_list(void *ctx, struct pex_peer *out, int max)
{
	const uint8_t *d = ctx;
	int k, n = d[1] % 80;

	for (k = 0; k < n && k < max; k++) {
		memset(&out[k], 0, sizeof(out[k]));
		out[k].ip[0] = 10;
		out[k].ip[3] = (unsigned char)(k * d[2]);
		out[k].port = (uint16_t)(1 + k);
		out[k].v6 = k % 7 == 3;
	}
	return k;
}

static void
f_pex(void *ctx, const struct pex_peer *a, int added)
{
	char s[64];

	(void)ctx;
	(void)added;
	pex_addr(a, s, sizeof(s));
	if (s[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static unsigned char hashes[20 * 64], ih[20];
	unsigned char hs[WIRE_HANDSHAKE_LEN], res[8] = { 0 }, h[96];
	const struct peer_ext *list[2];
	struct metainfo mi, bare;
	struct peer_host host;
	struct peer_cfg cfg;
	struct peer p;
	struct utm u;
	struct pex x;
	const unsigned char *ob;
	char err[BT_ERRLEN];
	int64_t now = 0, t, pc, tot;
	size_t on, off = 3, len, hl;
	int mode;

	if (n < 3)
		return 0;
	/* The decoders alone, on everything. */
	utm_parse(d, n, &t, &pc, &tot, &hl, err);
	pex_parse(d, n, PEX_MAX_IN, f_pex, NULL, err);

	if (info[0] != 'd') {
		memset(info, 'x', sizeof(info));
		memcpy(info, "d4:name39987:", 13);
		info[INFO_LEN - 1] = 'e';
		SHA1(info, INFO_LEN, ih);
	}
	memset(&mi, 0, sizeof(mi));
	memcpy(mi.info_hash, ih, 20);
	mi.npieces = 64;
	mi.piece_length = 16384;
	mi.total_length = 64 * 16384;
	mi.pieces = hashes;
	mi.info = info;
	mi.info_len = INFO_LEN;
	bare = mi;
	bare.npieces = 0;
	bare.info = NULL;
	bare.info_len = 0;
	memset(&host, 0, sizeof(host));
	host.event = f_event;
	memset(&cfg, 0, sizeof(cfg));
	mode = d[0] % 3;
	cfg.mode = mode == 0 ? PEER_METADATA : mode == 1 ? PEER_FETCH :
	    PEER_SERVE;
	cfg.mi = mode == 0 ? &bare : &mi;
	cfg.queue = 4;
	cfg.timeout = 5 * PEER_SEC;
	cfg.fast = d[0] >> 2 & 1;
	memcpy(cfg.yourip, "\x7f\x00\x00\x01", 4);
	cfg.yourip_len = d[0] & 0x40 ? 4 : 0;
	if (mode != 0) {
		host.have = f_have;
		host.can_serve = f_have;
		host.read = f_read;
		host.claim = f_claim;
	}
	utm_init(&u, mode == 0 ? NULL : info, mode == 0 ? 0 : INFO_LEN,
	    mode == 0 ? mi.info_hash : NULL);
	pex_init(&x, d[0] & 0x20 ? f_list : NULL, (void *)d);
	list[0] = &u.ext;
	list[1] = &x.ext;
	cfg.ext = list;
	cfg.next = mode == 0 ? 1 : 2;
	if (mode != 0)
		cfg.metadata_size = INFO_LEN;
	if (peer_init(&p, &cfg, &host, NULL, now) == 0) {
		if (d[0] & 0x08) {
			res[5] = 0x10;
			res[7] = 0x04;
			wire_handshake(hs, res, mi.info_hash,
			    (const unsigned char *)"-LT2080-xxxxxxxxxxxx");
			peer_input(&p, hs, sizeof(hs), now);
		}
		if (d[0] & 0x10) {
			/* An extension handshake: ut_metadata 1, ut_pex 2. */
			hl = (size_t)snprintf((char *)h + 6, sizeof(h) - 6,
			    "d1:md11:ut_metadatai1e6:ut_pexi2ee"
			    "13:metadata_sizei%de" "e", d[1] * 997 + d[2]);
			h[0] = h[1] = 0;
			h[2] = (unsigned char)((hl + 2) >> 8);
			h[3] = (unsigned char)(hl + 2);
			h[4] = 20;
			h[5] = 0;
			peer_input(&p, h, hl + 6, now);
		}
		while (off + 2 <= n && peer_done(&p) < 0) {
			len = d[off] * 8u + 1;
			now += (int64_t)d[off + 1] * d[off + 1] * 20000;
			off += 2;
			if (len > n - off)
				len = n - off;
			if (peer_input(&p, d + off, len, now) == -1)
				break;
			off += len;
			peer_tick(&p, now);
			peer_fill(&p);
			peer_output(&p, &ob, &on);
			peer_sent(&p, on, now);
			if (x.learned > PEX_MAX_LEARNED ||
			    x.nsent > PEX_MAX_KNOWN ||
			    u.inflight > UTM_INFLIGHT)
				abort();
		}
		if (peer_done(&p) > 0 && peer_reason(&p)[0] == '\0')
			abort();
		/* Metadata accepted only when its SHA-1 is the info-hash. */
		if (u.done) {
			unsigned char md[20];

			SHA1(u.buf, u.size, md);
			if (memcmp(md, mi.info_hash, 20) != 0)
				abort();
		}
	}
	peer_free(&p);
	utm_free(&u);
	return 0;
}
