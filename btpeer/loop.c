/* loop.c: the poll loop of one peer connection (loop.h). */
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "host.h"
#include "loop.h"
#include "peer.h"
#include "pexlist.h"
#include "ut_metadata.h"
#include "ut_pex.h"

/* BEP 20 style: -BP, version 0100, then random. */
#define PEER_ID_PREFIX	"-BP0100-"
/* After the end, queued bytes (a last have, a cancel) get this long. */
#define FLUSH_TIME	PEER_SEC

static ssize_t
stream_recv(struct conn *c, void *b, size_t n)
{
	return read(c->rfd, b, n);
}

static ssize_t
stream_recvv(struct conn *c, const struct iovec *iov, int n)
{
	return readv(c->rfd, iov, n);
}

static ssize_t
stream_send(struct conn *c, const void *b, size_t n)
{
	return write(c->wfd, b, n);
}

/*
 * 1 if fd is a TCP socket: an IP stream is all btpeer dials or accepts
 * (getsockname(2), which the sandbox allows, unlike getsockopt).
 */
static int
is_tcp(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
}

void
conn_stream(struct conn *c, int rfd, int wfd)
{
	c->zc = is_tcp(wfd);
	c->rfd = rfd;
	c->wfd = wfd;
	c->recv = stream_recv;
	c->recvv = stream_recvv;
	c->send = stream_send;
	fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
	fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
}

/*
 * Sends what the core has queued, as far as the upload limit lets it:
 * bytes from the buffer, blocks from storage by sendfile(2).
 * 0, or -1 when the peer is gone.
 */
static int
write_some(struct peer *p, struct conn *c, struct host *h)
{
	struct peer_fileref ref;
	const unsigned char *b;
	char err[BT_ERRLEN];
	size_t n;
	ssize_t w;
	int file;

	for (;;) {
		peer_output(p, &b, &n);
		file = n == 0 && peer_output_file(p, &ref);
		if (file)
			n = ref.len;
		if (n == 0 || choker_rate_wait(h, CHOKE_UP, host_now()) > 0)
			return 0;
		if (h->ch.rate[CHOKE_UP] != 0 &&
		    n > (size_t)CHOKE_BURST(h->ch.rate[CHOKE_UP]))
			n = (size_t)CHOKE_BURST(h->ch.rate[CHOKE_UP]);
		/*
		 * More queued after these bytes (a block from storage
		 * after its header): MSG_MORE, so that they leave in one
		 * segment (TCP_NODELAY is on).
		 */
		if (file)
			w = host_sendfile(h, c->wfd, &ref, n, err);
		else if (c->zc && peer_unsent(p) > n)
			w = send(c->wfd, b, n, MSG_MORE);
		else
			w = c->send(c, b, n);
		if (w == -2)
			return peer_close(p, BT_FAIL_SYSTEM, "%s", err);
		if (w == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == EPIPE || errno == ECONNRESET)
				return peer_close(p, BT_FAIL_PEER, "peer closed "
				    "the connection");
			return peer_close(p, BT_FAIL_PEER, "write: %s",
			    strerror(errno));
		}
		choker_rate_spend(h, CHOKE_UP, (size_t)w);
		if (file)
			peer_sent_file(p, (size_t)w, host_now());
		else
			peer_sent(p, (size_t)w, host_now());
	}
}

/*
 * Sends what the core has queued. Several blocks from storage: the
 * socket is corked over the burst, so that they leave in full segments
 * rather than one per sendfile(2), and uncorked (pushed) at the end.
 */
static int
do_write(struct peer *p, struct conn *c, struct host *h)
{
	int r, on = 1, off = 0, corked;

	corked = c->zc && p->nzc > 1 && setsockopt(c->wfd, IPPROTO_TCP,
	    TCP_CORK, &on, sizeof(on)) == 0;
	r = write_some(p, c, h);
	if (corked)
		setsockopt(c->wfd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
	return r;
}

/*
 * During the handshakes, each read is acknowledged at once. With MSE's
 * initial payload we have nothing to send after the peer's step 4, so a
 * delayed ACK (40 ms on Linux) holds back the peer's next write where
 * it runs Nagle's algorithm (libtorrent does: 40 ms to every set-up).
 * Not a TCP socket (uTP's pipe): no matter.
 */
static void
quickack(const struct peer *p, const struct conn *c)
{
	int one = 1;

	if (p->phase != PEER_PH_MESSAGES)
		(void)setsockopt(c->rfd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof(one));
}

static int
do_read(struct peer *p, struct conn *c, struct host *h)
{
	struct iovec iov[PEER_RX_IOV];
	size_t room, cap;
	ssize_t r;
	int n, k;

	if (c->recvv != NULL) {
		n = peer_recv_iov(p, iov);
	} else {
		iov[0].iov_base = peer_inbuf(p, &room);
		iov[0].iov_len = room;
		n = 1;
	}
	/* Limited: a read no bigger than the bucket's burst. */
	if (h->ch.rate[CHOKE_DOWN] != 0) {
		cap = (size_t)CHOKE_BURST(h->ch.rate[CHOKE_DOWN]);
		for (k = 0; k < n; k++) {
			if (iov[k].iov_len >= cap) {
				iov[k].iov_len = cap;
				n = k + 1;
				break;
			}
			cap -= iov[k].iov_len;
		}
	}
	r = c->recvv != NULL ? c->recvv(c, iov, n) :
	    c->recv(c, iov[0].iov_base, iov[0].iov_len);
	if (r == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return peer_close(p, BT_FAIL_PEER, "read: %s",
		    strerror(errno));
	}
	if (r == 0) {
		peer_eof(p, host_now());
		return -1;
	}
	choker_rate_spend(h, CHOKE_DOWN, (size_t)r);
	quickack(p, c);
	return c->recvv != NULL ? peer_recv_done(p, (size_t)r, host_now()) :
	    peer_received(p, (size_t)r, host_now());
}

/* BEP 10 "p" and "yourip": our port when we accepted, the peer's address. */
static void
ext_addrs(struct peer_cfg *cfg, const struct opts *o, const struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (o->mode == PEER_SERVE && !o->seed_out &&
	    getsockname(c->rfd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			cfg->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			cfg->port = ntohs(((struct sockaddr_in6 *)&ss)->
			    sin6_port);
	}
	len = sizeof(ss);
	if (getpeername(c->rfd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		memcpy(cfg->yourip, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		cfg->yourip_len = 4;
	} else if (ss.ss_family == AF_INET6) {
		memcpy(cfg->yourip, &((struct sockaddr_in6 *)&ss)->sin6_addr,
		    16);
		cfg->yourip_len = 16;
	}
}

/*
 * Our BEP 10 extensions: ut_metadata serves the torrent's info bytes
 * (or, with --metadata, fetches them); ut_pex (not for private
 * torrents, BEP 27) reports the peers it learns and, with --pex FILE,
 * tells about the peers the file lists.
 */
struct exts {
	struct utm	 utm;
	struct pex	 pex;
	const char	*pexfile;
	struct pex_peer	 self;		/* the peer, left out of our PEX */
	int		 has_self;
	const struct peer_ext *list[PEER_MAX_EXT];
};

static int
pex_list(void *ctx, struct pex_peer *out, int max)
{
	struct exts *x = ctx;

	return pexlist_read(x->pexfile, x->has_self ? &x->self : NULL, out,
	    max);
}

static void
make_exts(struct exts *x, struct peer_cfg *cfg, const struct opts *o,
    const struct metainfo *mi)
{
	struct utm *u = o->utm != NULL ? o->utm : &x->utm;

	if (o->utm == NULL)
		utm_init(u, mi->info, mi->info_len, NULL);
	x->list[0] = &u->ext;
	cfg->ext = x->list;
	cfg->next = 1;
	if (o->utm == NULL)
		cfg->metadata_size = (uint32_t)mi->info_len;
	if (mi->private || o->mode == PEER_METADATA)
		return;
	x->pexfile = o->pexfile;
	x->has_self = o->addr != NULL && pexlist_parse(o->addr, &x->self) == 0;
	pex_init(&x->pex, o->pexfile != NULL ? pex_list : NULL, x);
	x->list[cfg->next++] = &x->pex.ext;
}

static int
make_cfg(struct peer_cfg *cfg, const struct opts *o,
    const struct metainfo *mi)
{
	size_t k;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = o->mode;
	cfg->mi = mi;
	cfg->queue = o->queue;
	cfg->timeout = (int64_t)o->timeout * PEER_SEC;
	cfg->piece = o->piece;
	cfg->verbose = o->verbose;
	cfg->fast = 1;		/* BEP 6 */
	cfg->dht_port = o->dht_port;	/* BEP 5 */
	memcpy(cfg->peer_id, PEER_ID_PREFIX, 8);
	if (getrandom(cfg->peer_id + 8, 12, 0) != 12)
		return -1;
	for (k = 8; k < 20; k++)
		cfg->peer_id[k] = "0123456789abcdefghijklmnopqrstuvwxyz"
		    [cfg->peer_id[k] % 36];
	return 0;
}

static void
flush_rest(struct peer *p, struct conn *c, struct host *h)
{
	struct pollfd pf;
	int64_t t = host_now();

	for (;;) {
		if (peer_unsent(p) == 0 || host_now() - t > FLUSH_TIME)
			return;
		pf.fd = c->wfd;
		pf.events = POLLOUT;
		if (poll(&pf, 1, 100) < 0 || do_write(p, c, h) == -1)
			return;
	}
}

/*
 * The MSE transform for enc (NULL when off): 0, or -1 with err. The
 * random bytes are its private key and padding.
 */
static int
make_transform(struct peer_mse *pm, struct peer_transform **tr,
    const struct opts *o, const struct metainfo *mi, enum peer_crypto enc,
    char *err)
{
	uint8_t rnd[MSE_RAND_LEN];
	size_t got = 0;
	ssize_t r;

	*tr = NULL;
	if (enc == PEER_CRYPTO_OFF)
		return 0;
	while (got < sizeof(rnd)) {
		r = getrandom(rnd + got, sizeof(rnd) - got, 0);
		if (r == -1 && errno != EINTR)
			return bt_err(err, "getrandom: %s", strerror(errno));
		if (r > 0)
			got += (size_t)r;
	}
	if ((o->mode == PEER_SERVE && !o->seed_out ? peer_mse_incoming :
	    peer_mse_outgoing)(pm, enc, mi->info_hash, rnd, err) == -1)
		return -1;
	if (o->mode != PEER_SERVE || o->seed_out)
		pm->addr = o->addr;
	*tr = &pm->tr;
	return 0;
}

int
loop_run(const struct opts *o, const struct metainfo *mi, struct spool *sp,
    struct conn *c, FILE *events, enum peer_crypto enc, int *fallback)
{
	struct peer_cfg cfg;
	struct exts x;
	struct peer_transform *tr;
	struct peer_mse pm;
	struct host h;
	struct peer p;
	struct pollfd pf[2];
	char err[BT_ERRLEN];
	int n, r, code;
	int64_t t, t2, deadline, wdown, wup;

	if (host_init(&h, o, mi, sp, events, err, &code) == -1) {
		host_free(&h);
		fprintf(stderr, "btpeer: %s\n", err);
		return code;
	}
	if (make_cfg(&cfg, o, mi) == -1) {
		host_free(&h);
		fprintf(stderr, "btpeer: getrandom: %s\n", strerror(errno));
		return bt_fail_exit(BT_FAIL_SYSTEM);
	}
	memset(&x, 0, sizeof(x));
	if (o->mode != PEER_BITFIELD && o->mode != PEER_PIECE)
		make_exts(&x, &cfg, o, mi);
	ext_addrs(&cfg, o, c);
	if (fallback != NULL)
		*fallback = 0;
	if (make_transform(&pm, &tr, o, mi, enc, err) == -1) {
		host_free(&h);
		fprintf(stderr, "btpeer: %s\n", err);
		return BT_EXIT_WORLD;
	}
	/* A plain TCP stream: blocks of placed pieces by sendfile(2). */
	if (c->zc && h.ops.read != NULL)
		h.ops.sendable = host_sendable;
	t = host_now();
	deadline = t + PEER_SEC;
	if (peer_init(&p, &cfg, &h.ops, tr, t) == 0 &&
	    (tr == NULL || peer_mse_start(&pm, &p) == 0)) {
		while (peer_done(&p) < 0) {
			if (peer_fill(&p) == -1 || do_write(&p, c, &h) == -1)
				break;
			/* Rate limits: no read or no write until it is due. */
			t = host_now();
			wdown = choker_rate_wait(&h, CHOKE_DOWN, t);
			wup = choker_rate_wait(&h, CHOKE_UP, t);
			if (wdown > 0 && t + wdown < deadline)
				deadline = t + wdown;
			if (wup > 0 && t + wup < deadline)
				deadline = t + wup;
			pf[0].fd = c->rfd;
			pf[0].events = wdown > 0 ? 0 : POLLIN;
			pf[0].revents = 0;
			n = 1;
			if (peer_unsent(&p) > 0 && wup == 0) {
				if (c->wfd == c->rfd) {
					pf[0].events |= POLLOUT;
				} else {
					pf[1].fd = c->wfd;
					pf[1].events = POLLOUT;
					pf[1].revents = 0;
					n = 2;
				}
			}
			t = host_now();
			/* Requests to answer and room to: do not sleep. */
			r = poll(pf, (nfds_t)n, t >= deadline ||
			    (peer_busy(&p) && wup == 0) ?
			    0 : (int)((deadline - t) / 1000) + 1);
			if (r == -1 && errno != EINTR) {
				peer_close(&p, BT_FAIL_PEER, "poll: %s",
				    strerror(errno));
				break;
			}
			if (r > 0 && (pf[0].revents & (POLLIN | POLLHUP |
			    POLLERR)) && do_read(&p, c, &h) == -1)
				break;
			t = host_now();
			if (t >= deadline) {
				if (host_new_pieces(&h, &p) == -1)
					break;
				deadline = peer_tick(&p, t);
				t2 = choker_tick(&h, &p, t);
				if (t2 < deadline)
					deadline = t2;
				if (deadline < t + PEER_SEC / 100)
					deadline = t + PEER_SEC / 100;
			}
		}
		if (peer_reason(&p)[0] == '\0')
			flush_rest(&p, c, &h);
	}
	code = peer_done(&p) < 0 ? bt_fail_exit(BT_FAIL_PEER) : peer_done(&p);
	if (p.up > p.up_reported) {
		snprintf(err, sizeof(err), "sent %llu",
		    (unsigned long long)(p.up - p.up_reported));
		host_event(&h, err);
	}
	if (code != BT_EXIT_OK && fallback != NULL && tr != NULL &&
	    peer_mse_fallback(&pm, &p)) {
		/* Not an error yet: the caller tries again in plain. */
		*fallback = 1;
		if (o->verbose)
			fprintf(stderr, "btpeer: MSE handshake failed (%s); "
			    "trying a plain one\n", peer_reason(&p));
	} else if (code != BT_EXIT_OK && fallback != NULL && tr == NULL &&
	    o->encryption == PEER_CRYPTO_TOLERATE && peer_plain_fallback(&p)) {
		/* --encryption tolerate: the caller tries again with MSE. */
		*fallback = 1;
		if (o->verbose)
			fprintf(stderr, "btpeer: plain handshake failed (%s); "
			    "trying MSE\n", peer_reason(&p));
	} else if (code != BT_EXIT_OK) {
		snprintf(err, sizeof(err), "error %s", peer_reason(&p)[0] ?
		    peer_reason(&p) : "session failed");
		host_event(&h, err);
		fprintf(stderr, "btpeer: %s\n", err + 6);
	}
	peer_free(&p);
	if (o->utm == NULL)
		utm_free(&x.utm);
	host_free(&h);
	return code;
}
