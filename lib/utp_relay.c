/*
 * utp_relay.c: one uTP connection relayed to a stream descriptor, in a
 * poll loop of its own (utp_io.h): the transport half of a process pair
 * whose other half speaks BitTorrent on the other end of a socketpair.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "utp.h"
#include "utp_io.h"

/* Stream bytes moved per step. */
#define CHUNK	65536
/* After both FINs, how long our FIN's ack may take before we stop. */
#define LINGER	1000000u

struct relay {
	struct utp_io	*io;
	int		 fd;
	unsigned char	 buf[CHUNK];	/* from uTP, not yet written */
	size_t		 off, len;
	int		 in_eof, out_done;
};

/* Moves stream bytes both ways; -1 with err when the stream failed. */
static int
step(struct relay *r, char *err)
{
	struct utp_conn *c = r->io->c;
	unsigned char b[CHUNK];
	size_t want;
	ssize_t n;

	while (!r->in_eof && (want = utp_writable(c)) > 0) {
		n = read(r->fd, b, want < sizeof(b) ? want : sizeof(b));
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			r->in_eof = 1;
			utp_close(c);
			break;
		}
		utp_write(c, b, (size_t)n);
	}
	for (;;) {
		if (r->len == 0) {
			r->off = 0;
			r->len = utp_read(c, r->buf, sizeof(r->buf));
		}
		if (r->len == 0)
			break;
		n = write(r->fd, r->buf + r->off, r->len);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n == -1)
			return bt_err(err, "stream: %s", strerror(errno));
		r->off += (size_t)n;
		r->len -= (size_t)n;
	}
	if (r->len == 0 && !r->out_done && utp_eof(c)) {
		r->out_done = 1;
		shutdown(r->fd, SHUT_WR);
	}
	return 0;
}

int
utp_relay(struct utp_io *io, int fd, uint64_t idle, char *err)
{
	struct relay *r;
	struct pollfd p[2];
	enum utp_state st;
	uint64_t now, linger = 0, dl;
	int t, rc = -1;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return bt_err(err, "out of memory");
	r->io = io;
	r->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		now = utp_now();
		st = utp_state(io->c);
		if (st == UTP_RESET || st == UTP_TIMEDOUT) {
			bt_err(err, "uTP connection %s", utp_state_name(st));
			break;
		}
		if (r->out_done && r->in_eof) {
			if (linger == 0)
				linger = now + LINGER;
			if (utp_fin_acked(io->c) || io->gone || now >= linger) {
				rc = 0;
				break;
			}
		}
		if (now - io->last_rx > idle) {
			bt_err(err, "no uTP datagram for %llu s",
			    (unsigned long long)(idle / 1000000));
			break;
		}
		dl = io->last_rx + idle;
		if (linger != 0 && linger < dl)
			dl = linger;
		if (utp_deadline(io->c) < dl)
			dl = utp_deadline(io->c);
		t = dl <= now ? 0 : (int)((dl - now) / 1000 + 1);
		p[0].fd = io->fd;
		p[0].events = POLLIN;
		p[1].fd = fd;
		p[1].events = (!r->in_eof && st == UTP_CONNECTED &&
		    utp_writable(io->c) > 0 ? POLLIN : 0) |
		    (r->len > 0 ? POLLOUT : 0);
		if (poll(p, 2, t) == -1 && errno != EINTR) {
			bt_err(err, "poll: %s", strerror(errno));
			break;
		}
		if ((p[0].revents & (POLLIN | POLLERR)) &&
		    utp_io_recv(io, err) == -1)
			break;
		st = utp_state(io->c);
		if ((st == UTP_CONNECTED || st == UTP_CLOSED) &&
		    step(r, err) == -1)
			break;
		if (utp_io_send(io, err) == -1)
			break;
	}
	free(r);
	return rc;
}
