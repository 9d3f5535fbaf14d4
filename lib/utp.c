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
		if (utp_ring_put(&c->rbuf, q->buf, q->len) != q->len)
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
		if (utp_ring_put(&c->rbuf, h->data, h->len) != h->len) {
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
			utp_rtt_sample(c, now - c->syn_sent);
		c->ntimeouts = 0;
		c->timeout = utp_base_timeout(c);
		c->timer = now;
	} else if (c->state == UTP_SYN_RECV)
		c->state = UTP_CONNECTED;
	c->reply_micro = (uint32_t)now - h.ts;
	c->peer_wnd = h.wnd;
	c->ka_gap = KA_FIRST;
	c->ka_next = now + c->ka_gap;
	utp_on_ack(c, &h, now);
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
	p->len = (uint16_t)utp_ring_get(&c->sbuf, p->buf, len);
	p->type = (uint8_t)type;
	p->tx = 0;
	p->lost = p->sacked = false;
	c->seq_nr++;
	return 0;
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
	if (c->state == UTP_SYN_SENT || c->state == UTP_SYN_RECV ||
	    inflight_pkts(c) > 0 ||
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
		utp_on_timeout(c, now);
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
	return utp_ring_put(&c->sbuf, buf, n);
}

size_t
utp_writable(const struct utp_conn *c)
{
	if (c->closing || terminal(c))
		return 0;
	return utp_ring_free(&c->sbuf);
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

	n = utp_ring_get(&c->rbuf, buf, n);
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
