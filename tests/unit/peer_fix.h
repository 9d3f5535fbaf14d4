/*
 * peer_fix.h: a scripted peer against one real peer core, for the
 * extension tests (test_ext.c: BEP 10, 9, 11; test_fast.c: BEP 6, 5).
 * A fake host over a 3-piece torrent and an info dictionary, a fake
 * clock, and helpers to feed the core wire messages and read what it
 * sends. Static inline: each test file uses part of it.
 */
#ifndef PEER_FIX_H
#define PEER_FIX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "bt.h"
#include "peer.h"
#include "t.h"
#include "wire.h"

#define S	PEER_SEC
/* 3 pieces of 32 KiB, the last 20000 bytes. */
#define PLEN	32768
#define TOTAL	(2 * PLEN + 20000)
/* The info dictionary served and fetched: two metadata pieces. */
#define INFO_LEN	20000

static struct metainfo mi;
static unsigned char data[TOTAL], hashes[60], info[INFO_LEN];
static struct peer_host host;
static struct peer_cfg cfg;
static struct peer P;
static char log_[16384];
static unsigned char had[3];
static int claimed;

static inline void
logs(const char *s)
{
	size_t n = strlen(log_);

	snprintf(log_ + n, sizeof(log_) - n, "%s;", s);
}

static inline void
f_event(void *ctx, const char *line)
{
	(void)ctx;
	logs(line);
}

static inline int
f_have(void *ctx, uint32_t i)
{
	(void)ctx;
	return had[i];
}

static inline int
f_complete(void *ctx)
{
	(void)ctx;
	return had[0] && had[1] && had[2];
}

static inline int64_t
f_claim(void *ctx, const unsigned char *has, int64_t *eg)
{
	int i;

	(void)ctx;
	*eg = -1;
	for (i = 0; i < 3; i++)
		if (!had[i] && (has[0] & (0x80 >> i)) && !(claimed & 1 << i)) {
			claimed |= 1 << i;
			return i;
		}
	return -2;
}

static inline void
f_release(void *ctx, uint32_t i)
{
	(void)ctx;
	claimed &= ~(1 << i);
}

static inline int
f_store(void *ctx, uint32_t i, const unsigned char *b, size_t n, char *err)
{
	char l[32];

	(void)ctx;
	(void)b;
	(void)n;
	(void)err;
	snprintf(l, sizeof(l), "store %u", i);
	logs(l);
	had[i] = 1;
	return 1;
}

static inline int
f_read(void *ctx, uint32_t i, uint32_t begin, uint32_t len,
    unsigned char *out, char *err)
{
	(void)ctx;
	(void)err;
	memcpy(out, data + (size_t)i * PLEN + begin, len);
	return 1;
}

static inline void
setup(enum peer_mode mode)
{
	size_t k;

	for (k = 0; k < TOTAL; k++)
		data[k] = (unsigned char)(k * 13 + k / 777);
	for (k = 0; k < 3; k++)
		SHA1(data + k * PLEN, k < 2 ? PLEN : 20000, hashes + 20 * k);
	/* An info dictionary: "d4:name<n>:xxx...e", INFO_LEN bytes. */
	memset(info, 'x', sizeof(info));
	memcpy(info, "d4:name19987:", 13);
	info[INFO_LEN - 1] = 'e';
	memset(&mi, 0, sizeof(mi));
	SHA1(info, INFO_LEN, mi.info_hash);
	mi.piece_length = PLEN;
	mi.npieces = 3;
	mi.pieces = hashes;
	mi.total_length = TOTAL;
	mi.info = info;
	mi.info_len = INFO_LEN;
	memset(had, 0, sizeof(had));
	claimed = 0;
	log_[0] = '\0';
	memset(&host, 0, sizeof(host));
	host.event = f_event;
	host.have = f_have;
	host.complete = f_complete;
	host.can_serve = f_have;
	host.read = f_read;
	if (mode == PEER_FETCH || mode == PEER_SERVE) {
		host.claim = f_claim;
		host.release = f_release;
		host.store = f_store;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = mode;
	cfg.mi = &mi;
	memcpy(cfg.peer_id, "-BP0100-abcdefghijkl", 20);
	cfg.queue = 8;
	cfg.timeout = 10 * S;
}

/* Everything queued to send, taken (all sent). */
static inline size_t
take(unsigned char *out, size_t max, int64_t now)
{
	const unsigned char *b;
	size_t n;

	peer_fill(&P);
	peer_output(&P, &b, &n);
	if (n > max)
		n = max;
	memcpy(out, b, n);
	peer_sent(&P, n, now);
	return n;
}

/* Whether the sent bytes hold a message of type t (payload p of len). */
static inline int
has_msg(const unsigned char *out, size_t n, int t, const void *pl,
    size_t len)
{
	size_t k;

	for (k = 0; k + 5 + len <= n; k++)
		if (out[k] == 0 && out[k + 1] == 0 && out[k + 2] == 0 &&
		    out[k + 3] == len + 1 && out[k + 4] == t &&
		    (len == 0 || memcmp(out + k + 5, pl, len) == 0))
			return 1;
	return 0;
}

static inline void
feed(const void *b, size_t n, int64_t now)
{
	peer_input(&P, b, n, now);
}

static inline void
handshake(unsigned char res5, unsigned char res7, int64_t now)
{
	unsigned char hs[WIRE_HANDSHAKE_LEN], res[8] = { 0 };

	res[5] = res5;
	res[7] = res7;
	wire_handshake(hs, res, mi.info_hash,
	    (const unsigned char *)"-LT2080-xxxxxxxxxxxx");
	feed(hs, sizeof(hs), now);
}

static inline void
simple(int type, int64_t now)
{
	unsigned char m[5];

	feed(m, wire_simple(m, type), now);
}

static inline void
msg_index(int type, uint32_t i, int64_t now)
{
	unsigned char m[9] = { 0, 0, 0, 5, (unsigned char)type, 0, 0, 0, 0 };

	m[8] = (unsigned char)i;
	feed(m, sizeof(m), now);
}

#endif
