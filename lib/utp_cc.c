/*
 * utp_cc.c: the sending side of a uTP connection (BEP 29): what an ack
 * or a selective ack acknowledges, round-trip time and timeout, loss
 * detection (3 duplicate acks, 3 packets selectively acked past a hole),
 * LEDBAT with slow start, and what a timeout does.
 */
#include <stdbool.h>
#include <stdint.h>

#include "utp.h"
#include "utp_int.h"

uint64_t
utp_base_timeout(const struct utp_conn *c)
{
	uint64_t t;

	if (!c->have_rtt)
		return INIT_TIMEOUT;
	t = (uint64_t)c->rtt + 4 * (uint64_t)c->rtt_var;
	return t < MIN_TIMEOUT ? MIN_TIMEOUT : t;
}

void
utp_rtt_sample(struct utp_conn *c, uint64_t sample)
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
size_t
utp_ack_one(struct utp_conn *c, uint16_t s, uint64_t now)
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
		utp_rtt_sample(c, now - p->sent);
	if (p->type == UTP_ST_FIN)
		c->fin_acked = true;
	return p->len;
}

/*
 * Marks packet s lost, on 3 duplicate acks or 3 selective acks after
 * it. A packet already sent again is marked again only once that copy
 * had a round trip to arrive, so each ack does not resend it.
 */
void
utp_mark_lost(struct utp_conn *c, uint16_t s, uint64_t now)
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
void
utp_ledbat(struct utp_conn *c, uint32_t sample, size_t acked, uint64_t now)
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

void
utp_on_ack(struct utp_conn *c, const struct utp_hdr *h, uint64_t now)
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
			acked += utp_ack_one(c, s, now);
			c->out[s % OUTQ].sacked = false;
			c->out[s % OUTQ].lost = false;
		}
		c->acked = h->ack;
		if (seq_lt(c->loss_seq, (uint16_t)(c->acked + 1)))
			c->loss_seq = (uint16_t)(c->acked + 1);
		c->dupacks = 0;
		c->ntimeouts = 0;
		c->timeout = utp_base_timeout(c);
		c->timer = now;
		c->probe = false;
	} else if (h->type == UTP_ST_STATE && inflight_pkts(c) > 0 &&
	    ++c->dupacks == 3) {
		/* Three duplicate acks: the next packet is lost. */
		utp_mark_lost(c, (uint16_t)(c->acked + 1), now);
	}
	if (h->sack != NULL && inflight_pkts(c) > 1) {
		for (i = 0; i < h->sack_len * 8; i++) {
			s = (uint16_t)(h->ack + 2 + i);
			if (!seq_lt(s, c->seq_nr))
				break;
			if (h->sack[i / 8] & (1u << (i % 8)))
				acked += utp_ack_one(c, s, now);
		}
		/* A packet with 3 or more acknowledged after it is lost. */
		n = 0;
		for (s = (uint16_t)(c->seq_nr - 1); s != c->acked; s--) {
			if (c->out[s % OUTQ].sacked)
				n++;
			else if (n >= 3)
				utp_mark_lost(c, s, now);
		}
	}
	if (acked > 0)
		utp_ledbat(c, h->tsdiff, acked, now);
}

void
utp_on_timeout(struct utp_conn *c, uint64_t now)
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
	if (c->state == UTP_SYN_RECV) {
		/* Our answer to the SYN went unheard: again, then give up. */
		if (++c->syn_tries >= SYN_TRIES) {
			c->state = UTP_TIMEDOUT;
			return;
		}
		c->need_ack = true;
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
