/*
 * utp_cat: one uTP connection relayed to a byte stream, for tests (not
 * installed). It is the I/O half of lib/utp.c: a UDP socket, a clock,
 * randomness and a poll loop.
 *
 *	utp_cat [-v] [-w secs] [-T port] host port [cmd ...]
 *	utp_cat [-v] [-w secs] -l [-b addr] port [cmd ...]
 *
 * The first form connects to host:port over uTP, the second accepts one
 * incoming connection on UDP port (0: any; "listening PORT" goes to
 * stderr). The stream is relayed to stdin/stdout, or with cmd to that
 * command run on a socketpair on its fds 0 and 1 (as inetd or a
 * demultiplexer hands a connection to `btpeer --serve`), or with -T to
 * the first TCP connection accepted on 127.0.0.1:port ("tcp PORT" goes
 * to stderr), so that a TCP-only client reaches a uTP-only peer.
 * Exit: 0 once both directions finished (or cmd's status), 1 on a reset,
 * a timeout or -w seconds without a datagram, 2 on bad usage.
 */
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt.h"
#include "utp.h"

/* Bytes moved between the stream and the connection per step. */
#define CHUNK	65536

struct relay {
	int		 udp, in, out;
	int		 listening, verbose;
	struct utp_conn	*c;
	unsigned char	 buf[CHUNK];	/* read from uTP, not yet written */
	size_t		 off, len;
	int		 in_eof, out_done, gone;
	uint64_t	 linger;
	uint64_t	 t0, last_rx, idle;
	uint64_t	 bytes_in, bytes_out;
};

static void
usage(void)
{
	fprintf(stderr, "usage: utp_cat [-v] [-w secs] [-T port] host port "
	    "[cmd ...]\n       utp_cat [-v] [-w secs] -l [-b addr] port "
	    "[cmd ...]\n");
	exit(2);
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int
resolve(const char *host, const char *port, int socktype,
    struct sockaddr_storage *ss, socklen_t *sl)
{
	struct addrinfo hints, *ai;
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &ai)) != 0) {
		fprintf(stderr, "utp_cat: %s:%s: %s\n", host ? host : "*",
		    port, gai_strerror(e));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sl = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int
local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return -1;
	return ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
}

static uint16_t
random16(void)
{
	uint16_t v = 0;

	while (getrandom(&v, sizeof(v), 0) != sizeof(v))
		;
	return v;
}

/* Runs argv on one end of a socketpair; the other end is returned. */
static int
spawn(char **argv, pid_t *pid)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -1;
	if ((*pid = fork()) == -1)
		return -1;
	if (*pid == 0) {
		close(sv[0]);
		if (dup2(sv[1], 0) == -1 || dup2(sv[1], 1) == -1)
			_exit(127);
		if (sv[1] > 1)
			close(sv[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "utp_cat: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	return sv[0];
}

static int
tcp_accept_one(const char *port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int s, c, one = 1;

	if (resolve("127.0.0.1", port, SOCK_STREAM, &ss, &sl) == -1)
		return -1;
	if ((s = socket(ss.ss_family, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&ss, sl) == -1 || listen(s, 1) == -1)
		return -1;
	fprintf(stderr, "tcp %d\n", local_port(s));
	c = accept(s, NULL, NULL);
	close(s);
	return c;
}

/* -vv: one line a datagram. */
static void
trace(const struct relay *r, const char *dir, const unsigned char *d,
    size_t n)
{
	struct utp_hdr h;
	char err[BT_ERRLEN];

	if (r->verbose < 2)
		return;
	if (utp_parse(d, n, &h, err) == -1) {
		fprintf(stderr, "utp_cat: %s bad: %s\n", dir, err);
		return;
	}
	fprintf(stderr, "utp_cat: %.6f %s type %d id %u seq %u ack %u wnd %u "
	    "tsdiff %u len %zu sack %zu\n", (double)(now_us() - r->t0) / 1e6,
	    dir, h.type, h.conn_id, h.seq, h.ack, h.wnd, h.tsdiff, h.len,
	    h.sack_len);
}

/*
 * Reads every datagram waiting: 0, 1 when the peer finished and its
 * port is closed, -1 on an error.
 */
static int
udp_in(struct relay *r)
{
	unsigned char d[UTP_MAX_DGRAM];
	struct sockaddr_storage from;
	socklen_t fl;
	struct utp_hdr h;
	char err[BT_ERRLEN];
	ssize_t n;
	uint64_t now;

	for (;;) {
		fl = sizeof(from);
		n = recvfrom(r->udp, d, sizeof(d), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fl);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n == -1 && errno == ECONNREFUSED && r->c != NULL &&
		    utp_eof(r->c))
			return 1;	/* the peer finished and went away */
		if (n == -1) {
			fprintf(stderr, "utp_cat: receive: %s\n",
			    strerror(errno));
			return -1;
		}
		now = now_us();
		r->last_rx = now;
		trace(r, "<", d, (size_t)n);
		if (r->c != NULL) {
			utp_input(r->c, d, (size_t)n, now);
			continue;
		}
		/* Listening: the first SYN makes the connection. */
		if (utp_parse(d, (size_t)n, &h, err) == -1 ||
		    h.type != UTP_ST_SYN)
			continue;
		if (connect(r->udp, (struct sockaddr *)&from, fl) == -1 ||
		    (r->c = utp_accept(&h, random16(), now)) == NULL) {
			fprintf(stderr, "utp_cat: accept: %s\n",
			    strerror(errno));
			return -1;
		}
		if (r->verbose)
			fprintf(stderr, "utp_cat: accepted, recv id %u\n",
			    utp_recv_id(r->c));
	}
}

static int
udp_out(struct relay *r)
{
	unsigned char d[UTP_MTU];
	size_t n;

	while ((n = utp_output(r->c, now_us(), d)) > 0)
		if (trace(r, ">", d, n), send(r->udp, d, n, 0) == -1 && errno != EAGAIN &&
		    errno != ENOBUFS && errno != ECONNREFUSED) {
			fprintf(stderr, "utp_cat: send: %s\n", strerror(errno));
			return -1;
		}
	return 0;
}

/* Moves stream bytes both ways; -1 on a stream error. */
static int
stream_io(struct relay *r, short in_ev, short out_ev)
{
	unsigned char b[CHUNK];
	size_t want;
	ssize_t n;

	if (in_ev && !r->in_eof && (want = utp_writable(r->c)) > 0) {
		n = read(r->in, b, want < sizeof(b) ? want : sizeof(b));
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n == 0) {
			r->in_eof = 1;
			utp_close(r->c);
		} else if (n > 0) {
			utp_write(r->c, b, (size_t)n);
			r->bytes_out += (size_t)n;
		}
	}
	if (r->len == 0) {
		r->off = 0;
		r->len = utp_read(r->c, r->buf, sizeof(r->buf));
		r->bytes_in += r->len;
	}
	if (out_ev && r->len > 0) {
		n = write(r->out, r->buf + r->off, r->len);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0) {
			r->off += (size_t)n;
			r->len -= (size_t)n;
		}
	}
	if (r->len == 0 && !r->out_done && utp_eof(r->c)) {
		r->out_done = 1;
		if (shutdown(r->out, SHUT_WR) == -1 && r->out != r->in)
			close(r->out);
	}
	return 0;
}

static int
run(struct relay *r)
{
	struct pollfd p[3];
	uint64_t dl, now;
	int t, np;
	enum utp_state st;

	for (;;) {
		now = now_us();
		if (r->c != NULL) {
			st = utp_state(r->c);
			if (st == UTP_RESET || st == UTP_TIMEDOUT) {
				fprintf(stderr, "utp_cat: connection %s\n",
				    utp_state_name(st));
				return 1;
			}
			/*
			 * Done when both directions are: our FIN acked, or
			 * the peer gone, or a second's linger after its FIN.
			 */
			if (r->out_done && r->in_eof && r->linger == 0)
				r->linger = now + 1000000;
			if (r->out_done && r->in_eof && (utp_fin_acked(r->c) ||
			    r->gone || now >= r->linger)) {
				udp_out(r);	/* the last ack */
				return 0;
			}
		}
		if (now - r->last_rx > r->idle) {
			fprintf(stderr, "utp_cat: no datagram for %llu s\n",
			    (unsigned long long)(r->idle / 1000000));
			return 1;
		}
		dl = r->last_rx + r->idle;
		if (r->linger != 0 && r->linger < dl)
			dl = r->linger;
		if (r->c != NULL && utp_deadline(r->c) < dl)
			dl = utp_deadline(r->c);
		t = dl <= now ? 0 : (int)((dl - now + 999) / 1000);
		p[0].fd = r->udp;
		p[0].events = POLLIN;
		np = 1;
		if (r->c != NULL && utp_state(r->c) == UTP_CONNECTED) {
			p[1].fd = r->in;
			p[1].events = !r->in_eof && utp_writable(r->c) > 0 ?
			    POLLIN : 0;
			p[2].fd = r->out;
			p[2].events = r->len > 0 ? POLLOUT : 0;
			np = 3;
		}
		if (poll(p, (nfds_t)np, t) == -1 && errno != EINTR) {
			perror("utp_cat: poll");
			return 1;
		}
		if (p[0].revents & (POLLIN | POLLERR)) {
			int e = udp_in(r);

			if (e == -1)
				return 1;
			if (e == 1) {
				r->gone = 1;
				continue;
			}
		}
		if (r->c == NULL)
			continue;
		if (np == 3 && stream_io(r, p[1].revents & (POLLIN | POLLHUP),
		    p[2].revents & (POLLOUT | POLLERR)) == -1) {
			perror("utp_cat: stream");
			return 1;
		}
		if (udp_out(r) == -1)
			return 1;
		/* Bytes read after output may free window: stream again. */
		if (r->len == 0 && utp_state(r->c) == UTP_CONNECTED)
			stream_io(r, 0, 0);
	}
}

int
main(int argc, char **argv)
{
	struct relay r;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct utp_stats st;
	const char *bindaddr = NULL, *tcpport = NULL;
	char **cmd = NULL;
	pid_t pid = -1;
	int ch, rc, status, need;
	double secs;

	memset(&r, 0, sizeof(r));
	r.idle = 60 * 1000000ull;
	while ((ch = getopt(argc, argv, "+b:hlT:vw:")) != -1) {
		switch (ch) {
		case 'b':
			bindaddr = optarg;
			break;
		case 'l':
			r.listening = 1;
			break;
		case 'T':
			tcpport = optarg;
			break;
		case 'v':
			r.verbose++;
			break;
		case 'w':
			r.idle = (uint64_t)strtoul(optarg, NULL, 10) * 1000000;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	need = r.listening ? 1 : 2;
	if (argc < need)
		usage();
	if (argc > need)
		cmd = argv + need;
	signal(SIGPIPE, SIG_IGN);
	if (r.listening) {
		if (resolve(bindaddr ? bindaddr : "127.0.0.1", argv[0],
		    SOCK_DGRAM, &ss, &sl) == -1)
			return 2;
	} else if (resolve(argv[0], argv[1], SOCK_DGRAM, &ss, &sl) == -1)
		return 2;
	if ((r.udp = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1) {
		perror("utp_cat: socket");
		return 1;
	}
	/* Room for bursts: a full window can arrive between two polls. */
	ch = 4 << 20;
	setsockopt(r.udp, SOL_SOCKET, SO_RCVBUF, &ch, sizeof(ch));
	setsockopt(r.udp, SOL_SOCKET, SO_SNDBUF, &ch, sizeof(ch));
	if (r.listening) {
		if (bind(r.udp, (struct sockaddr *)&ss, sl) == -1) {
			perror("utp_cat: bind");
			return 1;
		}
		fprintf(stderr, "listening %d\n", local_port(r.udp));
	} else if (connect(r.udp, (struct sockaddr *)&ss, sl) == -1) {
		perror("utp_cat: connect");
		return 1;
	}
	r.in = 0;
	r.out = 1;
	if (tcpport != NULL) {
		if ((r.in = r.out = tcp_accept_one(tcpport)) == -1) {
			perror("utp_cat: tcp");
			return 1;
		}
	} else if (cmd != NULL) {
		if ((r.in = r.out = spawn(cmd, &pid)) == -1) {
			perror("utp_cat: spawn");
			return 1;
		}
	}
	if (r.in != 0)
		fcntl(r.in, F_SETFL, fcntl(r.in, F_GETFL) | O_NONBLOCK);
	r.t0 = r.last_rx = now_us();
	if (!r.listening) {
		r.c = utp_connect(random16(), r.t0);
		if (r.c == NULL) {
			fprintf(stderr, "utp_cat: out of memory\n");
			return 1;
		}
		udp_out(&r);
	}
	rc = run(&r);
	secs = (double)(now_us() - r.t0) / 1e6;
	if (r.verbose && r.c != NULL) {
		utp_get_stats(r.c, &st);
		fprintf(stderr, "utp_cat: %llu bytes in, %llu out, %.3f s, "
		    "%.1f MB/s in; datagrams %llu sent %llu received, "
		    "retransmits %llu (fast %llu), timeouts %llu, dropped %llu, "
		    "rtt %u us, cwnd %u\n", (unsigned long long)r.bytes_in,
		    (unsigned long long)r.bytes_out, secs,
		    (double)r.bytes_in / secs / 1e6,
		    (unsigned long long)st.sent,
		    (unsigned long long)st.received,
		    (unsigned long long)st.retransmits,
		    (unsigned long long)st.fast_retransmits,
		    (unsigned long long)st.timeouts,
		    (unsigned long long)st.dropped, st.rtt_us, st.cwnd);
	}
	utp_free(r.c);
	if (pid > 0) {
		close(r.in);
		if (rc != 0)
			kill(pid, SIGTERM);
		if (waitpid(pid, &status, 0) == pid && rc == 0)
			rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	return rc;
}
