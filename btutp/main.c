/*
 * btutp: the owner of a client's uTP port. It reads every datagram that
 * arrives on one UDP port, runs each uTP connection (lib/utp.c) and hands
 * its byte stream to a command of its own, started on a socketpair on fds
 * 0 and 1, as inetd or a TCP server hands out accepted sockets: typically
 * `btpeer --serve`, which then speaks BitTorrent unaware of the transport.
 * With --connect it dials one peer instead, from a socket of its own, and
 * exits with the command's status once that connection ends.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "proc.h"
#include "utp.h"
#include "utp_io.h"

/* More connections than this, each a process, is more than a host runs. */
#define MAX_CONNS	1024
/* Stream bytes moved per connection and step. */
#define CHUNK		65536

static const char usage[] =
    "usage: btutp [-hv] [--max-conns n] [--version] --listen [host:]port\n"
    "             command [arg ...]\n"
    "       btutp [-hv] [--version] --connect host:port command [arg ...]\n";

struct conn {
	struct utp_conn	*c;
	struct sockaddr_storage peer;
	socklen_t	 peerlen;
	int		 fd;		/* our end of the socketpair */
	pid_t		 pid;
	unsigned char	 buf[CHUNK];	/* from uTP, not yet written */
	size_t		 off, len;
	int		 in_eof, out_done;
	uint64_t	 linger;
};

struct demux {
	int		 udp, verbose, max;
	int		 dialed;	/* --connect: one connection, then exit */
	int		 refused;	/* its SYN met a closed port */
	int		 status;	/* its command's exit status */
	char		**cmd;
	struct conn	**conns;
	int		 n;
};

static int
bad_usage(const char *msg)
{
	if (msg != NULL)
		fprintf(stderr, "btutp: %s\n", msg);
	fputs(usage, stderr);
	return BT_EXIT_INPUT;
}

static int
same_peer(const struct conn *k, const struct sockaddr_storage *a,
    socklen_t al)
{
	return k->peerlen == al && memcmp(&k->peer, a, al) == 0;
}

/* Starts the command on a socketpair for a new connection; -1 on error. */
static int
start(struct demux *d, struct conn *k)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -1;
	if ((k->pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (k->pid == 0) {
		close(sv[0]);
		close(d->udp);
		if (dup2(sv[1], 0) == -1 || dup2(sv[1], 1) == -1)
			_exit(127);
		if (sv[1] > 1)
			close(sv[1]);
		execvp(d->cmd[0], d->cmd);
		fprintf(stderr, "btutp: %s: %s\n", d->cmd[0], strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	k->fd = sv[0];
	fcntl(k->fd, F_SETFL, fcntl(k->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

static void
drop(struct demux *d, int i)
{
	struct conn *k = d->conns[i];

	if (d->verbose)
		fprintf(stderr, "btutp: connection %u %s\n",
		    utp_recv_id(k->c), utp_state_name(utp_state(k->c)));
	close(k->fd);
	if (d->dialed) {
		int st;

		if (utp_state(k->c) == UTP_RESET ||
		    utp_state(k->c) == UTP_TIMEDOUT) {
			fprintf(stderr, "btutp: connection %s\n",
			    utp_state_name(utp_state(k->c)));
			kill(k->pid, SIGTERM);
		}
		d->status = waitpid(k->pid, &st, 0) == k->pid &&
		    WIFEXITED(st) ? WEXITSTATUS(st) : BT_EXIT_WORLD;
	}
	utp_free(k->c);
	free(k);
	d->conns[i] = d->conns[--d->n];
}

/* A datagram nobody owns: a SYN makes a connection, others get a RESET. */
static void
unowned(struct demux *d, const unsigned char *b, size_t n,
    const struct sockaddr_storage *from, socklen_t fl, uint64_t now)
{
	unsigned char out[UTP_HDR_LEN];
	char err[BT_ERRLEN];
	struct utp_hdr h;
	struct conn *k;
	size_t r;

	if (utp_parse(b, n, &h, err) == -1)
		return;
	if (h.type != UTP_ST_SYN) {
		if ((r = utp_reset_reply(&h, now, out)) > 0)
			sendto(d->udp, out, r, 0, (const struct sockaddr *)from,
			    fl);
		return;
	}
	if (d->n >= d->max)
		return;		/* full: the peer's SYN times out */
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return;
	memcpy(&k->peer, from, fl);
	k->peerlen = fl;
	if ((k->c = utp_accept(&h, utp_random16(), now)) == NULL ||
	    start(d, k) == -1) {
		utp_free(k->c);
		free(k);
		return;
	}
	d->conns[d->n++] = k;
	if (d->verbose)
		fprintf(stderr, "btutp: connection %u accepted\n",
		    utp_recv_id(k->c));
}

static void
udp_in(struct demux *d)
{
	unsigned char b[UTP_MAX_DGRAM];
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t n;
	uint64_t now;
	int i, mine;

	for (;;) {
		fl = sizeof(from);
		n = recvfrom(d->udp, b, sizeof(b), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fl);
		/* Dialed: the peer's port closed (ICMP), unless it finished. */
		if (n == -1 && d->dialed && errno == ECONNREFUSED &&
		    d->n > 0 && !utp_eof(d->conns[0]->c)) {
			d->refused = 1;
			return;
		}
		if (n == -1)
			return;		/* EAGAIN, or an ICMP error: ignored */
		now = utp_now();
		mine = 0;
		for (i = 0; i < d->n && !mine; i++)
			if (same_peer(d->conns[i], &from, fl))
				mine = utp_input(d->conns[i]->c, b, (size_t)n,
				    now);
		if (!mine)
			unowned(d, b, (size_t)n, &from, fl, now);
	}
}

/* Moves stream bytes both ways for one connection; -1 when it ended. */
static int
stream(struct conn *k, short ev, uint64_t now)
{
	unsigned char b[CHUNK];
	size_t want;
	ssize_t n;

	if ((ev & (POLLIN | POLLHUP)) && !k->in_eof &&
	    (want = utp_writable(k->c)) > 0) {
		n = read(k->fd, b, want < sizeof(b) ? want : sizeof(b));
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
			k->in_eof = 1;
			utp_close(k->c);
		} else if (n > 0)
			utp_write(k->c, b, (size_t)n);
	}
	/* Everything received, until the command's socket is full. */
	for (;;) {
		if (k->len == 0) {
			k->off = 0;
			k->len = utp_read(k->c, k->buf, sizeof(k->buf));
		}
		if (k->len == 0)
			break;
		n = write(k->fd, k->buf + k->off, k->len);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n == -1)
			return -1;
		k->off += (size_t)n;
		k->len -= (size_t)n;
	}
	if (k->len == 0 && !k->out_done && utp_eof(k->c)) {
		k->out_done = 1;
		shutdown(k->fd, SHUT_WR);
	}
	if (k->out_done && k->in_eof) {
		if (k->linger == 0)
			k->linger = now + 1000000;	/* for our FIN's ack */
		if (utp_fin_acked(k->c) || now >= k->linger)
			return -1;
	}
	return 0;
}

static void
udp_out(struct demux *d, struct conn *k)
{
	unsigned char b[UTP_MTU];
	size_t n;

	while ((n = utp_output(k->c, utp_now(), b)) > 0) {
		if (d->dialed)
			send(d->udp, b, n, 0);
		else
			sendto(d->udp, b, n, 0, (struct sockaddr *)&k->peer,
			    k->peerlen);
	}
}

/* Set by SIGTERM and SIGINT: a signal handler can only reach a static. */
static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int
serve(struct demux *d)
{
	struct pollfd *p;
	uint64_t now, dl, next;
	enum utp_state st;
	int i, t, np;

	if ((p = calloc(MAX_CONNS + 1, sizeof(*p))) == NULL)
		return -1;
	while (!stop && !(d->dialed && d->n == 0)) {
		if (d->refused) {
			fprintf(stderr, "btutp: %s\n",
			    utp_state(d->conns[0]->c) == UTP_SYN_SENT ?
			    "connection refused" : "the peer's port closed");
			kill(d->conns[0]->pid, SIGTERM);
			drop(d, 0);
			d->status = BT_EXIT_WORLD;
			break;
		}
		if (!d->dialed)
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		now = utp_now();
		next = UINT64_MAX;
		p[0].fd = d->udp;
		p[0].events = POLLIN;
		for (i = 0; i < d->n; i++) {
			struct conn *k = d->conns[i];

			p[i + 1].fd = k->fd;
			p[i + 1].events = (!k->in_eof &&
			    utp_state(k->c) == UTP_CONNECTED &&
			    utp_writable(k->c) > 0 ? POLLIN : 0) |
			    (k->len > 0 ? POLLOUT : 0);
			if ((dl = utp_deadline(k->c)) < next)
				next = dl;
			if (k->linger != 0 && k->linger < next)
				next = k->linger;
		}
		t = next == UINT64_MAX ? -1 : next <= now ? 0 :
		    (int)((next - now + 999) / 1000);
		np = d->n;
		if (poll(p, (nfds_t)np + 1, t) == -1 && errno != EINTR)
			break;
		if (p[0].revents & (POLLIN | POLLERR))
			udp_in(d);
		now = utp_now();
		for (i = 0; i < d->n; i++) {
			struct conn *k = d->conns[i];
			/* Sockets are non-blocking: a stale ev costs a call. */
			short ev = i < np ? p[i + 1].revents : 0;

			st = utp_state(k->c);
			if (st == UTP_RESET || st == UTP_TIMEDOUT ||
			    (st != UTP_SYN_RECV && st != UTP_SYN_SENT &&
			    stream(k, ev, now) == -1)) {
				udp_out(d, k);
				drop(d, i);
				i--;	/* the last one moved here */
				continue;
			}
			udp_out(d, k);
		}
	}
	free(p);
	return 0;
}

/*
 * --connect: a socket connected to host:port, its connection's SYN sent
 * and the command started; the connection is then run like an accepted
 * one. 0, or -1 with err.
 */
static int
connect_one(struct demux *d, struct utp_io *io, const char *host,
    const char *port, char *err)
{
	struct conn *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return bt_err(err, "out of memory");
	if (utp_io_dial(io, host, port, err) == -1) {
		free(k);
		return -1;
	}
	d->udp = io->fd;
	d->dialed = 1;
	k->peerlen = sizeof(k->peer);
	getpeername(io->fd, (struct sockaddr *)&k->peer, &k->peerlen);
	k->c = io->c;
	io->c = NULL;		/* the demultiplexer owns it now */
	if (start(d, k) == -1) {
		utp_free(k->c);
		free(k);
		return bt_err(err, "%s: %s", d->cmd[0], strerror(errno));
	}
	d->conns[d->n++] = k;
	return 0;
}

/* Splits [host:]port; host is NULL for any address. */
static int
split(char *arg, const char **host, const char **port)
{
	char *c = strrchr(arg, ':');

	*host = NULL;
	*port = arg;
	if (c != NULL) {
		*c = '\0';
		*host = arg;
		*port = c + 1;
		if (**host == '[' && (*host)[strlen(*host) - 1] == ']') {
			(*host)++;
			arg[strlen(arg) - 1] = '\0';
		}
	}
	return **port == '\0' ? -1 : 0;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "listen", required_argument, NULL, 'l' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct demux d;
	struct utp_io io;
	char err[BT_ERRLEN], *listen = NULL, *dial = NULL, *end;
	const char *host, *port;
	long n;
	int c, rc, served = 0;

	memset(&d, 0, sizeof(d));
	d.max = 32;
	while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			dial = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return BT_EXIT_OK;
		case 'l':
			listen = optarg;
			break;
		case 'm':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 ||
			    n > MAX_CONNS)
				return bad_usage("--max-conns wants a number "
				    "from 1 to 1024");
			d.max = (int)n;
			break;
		case 'v':
			d.verbose = 1;
			break;
		case 'V':
			puts("btutp " BT_VERSION);
			return BT_EXIT_OK;
		default:
			return bad_usage(NULL);
		}
	}
	if ((listen == NULL) == (dial == NULL))
		return bad_usage("one of --listen or --connect is needed");
	if (optind >= argc)
		return bad_usage("a command to run per connection is needed");
	if (split(listen != NULL ? listen : dial, &host, &port) == -1 ||
	    (dial != NULL && host == NULL))
		return bad_usage(listen != NULL ? "--listen wants [host:]port" :
		    "--connect wants host:port");
	d.cmd = argv + optind;
	if ((d.conns = calloc(MAX_CONNS, sizeof(*d.conns))) == NULL) {
		fprintf(stderr, "btutp: out of memory\n");
		return BT_EXIT_WORLD;
	}
	/* From here every way out goes through out: (make asan: no leak). */
	memset(&io, 0, sizeof(io));
	io.fd = -1;
	rc = BT_EXIT_WORLD;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	if (bt_watch_parent() == -1)
		goto out;	/* our orchestrator is gone */
	if (dial != NULL) {
		if (connect_one(&d, &io, host, port, err) == -1) {
			fprintf(stderr, "btutp: %s\n", err);
			goto out;
		}
	} else {
		/* utp_io binds the socket; the connections are ours. */
		if (utp_io_listen(&io, host, port, err) == -1) {
			fprintf(stderr, "btutp: %s\n", err);
			goto out;
		}
		d.udp = io.fd;
		printf("listening %d\n", utp_io_port(&io));
		if (fflush(stdout) == EOF) {
			fprintf(stderr, "btutp: writing output failed\n");
			goto out;
		}
	}
	if (serve(&d) == -1)
		fprintf(stderr, "btutp: %s\n", strerror(errno));
	else
		served = 1;
out:
	/* A dialed connection's command gives the status once reaped. */
	while (d.n > 0)
		drop(&d, d.n - 1);
	if (served)
		rc = d.dialed ? d.status : BT_EXIT_OK;
	utp_io_close(&io);
	free(d.conns);
	return rc;
}
