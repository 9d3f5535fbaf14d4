/*
 * utp.h: the uTorrent transport protocol (uTP, BEP 29), sans I/O.
 *
 * One struct utp_conn per connection. The caller owns the UDP socket, the
 * clock (microseconds, any epoch, never going back) and the randomness
 * (connection ids, the acceptor's first sequence number):
 *
 *	datagram in   -> utp_input()
 *	app bytes in  -> utp_write(), utp_close()
 *	datagrams out <- utp_output() until it returns 0
 *	app bytes out <- utp_read(), utp_eof()
 *	next call due <- utp_deadline(): call utp_output() by then
 *
 * The protocol: the 20-byte version 1 header (DATA, FIN, STATE, RESET,
 * SYN), connection ids (the initiator picks R, sends the SYN with R and
 * everything else with R+1; the acceptor sends with R and receives on
 * R+1), packet sequence and ack numbers, the selective-ack extension,
 * the advertised receive window, timestamps and the one-way delay they
 * give, LEDBAT congestion control aiming at 100 ms of queueing delay,
 * slow start until the first loss or until the delay nears the target,
 * fast retransmit on 3 duplicate acks or on 3 packets selectively acked
 * past a hole, and the timeout (rtt + 4 rttvar, at least 500 ms, 1 s at
 * first, doubled at each consecutive timeout).
 *
 * Packet size: a datagram we send is at most UTP_MTU = 1400 bytes,
 * header included, so 1380 bytes of payload. 1400 fits the 1500-byte
 * Ethernet MTU under IPv6 (40) or IPv4 (20) and UDP (8) headers with
 * room left for PPPoE (8) and most tunnels; it is the size most paths
 * carry without fragmenting. There is no path-MTU discovery: a smaller
 * path fragments, a larger one costs about 4% of header overhead. We
 * accept datagrams up to UTP_MAX_DGRAM whatever the peer's choice
 * (libtorrent probes up to 1500 on loopback).
 *
 * Integration (who owns which socket). Outgoing: `btpeer --utp` opens
 * its own UDP socket, connect(2)s it to the peer (lib/utp_io.h) and
 * forks a child that runs the utp_conn and relays its stream to the peer
 * loop over a socketpair (lib/utp_relay.c), so the loop sees a stream
 * socket as with TCP; the kernel filters foreign datagrams, and an ICMP
 * port-unreachable ends the attempt at once. `btutp --connect` does the
 * same for any command. Incoming: a peer
 * sends its SYN to our listening port, the one number we announce for
 * TCP and UDP alike, so one process owns that UDP socket: btutp(1),
 * the uTP twin of btpeer --listen, reads every datagram, finds the
 * connection by the peer's address and the connection id (a SYN creates
 * one, a stray non-SYN packet gets utp_reset_reply()), runs the
 * utp_conn itself and hands the byte stream to a forked
 * `btpeer --serve` over a socketpair on its fds 0/1, exactly as a TCP
 * server hands out an accepted socket. btpeer thus sees a stream socket
 * either way and everything above the transport (framing, MSE,
 * extensions) is unchanged. tests/tools/utp_cat.c is that relay for
 * one connection (-l accepts; a command after the address runs on a
 * socketpair).
 */
#ifndef BT_UTP_H
#define BT_UTP_H

#include <stddef.h>
#include <stdint.h>

#define UTP_HDR_LEN	20
/* The largest datagram we send: see "Packet size" above. */
#define UTP_MTU		1400
#define UTP_PAYLOAD	(UTP_MTU - UTP_HDR_LEN)
/* The largest datagram we read: a UDP datagram's limit. */
#define UTP_MAX_DGRAM	65535
/* A delay target of 100 ms of queueing, as BEP 29 says. */
#define UTP_TARGET_US	100000

enum utp_type {
	UTP_ST_DATA = 0,
	UTP_ST_FIN = 1,
	UTP_ST_STATE = 2,
	UTP_ST_RESET = 3,
	UTP_ST_SYN = 4
};

/* A parsed header; the pointers point into the caller's datagram. */
struct utp_hdr {
	int		 type;
	uint16_t	 conn_id;
	uint32_t	 ts;		/* sender's clock, microseconds */
	uint32_t	 tsdiff;	/* sender's last one-way delay sample */
	uint32_t	 wnd;		/* sender's free receive buffer, bytes */
	uint16_t	 seq;
	uint16_t	 ack;
	const unsigned char *sack;	/* the selective-ack bitmask, or NULL */
	size_t		 sack_len;	/* bytes, > 0 */
	const unsigned char *data;	/* payload */
	size_t		 len;
};

/*
 * Parses a datagram: 0, or -1 with err (BT_ERRLEN) for a short header, a
 * version other than 1, an unknown type, an extension chain that runs
 * past the end, an empty selective ack, or a payload on anything but
 * DATA.
 */
int	utp_parse(const void *buf, size_t n, struct utp_hdr *, char *err);

enum utp_state {
	UTP_SYN_SENT,		/* connecting */
	UTP_SYN_RECV,		/* accepted a SYN, waiting for more */
	UTP_CONNECTED,
	UTP_CLOSED,		/* both directions finished and acked */
	UTP_RESET,		/* the peer reset the connection */
	UTP_TIMEDOUT		/* the peer stopped answering */
};

struct utp_conn;

/* Counters for -v traces and tests. */
struct utp_stats {
	uint64_t	 sent, received;	/* datagrams */
	uint64_t	 retransmits, timeouts, fast_retransmits;
	uint64_t	 dropped;		/* malformed or out of window */
	uint32_t	 rtt_us, cwnd, peer_wnd;
	uint32_t	 our_delay_us;		/* last queueing delay seen */
};

/*
 * A new outgoing connection that will receive on recv_id (random, and
 * not in use by the caller's other connections); its SYN comes out of
 * the first utp_output(). NULL if out of memory.
 */
struct utp_conn *utp_connect(uint16_t recv_id, uint64_t now);
/*
 * A connection accepted from a parsed SYN; seq is the random first
 * sequence number. NULL if h is not a SYN or out of memory.
 */
struct utp_conn *utp_accept(const struct utp_hdr *syn, uint16_t seq,
	    uint64_t now);
void	utp_free(struct utp_conn *);

/* The connection id that this connection's incoming datagrams carry. */
uint16_t utp_recv_id(const struct utp_conn *);

/*
 * Feeds one datagram. 1 if it belonged to this connection (used, or
 * dropped as out of window), 0 if it did not parse or carries another
 * connection's id. A duplicate SYN of an accepted connection is ours.
 */
int	utp_input(struct utp_conn *, const void *dgram, size_t n,
	    uint64_t now);

/*
 * The next datagram to send, written to out (UTP_MTU bytes): its length,
 * or 0 when nothing is due now. Also runs the timers: call it after
 * input, after writes and at utp_deadline().
 */
size_t	utp_output(struct utp_conn *, uint64_t now,
	    unsigned char out[UTP_MTU]);

/* When utp_output() is due next (absolute), UINT64_MAX for never. */
uint64_t utp_deadline(const struct utp_conn *);

/* Queues bytes to send; returns how many fit in the send buffer. */
size_t	utp_write(struct utp_conn *, const void *buf, size_t n);
/* Free bytes in the send buffer. */
size_t	utp_writable(const struct utp_conn *);
/* Finishes the sending direction: a FIN follows the queued bytes. */
void	utp_close(struct utp_conn *);
/* Ends the connection at once: the next utp_output() is a RESET. */
void	utp_abort(struct utp_conn *);

/* Takes up to n received bytes, in order; 0 when none are ready. */
size_t	utp_read(struct utp_conn *, void *buf, size_t n);
/* 1 once the peer's FIN arrived and every byte before it was read. */
int	utp_eof(const struct utp_conn *);
/* 1 once our FIN (after utp_close) was acknowledged. */
int	utp_fin_acked(const struct utp_conn *);

enum utp_state utp_state(const struct utp_conn *);
/* "connecting", "connected", ..., "reset by peer", "timed out". */
const char *utp_state_name(enum utp_state);
void	utp_get_stats(const struct utp_conn *, struct utp_stats *);

/*
 * The RESET to send in answer to a datagram h that no connection owns
 * (never in answer to a RESET): its length, or 0 when none is due.
 */
size_t	utp_reset_reply(const struct utp_hdr *h, uint64_t now,
	    unsigned char out[UTP_HDR_LEN]);

#endif
