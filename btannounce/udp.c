/*
 * udp.c: one announce or scrape to a UDP tracker (BEP 15).
 *
 * connect, then announce (or scrape), each request retransmitted after
 * 15 * 2^n seconds (n = 0, 1, ... 8), the whole exchange cut at
 * --timeout: with the default 20 s there is one retransmission, with 15 s
 * or less none. A connection id is reused while it is younger than a
 * minute, also by a later tracker on the same address. Datagrams with
 * another transaction id are counted and ignored; a datagram from
 * elsewhere cannot arrive on the connected socket. ICMP "port unreachable"
 * ends the exchange at once.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "announce.h"
#include "bt.h"
#include "tracker.h"

/* Connection ids remembered in one run: more trackers than that is rare. */
#define CID_CACHE	16

struct cid_entry {
	struct sockaddr_storage	addr;
	socklen_t		addrlen;
	uint64_t		cid;
	double			got;	/* monotonic seconds */
};

static struct cid_entry cids[CID_CACHE];
static size_t ncids;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct cid_entry *
cid_find(const struct sockaddr *sa, socklen_t len)
{
	size_t i;

	for (i = 0; i < ncids; i++)
		if (cids[i].addrlen == len && memcmp(&cids[i].addr, sa,
		    len) == 0)
			return &cids[i];
	return NULL;
}

static void
cid_store(const struct sockaddr *sa, socklen_t len, uint64_t cid)
{
	struct cid_entry *e;

	if ((e = cid_find(sa, len)) == NULL) {
		e = &cids[ncids < CID_CACHE ? ncids++ : CID_CACHE - 1];
		memcpy(&e->addr, sa, len);
		e->addrlen = len;
	}
	e->cid = cid;
	e->got = now();
}

/* Resolves and connects a datagram socket to the tracker: fd, or -1. */
static int
udp_open(const char *url, struct sockaddr_storage *ss, socklen_t *sslen,
    char *err)
{
	char host[256], port[8], why[BT_ERRLEN];
	struct addrinfo hints, *res, *ai;
	int fd = -1, e;

	if (trk_udp_hostport(url, host, sizeof(host), port, sizeof(port),
	    why) != 0)
		return bt_err(err, "bad UDP tracker URL: %s", why);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
		return bt_err(err, "cannot resolve %s: %s", host,
		    e == EAI_SYSTEM ? strerror(errno) : gai_strerror(e));
	/* The first address that takes a socket; no racing of families. */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			memcpy(ss, ai->ai_addr, ai->ai_addrlen);
			*sslen = ai->ai_addrlen;
			break;
		}
		close(fd);
		fd = -1;
	}
	e = errno;
	freeaddrinfo(res);
	if (fd == -1)
		return bt_err(err, "cannot reach %s: %s", host, strerror(e));
	return fd;
}

struct xchg {
	int		 fd;
	int		 v6;
	const struct ann_opts *o;
	struct sockaddr_storage ss;
	socklen_t	 sslen;
	double		 deadline;
	unsigned	 strays;	/* datagrams with a wrong transaction id */
	unsigned	 sends;
	char		 stray_err[BT_ERRLEN];
};

/*
 * Sends the request for the current state and waits for its reply until
 * the retransmission time or the deadline. 1 when a reply was handled
 * (connected, or done), 0 to retransmit, -1 with err to give up.
 */
static int
try_once(struct xchg *x, int *connected, uint64_t *cid, unsigned n,
    struct trk_reply *r, struct trk_scrape *sc, char *err)
{
	unsigned char pkt[TRK_UDP_MAX_PACKET];
	uint32_t tid;
	size_t len;
	ssize_t got;
	double until, t;
	struct pollfd pfd;
	enum trk_udp_verdict vd;
	int wait;

	if (ann_random(&tid, sizeof(tid)) != 0)
		return bt_err(err, "getrandom: %s", strerror(errno));
	if (!*connected)
		len = trk_udp_connect(pkt, tid);
	else if (x->o->scrape)
		len = trk_udp_scrape(pkt, *cid, tid, x->o->p.info_hash);
	else
		len = trk_udp_announce(pkt, *cid, tid, &x->o->p);
	if (x->o->verbose)
		fprintf(stderr, "btannounce: udp %s, transaction %08x\n",
		    !*connected ? "connect" : x->o->scrape ? "scrape" :
		    "announce", tid);
	if (send(x->fd, pkt, len, 0) == -1)
		return bt_err(err, "send: %s", strerror(errno));
	x->sends++;
	until = now() + (double)(TRK_UDP_BASE_WAIT << n);
	if (until > x->deadline)
		until = x->deadline;
	for (;;) {
		t = now();
		if (t >= until)
			return 0;
		wait = (int)((until - t) * 1000) + 1;
		pfd.fd = x->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, wait) == -1) {
			if (errno == EINTR)
				continue;
			return bt_err(err, "poll: %s", strerror(errno));
		}
		if (pfd.revents == 0)
			continue;
		got = recv(x->fd, pkt, sizeof(pkt), 0);
		if (got == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return bt_err(err, "%s", errno == ECONNREFUSED ?
			    "connection refused (nothing listens on that "
			    "port)" : strerror(errno));
		}
		if (!*connected)
			vd = trk_udp_parse_connect(pkt, (size_t)got, tid, cid, r,
			    err);
		else if (x->o->scrape)
			vd = trk_udp_parse_scrape(pkt, (size_t)got, tid, sc,
			    err);
		else
			vd = trk_udp_parse_announce(pkt, (size_t)got, tid,
			    x->v6, r, err);
		switch (vd) {
		case TRK_UDP_STRAY:
			x->strays++;
			memcpy(x->stray_err, err, BT_ERRLEN);
			err[0] = '\0';
			continue;
		case TRK_UDP_BAD:
			return -1;
		case TRK_UDP_REFUSED:
			/* The message is in r or sc; a connect error too. */
			if (!*connected && x->o->scrape) {
				sc->failure = r->failure;
				sc->failure_len = r->failure_len;
				r->failure = NULL;
			}
			*connected = 2;
			return 1;
		case TRK_UDP_OK:
			if (!*connected) {
				cid_store((struct sockaddr *)&x->ss, x->sslen,
				    *cid);
				*connected = 1;
			} else
				*connected = 2;
			return 1;
		}
	}
}

int
ann_udp(const char *url, const struct ann_opts *o, struct trk_reply *r,
    struct trk_scrape *sc, char *err)
{
	struct xchg x;
	struct cid_entry *e;
	uint64_t cid = 0;
	unsigned n = 0;
	int connected = 0, rc;

	memset(&x, 0, sizeof(x));
	x.o = o;
	x.deadline = now() + o->timeout;
	if ((x.fd = udp_open(url, &x.ss, &x.sslen, err)) == -1)
		return -1;
	x.v6 = x.ss.ss_family == AF_INET6;
	for (;;) {
		/* Reuse a connection id while it lives (BEP 15: a minute). */
		if (connected == 0 && (e = cid_find((struct sockaddr *)&x.ss,
		    x.sslen)) != NULL && now() - e->got <
		    TRK_UDP_CID_LIFETIME) {
			cid = e->cid;
			connected = 1;
		}
		rc = try_once(&x, &connected, &cid, n, r, sc, err);
		if (rc == -1)
			break;
		if (rc == 1 && connected == 2) {
			rc = 0;
			break;
		}
		if (rc == 1) {
			n = 0;	/* connected: the request starts its own count */
			continue;
		}
		if (now() >= x.deadline) {
			rc = bt_err(err, "no reply within %g s (%u datagram%s "
			    "sent)%s%s", o->timeout, x.sends,
			    x.sends == 1 ? "" : "s",
			    x.strays ? "; ignored: " : "",
			    x.strays ? x.stray_err : "");
			break;
		}
		if (n + 1 < TRK_UDP_MAX_TRIES)
			n++;
		/* An expired connection id needs a new connect. */
		if (connected == 1 && (e = cid_find((struct sockaddr *)&x.ss,
		    x.sslen)) != NULL && now() - e->got >=
		    TRK_UDP_CID_LIFETIME)
			connected = 0;
	}
	close(x.fd);
	return rc;
}
