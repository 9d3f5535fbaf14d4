/*
 * fuzz_mse.c: the MSE/PE handshake on hostile bytes. The first byte picks
 * the victim and the methods; the second how to cut the stream.
 *   mode 0: a receiver fed the bytes as they are;
 *   mode 1: an initiator, after its first message, fed the bytes;
 *   mode 2: a receiver fed a real initiator's stream XORed with the bytes
 *           (so the later states, past the DH and the sync, are reached);
 *   mode 3: an initiator fed a real receiver's stream XORed likewise.
 * Checks what callers rely on: used never exceeds what was given, a done
 * handshake has exactly one method, queued output stays in bounds, an
 * error says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "mse.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint8_t IH[20] = "fuzzfuzzfuzzfuzzfuzz";

static int
lookup(void *ctx, const uint8_t req2[20], uint8_t skey[20])
{
	uint8_t h[20];

	(void)ctx;
	mse_req2(IH, h);
	if (memcmp(h, req2, 20) != 0)
		return 0;
	memcpy(skey, IH, 20);
	return 1;
}

/* Feeds d in chunks of chunk bytes; checks the invariants. */
static void
drive(struct mse *m, const uint8_t *d, size_t n, size_t chunk)
{
	const uint8_t *p;
	uint8_t tail[64];
	char err[BT_ERRLEN];
	size_t off = 0, k, used, out;
	int r = 0;

	while (off < n) {
		k = n - off < chunk ? n - off : chunk;
		err[0] = '\0';
		r = mse_input(m, d + off, k, &used, err);
		if (used > k)
			abort();
		out = mse_output(m, &p);
		if (out > MSE_OUT_MAX)
			abort();
		mse_sent(m, out);
		off += used;
		if (r == -1) {
			if (err[0] == '\0')
				abort();
			return;
		}
		if (r == 1)
			break;
		if (used != k)
			abort();
	}
	if (r != 1)
		return;
	if (m->select != MSE_RC4 && m->select != MSE_PLAIN)
		abort();
	k = n - off < sizeof tail ? n - off : sizeof tail;
	memcpy(tail, d + off, k);
	mse_decrypt(m, tail, k);
	mse_encrypt(m, tail, k);
}

/* Fixed randomness, one key per role, short pads (so that more of the
 * fuzzer's bytes reach the later states). */
static void
mkrnd(uint8_t rnd[MSE_RAND_LEN], int receiver)
{
	memset(rnd, 0x5a, MSE_RAND_LEN);
	rnd[0] ^= (uint8_t)receiver;
	rnd[20] = 0;
	rnd[22] = 0;
}

/*
 * The stream a real peer sends to the other role (the receiver if
 * to_receiver), up to max bytes; the victim uses the same keys, so the
 * stream is valid for it until the fuzzer's bytes change it.
 */
static size_t
real_stream(int to_receiver, uint32_t methods, uint8_t *buf, size_t max)
{
	struct mse a, b;
	uint8_t rnd[MSE_RAND_LEN];
	char err[BT_ERRLEN];
	const uint8_t *p;
	size_t n, used, len = 0;
	int i;

	mkrnd(rnd, 0);
	if (mse_start_initiator(&a, IH, methods, (const uint8_t *)"hello", 5,
	    rnd, err) == -1)
		return 0;
	mkrnd(rnd, 1);
	if (mse_start_receiver(&b, methods, lookup, NULL, rnd, err) == -1)
		return 0;
	for (i = 0; i < 4; i++) {
		n = mse_output(&a, &p);
		if (to_receiver && len + n <= max) {
			memcpy(buf + len, p, n);
			len += n;
		}
		if (mse_input(&b, p, n, &used, err) == -1)
			return 0;
		mse_sent(&a, n);
		n = mse_output(&b, &p);
		if (!to_receiver && len + n <= max) {
			memcpy(buf + len, p, n);
			len += n;
		}
		if (mse_input(&a, p, n, &used, err) == -1)
			return 0;
		mse_sent(&b, n);
	}
	return len;
}

static uint8_t cache[2][4][4096];
static size_t cache_len[2][4];

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct mse m;
	uint8_t buf[4096];
	uint8_t rnd[MSE_RAND_LEN];
	char err[BT_ERRLEN];
	uint32_t methods;
	size_t chunk, len, i;
	int mode;

	if (n < 2)
		return 0;
	mode = d[0] & 3;
	methods = (d[0] >> 2) & 3;
	if (methods == 0)
		methods = MSE_RC4 | MSE_PLAIN;
	chunk = d[1] == 0 ? n : d[1];
	d += 2;
	n -= 2;
	mkrnd(rnd, mode == 0 || mode == 2);
	if (mode == 0 || mode == 2) {
		if (mse_start_receiver(&m, methods, lookup, NULL, rnd, err) == -1)
			abort();
	} else {
		if (mse_start_initiator(&m, IH, methods,
		    (const uint8_t *)"hello", 5, rnd, err) == -1)
			abort();
	}
	if (mode < 2) {
		drive(&m, d, n, chunk);
		return 0;
	}
	/* The real streams are the same every run: made once (DH is slow). */
	if (cache_len[mode - 2][methods] == 0)
		cache_len[mode - 2][methods] = real_stream(mode == 2, methods,
		    cache[mode - 2][methods], sizeof buf);
	len = cache_len[mode - 2][methods];
	memcpy(buf, cache[mode - 2][methods], sizeof buf);
	if (n > sizeof buf)
		n = sizeof buf;
	for (i = 0; i < n; i++)
		buf[i] ^= d[i];
	drive(&m, buf, len > n ? len : n, chunk);
	return 0;
}
