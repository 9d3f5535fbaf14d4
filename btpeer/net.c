/* net.c: TCP connect and listen for btpeer (net.h). */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt.h"
#include "confine.h"
#include "net.h"
#include "utp_io.h"

/* Splits "host:port", "[v6]:port" or (with dflt) "port" into parts. */
static int
split(const char *spec, char *host, size_t hlen, char *port, size_t plen,
    const char *dflt, char *err)
{
	const char *c;
	size_t n;

	if (spec[0] == '[') {
		c = strchr(spec, ']');
		if (c == NULL || c[1] != ':')
			return bt_err(err, "%s: bad address", spec);
		n = (size_t)(c - spec - 1);
		if (n >= hlen)
			return bt_err(err, "%s: host too long", spec);
		memcpy(host, spec + 1, n);
		host[n] = '\0';
		c++;
	} else if ((c = strrchr(spec, ':')) != NULL) {
		n = (size_t)(c - spec);
		if (n >= hlen || strchr(spec, ':') != c)
			return bt_err(err, "%s: bad address", spec);
		memcpy(host, spec, n);
		host[n] = '\0';
	} else if (dflt != NULL) {
		snprintf(host, hlen, "%s", dflt);
		c = spec - 1;
	} else
		return bt_err(err, "%s: want host:port", spec);
	if (strlen(c + 1) == 0 || strlen(c + 1) >= plen ||
	    strspn(c + 1, "0123456789") != strlen(c + 1) ||
	    strtol(c + 1, NULL, 10) > 65535)
		return bt_err(err, "%s: bad port", spec);
	snprintf(port, plen, "%s", c + 1);
	return 0;
}

/* Closes every descriptor above stderr but a and b. */
static void
close_others(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	close_range((unsigned)hi + 1, ~0u, 0);
}

/*
 * Waits until the dialed uTP connection is up, as connect(2) would, for
 * up to timeout seconds: 0, or -1 with err (refused, reset, timed out).
 * A failure to connect is then reported as TCP's is, not as a stream
 * that ended before the handshake, whatever the timing.
 */
static int
utp_connected(struct utp_io *io, const char *spec, int timeout, char *err)
{
	uint64_t end = utp_now() + (uint64_t)timeout * 1000000, now;
	struct pollfd p;
	enum utp_state st;
	char why[BT_ERRLEN];
	int t;

	for (;;) {
		st = utp_state(io->c);
		if (st == UTP_CONNECTED)
			return 0;
		if (st != UTP_SYN_SENT)
			return bt_err(err, "uTP to %s: connection %s", spec,
			    utp_state_name(st));
		if ((now = utp_now()) >= end)
			return bt_err(err, "uTP to %s: connection timed out",
			    spec);
		t = utp_io_timeout(io);
		if (t < 0 || (uint64_t)t > (end - now) / 1000 + 1)
			t = (int)((end - now) / 1000 + 1);
		p.fd = io->fd;
		p.events = POLLIN;
		if (poll(&p, 1, t) == -1 && errno != EINTR)
			return bt_err(err, "poll: %s", strerror(errno));
		if (((p.revents & (POLLIN | POLLERR)) &&
		    utp_io_recv(io, why) == -1) || utp_io_send(io, why) == -1)
			return bt_err(err, "uTP to %s: %s", spec, why);
	}
}

/*
 * uTP: once connected, the connection runs in a child of its own
 * (lib/utp_relay.c) that relays its stream to our end of a socketpair,
 * so the peer loop sees a stream socket as with TCP. The child keeps
 * only its two descriptors (not the spool's: its claims stay ours
 * alone), is sandboxed, and gives up after timeout seconds without a
 * datagram.
 */
int
net_connect_utp(const char *spec, int timeout, int verbose, pid_t *pid,
    char *err)
{
	struct utp_io io;
	char host[256], port[8];
	int sv[2], rc, armed;

	if (split(spec, host, sizeof(host), port, sizeof(port), NULL, err))
		return -2;
	if (utp_io_dial(&io, host, port, err) == -1)
		return -1;
	if (utp_connected(&io, spec, timeout, err) == -1) {
		utp_io_close(&io);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		utp_io_close(&io);
		return bt_err(err, "socketpair: %s", strerror(errno));
	}
	if ((*pid = fork()) == -1) {
		utp_io_close(&io);
		close(sv[0]);
		close(sv[1]);
		return bt_err(err, "fork: %s", strerror(errno));
	}
	if (*pid == 0) {
		close_others(io.fd, sv[1]);
		armed = confine_test_arm_relay();
		if ((rc = confine_relay(verbose)) != 0)
			_exit(rc);
		confine_test_escape(armed);
		rc = utp_relay(&io, sv[1], (uint64_t)timeout * 1000000, err);
		if (rc == -1)
			fprintf(stderr, "btpeer: uTP to %s: %s\n", spec, err);
		_exit(rc == -1 ? BT_EXIT_WORLD : BT_EXIT_OK);
	}
	utp_io_close(&io);
	close(sv[1]);
	return sv[0];
}

void
net_utp_done(int fd, pid_t pid)
{
	int i;

	/* Our end closed: the child sends its FIN and lingers a second. */
	close(fd);
	for (i = 0; i < 30; i++) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return;
		usleep(100000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static void
tune(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int
net_connect(const char *spec, int timeout, char *err)
{
	struct addrinfo hints, *res, *ai;
	char host[256], port[8];
	struct pollfd pf;
	socklen_t sl;
	int fd = -1, r, e = 0;

	if (split(spec, host, sizeof(host), port, sizeof(port), NULL, err))
		return -2;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		return bt_err(err, "%s: %s", host, gai_strerror(r));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pf.fd = fd;
			pf.events = POLLOUT;
			r = poll(&pf, 1, timeout * 1000);
			sl = sizeof(e);
			if (r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
			    &sl) == 0 && e == 0)
				break;
			if (r == 0)
				e = ETIMEDOUT;
		} else
			e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		return bt_err(err, "connect to %s: %s", spec, strerror(e));
	tune(fd);
	return fd;
}

int
net_listen(const char *spec, int *portp, char *err)
{
	struct addrinfo hints, *res;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[8];
	int fd, r, one = 1;

	if (split(spec, host, sizeof(host), port, sizeof(port), "0.0.0.0",
	    err))
		return -2;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		return bt_err(err, "%s: %s", host, gai_strerror(r));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 64) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		bt_err(err, "listen on %s: %s", spec, strerror(errno));
		freeaddrinfo(res);
		if (fd != -1)
			close(fd);
		return -1;
	}
	freeaddrinfo(res);
	if (ss.ss_family == AF_INET6)
		*portp = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		*portp = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/*
 * Accepted connections that have not sent a byte are held here, by the
 * listener, not by a process of their own: at most PENDING_MAX (and half
 * the descriptor limit), each for at most PENDING_SECONDS, the oldest
 * closed first when full. A flood of silent connections then costs
 * descriptors, bounded, and never takes one of the --max-conns slots a
 * peer that speaks needs (a handshake is the first thing a peer sends,
 * in its first packet).
 */
#define PENDING_MAX	512
#define PENDING_SECONDS	10

struct pending {
	int	 fd;
	time_t	 since;
};

static volatile sig_atomic_t stop;

static void
onterm(int sig)
{
	(void)sig;
	stop = 1;
}

static time_t
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int
pending_cap(void)
{
	struct rlimit rl;
	rlim_t half;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return PENDING_MAX;
	half = rl.rlim_cur / 2;
	return half < 8 ? 8 : half < PENDING_MAX ? (int)half : PENDING_MAX;
}

/* Forks handler(fd) unless maxconns children live; closes fd here. */
static void
spawn(int fd, int lfd, struct pending *pend, int np, pid_t *kids, int *n,
    int maxconns, int (*handler)(int, void *), void *arg)
{
	pid_t pid;
	int k;

	if (*n >= maxconns) {
		close(fd);	/* over the cap: refused at once */
		return;
	}
	tune(fd);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(lfd);
		for (k = 0; k < np; k++)
			if (pend[k].fd != fd)
				close(pend[k].fd);
		free(pend);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		_exit(handler(fd, arg));
	}
	if (pid > 0)
		kids[(*n)++] = pid;
	close(fd);
}

int
net_accept_loop(int lfd, int maxconns, int (*handler)(int, void *),
    void *arg)
{
	struct sigaction sa;
	struct pending *pend;
	struct pollfd *pf;
	pid_t pid, *kids;
	time_t t;
	int fd, n = 0, np = 0, cap = pending_cap(), st, k, j;

	kids = calloc((size_t)maxconns, sizeof(*kids));
	pend = calloc((size_t)cap, sizeof(*pend));
	pf = calloc((size_t)cap + 1, sizeof(*pf));
	if (kids == NULL || pend == NULL || pf == NULL) {
		free(kids);
		free(pend);
		free(pf);
		return BT_EXIT_WORLD;
	}
	fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onterm;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop) {
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			for (k = 0; k < n; k++)
				if (kids[k] == pid) {
					kids[k] = kids[--n];
					break;
				}
		pf[0].fd = lfd;
		pf[0].events = POLLIN;
		for (k = 0; k < np; k++) {
			pf[k + 1].fd = pend[k].fd;
			pf[k + 1].events = POLLIN;
			pf[k + 1].revents = 0;
		}
		if (poll(pf, (nfds_t)np + 1, 500) < 0)
			continue;
		/* Spoken: a process of its own. Silent too long: closed. */
		t = now_sec();
		for (k = 0, j = 0; k < np; k++) {
			if (pf[k + 1].revents != 0) {
				spawn(pend[k].fd, lfd, pend, np, kids, &n, maxconns,
				    handler, arg);
			} else if (t - pend[k].since >= PENDING_SECONDS) {
				close(pend[k].fd);
			} else
				pend[j++] = pend[k];
		}
		np = j;
		if (!(pf[0].revents & POLLIN))
			continue;
		while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
			if (np == cap) {	/* full: the oldest goes */
				close(pend[0].fd);
				memmove(pend, pend + 1, (size_t)(np - 1) *
				    sizeof(*pend));
				np--;
			}
			pend[np].fd = fd;
			pend[np++].since = t;
		}
	}
	for (k = 0; k < np; k++)
		close(pend[k].fd);
	for (k = 0; k < n; k++)
		kill(kids[k], SIGTERM);
	while (waitpid(-1, &st, 0) > 0)
		;
	free(kids);
	free(pend);
	free(pf);
	return BT_EXIT_OK;
}
