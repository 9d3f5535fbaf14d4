/*
 * utp_io.h: one uTP connection on a UDP socket of its own: the I/O half
 * that lib/utp.c leaves to its caller, for a process that dials one peer
 * over uTP (btpeer) or takes one incoming connection (a test relay).
 *
 * The socket is connect(2)ed to the peer, so the kernel drops foreign
 * datagrams and reports an ICMP port-unreachable as ECONNREFUSED. The
 * caller polls fd for POLLIN with utp_io_timeout() and calls
 * utp_io_recv(), then moves bytes with utp_read()/utp_write() on c, then
 * utp_io_send(). Errors go to err (BT_ERRLEN); nothing here prints.
 */
#ifndef BT_UTP_IO_H
#define BT_UTP_IO_H

#include <stddef.h>
#include <stdint.h>

#include "utp.h"

struct utp_io {
	int		 fd;
	struct utp_conn	*c;		/* NULL until a listener's SYN */
	uint64_t	 last_rx;	/* when a datagram last came */
	int		 gone;		/* the peer's port closed after its FIN */
	/* Called for each datagram in ("<") and out (">") when set. */
	void		(*trace)(void *, const char *, const unsigned char *,
			    size_t);
	void		*trace_arg;
};

/* The clock lib/utp.c runs on: CLOCK_MONOTONIC, microseconds. */
uint64_t utp_now(void);
/* A random 16-bit connection id for utp_connect or utp_accept (getrandom). */
uint16_t utp_random16(void);
/* A socket connected to host:port, and a connection's SYN sent: 0 or -1. */
int	utp_io_dial(struct utp_io *, const char *host, const char *port,
	    char *err);
/* A socket bound to host:port (port 0: any) for one incoming connection. */
int	utp_io_listen(struct utp_io *, const char *host, const char *port,
	    char *err);
/* The socket's local port, or -1. */
int	utp_io_port(const struct utp_io *);
/*
 * Reads every datagram waiting; a listener takes the first SYN and
 * connects its socket to the sender. 0, or -1 with err.
 */
int	utp_io_recv(struct utp_io *, char *err);
/* Sends every datagram the connection has due: 0, or -1 with err. */
int	utp_io_send(struct utp_io *, char *err);
/* Milliseconds until utp_io_send() is due (for poll), -1 for never. */
int	utp_io_timeout(const struct utp_io *);
void	utp_io_close(struct utp_io *);

/*
 * Relays a dialed connection's byte stream to and from a stream
 * descriptor (one end of a socketpair), until both directions finished
 * (0), or the connection was refused, reset or timed out, the stream
 * failed, or idle microseconds passed without a datagram (-1 with err).
 * Nothing else runs meanwhile: a process of its own calls it.
 */
int	utp_relay(struct utp_io *, int fd, uint64_t idle, char *err);

#endif
