/*
 * mse_peer.c: a test driver, not a tool (built by `make units`, never
 * installed). It proves lib/mse against real clients over real TCP:
 *
 *   mse_peer [-e off|plain|rc4|both] [-t SECS] TORRENT HOST:PORT
 *   mse_peer [-e off|plain|rc4|both] [-t SECS] -l PORT TORRENT
 *
 * The first connects (MSE initiator), the second accepts one connection
 * on 127.0.0.1:PORT (0 picks one; "listening PORT" goes to stderr) and
 * answers MSE or a plain handshake, told apart by the first bytes. -e
 * says what we offer or accept (off: a plain BEP 3 handshake only;
 * default rc4). Then, through the negotiated stream, a BEP 3 handshake,
 * interested, and a request for the first block of piece 0, whose bytes
 * go to stdout. stderr says "negotiated METHOD" and the peer's replies.
 * Exit 0 with the block, 1 when the peer failed or refused, 2 bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bt.h"
#include "metainfo.h"
#include "mse.h"
#include "wire.h"

#define BUFSZ	(1u << 20)	/* a bitfield of 2^22 pieces, a block: ample */

struct conn {
	int		 fd;
	int		 mse;		/* an MSE transform is in place */
	struct mse	 m;
	time_t		 deadline;
	unsigned char	*in;		/* decrypted bytes not yet parsed */
	size_t		 inlen;
	char		 err[BT_ERRLEN];
};

static const unsigned char *want_ih;

static int
lookup(void *ctx, const uint8_t req2[20], uint8_t skey[20])
{
	uint8_t h[20];

	(void)ctx;
	mse_req2(want_ih, h);
	if (memcmp(h, req2, 20) != 0)
		return 0;
	memcpy(skey, want_ih, 20);
	return 1;
}

/* Waits for fd to be ready for events until the deadline. */
static int
wait_fd(struct conn *c, short events)
{
	struct pollfd p = { c->fd, events, 0 };
	time_t left = c->deadline - time(NULL);
	int r;

	if (left <= 0)
		return bt_err(c->err, "timed out");
	do
		r = poll(&p, 1, (int)left * 1000);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return bt_err(c->err, "timed out");
	return r < 0 ? bt_err(c->err, "poll: %s", strerror(errno)) : 0;
}

static int
send_all(struct conn *c, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	ssize_t w;

	while (n > 0) {
		if (wait_fd(c, POLLOUT) == -1)
			return -1;
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return bt_err(c->err, "send: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Sends payload through the transform (it is encrypted in place). */
static int
send_payload(struct conn *c, unsigned char *buf, size_t n)
{
	if (c->mse)
		mse_encrypt(&c->m, buf, n);
	return send_all(c, buf, n);
}

/* Reads what the socket has into buf; 0 bytes is the peer closing. */
static ssize_t
recv_some(struct conn *c, unsigned char *buf, size_t n)
{
	ssize_t r;

	if (wait_fd(c, POLLIN) == -1)
		return -1;
	do
		r = recv(c->fd, buf, n, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return bt_err(c->err, "recv: %s", strerror(errno));
	if (r == 0)
		return bt_err(c->err, "peer closed the connection");
	return r;
}

/* Runs the MSE handshake to its end; bytes after it become payload. */
static int
handshake_mse(struct conn *c)
{
	unsigned char buf[4096];
	const uint8_t *out;
	size_t n, used;
	ssize_t r;
	int done = 0;

	while (!done) {
		n = mse_output(&c->m, &out);
		if (n > 0) {
			if (send_all(c, out, n) == -1)
				return -1;
			mse_sent(&c->m, n);
			continue;
		}
		if ((r = recv_some(c, buf, sizeof buf)) == -1)
			return -1;
		done = mse_input(&c->m, buf, (size_t)r, &used, c->err);
		if (done == -1)
			return -1;
		if (done == 1) {
			n = (size_t)r - used;
			memcpy(c->in + c->inlen, buf + used, n);
			mse_decrypt(&c->m, c->in + c->inlen, n);
			c->inlen += n;
		}
	}
	n = mse_output(&c->m, &out);
	if (n > 0 && send_all(c, out, n) == -1)
		return -1;
	mse_sent(&c->m, n);
	c->mse = 1;
	fprintf(stderr, "negotiated %s\n", mse_method_name(c->m.select));
	return 0;
}

/* Reads until c->in holds at least n payload bytes. */
static int
fill(struct conn *c, size_t n)
{
	ssize_t r;

	if (n > BUFSZ)
		return bt_err(c->err, "message of %zu bytes", n);
	while (c->inlen < n) {
		r = recv_some(c, c->in + c->inlen, BUFSZ - c->inlen);
		if (r == -1)
			return -1;
		if (c->mse)
			mse_decrypt(&c->m, c->in + c->inlen, (size_t)r);
		c->inlen += (size_t)r;
	}
	return 0;
}

static void
consume(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= n;
}

/* Reads messages until one of type want; its block goes to stdout. */
static int
await(struct conn *c, const struct wire_limits *l, int want)
{
	struct wire_msg m;
	size_t need = 4;
	int r;

	for (;;) {
		if (fill(c, need) == -1)
			return -1;
		r = wire_parse(l, c->in, c->inlen, &m, &need, c->err);
		if (r == -1)
			return -1;
		if (r == 0)
			continue;
		fprintf(stderr, "got %s\n", wire_name(m.type));
		if (m.type == want && want == WIRE_PIECE) {
			if (fwrite(m.data, 1, m.length, stdout) != m.length ||
			    fflush(stdout) == EOF)
				return bt_err(c->err, "stdout: %s",
				    strerror(errno));
		}
		consume(c, (size_t)r);
		need = 4;
		if (m.type == want)
			return 0;
	}
}

/* The BitTorrent part, the same over every transform. */
static int
session(struct conn *c, const struct metainfo *mi, int sent_hs)
{
	unsigned char hs[WIRE_HANDSHAKE_LEN], res[8] = { 0 }, id[20];
	unsigned char msg[WIRE_REQUEST_LEN];
	struct wire_limits l;
	struct wire_hs peer;
	uint32_t len;

	memcpy(id, "-MS0001-", 8);
	if (getrandom(id + 8, 12, 0) != 12)
		return bt_err(c->err, "getrandom: %s", strerror(errno));
	wire_handshake(hs, res, mi->info_hash, id);
	if (!sent_hs && send_payload(c, hs, sizeof hs) == -1)
		return -1;
	if (fill(c, WIRE_HANDSHAKE_LEN) == -1 ||
	    wire_handshake_parse(c->in, c->inlen, mi->info_hash, &peer,
	    c->err) != WIRE_HANDSHAKE_LEN)
		return -1;
	consume(c, WIRE_HANDSHAKE_LEN);
	fprintf(stderr, "handshake from %.8s\n", (const char *)peer.peer_id);
	wire_limits_init(&l, mi);
	wire_simple(msg, WIRE_INTERESTED);
	if (send_payload(c, msg, 5) == -1 || await(c, &l, WIRE_UNCHOKE) == -1)
		return -1;
	len = mi_piece_size(mi, 0) < WIRE_BLOCK ? mi_piece_size(mi, 0) :
	    WIRE_BLOCK;
	wire_request(msg, WIRE_REQUEST, 0, 0, len);
	if (send_payload(c, msg, sizeof msg) == -1)
		return -1;
	return await(c, &l, WIRE_PIECE);
}

/* A decimal number in 0..max, or -1. */
static long
number(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || v < 0 || v > max ?
	    -1 : v;
}

static int
dial(const char *addr, char *err)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(addr, ':');
	int fd;

	if (colon == NULL || (size_t)(colon - addr) >= sizeof host ||
	    number(colon + 1, 65535) < 1)
		return bt_err(err, "%s: not HOST:PORT", addr);
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	sa.sin_port = htons((uint16_t)number(colon + 1, 65535));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return bt_err(err, "%s: not an IPv4 address", host);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1)
		return bt_err(err, "connect %s: %s", addr, strerror(errno));
	return fd;
}

static int
listen_one(struct conn *c, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof sa;
	int s, fd, on = 1;

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1 ||
	    bind(s, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    listen(s, 1) == -1 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) == -1)
		return bt_err(c->err, "listen: %s", strerror(errno));
	fprintf(stderr, "listening %d\n", ntohs(sa.sin_port));
	c->fd = s;
	if (wait_fd(c, POLLIN) == -1)
		fd = -1;
	else if ((fd = accept(s, NULL, NULL)) == -1)
		bt_err(c->err, "accept: %s", strerror(errno));
	close(s);
	return fd;
}

static uint32_t
methods(const char *s)
{
	if (strcmp(s, "off") == 0)
		return 0;
	if (strcmp(s, "plain") == 0)
		return MSE_PLAIN;
	if (strcmp(s, "rc4") == 0)
		return MSE_RC4;
	if (strcmp(s, "both") == 0)
		return MSE_PLAIN | MSE_RC4;
	return UINT32_MAX;
}

/* Accepted: plain or MSE? Then answer as receiver. */
static int
answer(struct conn *c, uint32_t meth, int *sent_hs)
{
	uint8_t rnd[MSE_RAND_LEN];
	size_t used;
	ssize_t r;
	int plain;

	while ((plain = mse_sniff(c->in, c->inlen)) == -1) {
		if ((r = recv_some(c, c->in + c->inlen, 20 - c->inlen)) == -1)
			return -1;
		c->inlen += (size_t)r;
	}
	*sent_hs = 0;
	if (plain) {
		fprintf(stderr, "incoming plaintext handshake\n");
		return meth == 0 ? 0 : bt_err(c->err,
		    "plaintext handshake refused (-e %s)",
		    meth == MSE_PLAIN ? "plain" : "rc4/both");
	}
	if (meth == 0)
		return bt_err(c->err, "MSE handshake refused (-e off)");
	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
		return bt_err(c->err, "getrandom: %s", strerror(errno));
	if (mse_start_receiver(&c->m, meth, lookup, NULL, rnd, c->err) == -1)
		return -1;
	/* The sniffed bytes (fewer than Ya's 96) start the handshake. */
	if (mse_input(&c->m, c->in, c->inlen, &used, c->err) == -1)
		return -1;
	c->inlen = 0;
	return handshake_mse(c);
}

/* -l: accept one connection and answer it. 0, or 1 with c->err. */
static int
connect_in(struct conn *c, const struct metainfo *mi, uint32_t meth,
    int port)
{
	int sent_hs = 0;

	if ((c->fd = listen_one(c, port)) == -1 ||
	    answer(c, meth, &sent_hs) == -1 || session(c, mi, sent_hs) == -1)
		return 1;
	return 0;
}

/* Dial, MSE as initiator unless meth is 0, then BEP 3. 0, or 1. */
static int
connect_out(struct conn *c, const struct metainfo *mi, uint32_t meth,
    const char *addr)
{
	uint8_t rnd[MSE_RAND_LEN];
	unsigned char hs[WIRE_HANDSHAKE_LEN], res[8] = { 0 }, id[20] = "x";

	if ((c->fd = dial(addr, c->err)) == -1)
		return 1;
	if (meth != 0) {
		/* Our handshake rides as the initial payload, as clients do. */
		memcpy(id, "-MS0001-", 8);
		wire_handshake(hs, res, mi->info_hash, id);
		if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd) {
			bt_err(c->err, "getrandom: %s", strerror(errno));
			return 1;
		}
		if (mse_start_initiator(&c->m, mi->info_hash, meth, hs,
		    sizeof hs, rnd, c->err) == -1 || handshake_mse(c) == -1)
			return 1;
	}
	return session(c, mi, meth != 0) == -1 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	struct metainfo mi;
	struct conn c = { .fd = -1 };
	uint32_t meth = MSE_RC4;
	int opt, port = -1, secs = 30, rc = 1;

	while ((opt = getopt(argc, argv, "e:l:t:")) != -1) {
		switch (opt) {
		case 'e':
			meth = methods(optarg);
			break;
		case 'l':
			port = (int)number(optarg, 65535);
			if (port < 0)
				meth = UINT32_MAX;
			break;
		case 't':
			secs = (int)number(optarg, 3600);
			break;
		default:
			meth = UINT32_MAX;
		}
	}
	argc -= optind;
	argv += optind;
	if (meth == UINT32_MAX || argc != (port < 0 ? 2 : 1) || secs <= 0) {
		fprintf(stderr, "usage: mse_peer [-e off|plain|rc4|both] "
		    "[-t secs] [-l port] torrent [host:port]\n");
		return 2;
	}
	if (mi_load(&mi, argv[0], c.err) == -1) {
		fprintf(stderr, "mse_peer: %s: %s\n", argv[0], c.err);
		return 2;
	}
	want_ih = mi.info_hash;
	c.deadline = time(NULL) + secs;
	if ((c.in = malloc(BUFSZ)) == NULL)
		bt_err(c.err, "out of memory");
	else if (port >= 0)
		rc = connect_in(&c, &mi, meth, port);
	else
		rc = connect_out(&c, &mi, meth, argv[1]);
	if (rc != 0)
		fprintf(stderr, "mse_peer: %s\n", c.err);
	if (c.fd != -1)
		close(c.fd);
	free(c.in);
	mi_free(&mi);
	return rc;
}
