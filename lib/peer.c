/*
 * peer.c: the driver of the peer core (peer.h): the handshakes, the
 * message switch, choke and interest, every deadline. Downloading,
 * uploading and extensions are in peer_fetch.c, peer_serve.c and
 * peer_ext.c; this file alone calls into them.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metainfo.h"
#include "peer_int.h"

int
peer_init(struct peer *p, const struct peer_cfg *cfg,
    const struct peer_host *host, struct peer_transform *tr, int64_t now)
{
	unsigned char hs[WIRE_HANDSHAKE_LEN], res[8] = { 0 };

	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->mi = cfg->mi;
	p->host = host;
	p->tr = tr;
	p->done = -1;
	p->choked = p->peer_choked = 1;
	p->now = p->t0 = p->last_recv = p->last_send = now;
	p->last_progress = p->idle_since = now;
	wire_limits_init(&p->lim, p->mi);
	if (cfg->mode == PEER_METADATA) {
		wire_limits_set(&p->lim, MI_MAX_PIECES, MI_MAX_PIECE_LEN,
		    (uint64_t)MI_MAX_PIECES * MI_MAX_PIECE_LEN);
		p->lim.loose = 1;
	}
	if (cfg->next > 0 && p->lim.maxmsg < PEER_EXT_MSG_MAX)
		p->lim.maxmsg = PEER_EXT_MSG_MAX;
	/* Small at first: they grow once the peer sends or asks much. */
	p->rcap = PEER_READ_FIRST + 4 + (size_t)p->lim.maxmsg;
	/* PEER_METADATA: a huge bitfield is rare; the buffer grows for it. */
	if (p->lim.loose)
		p->rcap = PEER_READ_FIRST + 4 + PEER_EXT_MSG_MAX;
	p->wcap = PEER_READ_FIRST;
	p->rbuf = malloc(p->rcap);
	p->wbuf = malloc(p->wcap);
	/* PEER_METADATA ignores the pieces: a byte will do. */
	p->peer_has = calloc(1, p->lim.loose ? 1 :
	    (size_t)p->lim.bitfield_len + 1);
	if (p->rbuf == NULL || p->wbuf == NULL || p->peer_has == NULL)
		return peer_fail(p, BT_FAIL_SYSTEM, "out of memory");
	if (fetch_init(p) == -1 || serve_init(p) == -1)
		return -1;
	if (cfg->fast)
		res[WIRE_RES_FAST_BYTE] |= WIRE_RES_FAST;
	ext_reserved(cfg, res);
	if (cfg->dht_port != 0)
		res[WIRE_RES_DHT_BYTE] |= WIRE_RES_DHT;
	wire_handshake(hs, res, p->mi->info_hash, cfg->peer_id);
	if (tr != NULL && tr->handshake != NULL) {
		/* The transform speaks first; ours waits until it is done. */
		p->phase = PEER_PH_TRANSFORM;
		memcpy(p->our_hs, hs, sizeof(hs));
		return 0;
	}
	p->phase = PEER_PH_HANDSHAKE;
	peer_trace(p, "> handshake");
	return peer_out_add(p, hs, sizeof(hs));
}

void
peer_free(struct peer *p)
{
	uint32_t i;

	if (p->peer_has != NULL && p->host->avail != NULL)
		for (i = 0; i < p->mi->npieces; i++)
			if (peer_bit(p, i))
				p->host->avail(p->host->ctx, i, -1);
	fetch_free(p);
	serve_free(p);
	free(p->rbuf);
	free(p->wbuf);
	free(p->peer_has);
	p->rbuf = p->wbuf = p->peer_has = NULL;
}

static void
set_peer_bit(struct peer *p, uint32_t i)
{
	if (!peer_bit(p, i)) {
		p->peer_has[i / 8] |= 0x80 >> (i % 8);
		p->peer_count++;
		if (p->host->avail != NULL)
			p->host->avail(p->host->ctx, i, 1);
	}
}

/* --bitfield: "pieces 0-9,12", or "pieces -" for none. */
static int
report_pieces(struct peer *p)
{
	uint32_t i = 0, j, n = p->mi->npieces;
	struct buf b;
	int r = 0;

	peer_event(p, "bitfield %u", p->peer_count);
	p->done = BT_EXIT_OK;
	if (p->host->event == NULL)
		return 0;
	/* At most 2 numbers of 10 digits and 2 marks per piece. */
	buf_init(&b, 32 + (size_t)n * 24);
	r |= buf_adds(&b, "pieces ");
	while (i < n) {
		if (!peer_bit(p, i)) {
			i++;
			continue;
		}
		for (j = i; j + 1 < n && peer_bit(p, j + 1); j++)
			;
		r |= buf_printf(&b, b.len > 7 ? ",%u" : "%u", i);
		if (j > i)
			r |= buf_printf(&b, "-%u", j);
		i = j + 1;
	}
	if (b.len == 7)
		r |= buf_addc(&b, '-');
	r |= buf_addc(&b, '\0');
	if (r == 0)
		p->host->event(p->host->ctx, (const char *)b.p);
	buf_free(&b);
	return r == 0 ? 0 : peer_fail(p, BT_FAIL_SYSTEM, "out of memory");
}

static void
set_interest_change(struct peer *p)
{
	p->idle_since = p->now;
}

/*
 * Bitfield, have_all or have_none. The first one announces the peer's
 * pieces; a later one is taken as an update (aria2c re-sends its
 * bitfield mid-connection), adding pieces, never taking them away.
 */
static int
on_announce(struct peer *p, const struct wire_msg *m)
{
	uint32_t i, before = p->peer_count;
	int first = !p->announced;

	if (m->type == WIRE_BITFIELD && p->lim.loose)
		return 0;	/* PEER_METADATA: the size is not known */
	for (i = 0; i < p->mi->npieces; i++)
		if (m->type == WIRE_HAVE_ALL || (m->type == WIRE_BITFIELD &&
		    ((m->data[i / 8] >> (7 - i % 8)) & 1)))
			set_peer_bit(p, i);
	p->announced = 1;
	if (!first) {
		peer_trace(p, "  %s again: %u more pieces", wire_name(m->type),
		    p->peer_count - before);
		if (p->peer_count == p->mi->npieces && before != p->peer_count)
			peer_event(p, "have-all");
		fetch_interest(p, UINT32_MAX);
		return 0;
	}
	if (p->cfg->mode == PEER_BITFIELD)
		return report_pieces(p);
	peer_event(p, "bitfield %u", p->peer_count);
	if (p->peer_count == p->mi->npieces)
		peer_event(p, "have-all");
	fetch_interest(p, UINT32_MAX);
	return 0;
}

/* BEP 5: our DHT port, once both sides set the DHT reserved bit. */
static int
dht_port_send(struct peer *p, const struct wire_hs *hs)
{
	unsigned char b[7] = { 0, 0, 0, 3, WIRE_PORT };

	if (p->cfg->dht_port == 0 ||
	    !(hs->reserved[WIRE_RES_DHT_BYTE] & WIRE_RES_DHT))
		return 0;
	b[5] = (unsigned char)(p->cfg->dht_port >> 8);
	b[6] = (unsigned char)p->cfg->dht_port;
	peer_trace(p, "> port %u", (unsigned)p->cfg->dht_port);
	return peer_out_add(p, b, sizeof(b));
}

/* BEP 5: the peer's DHT node, as an event for the caller's DHT. */
static void
dht_port_event(struct peer *p, uint16_t port)
{
	char ip[INET6_ADDRSTRLEN];
	const struct peer_cfg *c = p->cfg;

	peer_trace(p, "< port %u", (unsigned)port);
	if (port == 0)
		return;
	if (c->yourip_len == 4 && inet_ntop(AF_INET, c->yourip, ip,
	    sizeof(ip)) != NULL)
		peer_event(p, "dht-node %s:%u", ip, (unsigned)port);
	else if (c->yourip_len == 16 && inet_ntop(AF_INET6, c->yourip, ip,
	    sizeof(ip)) != NULL)
		peer_event(p, "dht-node [%s]:%u", ip, (unsigned)port);
	else
		peer_event(p, "dht-port %u", (unsigned)port);
}

static int
on_message(struct peer *p, const struct wire_msg *m)
{
	int was = p->interested;

	if (m->type != WIRE_KEEPALIVE)
		p->last_msg = p->now;
	p->nmsgs++;
	if (m->type != WIRE_PIECE && m->type != WIRE_REQUEST &&
	    m->type != WIRE_HAVE && m->type != WIRE_CANCEL &&
	    m->type != WIRE_EXTENDED && m->type != WIRE_SUGGEST &&
	    m->type != WIRE_ALLOWED_FAST && m->type != WIRE_REJECT)
		peer_trace(p, "< %s", wire_name(m->type));
	switch (m->type) {
	case WIRE_KEEPALIVE:
		p->nmsgs--;
		break;
	case WIRE_CHOKE:
		if (!p->choked)
			p->choked_since = p->now;
		p->choked = 1;
		fetch_choked(p);
		break;
	case WIRE_UNCHOKE:
		p->choked = 0;
		p->last_progress = p->now;
		break;
	case WIRE_INTERESTED:
		if (!p->peer_interested)
			set_interest_change(p);
		p->peer_interested = 1;
		if (p->peer_choked && (p->host->unchoke == NULL ||
		    p->host->unchoke(p->host->ctx, p)))
			return peer_choke(p, 0);
		break;
	case WIRE_NOT_INTERESTED:
		if (p->peer_interested)
			set_interest_change(p);
		p->peer_interested = 0;
		break;
	case WIRE_HAVE:
		if (p->lim.loose)
			break;	/* PEER_METADATA: the size is not known */
		if (p->cfg->verbose)
			peer_trace(p, "< have %u", m->index);
		p->announced = 1;
		if (!peer_bit(p, m->index)) {
			set_peer_bit(p, m->index);
			peer_event(p, "have %u", m->index);
			if (p->peer_count == p->mi->npieces)
				peer_event(p, "have-all");
			fetch_interest(p, m->index);
		}
		break;
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
	case WIRE_BITFIELD:
		if (on_announce(p, m) == -1)
			return -1;
		break;
	case WIRE_REQUEST:
		serve_request(p, m);
		break;
	case WIRE_CANCEL:
		serve_cancel(p, m);
		break;
	case WIRE_PIECE:
		p->down += m->length;
		return fetch_block(p, m);
	case WIRE_REJECT:
		if (!p->fast)
			return peer_fail(p, BT_FAIL_PEER, "reject without the "
			    "fast extension");
		return fetch_reject(p, m);
	case WIRE_SUGGEST:
	case WIRE_ALLOWED_FAST:
		return fast_message(p, m);
	case WIRE_EXTENDED:
		return ext_message(p, m);
	case WIRE_PORT:
		dht_port_event(p, m->port);
		break;
	default:
		/* Unknown ids: ignored. */
		break;
	}
	if (p->interested != was)
		set_interest_change(p);
	return 0;
}

/*
 * A handshake that is not one: name the likely cause. An HTTP server
 * answers with a status line; a peer that requires MSE sends 96 or more
 * bytes of a Diffie-Hellman key, which look random.
 */
static int
handshake_failed(struct peer *p, const unsigned char *b, size_t n,
    const char *err)
{
	char line[64];
	size_t k;

	if (n >= 5 && memcmp(b, "HTTP/", 5) == 0) {
		for (k = 0; k < n && k + 1 < sizeof(line) && b[k] != '\r' &&
		    b[k] != '\n'; k++)
			line[k] = isprint(b[k]) ? (char)b[k] : '?';
		line[k] = '\0';
		return peer_fail(p, BT_FAIL_PEER, "handshake: an HTTP reply "
		    "(\"%s\"), not a BitTorrent peer", line);
	}
	if (b[0] != WIRE_PSTRLEN)
		return peer_fail(p, BT_FAIL_PEER, "%s: an encrypted (MSE) "
		    "handshake? the peer may require encryption", err);
	return peer_fail(p, BT_FAIL_PEER, "%s", err);
}

static int
on_handshake(struct peer *p, const unsigned char *b, size_t n)
{
	struct wire_hs hs;
	char err[BT_ERRLEN], hex[41], client[64];
	int r, k;

	/* Wait for "HTTP/" before judging a reply starting with 'H'. */
	if (n < 5 && memcmp(b, "HTTP/", n) == 0)
		return 0;
	r = wire_handshake_parse(b, n, p->mi->info_hash, &hs, err);
	if (r == -1)
		return handshake_failed(p, b, n, err);
	if (r == 0)
		return 0;
	p->phase = PEER_PH_MESSAGES;
	p->hs_time = p->last_progress = p->idle_since = p->now;
	p->choked_since = p->now;
	memcpy(p->peer_id, hs.peer_id, 20);
	memcpy(p->peer_reserved, hs.reserved, 8);
	p->fast = p->cfg->fast &&
	    (hs.reserved[WIRE_RES_FAST_BYTE] & WIRE_RES_FAST);
	for (k = 0; k < 20; k++)
		snprintf(hex + 2 * k, 3, "%02x", hs.peer_id[k]);
	peer_client_name(hs.peer_id, client, sizeof(client));
	peer_trace(p, "< handshake peer id %s (%s)", hex, client);
	peer_event(p, "peer-id %s %s", hex, client);
	if (ext_start(p) == -1 || serve_bitfield(p) == -1 ||
	    fast_start(p) == -1 || dht_port_send(p, &hs) == -1)
		return -1;
	return r;
}

/* The transform's handshake; then ours goes out. */
static int
on_transform(struct peer *p)
{
	char err[BT_ERRLEN];
	int est = 0;
	long r;

	err[0] = '\0';
	r = p->tr->handshake(p->tr->ctx, p, p->rbuf + p->rpos,
	    p->rlen - p->rpos, &est, err);
	if (r < 0 || (size_t)r > p->rlen - p->rpos)
		return peer_fail(p, BT_FAIL_PEER, "%s", err[0] != '\0' ? err :
		    "transform handshake failed");
	p->rpos += (size_t)r;
	if (!est)
		return 0;
	p->phase = PEER_PH_HANDSHAKE;
	/* What follows in this read is already transformed. */
	if (p->tr->decode != NULL && p->rpos < p->rlen)
		p->tr->decode(p->tr->ctx, p->rbuf + p->rpos, p->rlen - p->rpos);
	p->wenc = p->wlen;
	if (p->hs_in_tr)
		return 0;
	peer_trace(p, "> handshake");
	return peer_out_add(p, p->our_hs, sizeof(p->our_hs));
}

int
peer_on_input(struct peer *p)
{
	struct wire_msg m;
	size_t need;
	char err[BT_ERRLEN];
	int r;

	while (p->rpos < p->rlen && p->done < 0) {
		const unsigned char *b = p->rbuf + p->rpos;
		size_t n = p->rlen - p->rpos;

		if (p->phase == PEER_PH_TRANSFORM) {
			size_t before = p->rpos;

			if (on_transform(p) == -1)
				return -1;
			if (p->phase == PEER_PH_TRANSFORM && p->rpos == before)
				break;
			continue;
		}
		if (p->phase == PEER_PH_HANDSHAKE) {
			r = on_handshake(p, b, n);
			if (r == -1)
				return -1;
			if (r == 0)
				break;
			p->rpos += (size_t)r;
			continue;
		}
		r = wire_parse(&p->lim, b, n, &m, &need, err);
		if (r == -1)
			return peer_fail(p, BT_FAIL_PEER, "%s", err);
		if (r == 0)
			break;
		p->rpos += (size_t)r;
		if (on_message(p, &m) == -1)
			return -1;
	}
	if (p->rpos == p->rlen)
		p->rpos = p->rlen = 0;
	return p->done >= 0 ? -1 : 0;
}

unsigned char *
peer_inbuf(struct peer *p, size_t *room)
{
	size_t full = PEER_READ_CHUNK + 4 + (size_t)p->lim.maxmsg;
	unsigned char *nb;

	if (p->rpos > 0 && p->rcap - p->rlen < PEER_READ_CHUNK / 4) {
		memmove(p->rbuf, p->rbuf + p->rpos, p->rlen - p->rpos);
		p->rlen -= p->rpos;
		p->rpos = 0;
	}
	/* The last read filled the small buffer: a busy peer, grow. */
	if (p->rcap < full && p->rfull && (nb = realloc(p->rbuf, full)) !=
	    NULL) {
		p->rbuf = nb;
		p->rcap = full;
	}
	*room = p->roffer = p->rcap - p->rlen;
	return p->rbuf + p->rlen;
}

int
peer_received(struct peer *p, size_t n, int64_t now)
{
	p->now = now;
	if (p->done >= 0)
		return -1;
	if (n == 0)
		return 0;
	if (p->tr != NULL && p->tr->decode != NULL &&
	    p->phase != PEER_PH_TRANSFORM)
		p->tr->decode(p->tr->ctx, p->rbuf + p->rlen, n);
	p->rfull = n >= p->roffer;
	p->rlen += n;
	p->last_recv = now;
	return peer_on_input(p);
}

/* Through the scatter path, as btpeer reads: both are tested by it. */
int
peer_input(struct peer *p, const void *b, size_t n, int64_t now)
{
	const unsigned char *c = b;
	struct iovec iov[PEER_RX_IOV];
	size_t got, k;
	int i, cnt;

	do {
		cnt = peer_recv_iov(p, iov);
		for (got = 0, i = 0; i < cnt && got < n; i++) {
			k = iov[i].iov_len < n - got ? iov[i].iov_len :
			    n - got;
			memcpy(iov[i].iov_base, c + got, k);
			got += k;
		}
		if (peer_recv_done(p, got, now) == -1)
			return -1;
		if (got == 0)
			return 0;	/* no room: cannot happen (rcap) */
		c += got;
		n -= got;
	} while (n > 0);
	return 0;
}

void
peer_eof(struct peer *p, int64_t now)
{
	p->now = now;
	if (p->done >= 0)
		return;
	/* Serving, the peer leaving is the normal end. */
	if (p->cfg->mode == PEER_SERVE && p->phase == PEER_PH_MESSAGES) {
		peer_trace(p, "  peer closed the connection");
		p->done = BT_EXIT_OK;
		return;
	}
	if (p->phase == PEER_PH_TRANSFORM)
		peer_fail(p, BT_FAIL_PEER, "peer closed the connection "
		    "during the MSE handshake (wrong torrent, or it does not "
		    "accept encryption?)");
	else if (p->phase != PEER_PH_MESSAGES)
		peer_fail(p, BT_FAIL_PEER, "peer closed the connection "
		    "during the handshake (wrong torrent, or it requires "
		    "encryption?)");
	else
		peer_fail(p, BT_FAIL_PEER, "peer closed the connection");
}

int
peer_fill(struct peer *p)
{
	if (p->done >= 0)
		return -1;
	if (p->phase != PEER_PH_MESSAGES)
		return 0;
	if (fetch_fill(p) == -1 || serve_fill(p) == -1)
		return -1;
	return p->done >= 0 ? -1 : 0;
}

int
peer_busy(const struct peer *p)
{
	return p->rqlen > 0 && peer_unsent(p) < PEER_WLOW &&
	    p->nzc < PEER_ZC_MAX;
}

int
peer_have(struct peer *p, uint32_t i)
{
	unsigned char m[WIRE_HAVE_LEN];

	if (p->phase != PEER_PH_MESSAGES || i >= p->mi->npieces)
		return 0;
	fetch_drop_had(p, i);
	if (p->cfg->mode == PEER_BITFIELD || p->cfg->mode == PEER_PIECE ||
	    p->host->can_serve == NULL || peer_bit(p, i) ||
	    !p->host->can_serve(p->host->ctx, i))
		return 0;
	if (p->cfg->verbose)
		peer_trace(p, "> have %u", i);
	return peer_out_add(p, m, wire_have(m, i));
}

int
peer_choke(struct peer *p, int choke)
{
	if (p->phase != PEER_PH_MESSAGES || !choke == !p->peer_choked)
		return 0;
	p->peer_choked = choke != 0;
	if (peer_send_simple(p, choke ? WIRE_CHOKE : WIRE_UNCHOKE) == -1)
		return -1;
	/*
	 * BEP 3: choking discards the peer's pending requests. BEP 6: we
	 * say so with a reject each (after the choke), and keep those of
	 * its allowed fast set.
	 */
	if (choke && p->fast)
		return serve_choke_rejects(p);
	if (choke)
		p->rqlen = 0;
	return 0;
}

/* Deadlines; the earliest of them is returned. */
int64_t
peer_tick(struct peer *p, int64_t now)
{
	unsigned char ka[4];
	int64_t t = now, to = p->cfg->timeout, next;

	p->now = now;
	if (p->done >= 0)
		return now;
	if (peer_unsent(p) == 0 && t - p->last_send >= PEER_KEEPALIVE &&
	    p->phase == PEER_PH_MESSAGES) {
		peer_trace(p, "> keepalive");
		if (peer_out_add(p, ka, wire_keepalive(ka)) == -1)
			return now;
		p->last_send = t;
	}
	if (p->phase != PEER_PH_MESSAGES) {
		if (t - p->t0 > to)
			peer_fail(p, BT_FAIL_PEER, "no handshake in %lld s",
			    (long long)(to / PEER_SEC));
		return p->done >= 0 ? now : p->t0 + to + 1;
	}
	if (t - p->last_recv > PEER_SILENCE_MAX) {
		peer_fail(p, BT_FAIL_PEER, "peer silent for %lld s",
		    (long long)((t - p->last_recv) / PEER_SEC));
		return now;
	}
	if (p->cfg->mode == PEER_BITFIELD) {
		/* BEP 3: a peer with no piece may send no bitfield. */
		if (t - p->hs_time > PEER_ANNOUNCE_WAIT)
			report_pieces(p);
		return p->hs_time + PEER_ANNOUNCE_WAIT + 1;
	}
	if (ext_tick(p) == -1)
		return now;
	if (p->cfg->mode == PEER_METADATA) {
		if (t - p->hs_time > to)
			peer_fail(p, BT_FAIL_PEER, "no metadata in %lld s",
			    (long long)(to / PEER_SEC));
		return p->done >= 0 ? now : now + PEER_SEC;
	}
	if (fetch_tick(p) == -1 || p->done >= 0)
		return now;
	serve_tick(p);
	/*
	 * Serving with every piece here to a peer that has every piece
	 * too (a leecher we seeded, now done, or another seed): nothing is
	 * left to exchange, a normal end.
	 */
	if (p->cfg->mode == PEER_SERVE && p->host->complete != NULL &&
	    p->peer_count == p->mi->npieces &&
	    p->host->complete(p->host->ctx)) {
		peer_trace(p, "  both sides have every piece");
		p->done = BT_EXIT_OK;
		return now;
	}
	/*
	 * Neither side wants anything, and the peer said nothing but
	 * keepalives: the connection holds a slot for nothing.
	 */
	if (p->cfg->mode != PEER_PIECE && !p->interested &&
	    !p->peer_interested && t - p->idle_since > to &&
	    t - p->last_msg > to) {
		peer_fail(p, BT_FAIL_PEER, p->announced ? "nothing to "
		    "exchange for %lld s" : "no bitfield, have or request in "
		    "%lld s", (long long)(to / PEER_SEC));
		return now;
	}
	/* Ticks once a second: the timers above are coarse. */
	next = now + PEER_SEC;
	return next;
}
