/*
 * utp_int.h: what lib/utp*.c share, and nothing else uses: the limits,
 * the connection's state, and the pieces of the protocol split by concept
 * (utp_pkt.c the header, utp_ring.c the byte buffers, utp_cc.c
 * acknowledgements, loss and congestion control, utp.c the rest).
 */
#ifndef BT_UTP_INT_H
#define BT_UTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "utp.h"

/*
 * Packets in flight at most, and out-of-order packets held: powers of 2.
 * 1024 full packets are 1.4 MB, above the windows below; a selective
 * ack of 1024 bits is 128 bytes.
 */
#define OUTQ		1024
#define OOO		1024
/* Send and receive buffers: 1 MiB each keeps a 100 ms path full at 10 MB/s. */
#define SBUF		(1u << 20)
#define RBUF		(1u << 20)
/* The congestion window's bounds and start (two packets, as TCP's IW). */
#define MIN_CWND	150
#define MAX_CWND	RBUF
#define INIT_CWND	(2 * UTP_PAYLOAD)
/* LEDBAT's gain: at most 3000 bytes of window more per round trip (libutp). */
#define GAIN		3000
/* BEP 29's timeouts: 1 s at first, then rtt + 4 rttvar, at least 500 ms. */
#define INIT_TIMEOUT	1000000u
#define MIN_TIMEOUT	500000u
/* Doubling from 0.5 s, 6 timeouts in a row are about 30 s of silence. */
#define MAX_TIMEOUTS	6
#define MAX_TIMEOUT	30000000u
/* A SYN, or our answer to one, goes at 0, 1, 3, 7 s; given up at 15 s. */
#define SYN_TRIES	4
/*
 * While data may still come, a silent peer gets a STATE (our window, our
 * ack) after 0.5 s, then 1, 2, ... up to every 16 s: a window update lost
 * or overtaken by an older one would otherwise stall both ends for good.
 */
#define KA_FIRST	500000u
#define KA_MAX		16000000u
/* The base delay is the lowest of this minute's and last minute's. */
#define DELAY_BUCKET	60000000u

/* A byte ring that grows on demand up to max. */
struct ring {
	unsigned char	*b;
	size_t		 cap, max, head, len;
};

struct opkt {
	unsigned char	*buf;		/* UTP_PAYLOAD bytes once used */
	uint16_t	 len;
	uint8_t		 type;		/* DATA or FIN */
	uint8_t		 tx;		/* times sent */
	bool		 lost;		/* to send again */
	bool		 sacked;	/* acknowledged selectively */
	uint64_t	 sent;		/* when last sent */
};

struct ipkt {
	unsigned char	*buf;
	uint32_t	 len;
	uint16_t	 seq;
	bool		 present;
	bool		 fin;
};

struct utp_conn {
	enum utp_state	 state;
	uint16_t	 recv_id, send_id;
	uint16_t	 seq_nr, acked, ack_nr;
	uint32_t	 reply_micro;	/* last one-way delay seen, theirs to us */
	uint32_t	 peer_wnd;
	struct ring	 sbuf, rbuf;
	struct opkt	 out[OUTQ];
	struct ipkt	 in[OOO];
	size_t		 ooo_bytes;
	unsigned	 ooo_count;
	size_t		 cur_window;	/* payload bytes in flight */
	unsigned	 nlost;
	uint32_t	 cwnd, ssthresh;
	bool		 slow_start, cwnd_limited;
	uint16_t	 loss_seq;	/* the window is cut once per window */
	int		 dupacks;
	uint32_t	 rtt, rtt_var;
	bool		 have_rtt;
	uint64_t	 timeout, timer;
	int		 ntimeouts;
	uint32_t	 delay_hist[2];
	uint64_t	 hist_start;
	bool		 have_delay;
	bool		 syn_due, need_ack, closing, fin_sent, fin_acked;
	bool		 got_fin, send_reset, probe, aborted;
	uint16_t	 eof_pkt;
	int		 syn_tries;
	uint64_t	 syn_sent;
	uint64_t	 ka_next, ka_gap;	/* keepalive STATE */
	struct utp_stats st;
};

static inline int
seq_lt(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b) < 0;
}

static inline uint32_t
wnd_free(const struct utp_conn *c)
{
	size_t used = c->rbuf.len + c->ooo_bytes;

	return used >= RBUF ? 0 : (uint32_t)(RBUF - used);
}

static inline uint16_t
inflight_pkts(const struct utp_conn *c)
{
	return (uint16_t)(c->seq_nr - c->acked - 1);
}

/* utp_ring.c */
size_t	utp_ring_free(const struct ring *);
int	utp_ring_grow(struct ring *, size_t n);
size_t	utp_ring_put(struct ring *, const unsigned char *, size_t);
size_t	utp_ring_get(struct ring *, unsigned char *, size_t);

/* utp_cc.c */
uint64_t utp_base_timeout(const struct utp_conn *);
void	utp_rtt_sample(struct utp_conn *, uint64_t sample);
size_t	utp_ack_one(struct utp_conn *, uint16_t s, uint64_t now);
void	utp_mark_lost(struct utp_conn *, uint16_t s, uint64_t now);
void	utp_ledbat(struct utp_conn *, uint32_t sample, size_t acked,
	    uint64_t now);
void	utp_on_ack(struct utp_conn *, const struct utp_hdr *, uint64_t now);
void	utp_on_timeout(struct utp_conn *, uint64_t now);


/* Writes a header, with a selective ack when sack_len > 0; its length. */
size_t	utp_hdr_write(unsigned char *out, int type, uint16_t conn_id,
	    uint32_t ts, uint32_t tsdiff, uint32_t wnd, uint16_t seq,
	    uint16_t ack, const unsigned char *sack, size_t sack_len);
/* "DATA", "FIN", ... */
const char *utp_type_name(int type);

#endif
