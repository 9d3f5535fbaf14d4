/*
 * utp_io.c: one uTP connection on its own UDP socket; see utp_io.h.
 */
#include <sys/random.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt.h"
#include "utp.h"
#include "utp_io.h"

/*
 * Socket buffers: a whole window (1 MiB of payload, about 760 datagrams)
 * can arrive between two polls; the kernel's 208 KiB default holds ~90.
 */
#define SOCKBUF	(4 << 20)

uint64_t
utp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint16_t
utp_random16(void)
{
	uint16_t v = 0;

	while (getrandom(&v, sizeof(v), 0) != sizeof(v))
		;
	return v;
}

static int
open_socket(struct utp_io *io, const char *host, const char *port,
    int bind_it, char *err)
{
	struct addrinfo hints, *ai;
	int e, sz = SOCKBUF;

	memset(io, 0, sizeof(*io));
	io->fd = -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV | (bind_it ? AI_PASSIVE : 0);
	if ((e = getaddrinfo(host, port, &hints, &ai)) != 0)
		return bt_err(err, "%s:%s: %s", host ? host : "*", port,
		    gai_strerror(e));
	if ((io->fd = socket(ai->ai_family, SOCK_DGRAM, 0)) == -1) {
		freeaddrinfo(ai);
		return bt_err(err, "socket: %s", strerror(errno));
	}
	setsockopt(io->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(io->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	e = bind_it ? bind(io->fd, ai->ai_addr, ai->ai_addrlen) :
	    connect(io->fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (e == -1) {
		e = errno;
		close(io->fd);
		io->fd = -1;
		return bt_err(err, "%s %s:%s: %s", bind_it ? "bind" : "connect",
		    host ? host : "*", port, strerror(e));
	}
	io->last_rx = utp_now();
	return 0;
}

int
utp_io_dial(struct utp_io *io, const char *host, const char *port, char *err)
{
	if (open_socket(io, host, port, 0, err) == -1)
		return -1;
	if ((io->c = utp_connect(utp_random16(), io->last_rx)) == NULL) {
		utp_io_close(io);
		return bt_err(err, "out of memory");
	}
	return utp_io_send(io, err);
}

int
utp_io_listen(struct utp_io *io, const char *host, const char *port,
    char *err)
{
	return open_socket(io, host, port, 1, err);
}

int
utp_io_port(const struct utp_io *io)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(io->fd, (struct sockaddr *)&ss, &sl) == -1)
		return -1;
	return ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
}

/* A listener's first SYN: the connection, and the socket connected. */
static int
accept_syn(struct utp_io *io, const unsigned char *d, size_t n,
    const struct sockaddr_storage *from, socklen_t fl, uint64_t now,
    char *err)
{
	struct utp_hdr h;

	if (utp_parse(d, n, &h, err) == -1 || h.type != UTP_ST_SYN)
		return 0;
	if (connect(io->fd, (const struct sockaddr *)from, fl) == -1)
		return bt_err(err, "connect: %s", strerror(errno));
	if ((io->c = utp_accept(&h, utp_random16(), now)) == NULL)
		return bt_err(err, "out of memory");
	return 0;
}

int
utp_io_recv(struct utp_io *io, char *err)
{
	unsigned char d[UTP_MAX_DGRAM];
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t n;
	uint64_t now;

	for (;;) {
		fl = sizeof(from);
		n = recvfrom(io->fd, d, sizeof(d), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fl);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n == -1 && errno == ECONNREFUSED && io->c != NULL &&
		    utp_eof(io->c)) {
			io->gone = 1;	/* it finished, then went away */
			continue;
		}
		if (n == -1)
			return bt_err(err, "receive: %s", strerror(errno));
		now = utp_now();
		io->last_rx = now;
		if (io->trace != NULL)
			io->trace(io->trace_arg, "<", d, (size_t)n);
		if (io->c != NULL)
			utp_input(io->c, d, (size_t)n, now);
		else if (accept_syn(io, d, (size_t)n, &from, fl, now, err) ==
		    -1)
			return -1;
	}
}

int
utp_io_send(struct utp_io *io, char *err)
{
	unsigned char d[UTP_MTU];
	size_t n;

	if (io->c == NULL)
		return 0;
	while ((n = utp_output(io->c, utp_now(), d)) > 0) {
		if (io->trace != NULL)
			io->trace(io->trace_arg, ">", d, n);
		/* A full buffer or a refusal is a lost datagram: uTP resends. */
		if (send(io->fd, d, n, 0) == -1 && errno != EAGAIN &&
		    errno != ENOBUFS && errno != ECONNREFUSED && errno != EINTR)
			return bt_err(err, "send: %s", strerror(errno));
	}
	return 0;
}

int
utp_io_timeout(const struct utp_io *io)
{
	uint64_t dl, now;

	if (io->c == NULL || (dl = utp_deadline(io->c)) == UINT64_MAX)
		return -1;
	now = utp_now();
	if (dl <= now)
		return 0;
	if (dl - now > 3600000000u)
		return 3600000;
	return (int)((dl - now + 999) / 1000);
}

void
utp_io_close(struct utp_io *io)
{
	utp_free(io->c);
	io->c = NULL;
	if (io->fd != -1)
		close(io->fd);
	io->fd = -1;
}
