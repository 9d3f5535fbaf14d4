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
#include <unistd.h>

#include "bt.h"
#include "utp.h"
#include "utp_io.h"

/* Bytes moved between the stream and the connection per step. */
#define CHUNK	65536

struct relay {
	struct utp_io	 io;
	int		 in, out, verbose;
	unsigned char	 buf[CHUNK];	/* read from uTP, not yet written */
	size_t		 off, len;
	int		 in_eof, out_done;
	uint64_t	 t0, idle, linger;
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

/* -vv: one line a datagram. */
static void
trace(void *arg, const char *dir, const unsigned char *d, size_t n)
{
	const struct relay *r = arg;
	struct utp_hdr h;
	char err[BT_ERRLEN];

	if (utp_parse(d, n, &h, err) == -1) {
		fprintf(stderr, "utp_cat: %s bad: %s\n", dir, err);
		return;
	}
	fprintf(stderr, "utp_cat: %.6f %s type %d id %u seq %u ack %u wnd %u "
	    "tsdiff %u len %zu sack %zu\n", (double)(utp_now() - r->t0) / 1e6,
	    dir, h.type, h.conn_id, h.seq, h.ack, h.wnd, h.tsdiff, h.len,
	    h.sack_len);
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

/* Accepts one TCP connection on 127.0.0.1:port ("tcp PORT" to stderr). */
static int
tcp_accept_one(const char *port)
{
	struct addrinfo hints, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int s, c, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
	if (getaddrinfo("127.0.0.1", port, &hints, &ai) != 0)
		return -1;
	s = socket(ai->ai_family, SOCK_STREAM, 0);
	if (s == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s, ai->ai_addr, ai->ai_addrlen) == -1 || listen(s, 1) == -1 ||
	    getsockname(s, (struct sockaddr *)&ss, &sl) == -1) {
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	fprintf(stderr, "tcp %d\n", ntohs(((struct sockaddr_in *)&ss)->sin_port));
	c = accept(s, NULL, NULL);
	close(s);
	return c;
}

/* Moves stream bytes both ways; -1 on a stream error. */
static int
stream_io(struct relay *r, short in_ev, short out_ev)
{
	struct utp_conn *c = r->io.c;
	unsigned char b[CHUNK];
	size_t want;
	ssize_t n;

	if (in_ev && !r->in_eof && (want = utp_writable(c)) > 0) {
		n = read(r->in, b, want < sizeof(b) ? want : sizeof(b));
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n == 0) {
			r->in_eof = 1;
			utp_close(c);
		} else if (n > 0) {
			utp_write(c, b, (size_t)n);
			r->bytes_out += (size_t)n;
		}
	}
	if (r->len == 0) {
		r->off = 0;
		r->len = utp_read(c, r->buf, sizeof(r->buf));
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
	if (r->len == 0 && !r->out_done && utp_eof(c)) {
		r->out_done = 1;
		if (shutdown(r->out, SHUT_WR) == -1 && r->out != r->in)
			close(r->out);
	}
	return 0;
}

/* 1 once both directions finished (or the peer left after its FIN). */
static int
finished(struct relay *r, uint64_t now)
{
	if (!r->out_done || !r->in_eof)
		return 0;
	/* Our FIN acked, the peer gone, or a second's linger after its FIN. */
	if (r->linger == 0)
		r->linger = now + 1000000;
	return utp_fin_acked(r->io.c) || r->io.gone || now >= r->linger;
}

static int
run(struct relay *r)
{
	char err[BT_ERRLEN];
	struct pollfd p[3];
	uint64_t now;
	int t, np, conn;
	enum utp_state st;

	for (;;) {
		now = utp_now();
		conn = r->io.c != NULL;
		if (conn) {
			st = utp_state(r->io.c);
			if (st == UTP_RESET || st == UTP_TIMEDOUT) {
				fprintf(stderr, "utp_cat: connection %s\n",
				    utp_state_name(st));
				return 1;
			}
			if (finished(r, now)) {
				utp_io_send(&r->io, err);	/* last ack */
				return 0;
			}
		}
		if (now - r->io.last_rx > r->idle) {
			fprintf(stderr, "utp_cat: no datagram for %llu s\n",
			    (unsigned long long)(r->idle / 1000000));
			return 1;
		}
		t = utp_io_timeout(&r->io);
		if (t == -1 || (uint64_t)t > (r->io.last_rx + r->idle - now) /
		    1000 + 1)
			t = (int)((r->io.last_rx + r->idle - now) / 1000 + 1);
		if (r->linger != 0 && (uint64_t)t > (r->linger - now) / 1000 + 1)
			t = (int)(r->linger > now ? (r->linger - now) / 1000 + 1 :
			    0);
		p[0].fd = r->io.fd;
		p[0].events = POLLIN;
		np = 1;
		/* Closed both ways, what was received may still wait to go out. */
		if (conn && (utp_state(r->io.c) == UTP_CONNECTED ||
		    utp_state(r->io.c) == UTP_CLOSED)) {
			p[1].fd = r->in;
			p[1].events = !r->in_eof && utp_writable(r->io.c) > 0 ?
			    POLLIN : 0;
			p[2].fd = r->out;
			p[2].events = r->len > 0 ? POLLOUT : 0;
			np = 3;
		}
		if (poll(p, (nfds_t)np, t) == -1 && errno != EINTR) {
			perror("utp_cat: poll");
			return 1;
		}
		if ((p[0].revents & (POLLIN | POLLERR)) &&
		    utp_io_recv(&r->io, err) == -1) {
			fprintf(stderr, "utp_cat: %s\n", err);
			return 1;
		}
		if (r->io.c == NULL)
			continue;
		if (!conn && r->verbose)
			fprintf(stderr, "utp_cat: accepted, recv id %u\n",
			    utp_recv_id(r->io.c));
		if (np == 3 && stream_io(r, p[1].revents & (POLLIN | POLLHUP),
		    p[2].revents & (POLLOUT | POLLERR)) == -1) {
			perror("utp_cat: stream");
			return 1;
		}
		if (utp_io_send(&r->io, err) == -1) {
			fprintf(stderr, "utp_cat: %s\n", err);
			return 1;
		}
		/* Bytes read after output may free window: stream again. */
		if (r->len == 0 && (utp_state(r->io.c) == UTP_CONNECTED ||
		    utp_state(r->io.c) == UTP_CLOSED))
			stream_io(r, 0, 0);
	}
}

static void
report(struct relay *r)
{
	struct utp_stats st;
	double secs = (double)(utp_now() - r->t0) / 1e6;

	utp_get_stats(r->io.c, &st);
	fprintf(stderr, "utp_cat: %llu bytes in, %llu out, %.3f s, "
	    "%.1f MB/s in; datagrams %llu sent %llu received, "
	    "retransmits %llu (fast %llu), timeouts %llu, dropped %llu, "
	    "rtt %u us, cwnd %u\n", (unsigned long long)r->bytes_in,
	    (unsigned long long)r->bytes_out, secs,
	    (double)r->bytes_in / secs / 1e6, (unsigned long long)st.sent,
	    (unsigned long long)st.received,
	    (unsigned long long)st.retransmits,
	    (unsigned long long)st.fast_retransmits,
	    (unsigned long long)st.timeouts, (unsigned long long)st.dropped,
	    st.rtt_us, st.cwnd);
}

int
main(int argc, char **argv)
{
	struct relay r;
	char err[BT_ERRLEN];
	const char *bindaddr = "127.0.0.1", *tcpport = NULL;
	char **cmd = NULL;
	pid_t pid = -1;
	int ch, rc, status, need, listening = 0;

	memset(&r, 0, sizeof(r));
	r.idle = 60 * 1000000ull;
	while ((ch = getopt(argc, argv, "+b:hlT:vw:")) != -1) {
		switch (ch) {
		case 'b':
			bindaddr = optarg;
			break;
		case 'l':
			listening = 1;
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
	need = listening ? 1 : 2;
	if (argc < need)
		usage();
	if (argc > need)
		cmd = argv + need;
	signal(SIGPIPE, SIG_IGN);
	r.t0 = utp_now();
	if (listening) {
		if (utp_io_listen(&r.io, bindaddr, argv[0], err) == -1) {
			fprintf(stderr, "utp_cat: %s\n", err);
			return 1;
		}
		fprintf(stderr, "listening %d\n", utp_io_port(&r.io));
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
	if (r.verbose > 1) {
		r.io.trace = trace;
		r.io.trace_arg = &r;
	}
	if (!listening && utp_io_dial(&r.io, argv[0], argv[1], err) == -1) {
		fprintf(stderr, "utp_cat: %s\n", err);
		return 1;
	}
	if (r.verbose > 1) {
		r.io.trace = trace;
		r.io.trace_arg = &r;
	}
	rc = run(&r);
	if (r.verbose && r.io.c != NULL)
		report(&r);
	utp_io_close(&r.io);
	if (pid > 0) {
		close(r.in);
		if (rc != 0)
			kill(pid, SIGTERM);
		if (waitpid(pid, &status, 0) == pid && rc == 0)
			rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	return rc;
}
