/*
 * utp.c: one uTP connection (BEP 29), sans I/O; see utp.h.
 *
 * Sequence numbers count packets, modulo 2^16. Sending side: seq_nr is
 * the next number to use, acked the last one the peer acknowledged in
 * order; the packets in (acked, seq_nr) live in out[], indexed modulo
 * OUTQ, until acknowledged, each either in flight (counted in
 * cur_window) or lost (waiting to be sent again). Receiving side: ack_nr
 * is the last packet delivered in order; later ones wait in in[], indexed
 * modulo OOO, and are announced with a selective ack.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "utp.h"
#include "utp_int.h"

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
/* A SYN is sent 4 times (at 0, 1, 3, 7 s) and given up at 15 s. */
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

static int
seq_lt(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b) < 0;
}

static size_t
ring_free(const struct ring *r)
{
	return r->max - r->len;
}

/* Makes room for n more bytes (n <= ring_free()); -1 if out of memory. */
static int
ring_grow(struct ring *r, size_t n)
{
	unsigned char *b;
	size_t cap, k;

	if (r->cap - r->len >= n)
		return 0;
	cap = r->cap < 65536 ? 65536 : r->cap;
	while (cap - r->len < n)
		cap *= 2;
	if (cap > r->max)
		cap = r->max;
	if ((b = malloc(cap)) == NULL)
		return -1;
	k = r->cap - r->head < r->len ? r->cap - r->head : r->len;
	if (r->len > 0) {
		memcpy(b, r->b + r->head, k);
		memcpy(b + k, r->b, r->len - k);
	}
	free(r->b);
	r->b = b;
	r->cap = cap;
	r->head = 0;
	return 0;
}

static size_t
ring_put(struct ring *r, const unsigned char *p, size_t n)
{
	size_t tail, k, done = 0;

	if (n > ring_free(r))
		n = ring_free(r);
	if (n == 0 || ring_grow(r, n) == -1)
		return 0;
	while (done < n) {
		tail = (r->head + r->len) % r->cap;
		k = r->cap - tail;
		if (k > n - done)
			k = n - done;
		memcpy(r->b + tail, p + done, k);
		r->len += k;
		done += k;
	}
	return n;
}

static size_t
ring_get(struct ring *r, unsigned char *p, size_t n)
{
	size_t k, done = 0;

	if (n > r->len)
		n = r->len;
	while (done < n) {
		k = r->cap - r->head;
		if (k > n - done)
			k = n - done;
		memcpy(p + done, r->b + r->head, k);
		r->head = (r->head + k) % r->cap;
		r->len -= k;
		done += k;
	}
	return n;
}

static struct utp_conn *
conn_new(uint64_t now)
{
	struct utp_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->sbuf.max = SBUF;
	/* The next packet in order is taken even when the window is full. */
	c->rbuf.max = RBUF + UTP_MAX_DGRAM;
	c->peer_wnd = RBUF;
	c->cwnd = INIT_CWND;
	c->ssthresh = MAX_CWND;
	c->slow_start = true;
	c->timeout = INIT_TIMEOUT;
	c->timer = now;
	return c;
}

struct utp_conn *
utp_connect(uint16_t recv_id, uint64_t now)
{
	struct utp_conn *c;

	if ((c = conn_new(now)) == NULL)
		return NULL;
	c->state = UTP_SYN_SENT;
	c->recv_id = recv_id;
	c->send_id = (uint16_t)(recv_id + 1);
	/* The SYN is packet 1; data starts at 2. */
	c->seq_nr = 2;
	c->acked = 1;
	c->loss_seq = 2;
	c->syn_due = true;
	return c;
}

struct utp_conn *
utp_accept(const struct utp_hdr *h, uint16_t seq, uint64_t now)
{
	struct utp_conn *c;

	if (h->type != UTP_ST_SYN || (c = conn_new(now)) == NULL)
		return NULL;
	c->state = UTP_SYN_RECV;
	c->recv_id = (uint16_t)(h->conn_id + 1);
	c->send_id = h->conn_id;
	c->seq_nr = seq;
	c->acked = (uint16_t)(seq - 1);
	c->loss_seq = seq;
	c->ack_nr = h->seq;
	c->reply_micro = (uint32_t)now - h->ts;
	c->peer_wnd = h->wnd;
	c->need_ack = true;
	c->st.received = 1;
	return c;
}

void
utp_free(struct utp_conn *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < OUTQ; i++)
		free(c->out[i].buf);
	for (i = 0; i < OOO; i++)
		free(c->in[i].buf);
	free(c->sbuf.b);
	free(c->rbuf.b);
	free(c);
}

uint16_t
utp_recv_id(const struct utp_conn *c)
{
	return c->recv_id;
}

static uint32_t
wnd_free(const struct utp_conn *c)
{
	size_t used = c->rbuf.len + c->ooo_bytes;

	return used >= RBUF ? 0 : (uint32_t)(RBUF - used);
}

static uint16_t
inflight_pkts(const struct utp_conn *c)
{
	return (uint16_t)(c->seq_nr - c->acked - 1);
}

static uint64_t
base_timeout(const struct utp_conn *c)
{
	uint64_t t;

	if (!c->have_rtt)
		return INIT_TIMEOUT;
	t = (uint64_t)c->rtt + 4 * (uint64_t)c->rtt_var;
	return t < MIN_TIMEOUT ? MIN_TIMEOUT : t;
}

static void
rtt_sample(struct utp_conn *c, uint64_t sample)
{
	int64_t delta;

	if (sample > MAX_TIMEOUT)
		sample = MAX_TIMEOUT;
	if (!c->have_rtt) {
		c->rtt = (uint32_t)sample;
		c->rtt_var = (uint32_t)sample / 2;
		c->have_rtt = true;
		return;
	}
	/* BEP 29: rtt_var += (|rtt - s| - rtt_var) / 4; rtt += (s - rtt) / 8 */
	delta = (int64_t)c->rtt - (int64_t)sample;
	if (delta < 0)
		delta = -delta;
	c->rtt_var = (uint32_t)((int64_t)c->rtt_var +
	    (delta - (int64_t)c->rtt_var) / 4);
	c->rtt = (uint32_t)((int64_t)c->rtt +
	    ((int64_t)sample - (int64_t)c->rtt) / 8);
}

/* Acknowledges packet s if it is still unacknowledged: its payload bytes. */
static size_t
ack_one(struct utp_conn *c, uint16_t s, uint64_t now)
{
	struct opkt *p = &c->out[s % OUTQ];

	if (p->sacked)
		return 0;
	p->sacked = true;
	if (p->lost) {
		p->lost = false;
		c->nlost--;
	} else
		c->cur_window -= p->len;
	/* Karn: only packets sent once give a round-trip sample. */
	if (p->tx == 1)
		rtt_sample(c, now - p->sent);
	if (p->type == UTP_ST_FIN)
		c->fin_acked = true;
	return p->len;
}

/*
 * Marks packet s lost, on 3 duplicate acks or 3 selective acks after
 * it. A packet already sent again is marked again only once that copy
 * had a round trip to arrive, so each ack does not resend it.
 */
static void
mark_lost(struct utp_conn *c, uint16_t s, uint64_t now)
{
	struct opkt *p = &c->out[s % OUTQ];

	if (p->sacked || p->lost)
		return;
	if (p->tx > 1 && now - p->sent < (uint64_t)c->rtt + c->rtt_var)
		return;
	c->st.fast_retransmits++;
	p->lost = true;
	c->nlost++;
	c->cur_window -= p->len;
	/* Halve the window, once per window of packets (as TCP). */
	if (!seq_lt(s, c->loss_seq)) {
		c->cwnd /= 2;
		if (c->cwnd < MIN_CWND)
			c->cwnd = MIN_CWND;
		c->ssthresh = c->cwnd;
		c->slow_start = false;
		c->loss_seq = c->seq_nr;
	}
}

/* LEDBAT: the window follows the queueing delay toward the target. */
static void
ledbat(struct utp_conn *c, uint32_t sample, size_t acked, uint64_t now)
{
	uint32_t base;
	int32_t our = 0;
	int64_t gain;

	if (sample != 0) {
		if (!c->have_delay || now - c->hist_start > DELAY_BUCKET) {
			c->delay_hist[0] = c->have_delay ? c->delay_hist[1] :
			    sample;
			c->delay_hist[1] = sample;
			c->hist_start = now;
			c->have_delay = true;
		} else if ((int32_t)(sample - c->delay_hist[1]) < 0)
			c->delay_hist[1] = sample;
		base = c->delay_hist[1];
		if ((int32_t)(c->delay_hist[0] - base) < 0)
			base = c->delay_hist[0];
		our = (int32_t)(sample - base);
		if (our < 0)
			our = 0;
		c->st.our_delay_us = (uint32_t)our;
	}
	/*
	 * Slow start ends when the queue reaches half the target: the last
	 * round trip doubled the window, so it gives that doubling back.
	 */
	if (c->slow_start && our > UTP_TARGET_US / 2) {
		c->slow_start = false;
		c->cwnd /= 2;
		c->ssthresh = c->cwnd;
	}
	if (c->slow_start) {
		if (c->cwnd_limited)
			c->cwnd += (uint32_t)acked;
		if (c->cwnd >= c->ssthresh)
			c->slow_start = false;
	} else {
		gain = (int64_t)GAIN * (UTP_TARGET_US - our) * (int64_t)acked /
		    ((int64_t)UTP_TARGET_US * c->cwnd);
		/* An application-limited sender does not grow its window. */
		if (gain > 0 && !c->cwnd_limited)
			gain = 0;
		if (gain < 0 && -gain >= (int64_t)c->cwnd)
			c->cwnd = MIN_CWND;
		else
			c->cwnd = (uint32_t)((int64_t)c->cwnd + gain);
	}
	if (c->cwnd < MIN_CWND)
		c->cwnd = MIN_CWND;
	if (c->cwnd > MAX_CWND)
		c->cwnd = MAX_CWND;
	c->cwnd_limited = false;
}

static void
on_ack(struct utp_conn *c, const struct utp_hdr *h, uint64_t now)
{
	size_t acked = 0, i;
	unsigned n;
	uint16_t s;

	/* Only acks of what we sent count; older ones are stale. */
	if (seq_lt(h->ack, c->acked) || !seq_lt(h->ack, c->seq_nr))
		return;
	if (h->ack != c->acked) {
		for (s = (uint16_t)(c->acked + 1); s != (uint16_t)(h->ack + 1);
		    s++) {
			acked += ack_one(c, s, now);
			c->out[s % OUTQ].sacked = false;
			c->out[s % OUTQ].lost = false;
		}
		c->acked = h->ack;
		if (seq_lt(c->loss_seq, (uint16_t)(c->acked + 1)))
			c->loss_seq = (uint16_t)(c->acked + 1);
		c->dupacks = 0;
		c->ntimeouts = 0;
		c->timeout = base_timeout(c);
		c->timer = now;
		c->probe = false;
	} else if (h->type == UTP_ST_STATE && inflight_pkts(c) > 0 &&
	    ++c->dupacks == 3) {
		/* Three duplicate acks: the next packet is lost. */
		mark_lost(c, (uint16_t)(c->acked + 1), now);
	}
	if (h->sack != NULL && inflight_pkts(c) > 1) {
		for (i = 0; i < h->sack_len * 8; i++) {
			s = (uint16_t)(h->ack + 2 + i);
			if (!seq_lt(s, c->seq_nr))
				break;
			if (h->sack[i / 8] & (1u << (i % 8)))
				acked += ack_one(c, s, now);
		}
		/* A packet with 3 or more acknowledged after it is lost. */
		n = 0;
		for (s = (uint16_t)(c->seq_nr - 1); s != c->acked; s--) {
			if (c->out[s % OUTQ].sacked)
				n++;
			else if (n >= 3)
				mark_lost(c, s, now);
		}
	}
	if (acked > 0)
		ledbat(c, h->tsdiff, acked, now);
}

static void
deliver(struct utp_conn *c)
{
	struct ipkt *q;

	for (;;) {
		if (c->got_fin && c->ack_nr == c->eof_pkt)
			return;
		q = &c->in[(uint16_t)(c->ack_nr + 1) % OOO];
		if (!q->present || q->seq != (uint16_t)(c->ack_nr + 1))
			return;
		if (ring_put(&c->rbuf, q->buf, q->len) != q->len)
			return;		/* out of memory: try again later */
		c->ooo_bytes -= q->len;
		c->ooo_count--;
		free(q->buf);
		q->buf = NULL;
		q->present = false;
		c->ack_nr++;
	}
}

static void
on_data(struct utp_conn *c, const struct utp_hdr *h)
{
	struct ipkt *q;
	uint16_t d;

	c->need_ack = true;
	if (h->type == UTP_ST_FIN && !c->got_fin) {
		/* Nothing follows the FIN; it may come before what precedes it. */
		if (!seq_lt(c->ack_nr, h->seq))
			return;
		c->got_fin = true;
		c->eof_pkt = h->seq;
	}
	if (!seq_lt(c->ack_nr, h->seq))
		return;			/* a duplicate: the ack says so */
	if (c->got_fin && seq_lt(c->eof_pkt, h->seq)) {
		c->st.dropped++;
		return;
	}
	d = (uint16_t)(h->seq - c->ack_nr);
	/*
	 * Over the window we announced: dropped, except the next packet
	 * in order, which a window full of later packets waits for.
	 */
	if (d != 1 && h->len > wnd_free(c)) {
		c->st.dropped++;
		return;
	}
	if (d == 1) {
		if (ring_put(&c->rbuf, h->data, h->len) != h->len) {
			c->st.dropped++;	/* out of memory */
			return;
		}
		c->ack_nr = h->seq;
		deliver(c);
		return;
	}
	if (d >= OOO) {
		c->st.dropped++;
		return;
	}
	q = &c->in[h->seq % OOO];
	if (q->present)
		return;
	if (h->len > 0 && (q->buf = malloc(h->len)) == NULL) {
		c->st.dropped++;
		return;
	}
	if (h->len > 0)
		memcpy(q->buf, h->data, h->len);
	q->len = (uint32_t)h->len;
	q->seq = h->seq;
	q->fin = h->type == UTP_ST_FIN;
	q->present = true;
	c->ooo_bytes += h->len;
	c->ooo_count++;
}

int
utp_input(struct utp_conn *c, const void *dgram, size_t n, uint64_t now)
{
	struct utp_hdr h;
	char err[BT_ERRLEN];

	if (utp_parse(dgram, n, &h, err) == -1)
		return 0;
	if (h.type == UTP_ST_RESET) {
		if (h.conn_id != c->recv_id && h.conn_id != c->send_id)
			return 0;
		if (c->state != UTP_TIMEDOUT)
			c->state = UTP_RESET;
		return 1;
	}
	if (h.type == UTP_ST_SYN) {
		if (c->state == UTP_SYN_SENT ||
		    (uint16_t)(h.conn_id + 1) != c->recv_id)
			return 0;
		c->need_ack = true;	/* our STATE was lost: again */
		return 1;
	}
	if (h.conn_id != c->recv_id)
		return 0;
	c->st.received++;
	if (c->state == UTP_RESET || c->state == UTP_TIMEDOUT)
		return 1;
	if (c->state == UTP_SYN_SENT) {
		/* The acceptor's first packet numbers its stream. */
		c->state = UTP_CONNECTED;
		c->ack_nr = (uint16_t)(h.seq - 1);
		if (c->syn_tries == 1)
			rtt_sample(c, now - c->syn_sent);
		c->ntimeouts = 0;
		c->timeout = base_timeout(c);
		c->timer = now;
	} else if (c->state == UTP_SYN_RECV)
		c->state = UTP_CONNECTED;
	c->reply_micro = (uint32_t)now - h.ts;
	c->peer_wnd = h.wnd;
	c->ka_gap = KA_FIRST;
	c->ka_next = now + c->ka_gap;
	on_ack(c, &h, now);
	if (h.type == UTP_ST_DATA || h.type == UTP_ST_FIN)
		on_data(c, &h);
	return 1;
}

static size_t
sack_build(const struct utp_conn *c, unsigned char sack[OOO / 8])
{
	size_t i, last = 0;
	uint16_t s;
	const struct ipkt *q;

	if (c->ooo_count == 0)
		return 0;
	memset(sack, 0, OOO / 8);
	for (i = 0; i < OOO - 2; i++) {
		s = (uint16_t)(c->ack_nr + 2 + i);
		q = &c->in[s % OOO];
		if (q->present && q->seq == s) {
			sack[i / 8] |= (unsigned char)(1u << (i % 8));
			last = i;
		}
	}
	return (last / 32 + 1) * 4;
}

static size_t
put_hdr(struct utp_conn *c, unsigned char *out, int type, uint16_t seq,
    uint64_t now)
{
	unsigned char sack[OOO / 8] = { 0 };
	size_t sl = 0;

	if (type == UTP_ST_STATE)
		sl = sack_build(c, sack);
	c->st.sent++;
	return utp_hdr_write(out, type, type == UTP_ST_SYN ? c->recv_id :
	    c->send_id, (uint32_t)now, c->reply_micro, wnd_free(c), seq,
	    c->ack_nr, sack, sl);
}

/* A DATA or FIN packet from out[], sent for the first time or again. */
static size_t
send_pkt(struct utp_conn *c, uint16_t s, uint64_t now, unsigned char *out)
{
	struct opkt *p = &c->out[s % OUTQ];
	size_t n;

	if (c->cur_window == 0 && c->nlost == 0 && inflight_pkts(c) == 1)
		c->timer = now;
	if (p->tx > 0)
		c->st.retransmits++;
	if (p->tx < UINT8_MAX)
		p->tx++;
	p->sent = now;
	c->cur_window += p->len;
	n = put_hdr(c, out, p->type, s, now);
	memcpy(out + n, p->buf, p->len);
	if (c->ooo_count == 0)
		c->need_ack = false;
	return n + p->len;
}

static int
new_pkt(struct utp_conn *c, int type, size_t len)
{
	struct opkt *p = &c->out[c->seq_nr % OUTQ];

	if (p->buf == NULL && (p->buf = malloc(UTP_PAYLOAD)) == NULL)
		return -1;
	p->len = (uint16_t)ring_get(&c->sbuf, p->buf, len);
	p->type = (uint8_t)type;
	p->tx = 0;
	p->lost = p->sacked = false;
	c->seq_nr++;
	return 0;
}

static void
on_timeout(struct utp_conn *c, uint64_t now)
{
	uint16_t s;

	if (c->state == UTP_SYN_SENT) {
		if (c->syn_tries >= SYN_TRIES) {
			c->state = UTP_TIMEDOUT;
			return;
		}
		c->syn_due = true;
		c->timeout *= 2;
		c->timer = now;
		return;
	}
	if (inflight_pkts(c) == 0) {
		/* The peer's window stayed shut: probe with one packet. */
		c->probe = true;
		c->timer = now;
		return;
	}
	c->st.timeouts++;
	if (++c->ntimeouts > MAX_TIMEOUTS) {
		c->state = UTP_TIMEDOUT;
		return;
	}
	c->ssthresh = c->cwnd / 2 > 2 * UTP_PAYLOAD ? c->cwnd / 2 :
	    2 * UTP_PAYLOAD;
	c->cwnd = UTP_PAYLOAD;
	c->slow_start = true;
	for (s = (uint16_t)(c->acked + 1); s != c->seq_nr; s++) {
		struct opkt *p = &c->out[s % OUTQ];

		if (!p->sacked && !p->lost) {
			p->lost = true;
			c->nlost++;
			c->cur_window -= p->len;
		}
	}
	c->loss_seq = c->seq_nr;
	c->dupacks = 0;
	c->timeout = c->timeout * 2 > MAX_TIMEOUT ? MAX_TIMEOUT :
	    c->timeout * 2;
	c->timer = now;
}

static int
terminal(const struct utp_conn *c)
{
	return c->state == UTP_RESET || c->state == UTP_TIMEDOUT ||
	    c->aborted;
}

/* When a keepalive STATE is due: while the peer may still send. */
static uint64_t
ka_due(const struct utp_conn *c)
{
	if (c->state != UTP_CONNECTED || c->got_fin || c->ka_gap == 0)
		return UINT64_MAX;
	return c->ka_next;
}

/* When the retransmission (or SYN, or window probe) timer fires. */
static uint64_t
timer_due(const struct utp_conn *c)
{
	if (c->state == UTP_SYN_SENT || inflight_pkts(c) > 0 ||
	    (c->sbuf.len > 0 && c->state == UTP_CONNECTED &&
	    c->peer_wnd < UTP_PAYLOAD))
		return c->timer + c->timeout;
	return UINT64_MAX;
}

uint64_t
utp_deadline(const struct utp_conn *c)
{
	if (c->send_reset)
		return 0;
	if (terminal(c))
		return UINT64_MAX;
	if (c->need_ack)
		return 0;
	if (ka_due(c) < timer_due(c))
		return ka_due(c);
	return timer_due(c);
}

size_t
utp_output(struct utp_conn *c, uint64_t now, unsigned char out[UTP_MTU])
{
	uint32_t win;
	size_t len, n;
	uint16_t s;

	if (c->send_reset) {
		c->send_reset = false;
		c->st.sent++;
		return utp_hdr_write(out, UTP_ST_RESET, c->send_id,
		    (uint32_t)now, c->reply_micro, 0, c->seq_nr, c->ack_nr,
		    NULL, 0);
	}
	if (terminal(c))
		return 0;
	if (now >= timer_due(c))
		on_timeout(c, now);
	if (now >= ka_due(c)) {
		c->need_ack = true;
		c->ka_gap = c->ka_gap * 2 > KA_MAX ? KA_MAX : c->ka_gap * 2;
		c->ka_next = now + c->ka_gap;
	}
	if (terminal(c))
		return 0;
	if (c->state == UTP_SYN_SENT) {
		if (!c->syn_due)
			return 0;
		c->syn_due = false;
		c->syn_tries++;
		c->syn_sent = now;
		c->timer = now;
		return put_hdr(c, out, UTP_ST_SYN, 1, now);
	}
	win = c->cwnd < c->peer_wnd ? c->cwnd : c->peer_wnd;
	if (c->nlost > 0) {
		for (s = (uint16_t)(c->acked + 1); s != c->seq_nr; s++) {
			struct opkt *p = &c->out[s % OUTQ];

			if (!p->lost)
				continue;
			/* The hole that holds up every ack goes out at once. */
			if (s != (uint16_t)(c->acked + 1) &&
			    c->cur_window > 0 && c->cur_window + p->len > win)
				break;
			p->lost = false;
			c->nlost--;
			return send_pkt(c, s, now, out);
		}
	}
	if (c->state == UTP_CONNECTED && c->sbuf.len > 0 && c->nlost == 0 &&
	    inflight_pkts(c) < OUTQ - 1) {
		len = c->sbuf.len < UTP_PAYLOAD ? c->sbuf.len : UTP_PAYLOAD;
		/* Nagle: a short packet waits until nothing is in flight. */
		if (len < UTP_PAYLOAD && c->cur_window > 0)
			goto ack;
		if (c->cur_window > 0 && c->cur_window + len > win) {
			c->cwnd_limited = true;
			goto ack;
		}
		if (c->cur_window == 0 && len > c->peer_wnd && !c->probe)
			goto ack;
		c->probe = false;
		if (new_pkt(c, UTP_ST_DATA, len) == -1)
			goto ack;
		return send_pkt(c, (uint16_t)(c->seq_nr - 1), now, out);
	}
	if (c->state == UTP_CONNECTED && c->closing && !c->fin_sent &&
	    c->sbuf.len == 0 && inflight_pkts(c) < OUTQ - 1) {
		if (new_pkt(c, UTP_ST_FIN, 0) == -1)
			goto ack;
		c->fin_sent = true;
		return send_pkt(c, (uint16_t)(c->seq_nr - 1), now, out);
	}
ack:
	if (!c->need_ack)
		return 0;
	c->need_ack = false;
	n = put_hdr(c, out, UTP_ST_STATE, c->seq_nr, now);
	return n;
}

size_t
utp_write(struct utp_conn *c, const void *buf, size_t n)
{
	if (c->closing || terminal(c))
		return 0;
	return ring_put(&c->sbuf, buf, n);
}

size_t
utp_writable(const struct utp_conn *c)
{
	if (c->closing || terminal(c))
		return 0;
	return ring_free(&c->sbuf);
}

void
utp_close(struct utp_conn *c)
{
	c->closing = true;
}

void
utp_abort(struct utp_conn *c)
{
	if (terminal(c))
		return;
	c->send_reset = true;
	c->aborted = true;
}

size_t
utp_read(struct utp_conn *c, void *buf, size_t n)
{
	uint32_t before = wnd_free(c);

	n = ring_get(&c->rbuf, buf, n);
	/* Tell a peer stalled on our window that it opened again. */
	if (before < RBUF / 2 && wnd_free(c) >= RBUF / 2)
		c->need_ack = true;
	return n;
}

int
utp_eof(const struct utp_conn *c)
{
	return c->got_fin && c->ack_nr == c->eof_pkt && c->rbuf.len == 0;
}

int
utp_fin_acked(const struct utp_conn *c)
{
	return c->fin_acked;
}

enum utp_state
utp_state(const struct utp_conn *c)
{
	if (c->aborted)
		return UTP_CLOSED;
	if (c->state == UTP_CONNECTED && c->fin_acked && c->got_fin &&
	    c->ack_nr == c->eof_pkt)
		return UTP_CLOSED;
	return c->state;
}

const char *
utp_state_name(enum utp_state s)
{
	switch (s) {
	case UTP_SYN_SENT:
		return "connecting";
	case UTP_SYN_RECV:
		return "accepted";
	case UTP_CONNECTED:
		return "connected";
	case UTP_CLOSED:
		return "closed";
	case UTP_RESET:
		return "reset by peer";
	case UTP_TIMEDOUT:
		return "timed out";
	}
	return "unknown";
}

void
utp_get_stats(const struct utp_conn *c, struct utp_stats *st)
{
	*st = c->st;
	st->rtt_us = c->rtt;
	st->cwnd = c->cwnd;
	st->peer_wnd = c->peer_wnd;
}
