/*
 * tracker_udp.c: the UDP tracker protocol (BEP 15) as pure functions over
 * packets; the socket loop lives in the tool.
 *
 * UDP (BEP 15), all integers big-endian:
 *	connect  req: protocol_id 8 | action 0 (4) | tid 4
 *	         rep: action 4 | tid 4 | connection_id 8
 *	announce req: cid 8 | action 1 | tid | info_hash 20 | peer_id 20 |
 *	              downloaded 8 | left 8 | uploaded 8 | event 4 | ip 4 |
 *	              key 4 | num_want 4 | port 2		(98 bytes)
 *	         rep: action 4 | tid 4 | interval 4 | leechers 4 | seeders 4 |
 *	              peers (6 bytes each; 18 when the request went over IPv6)
 *	scrape   req: cid 8 | action 2 | tid | info_hash 20 ...
 *	         rep: action | tid | (seeders 4 | completed 4 | leechers 4)...
 *	error    rep: action 3 | tid | message to the end of the datagram
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bt.h"
#include "tracker.h"
#include "util.h"

/* The BEP 15 magic that starts every connect request. */
#define UDP_PROTOCOL_ID	0x41727101980ULL

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

size_t
trk_udp_connect(unsigned char *out, uint32_t tid)
{
	put64(out, UDP_PROTOCOL_ID);
	put32(out + 8, TRK_UDP_CONNECT);
	put32(out + 12, tid);
	return TRK_UDP_CONNECT_LEN;
}

size_t
trk_udp_announce(unsigned char *out, uint64_t cid, uint32_t tid,
    const struct trk_params *p)
{
	put64(out, cid);
	put32(out + 8, TRK_UDP_ANNOUNCE);
	put32(out + 12, tid);
	memcpy(out + 16, p->info_hash, 20);
	memcpy(out + 36, p->peer_id, 20);
	put64(out + 56, p->downloaded);
	put64(out + 64, p->left);
	put64(out + 72, p->uploaded);
	put32(out + 80, (uint32_t)p->event);
	put32(out + 84, 0);		/* ip: the packet's source */
	put32(out + 88, p->key);
	put32(out + 92, (uint32_t)p->numwant);
	out[96] = (unsigned char)(p->port >> 8);
	out[97] = (unsigned char)p->port;
	return TRK_UDP_ANNOUNCE_LEN;
}

size_t
trk_udp_scrape(unsigned char *out, uint64_t cid, uint32_t tid,
    const unsigned char info_hash[20])
{
	put64(out, cid);
	put32(out + 8, TRK_UDP_SCRAPE);
	put32(out + 12, tid);
	memcpy(out + 16, info_hash, 20);
	return TRK_UDP_SCRAPE_LEN;
}

/*
 * The checks every UDP reply shares: long enough to carry a transaction
 * id, ours, and either the awaited action or an error. For an error the
 * message goes to *msg; the caller stores it.
 */
static enum trk_udp_verdict
udp_head(const unsigned char *buf, size_t len, uint32_t tid,
    uint32_t want, char **msg, size_t *msglen, char *err)
{
	uint32_t action;

	if (len < 8) {
		bt_err(err, "%zu-byte datagram is too short to be a reply",
		    len);
		return TRK_UDP_STRAY;
	}
	if (get32(buf + 4) != tid) {
		bt_err(err, "reply with a wrong transaction id %08x (sent "
		    "%08x)", get32(buf + 4), tid);
		return TRK_UDP_STRAY;
	}
	action = get32(buf);
	if (action == TRK_UDP_ERROR) {
		if ((*msg = memdup0(buf + 8, len - 8)) == NULL) {
			bt_err(err, "out of memory");
			return TRK_UDP_BAD;
		}
		*msglen = len - 8;
		return TRK_UDP_REFUSED;
	}
	if (action != want) {
		bt_err(err, "reply has action %u, expected %u", action, want);
		return TRK_UDP_BAD;
	}
	return TRK_UDP_OK;
}

enum trk_udp_verdict
trk_udp_parse_connect(const void *vbuf, size_t len, uint32_t tid,
    uint64_t *cid, struct trk_reply *r, char *err)
{
	const unsigned char *buf = vbuf;
	enum trk_udp_verdict vd;

	vd = udp_head(buf, len, tid, TRK_UDP_CONNECT, &r->failure,
	    &r->failure_len, err);
	if (vd != TRK_UDP_OK)
		return vd;
	if (len < 16) {
		bt_err(err, "connect reply is %zu bytes, needs 16", len);
		return TRK_UDP_BAD;
	}
	*cid = (uint64_t)get32(buf + 8) << 32 | get32(buf + 12);
	return TRK_UDP_OK;
}

enum trk_udp_verdict
trk_udp_parse_announce(const void *vbuf, size_t len, uint32_t tid, int v6,
    struct trk_reply *r, char *err)
{
	const unsigned char *buf = vbuf;
	enum trk_udp_verdict vd;
	int64_t iv;

	trk_reply_init(r);
	vd = udp_head(buf, len, tid, TRK_UDP_ANNOUNCE, &r->failure,
	    &r->failure_len, err);
	if (vd != TRK_UDP_OK)
		return vd;
	if (len < 20) {
		bt_err(err, "announce reply is %zu bytes, needs 20", len);
		return TRK_UDP_BAD;
	}
	iv = get32(buf + 8);
	r->interval = trk_clamp_interval(iv, &r->interval_clamped);
	r->incomplete = get32(buf + 12);
	r->complete = get32(buf + 16);
	if (trk_compact_peers(r, buf + 20, len - 20, v6, "UDP peer list",
	    err) != 0) {
		trk_reply_free(r);
		return TRK_UDP_BAD;
	}
	return TRK_UDP_OK;
}

enum trk_udp_verdict
trk_udp_parse_scrape(const void *vbuf, size_t len, uint32_t tid,
    struct trk_scrape *s, char *err)
{
	const unsigned char *buf = vbuf;
	enum trk_udp_verdict vd;

	trk_scrape_init(s);
	vd = udp_head(buf, len, tid, TRK_UDP_SCRAPE, &s->failure,
	    &s->failure_len, err);
	if (vd != TRK_UDP_OK)
		return vd;
	if (len < 20) {
		bt_err(err, "scrape reply is %zu bytes, needs 20", len);
		return TRK_UDP_BAD;
	}
	s->complete = get32(buf + 8);
	s->downloaded = get32(buf + 12);
	s->incomplete = get32(buf + 16);
	return TRK_UDP_OK;
}

int
trk_udp_hostport(const char *url, char *host, size_t hostsz, char *port,
    size_t portsz, char *err)
{
	const char *h, *he, *p, *pe;

	if (strncasecmp(url, "udp://", 6) != 0)
		return bt_err(err, "not a udp:// URL");
	h = url + 6;
	if (*h == '[') {
		if ((he = strchr(h, ']')) == NULL)
			return bt_err(err, "unclosed '[' in host");
		h++;
		p = he + 1;
	} else {
		he = h + strcspn(h, ":/?#");
		p = he;
	}
	if (he == h)
		return bt_err(err, "no host");
	if (*p != ':')
		return bt_err(err, "no port (udp:// URLs need one)");
	p++;
	pe = p + strspn(p, "0123456789");
	if (pe == p || pe - p > 5 || (*pe != '\0' && *pe != '/' &&
	    *pe != '?'))
		return bt_err(err, "bad port");
	if ((size_t)(he - h) >= hostsz || (size_t)(pe - p) >= portsz)
		return bt_err(err, "host name too long");
	if (memchr(h, '%', (size_t)(he - h)) != NULL ||
	    memchr(h, '@', (size_t)(he - h)) != NULL)
		return bt_err(err, "unsupported characters in host");
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	memcpy(port, p, (size_t)(pe - p));
	port[pe - p] = '\0';
	if (strtol(port, NULL, 10) < 1 || strtol(port, NULL, 10) > 65535)
		return bt_err(err, "port out of range");
	return 0;
}
