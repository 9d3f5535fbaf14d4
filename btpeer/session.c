/* session.c: the event loop of one peer connection (session.h). */
#include <sys/random.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt.h"
#include "session.h"

/*
 * Seconds --bitfield waits after the handshake for a bitfield: a peer
 * with no piece may send none (BEP 3), and peers send it at once.
 */
#define BITFIELD_WAIT	3

/* BEP 20 style: -BP, version 0100, then random. */
#define PEER_ID_PREFIX	"-BP0100-"

double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void
trace(struct session *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->o->verbose)
		return;
	fprintf(stderr, "btpeer: %9.3f ", now() - s->t0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
event(struct session *s, const char *fmt, ...)
{
	va_list ap;

	if (s->ev == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(s->ev, fmt, ap);
	va_end(ap);
	fputc('\n', s->ev);
	fflush(s->ev);
}

int
fail(struct session *s, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	if (s->done < 0)
		s->done = code;
	return -1;
}

int
peer_bit(const struct session *s, uint32_t i)
{
	return (s->peer_has[i / 8] >> (7 - i % 8)) & 1;
}

int
out_space(struct session *s, size_t n)
{
	if (s->wpos > 0 && s->wlen + n > s->wcap) {
		memmove(s->wbuf, s->wbuf + s->wpos, s->wlen - s->wpos);
		s->wlen -= s->wpos;
		s->wpos = 0;
	}
	if (s->wlen + n > s->wcap) {
		size_t ncap = s->wcap * 2 + n;
		unsigned char *nb = realloc(s->wbuf, ncap);

		if (nb == NULL)
			return fail(s, BT_EXIT_WORLD, "out of memory");
		s->wbuf = nb;
		s->wcap = ncap;
	}
	return 0;
}

int
out_add(struct session *s, const void *p, size_t n)
{
	if (out_space(s, n) == -1)
		return -1;
	memcpy(s->wbuf + s->wlen, p, n);
	s->wlen += n;
	return 0;
}

static int
send_simple(struct session *s, int type)
{
	unsigned char m[5];

	trace(s, "> %s", wire_name(type));
	return out_add(s, m, wire_simple(m, type));
}

static void
set_peer_bit(struct session *s, uint32_t i)
{
	if (!peer_bit(s, i)) {
		s->peer_has[i / 8] |= 0x80 >> (i % 8);
		s->peer_count++;
		if (s->sp != NULL)
			spool_avail_add(s->sp, i, 1);
	}
}

/* --bitfield: "pieces 0-9,12", or "pieces -" for none. */
static void
print_ranges(struct session *s)
{
	uint32_t i = 0, j, n = s->mi->npieces;
	int first = 1;

	if (s->ev == NULL)
		return;
	fputs("pieces ", s->ev);
	while (i < n) {
		if (!peer_bit(s, i)) {
			i++;
			continue;
		}
		for (j = i; j + 1 < n && peer_bit(s, j + 1); j++)
			;
		fprintf(s->ev, first ? "%u" : ",%u", i);
		if (j > i)
			fprintf(s->ev, "-%u", j);
		first = 0;
		i = j + 1;
	}
	if (first)
		fputc('-', s->ev);
	fputc('\n', s->ev);
	fflush(s->ev);
}

static int
on_message(struct session *s, const struct wire_msg *m)
{
	uint32_t i;

	s->nmsgs++;
	if (m->type != WIRE_PIECE && m->type != WIRE_REQUEST &&
	    m->type != WIRE_HAVE && m->type != WIRE_CANCEL)
		trace(s, "< %s", wire_name(m->type));
	switch (m->type) {
	case WIRE_KEEPALIVE:
		break;
	case WIRE_CHOKE:
		s->choked = 1;
		fetch_choked(s);
		break;
	case WIRE_UNCHOKE:
		s->choked = 0;
		s->last_progress = now();
		break;
	case WIRE_INTERESTED:
		s->peer_interested = 1;
		if (s->peer_choked) {
			s->peer_choked = 0;
			return send_simple(s, WIRE_UNCHOKE);
		}
		break;
	case WIRE_NOT_INTERESTED:
		s->peer_interested = 0;
		break;
	case WIRE_HAVE:
		trace(s, "< have %u", m->index);
		if (!peer_bit(s, m->index)) {
			set_peer_bit(s, m->index);
			event(s, "have %u", m->index);
			if (s->peer_count == s->mi->npieces)
				event(s, "have-all");
			fetch_update_interest(s, m->index);
		}
		break;
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
	case WIRE_BITFIELD:
		if (s->nmsgs != 1 || s->peer_count != 0)
			return fail(s, BT_EXIT_WORLD, "%s after the first "
			    "message", wire_name(m->type));
		for (i = 0; i < s->mi->npieces; i++)
			if (m->type == WIRE_HAVE_ALL ||
			    (m->type == WIRE_BITFIELD &&
			    ((m->data[i / 8] >> (7 - i % 8)) & 1)))
				set_peer_bit(s, i);
		event(s, "bitfield %u", s->peer_count);
		if (s->peer_count == s->mi->npieces)
			event(s, "have-all");
		if (s->o->mode == MODE_BITFIELD) {
			print_ranges(s);
			s->done = BT_EXIT_OK;
		}
		fetch_update_interest(s, UINT32_MAX);
		break;
	case WIRE_REQUEST:
		return serve_request(s, m);
	case WIRE_CANCEL:
		trace(s, "< cancel %u %u+%u", m->index, m->begin, m->length);
		serve_cancel(s, m);
		break;
	case WIRE_PIECE:
		s->down += m->length;
		return fetch_block(s, m);
	case WIRE_REJECT:
		/* We never offer the fast extension: no request to reject. */
		return fail(s, BT_EXIT_WORLD, "reject without the fast "
		    "extension");
	default:
		/* port, suggest, allowed-fast, extended, unknown: ignored. */
		break;
	}
	return 0;
}

/* Parses what is buffered; -1 on a protocol error or a fatal one. */
static int
on_input(struct session *s)
{
	struct wire_hs hs;
	struct wire_msg m;
	size_t need;
	char err[BT_ERRLEN], hex[41];
	int r, k;

	while (s->rpos < s->rlen && s->done < 0) {
		const unsigned char *p = s->rbuf + s->rpos;
		size_t n = s->rlen - s->rpos;

		if (!s->hs_done) {
			r = wire_handshake_parse(p, n, s->mi->info_hash, &hs,
			    err);
			if (r == -1)
				return fail(s, BT_EXIT_WORLD, "%s", err);
			if (r == 0)
				break;
			s->hs_done = 1;
			s->hs_time = now();
			memcpy(s->peer_id, hs.peer_id, 20);
			for (k = 0; k < 20; k++)
				snprintf(hex + 2 * k, 3, "%02x", hs.peer_id[k]);
			trace(s, "< handshake peer id %s", hex);
			event(s, "peer-id %s", hex);
			s->rpos += (size_t)r;
			if (serve_bitfield(s) == -1)
				return -1;
			continue;
		}
		r = wire_parse(&s->lim, p, n, &m, &need, err);
		if (r == -1)
			return fail(s, BT_EXIT_WORLD, "%s", err);
		if (r == 0)
			break;
		s->rpos += (size_t)r;
		if (on_message(s, &m) == -1)
			return -1;
	}
	if (s->rpos == s->rlen)
		s->rpos = s->rlen = 0;
	return 0;
}

static int
do_read(struct session *s)
{
	ssize_t r;
	size_t room;

	if (s->rpos > 0 && s->rcap - s->rlen < SESS_READ_CHUNK / 4) {
		memmove(s->rbuf, s->rbuf + s->rpos, s->rlen - s->rpos);
		s->rlen -= s->rpos;
		s->rpos = 0;
	}
	room = s->rcap - s->rlen;
	r = read(s->rfd, s->rbuf + s->rlen, room);
	if (r == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return fail(s, BT_EXIT_WORLD, "read: %s", strerror(errno));
	}
	if (r == 0) {
		/* Serving, the peer leaving is the normal end. */
		if (s->o->mode == MODE_SERVE && s->hs_done) {
			trace(s, "  peer closed the connection");
			s->done = BT_EXIT_OK;
			return -1;
		}
		return fail(s, BT_EXIT_WORLD, "peer closed the connection");
	}
	s->rlen += (size_t)r;
	s->last_recv = now();
	return on_input(s);
}

static int
do_write(struct session *s)
{
	ssize_t w;

	while (s->wpos < s->wlen) {
		w = write(s->wfd, s->wbuf + s->wpos, s->wlen - s->wpos);
		if (w == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == EPIPE || errno == ECONNRESET)
				return fail(s, BT_EXIT_WORLD, "peer closed the "
				    "connection");
			return fail(s, BT_EXIT_WORLD, "write: %s",
			    strerror(errno));
		}
		s->wpos += (size_t)w;
		s->last_send = now();
	}
	s->wpos = s->wlen = 0;
	return 0;
}

static int
tick(struct session *s)
{
	double t = now();
	unsigned char ka[4];

	if (s->wlen == s->wpos && t - s->last_send > SESS_KEEPALIVE) {
		trace(s, "> keepalive");
		if (out_add(s, ka, wire_keepalive(ka)) == -1)
			return -1;
		s->last_send = t;
	}
	if (!s->hs_done && t - s->t0 > s->o->timeout)
		return fail(s, BT_EXIT_WORLD, "no handshake in %d s",
		    s->o->timeout);
	if (t - s->last_recv > 2 * SESS_KEEPALIVE + s->o->timeout)
		return fail(s, BT_EXIT_WORLD, "peer silent for %.0f s",
		    t - s->last_recv);
	if (s->o->mode == MODE_BITFIELD && s->hs_done &&
	    t - s->hs_time > BITFIELD_WAIT) {
		/* BEP 3: a peer with no piece may send no bitfield. */
		event(s, "bitfield %u", s->peer_count);
		print_ranges(s);
		s->done = BT_EXIT_OK;
		return 0;
	}
	if (fetch_tick(s) == -1)
		return -1;
	return serve_tick(s);
}

static int
setup(struct session *s)
{
	unsigned char hs[WIRE_HANDSHAKE_LEN], res[8] = { 0 }, id[20];
	size_t k;

	memcpy(id, PEER_ID_PREFIX, 8);
	if (getrandom(id + 8, 12, 0) != 12)
		return fail(s, BT_EXIT_WORLD, "getrandom: %s", strerror(errno));
	for (k = 8; k < 20; k++)
		id[k] = "0123456789abcdefghijklmnopqrstuvwxyz"[id[k] % 36];
	wire_limits_init(&s->lim, s->mi);
	s->rcap = SESS_READ_CHUNK + 4 + (size_t)s->lim.maxmsg;
	s->wcap = SESS_WLOW + 4 * (WIRE_PIECE_HDR + WIRE_BLOCK);
	s->rbuf = malloc(s->rcap);
	s->wbuf = malloc(s->wcap);
	s->peer_has = calloc(1, (size_t)s->lim.bitfield_len + 1);
	if (s->rbuf == NULL || s->wbuf == NULL || s->peer_has == NULL)
		return fail(s, BT_EXIT_WORLD, "out of memory");
	if (fetch_init(s) == -1 || serve_init(s) == -1)
		return -1;
	wire_handshake(hs, res, s->mi->info_hash, id);
	trace(s, "> handshake");
	return out_add(s, hs, sizeof(hs));
}

int
session_run(const struct opts *o, const struct metainfo *mi,
    struct spool *sp, int rfd, int wfd, FILE *events)
{
	struct session s;
	struct pollfd pf[2];
	int n, r, code;
	double t, next_tick;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.mi = mi;
	s.sp = sp;
	s.rfd = rfd;
	s.wfd = wfd;
	s.ev = events;
	s.done = -1;
	s.choked = s.peer_choked = 1;
	s.piecefd = -1;
	s.t0 = s.last_recv = s.last_send = s.last_progress = now();
	fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
	fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
	next_tick = s.t0 + 1;
	if (setup(&s) == -1)
		goto out;
	while (s.done < 0) {
		if (s.hs_done && (fetch_fill(&s) == -1 || serve_fill(&s) == -1))
			break;
		if (s.done >= 0)
			break;
		if (do_write(&s) == -1)
			break;
		n = 0;
		pf[0].fd = rfd;
		pf[0].events = POLLIN;
		pf[0].revents = 0;
		n = 1;
		if (s.wpos < s.wlen) {
			if (wfd == rfd) {
				pf[0].events |= POLLOUT;
			} else {
				pf[1].fd = wfd;
				pf[1].events = POLLOUT;
				pf[1].revents = 0;
				n = 2;
			}
		}
		t = now();
		/* Requests left to answer and room to: do not sleep. */
		r = poll(pf, (nfds_t)n, t >= next_tick || (s.rqlen > 0 &&
		    s.wlen - s.wpos < SESS_WLOW) ? 0 :
		    (int)((next_tick - t) * 1000) + 1);
		if (r == -1 && errno != EINTR) {
			fail(&s, BT_EXIT_WORLD, "poll: %s", strerror(errno));
			break;
		}
		if (r > 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    do_read(&s) == -1)
			break;
		if (now() >= next_tick) {
			next_tick = now() + 1;
			if (tick(&s) == -1)
				break;
		}
	}
	/* Flush what is queued (a last have, a cancel), for a second at most. */
	t = now();
	while (s.wpos < s.wlen && now() - t < 1 && s.err[0] == '\0') {
		pf[0].fd = wfd;
		pf[0].events = POLLOUT;
		if (poll(pf, 1, 100) < 0 || do_write(&s) == -1)
			break;
	}
out:
	code = s.done < 0 ? BT_EXIT_WORLD : s.done;
	if (s.up > s.up_reported)
		event(&s, "sent %llu", (unsigned long long)(s.up -
		    s.up_reported));
	if (code != BT_EXIT_OK || s.err[0] != '\0') {
		if (s.err[0] == '\0')
			snprintf(s.err, sizeof(s.err), "session failed");
		if (code != BT_EXIT_OK) {
			event(&s, "error %s", s.err);
			fprintf(stderr, "btpeer: %s\n", s.err);
		}
	}
	if (s.sp != NULL && s.peer_has != NULL)
		spool_avail_bits(s.sp, s.peer_has, -1);
	fetch_free(&s);
	serve_free(&s);
	free(s.rbuf);
	free(s.wbuf);
	free(s.peer_has);
	return code;
}
