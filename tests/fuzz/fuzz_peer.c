/*
 * fuzz_peer.c: the peer core (lib/peer.h) fed hostile peer byte streams
 * under a fake clock. The first 4 bytes pick the mode, the torrent's
 * shape and the options (fast, one BEP 10 extension, a valid handshake
 * sent first); then each chunk is a length byte, a clock step byte and
 * that many bytes of input. Pieces are all zeros, so a fuzzer that finds
 * zero blocks reaches the store path. Checks the core's invariants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "fuzz_host.h"
#include "peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Zero-copy: even pieces go from "storage", odd ones are read. */
static int
f_sendable(void *ctx, uint32_t i, uint32_t b, uint32_t len, char *err)
{
	struct fz *f = ctx;

	(void)err;
	if (i >= f->n || len == 0 || (uint64_t)b + len > (16384u << 3))
		abort();
	return i % 2 == 0;
}

static void
f_event(void *ctx, const char *line)
{
	(void)ctx;
	if (strlen(line) == 0)
		abort();
}

static int
x_msg(void *ctx, struct peer *p, const unsigned char *d, size_t n,
    char *err)
{
	(void)ctx;
	(void)err;
	return peer_ext_send(p, "ut_x", d, n > 64 ? 64 : n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const struct peer_ext x = { "ut_x", NULL, NULL, x_msg, NULL };
	static const struct peer_ext *const xs[] = { &x };
	unsigned char *hashes, hs[WIRE_HANDSHAKE_LEN], res[8] = { 0 };
	struct metainfo mi;
	struct peer_host h;
	struct peer_cfg cfg;
	struct peer p;
	struct fz f;
	const unsigned char *ob;
	struct peer_fileref ref;
	uint64_t u;
	size_t on, off = 4, len, k;
	int64_t now = 0;

	if (n < 4)
		return 0;
	memset(&mi, 0, sizeof(mi));
	if ((hashes = fz_torrent(&mi, &f, d[1], d[2], d[3])) == NULL)
		return 0;
	f.had = d[0] & 0x40 ? 0x5555555555555555ull : 0;
	f.had &= f.n == 64 ? ~0ull : (1ull << f.n) - 1;
	memset(&h, 0, sizeof(h));
	h.ctx = &f;
	h.event = f_event;
	h.read = f_read;
	if (d[1] & 0x40)
		h.sendable = f_sendable;
	h.store = f_store;
	h.can_serve = f_have;
	if ((d[0] & 3) != PEER_BITFIELD && (d[0] & 3) != PEER_PIECE) {
		h.claim = f_claim;
		h.release = f_release;
		h.have = f_have;
		h.complete = f_complete;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = d[0] & 3;
	cfg.mi = &mi;
	cfg.queue = 1 + d[2] % 200;
	cfg.timeout = 5 * PEER_SEC;
	cfg.piece = d[3] % mi.npieces;
	cfg.fast = d[0] >> 2 & 1;
	if (d[0] & 8) {
		cfg.ext = xs;
		cfg.next = 1;
	}
	if (d[0] & 0x20) {	/* BEP 5: our port out, the peer's an event */
		cfg.dht_port = 6881;
		memcpy(cfg.yourip, "\x7f\0\0\x01", 4);
		cfg.yourip_len = 4;
	}
	if (peer_init(&p, &cfg, &h, NULL, now) == 0) {
		if (d[0] & 0x10) {
			res[5] = 0x10;
			res[7] = d[0] & 0x20 ? 0x05 : 0x04;
			wire_handshake(hs, res, mi.info_hash,
			    (const unsigned char *)"-LT2080-xxxxxxxxxxxx");
			peer_input(&p, hs, sizeof(hs), now);
		}
		while (off + 2 <= n && peer_done(&p) < 0) {
			/* 255: a read of more than a block (scatter reads). */
			len = d[off] == 255 ? 40000 : d[off] * 8u + 1;
			now += (int64_t)d[off + 1] * d[off + 1] * 10000;
			off += 2;
			if (len > n - off)
				len = n - off;
			if (peer_input(&p, d + off, len, now) == -1)
				break;
			off += len;
			if (d[0] & 0x20)
				peer_have(&p, d[off - 1] % mi.npieces);
			peer_tick(&p, now);
			peer_fill(&p);
			if (p.outstanding > (uint32_t)cfg.queue ||
			    p.nact > p.maxact)
				abort();
			/* Scatter reads: inside a block, nothing is framed. */
			if (p.rx.direct && (p.rlen != 0 ||
			    p.rx.got >= p.rx.length))
				abort();
			peer_output(&p, &ob, &on);
			peer_sent(&p, on, now);
			/* Half of a block from storage, then the rest. */
			if (peer_output_file(&p, &ref)) {
				u = peer_unsent(&p);
				k = ref.len / 2 + 1;
				if (ref.len == 0 || k > u)
					abort();
				peer_sent_file(&p, k, now);
				if (peer_unsent(&p) != u - k)
					abort();
			}
		}
		if (peer_done(&p) > 0 && peer_reason(&p)[0] == '\0')
			abort();
		if (d[0] & 0x80)
			peer_eof(&p, now);
	}
	peer_free(&p);
	free(hashes);
	return 0;
}
