/*
 * test_utp.c: uTP between two endpoints under a fake clock, over a
 * simulated link that delays, drops, duplicates, reorders and can queue
 * behind a bottleneck; and the header parser on bad input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "utp.h"
#include "utp_int.h"
#include "t.h"

#define MS	1000ull
#define SEC	1000000ull
#define MAXQ	20000

struct dgram {
	uint64_t	 at;
	int		 to;		/* 0: A, 1: B */
	size_t		 len;
	unsigned char	 b[UTP_MTU];
};

struct link {
	struct dgram	*q;
	size_t		 n;
	uint64_t	 rng;
	unsigned	 loss, dup, reorder;	/* per mille */
	uint64_t	 delay;			/* one way */
	uint64_t	 rate;			/* bytes/s at a bottleneck, 0: none */
	uint64_t	 busy[2];		/* bottleneck free again, per way */
	int		 cut;			/* drop everything */
	int		 drop_seq, drop_n;	/* drop DATA seq to B n times */
	uint64_t	 qdelay_sum, qdelay_n;	/* queueing seen A -> B */
	uint64_t	 qdelay_from;		/* ... from then on */
};

struct sim {
	struct link	 l;
	struct utp_conn	*c[2];
	uint64_t	 now;
	const unsigned char *src[2];
	size_t		 srclen[2], sent[2];
	unsigned char	*dst[2];
	size_t		 got[2];
	int		 closed[2];
	int		 resets_sent;
	uint16_t	 bseq;		/* B's first sequence number */
	uint64_t	 read_from[2];	/* the application reads from then on */
};

static uint32_t
rnd(struct link *l)
{
	l->rng ^= l->rng << 13;
	l->rng ^= l->rng >> 7;
	l->rng ^= l->rng << 17;
	return (uint32_t)(l->rng >> 16);
}

static void
link_send(struct link *l, int to, const unsigned char *b, size_t n,
    uint64_t now)
{
	int copies = 1, i;
	uint64_t at;

	if (l->cut || rnd(l) % 1000 < l->loss)
		return;
	if (to == 1 && l->drop_n > 0 && b[0] >> 4 == UTP_ST_DATA &&
	    (b[16] << 8 | b[17]) == l->drop_seq) {
		l->drop_n--;
		return;
	}
	if (rnd(l) % 1000 < l->dup)
		copies = 2;
	for (i = 0; i < copies && l->n < MAXQ; i++) {
		at = now + l->delay;
		if (l->rate > 0) {
			uint64_t start = l->busy[to] > now ? l->busy[to] : now;

			l->busy[to] = start + n * SEC / l->rate;
			if (to == 1 && now >= l->qdelay_from) {
				l->qdelay_sum += start - now;
				l->qdelay_n++;
			}
			at = l->busy[to] + l->delay;
		}
		if (rnd(l) % 1000 < l->reorder)
			at += rnd(l) % (20 * MS);
		l->q[l->n].at = at;
		l->q[l->n].to = to;
		l->q[l->n].len = n;
		memcpy(l->q[l->n].b, b, n);
		l->n++;
	}
}

static uint64_t
link_next(const struct link *l)
{
	uint64_t t = UINT64_MAX;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->q[i].at < t)
			t = l->q[i].at;
	return t;
}

static void
deliver(struct sim *s, struct dgram *d)
{
	struct utp_hdr h;
	char err[BT_ERRLEN];
	unsigned char out[UTP_HDR_LEN];
	size_t n;

	if (s->c[d->to] != NULL) {
		if (utp_input(s->c[d->to], d->b, d->len, s->now))
			return;
	}
	if (utp_parse(d->b, d->len, &h, err) == -1)
		return;
	if (d->to == 1 && s->c[1] == NULL && h.type == UTP_ST_SYN) {
		s->c[1] = utp_accept(&h, s->bseq, s->now);
		return;
	}
	if ((n = utp_reset_reply(&h, s->now, out)) > 0) {
		s->resets_sent++;
		link_send(&s->l, !d->to, out, n, s->now);
	}
}

static void
pump(struct sim *s)
{
	unsigned char b[UTP_MTU];
	size_t n;
	int i;

	for (i = 0; i < 2; i++) {
		struct utp_conn *c = s->c[i];

		if (c == NULL)
			continue;
		if (s->sent[i] < s->srclen[i])
			s->sent[i] += utp_write(c, s->src[i] + s->sent[i],
			    s->srclen[i] - s->sent[i]);
		if (s->sent[i] == s->srclen[i] && !s->closed[i]) {
			utp_close(c);
			s->closed[i] = 1;
		}
		while (s->now >= s->read_from[i] &&
		    (n = utp_read(c, b, sizeof(b))) > 0) {
			if (s->dst[i] != NULL)
				memcpy(s->dst[i] + s->got[i], b, n);
			s->got[i] += n;
		}
		while ((n = utp_output(c, s->now, b)) > 0)
			link_send(&s->l, !i, b, n, s->now);
	}
}

static int
finished(const struct sim *s)
{
	return s->c[1] != NULL && utp_state(s->c[0]) == UTP_CLOSED &&
	    utp_state(s->c[1]) == UTP_CLOSED;
}

/*
 * Runs until both ends closed, stop() says so, or limit (fake time);
 * the fake time it took.
 */
static uint64_t
run(struct sim *s, uint64_t limit, int (*stop)(const struct sim *))
{
	uint64_t t, d;
	size_t i;
	int k;

	while (s->now < limit) {
		pump(s);
		if (stop(s))
			break;
		t = link_next(&s->l);
		for (k = 0; k < 2; k++)
			if (s->c[k] != NULL &&
			    (d = utp_deadline(s->c[k])) < t)
				t = d;
		if (t == UINT64_MAX)
			break;		/* nothing will ever happen */
		if (t > s->now)
			s->now = t;
		for (i = 0; i < s->l.n;) {
			if (s->l.q[i].at <= s->now) {
				struct dgram d0 = s->l.q[i];

				s->l.q[i] = s->l.q[--s->l.n];
				deliver(s, &d0);
			} else
				i++;
		}
	}
	return s->now;
}

static unsigned char *
payload(size_t n, uint32_t seed)
{
	unsigned char *p = malloc(n);
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	return p;
}

static void
sim_init(struct sim *s, size_t ab, size_t ba)
{
	memset(s, 0, sizeof(*s));
	s->l.q = calloc(MAXQ, sizeof(struct dgram));
	s->l.rng = 88172645463325252ull;
	s->l.delay = 10 * MS;
	s->src[0] = payload(ab, 1);
	s->srclen[0] = ab;
	s->src[1] = payload(ba, 2);
	s->srclen[1] = ba;
	s->dst[1] = malloc(ab + 1);
	s->dst[0] = malloc(ba + 1);
	s->c[0] = utp_connect(1000, 0);
	s->bseq = 40000;
}

static void
sim_free(struct sim *s)
{
	utp_free(s->c[0]);
	utp_free(s->c[1]);
	free(s->l.q);
	free((void *)s->src[0]);
	free((void *)s->src[1]);
	free(s->dst[0]);
	free(s->dst[1]);
}

static void
check_transfer(struct sim *s)
{
	CHECK(finished(s));
	CHECK(s->got[1] == s->srclen[0]);
	CHECK(s->got[0] == s->srclen[1]);
	CHECK(memcmp(s->dst[1], s->src[0], s->srclen[0]) == 0);
	CHECK(memcmp(s->dst[0], s->src[1], s->srclen[1]) == 0);
	CHECK(utp_eof(s->c[0]) && utp_eof(s->c[1]));
}

static void
test_clean(void)
{
	struct sim s;
	struct utp_stats st;
	uint64_t t;

	sim_init(&s, 3 << 20, 1 << 20);
	t = run(&s, 600 * SEC, finished);
	check_transfer(&s);
	utp_get_stats(s.c[0], &st);
	CHECK(st.retransmits == 0);
	CHECK(st.rtt_us >= 20 * MS && st.rtt_us < 40 * MS);
	/* 3 MiB over a 20 ms round trip with no loss: well under 10 s. */
	CHECK(t < 10 * SEC);
	sim_free(&s);
}

static void
test_lossy(void)
{
	struct sim s;
	struct utp_stats st;

	sim_init(&s, 3 << 20, 1 << 20);
	s.bseq = 65000;		/* B's numbers wrap during the transfer */
	s.l.loss = 50;
	s.l.dup = 50;
	s.l.reorder = 100;
	run(&s, 3600 * SEC, finished);
	check_transfer(&s);
	utp_get_stats(s.c[0], &st);
	CHECK(st.retransmits > 0);
	CHECK(st.fast_retransmits > 0);
	sim_free(&s);
}

static void
test_heavy_loss(void)
{
	struct sim s;

	sim_init(&s, 256 << 10, 64 << 10);
	s.l.loss = 250;
	s.l.reorder = 300;
	run(&s, 3600 * SEC, finished);
	check_transfer(&s);
	sim_free(&s);
}

/* Behind a 1 MB/s bottleneck LEDBAT keeps the queue near 100 ms. */
static void
test_ledbat(void)
{
	struct sim s;
	uint64_t t, q;

	sim_init(&s, 8 << 20, 0);
	s.l.rate = 1000000;
	s.l.qdelay_from = 3 * SEC;	/* past slow start's overshoot */
	t = run(&s, 3600 * SEC, finished);
	check_transfer(&s);
	q = s.l.qdelay_sum / s.l.qdelay_n;
	printf("# ledbat: %.1f s for 8 MiB at 1 MB/s, mean queue after 3 s %.1f ms\n",
	    (double)t / SEC, (double)q / MS);
	CHECK(q > 50 * MS && q < 150 * MS);
	/* The link stays busy: at least 80% of its rate. */
	CHECK(t < (uint64_t)(8 << 20) * SEC / 800000);
	sim_free(&s);
}

/* One packet lost 4 times: fast retransmit, then timeouts, recover it. */
static void
test_lost_again(void)
{
	struct sim s;
	struct utp_stats st;

	sim_init(&s, 4 << 20, 0);
	s.l.drop_seq = 2000;
	s.l.drop_n = 4;
	run(&s, 600 * SEC, finished);
	check_transfer(&s);
	utp_get_stats(s.c[0], &st);
	CHECK(st.retransmits >= 4 && st.timeouts >= 2);
	sim_free(&s);
}

/*
 * A receive window full of packets that came after a missing one: the
 * missing one is still taken (libtorrent fills the whole window).
 */
static void
test_full_window(void)
{
	unsigned char d[UTP_HDR_LEN + 1400], out[UTP_MTU];
	unsigned char *buf = malloc(2 << 20);
	struct utp_hdr syn;
	struct utp_conn *c;
	uint16_t seq, first = 65000;
	size_t n, got = 0;
	int k;

	memset(&syn, 0, sizeof(syn));
	syn.type = UTP_ST_SYN;
	syn.conn_id = 77;
	syn.seq = (uint16_t)(first - 1);
	syn.wnd = 1 << 20;
	c = utp_accept(&syn, 500, 0);
	while (utp_output(c, 0, out) > 0)
		;
	memset(d + UTP_HDR_LEN, 'x', 1400);
	/* Packets first+1 ... until the window is shut; first is missing. */
	for (k = 1; k < 2000; k++) {
		seq = (uint16_t)(first + k);
		utp_hdr_write(d, UTP_ST_DATA, 78, 0, 0, 1 << 20, seq, 499,
		    NULL, 0);
		utp_input(c, d, sizeof(d), 1000);
	}
	utp_hdr_write(d, UTP_ST_DATA, 78, 0, 0, 1 << 20, first, 499, NULL, 0);
	CHECK(utp_input(c, d, sizeof(d), 2000) == 1);
	while ((n = utp_read(c, buf, 2 << 20)) > 0)
		got += n;
	/* 1 MiB of window: 748 packets after the missing one, and it. */
	CHECK(got == 749 * 1400);
	free(buf);
	utp_free(c);
}

static int
a_stalled(const struct sim *s)
{
	return s->now >= 5 * SEC;
}

/*
 * B's application reads nothing for 5 s: A fills B's window and waits;
 * once B reads, its window update lets A finish.
 */
static void
test_window(void)
{
	struct sim s;
	struct utp_stats st;

	sim_init(&s, 4 << 20, 0);
	s.read_from[1] = 5 * SEC;
	run(&s, 5 * SEC, a_stalled);
	CHECK(s.got[1] == 0);
	utp_get_stats(s.c[0], &st);
	CHECK(st.peer_wnd < UTP_PAYLOAD);
	CHECK(st.timeouts == 0);
	run(&s, 120 * SEC, finished);
	check_transfer(&s);
	CHECK(s.now < 10 * SEC);
	sim_free(&s);
}

static int
b_has_100k(const struct sim *s)
{
	return s->got[1] >= 100000;
}

static int
a_ended(const struct sim *s)
{
	return utp_state(s->c[0]) == UTP_RESET ||
	    utp_state(s->c[0]) == UTP_TIMEDOUT;
}

static void
test_reset(void)
{
	struct sim s;

	sim_init(&s, 1 << 20, 0);
	run(&s, 60 * SEC, b_has_100k);
	CHECK(s.c[1] != NULL && s.got[1] >= 100000);
	utp_abort(s.c[1]);
	CHECK(utp_state(s.c[1]) == UTP_CLOSED);
	run(&s, s.now + 60 * SEC, a_ended);
	CHECK(utp_state(s.c[0]) == UTP_RESET);
	CHECK(utp_write(s.c[0], "x", 1) == 0);
	sim_free(&s);
}

/* A stray packet for a connection B never had is answered by a RESET. */
static void
test_stray(void)
{
	struct sim s;

	sim_init(&s, 1 << 20, 0);
	run(&s, 60 * SEC, b_has_100k);
	utp_free(s.c[1]);
	s.c[1] = NULL;
	s.resets_sent = 0;
	run(&s, s.now + 60 * SEC, a_ended);
	CHECK(s.resets_sent > 0);
	CHECK(utp_state(s.c[0]) == UTP_RESET);
	sim_free(&s);
}

static void
test_timeout(void)
{
	struct sim s;
	uint64_t t0;

	sim_init(&s, 1 << 20, 0);
	run(&s, 60 * SEC, b_has_100k);
	s.l.cut = 1;
	t0 = s.now;
	run(&s, s.now + 600 * SEC, a_ended);
	CHECK(utp_state(s.c[0]) == UTP_TIMEDOUT);
	/* 6 doubling timeouts from 0.5 s: 31.5 s up to 63 s. */
	CHECK(s.now - t0 >= 31 * SEC && s.now - t0 <= 64 * SEC);
	CHECK(utp_deadline(s.c[0]) == UINT64_MAX);
	sim_free(&s);
}

static void
test_syn_timeout(void)
{
	struct utp_conn *c = utp_connect(7, 0);
	unsigned char b[UTP_MTU];
	struct utp_hdr h;
	char err[BT_ERRLEN];
	uint64_t now = 0;
	int syns = 0;

	while (utp_state(c) == UTP_SYN_SENT && now < 100 * SEC) {
		size_t n;

		while ((n = utp_output(c, now, b)) > 0) {
			CHECK(utp_parse(b, n, &h, err) == 0);
			CHECK(h.type == UTP_ST_SYN && h.conn_id == 7 &&
			    h.seq == 1);
			syns++;
		}
		if (utp_deadline(c) == UINT64_MAX)
			break;
		now = utp_deadline(c);
	}
	CHECK(syns == 4);
	CHECK(utp_state(c) == UTP_TIMEDOUT);
	CHECK(now == 15 * SEC);
	utp_free(c);
}

/* An accepted SYN and then silence: the STATE again, then given up. */
static void
test_syn_recv_timeout(void)
{
	struct utp_hdr syn, h;
	struct utp_conn *c;
	unsigned char b[UTP_MTU];
	char err[BT_ERRLEN];
	uint64_t now = 0;
	int states = 0;
	size_t n;

	memset(&syn, 0, sizeof(syn));
	syn.type = UTP_ST_SYN;
	syn.conn_id = 50;
	syn.seq = 1;
	c = utp_accept(&syn, 300, now);
	while (utp_state(c) == UTP_SYN_RECV && now < 100 * SEC) {
		while ((n = utp_output(c, now, b)) > 0) {
			CHECK(utp_parse(b, n, &h, err) == 0);
			CHECK(h.type == UTP_ST_STATE && h.conn_id == 50 &&
			    h.ack == 1);
			states++;
		}
		if (utp_deadline(c) == UINT64_MAX)
			break;
		now = utp_deadline(c);
	}
	CHECK(states == 4);
	CHECK(utp_state(c) == UTP_TIMEDOUT);
	CHECK(now == 15 * SEC);
	utp_free(c);
}

/* One end sends nothing: it still closes after the other's FIN. */
static void
test_one_way(void)
{
	struct sim s;

	sim_init(&s, 0, 5000);
	run(&s, 60 * SEC, finished);
	check_transfer(&s);
	sim_free(&s);
}

static void
test_parse(void)
{
	unsigned char b[64];
	struct utp_hdr h;
	char err[BT_ERRLEN];

	memset(b, 0, sizeof(b));
	b[0] = 0x01;			/* DATA, v1 */
	b[2] = 0x12;
	b[3] = 0x34;
	b[16] = 0xff;
	b[17] = 0xfe;
	CHECK(utp_parse(b, 24, &h, err) == 0);
	CHECK(h.type == UTP_ST_DATA && h.conn_id == 0x1234 &&
	    h.seq == 0xfffe && h.len == 4 && h.sack == NULL);
	CHECK(utp_parse(b, 19, &h, err) == -1);
	b[0] = 0x02;
	CHECK(utp_parse(b, 20, &h, err) == -1);		/* version 2 */
	b[0] = 0x51;
	CHECK(utp_parse(b, 20, &h, err) == -1);		/* type 5 */
	b[0] = 0x21;					/* STATE */
	CHECK(utp_parse(b, 21, &h, err) == -1);		/* with payload */
	b[1] = 1;					/* SACK */
	b[20] = 0;
	b[21] = 4;
	b[22] = 0x05;
	CHECK(utp_parse(b, 26, &h, err) == 0);
	CHECK(h.sack_len == 4 && h.sack[0] == 0x05 && h.len == 0);
	CHECK(utp_parse(b, 25, &h, err) == -1);		/* past the end */
	b[21] = 0;
	CHECK(utp_parse(b, 25, &h, err) == -1);		/* empty */
	b[21] = 3;					/* libtorrent's */
	CHECK(utp_parse(b, 25, &h, err) == 0 && h.sack_len == 3);
	b[1] = 9;					/* unknown: skipped */
	b[20] = 0;
	b[21] = 2;
	CHECK(utp_parse(b, 24, &h, err) == 0 && h.sack == NULL);
	b[20] = 7;					/* chain runs out */
	CHECK(utp_parse(b, 24, &h, err) == -1);
}

/* A connection waiting for data tells a silent peer its window again. */
static void
test_keepalive(void)
{
	struct utp_hdr syn, h;
	struct utp_conn *c;
	unsigned char out[UTP_MTU];
	char err[BT_ERRLEN];
	uint64_t now = 0;
	int states = 0;
	size_t n;

	memset(&syn, 0, sizeof(syn));
	syn.type = UTP_ST_SYN;
	syn.conn_id = 9;
	syn.seq = 100;
	syn.wnd = 1 << 20;
	c = utp_accept(&syn, 7, now);
	/* The initiator's first packet: a STATE, now connected. */
	utp_hdr_write(out, UTP_ST_STATE, 10, 0, 0, 1 << 20, 101, 6, NULL, 0);
	CHECK(utp_input(c, out, UTP_HDR_LEN, now) == 1);
	while (utp_output(c, now, out) > 0)
		;
	CHECK(utp_state(c) == UTP_CONNECTED);
	/* Over 60 silent seconds: STATEs at 0.5, 1.5, 3.5, 7.5, ... s. */
	while ((now = utp_deadline(c)) < 60 * SEC) {
		while ((n = utp_output(c, now, out)) > 0) {
			CHECK(utp_parse(out, n, &h, err) == 0);
			CHECK(h.type == UTP_ST_STATE && h.ack == 100 &&
			    h.wnd > 0);
			states++;
		}
	}
	CHECK(states >= 5 && states <= 8);
	CHECK(utp_state(c) == UTP_CONNECTED);
	/* No RESET answers a RESET. */
	h.type = UTP_ST_RESET;
	CHECK(utp_reset_reply(&h, now, out) == 0);
	h.type = UTP_ST_DATA;
	CHECK(utp_reset_reply(&h, now, out) == UTP_HDR_LEN);
	utp_free(c);
}

int
main(void)
{
	RUN(test_parse);
	RUN(test_syn_timeout);
	RUN(test_keepalive);
	RUN(test_syn_recv_timeout);
	RUN(test_clean);
	RUN(test_one_way);
	RUN(test_lossy);
	RUN(test_heavy_loss);
	RUN(test_ledbat);
	RUN(test_lost_again);
	RUN(test_full_window);
	RUN(test_window);
	RUN(test_reset);
	RUN(test_stray);
	RUN(test_timeout);
	DONE();
}
