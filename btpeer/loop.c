/* loop.c: the poll loop of one peer connection (loop.h). */
#include <sys/random.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "host.h"
#include "loop.h"
#include "peer.h"

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
stream_send(struct conn *c, const void *b, size_t n)
{
	return write(c->wfd, b, n);
}

void
conn_stream(struct conn *c, int rfd, int wfd)
{
	c->rfd = rfd;
	c->wfd = wfd;
	c->recv = stream_recv;
	c->send = stream_send;
	fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
	fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
}

/* Sends what the core has queued. 0, or -1 when the peer is gone. */
static int
do_write(struct peer *p, struct conn *c)
{
	const unsigned char *b;
	size_t n;
	ssize_t w;

	for (;;) {
		peer_output(p, &b, &n);
		if (n == 0)
			return 0;
		w = c->send(c, b, n);
		if (w == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == EPIPE || errno == ECONNRESET)
				return peer_close(p, BT_FAIL_PEER, "peer closed "
				    "the connection");
			return peer_close(p, BT_FAIL_PEER, "write: %s",
			    strerror(errno));
		}
		peer_sent(p, (size_t)w, host_now());
	}
}

static int
do_read(struct peer *p, struct conn *c)
{
	unsigned char *b;
	size_t room;
	ssize_t r;

	b = peer_inbuf(p, &room);
	r = c->recv(c, b, room);
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
	return peer_received(p, (size_t)r, host_now());
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
	memcpy(cfg->peer_id, PEER_ID_PREFIX, 8);
	if (getrandom(cfg->peer_id + 8, 12, 0) != 12)
		return -1;
	for (k = 8; k < 20; k++)
		cfg->peer_id[k] = "0123456789abcdefghijklmnopqrstuvwxyz"
		    [cfg->peer_id[k] % 36];
	return 0;
}

static void
flush_rest(struct peer *p, struct conn *c)
{
	struct pollfd pf;
	const unsigned char *b;
	size_t n;
	int64_t t = host_now();

	for (;;) {
		peer_output(p, &b, &n);
		if (n == 0 || host_now() - t > FLUSH_TIME)
			return;
		pf.fd = c->wfd;
		pf.events = POLLOUT;
		if (poll(&pf, 1, 100) < 0 || do_write(p, c) == -1)
			return;
	}
}

int
loop_run(const struct opts *o, const struct metainfo *mi, struct spool *sp,
    struct conn *c, FILE *events)
{
	struct peer_cfg cfg;
	struct host h;
	struct peer p;
	struct pollfd pf[2];
	const unsigned char *ob;
	size_t on;
	char err[BT_ERRLEN];
	int n, r, code;
	int64_t t, deadline;

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
	t = host_now();
	deadline = t + PEER_SEC;
	if (peer_init(&p, &cfg, &h.ops, NULL, t) == 0) {
		while (peer_done(&p) < 0) {
			if (peer_fill(&p) == -1 || do_write(&p, c) == -1)
				break;
			pf[0].fd = c->rfd;
			pf[0].events = POLLIN;
			pf[0].revents = 0;
			n = 1;
			peer_output(&p, &ob, &on);
			if (on > 0) {
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
			r = poll(pf, (nfds_t)n, t >= deadline || peer_busy(&p) ?
			    0 : (int)((deadline - t) / 1000) + 1);
			if (r == -1 && errno != EINTR) {
				peer_close(&p, BT_FAIL_PEER, "poll: %s",
				    strerror(errno));
				break;
			}
			if (r > 0 && (pf[0].revents & (POLLIN | POLLHUP |
			    POLLERR)) && do_read(&p, c) == -1)
				break;
			t = host_now();
			if (t >= deadline) {
				if (host_new_pieces(&h, &p) == -1)
					break;
				deadline = peer_tick(&p, t);
				if (deadline < t + PEER_SEC / 100)
					deadline = t + PEER_SEC / 100;
			}
		}
		if (peer_reason(&p)[0] == '\0')
			flush_rest(&p, c);
	}
	code = peer_done(&p) < 0 ? bt_fail_exit(BT_FAIL_PEER) : peer_done(&p);
	if (p.up > p.up_reported) {
		snprintf(err, sizeof(err), "sent %llu",
		    (unsigned long long)(p.up - p.up_reported));
		host_event(&h, err);
	}
	if (code != BT_EXIT_OK) {
		snprintf(err, sizeof(err), "error %s", peer_reason(&p)[0] ?
		    peer_reason(&p) : "session failed");
		host_event(&h, err);
		fprintf(stderr, "btpeer: %s\n", err + 6);
	}
	peer_free(&p);
	host_free(&h);
	return code;
}
