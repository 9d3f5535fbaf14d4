/*
 * loop.h: one peer connection's poll loop. It owns the descriptors and
 * the clock and moves bytes between them and the peer core (lib/peer.h);
 * the core's actions are carried out by host.c. The event lines on the
 * events stream are listed in btpeer(1).
 */
#ifndef BTPEER_LOOP_H
#define BTPEER_LOOP_H

#include <sys/types.h>

#include <stdio.h>

#include "metainfo.h"
#include "opts.h"
#include "spool.h"

/*
 * The transport under the core: a byte pipe with descriptors to poll.
 * TCP is read(2)/write(2) on rfd/wfd; a uTP transport would supply its
 * own recv/send over a UDP socket and the same descriptors to poll.
 */
struct conn {
	int	 rfd, wfd;
	int	 zc;		/* wfd is a TCP socket: sendfile(2) to it */
	ssize_t	(*recv)(struct conn *, void *, size_t);
	/* Scatter reads (peer_recv_iov); NULL: recv only. */
	ssize_t	(*recvv)(struct conn *, const struct iovec *, int);
	ssize_t	(*send)(struct conn *, const void *, size_t);
};

/*
 * Fills c for a stream socket (or a pipe pair): read(2)/write(2), and
 * blocks from files by sendfile(2) when wfd is a TCP socket (not for a
 * uTP relay's socketpair, nor a pipe).
 */
void	conn_stream(struct conn *, int rfd, int wfd);

/*
 * Runs one connection until it ends; returns the exit code. The error
 * line goes to events (if any) and stderr. enc is the MSE policy for
 * this connection (an accepted one under PEER_SERVE, else one we
 * opened). If fallback is non-NULL, *fallback says whether an outgoing
 * MSE handshake failed under PEER_CRYPTO_PREFER: the caller may dial
 * again in plain, and no error line was reported.
 */
int	loop_run(const struct opts *, const struct metainfo *, struct spool *,
	    struct conn *, FILE *events, enum peer_crypto enc, int *fallback);

#endif
