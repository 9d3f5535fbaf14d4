/*
 * tracker.c: tracker requests and replies as pure functions over buffers.
 *
 * HTTP announce reply (BEP 3, 23, 7), a bencoded dictionary:
 *	failure reason	string	the tracker refused; nothing else counts
 *	warning message	string
 *	interval, min interval, complete, incomplete, downloaded	integers
 *	tracker id	string
 *	peers		string of 6-byte IPv4+port, or a list of
 *			{ip: string, port: int, peer id: 20 bytes}
 *	peers6		string of 18-byte IPv6+port
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bencode.h"
#include "bt.h"
#include "json.h"
#include "tracker.h"
#include "util.h"

void
trk_reply_init(struct trk_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->interval = r->min_interval = -1;
	r->complete = r->incomplete = r->downloaded = -1;
}

void
trk_reply_free(struct trk_reply *r)
{
	free(r->failure);
	free(r->warning);
	free(r->tracker_id);
	free(r->peers);
	trk_reply_init(r);
}

void
trk_scrape_init(struct trk_scrape *s)
{
	memset(s, 0, sizeof(*s));
	s->complete = s->incomplete = s->downloaded = -1;
}

void
trk_scrape_free(struct trk_scrape *s)
{
	free(s->failure);
	trk_scrape_init(s);
}

int
trk_event_parse(const char *s, enum trk_event *ev)
{
	if (strcmp(s, "") == 0 || strcmp(s, "none") == 0)
		*ev = TRK_EV_NONE;
	else if (strcmp(s, "started") == 0)
		*ev = TRK_EV_STARTED;
	else if (strcmp(s, "completed") == 0)
		*ev = TRK_EV_COMPLETED;
	else if (strcmp(s, "stopped") == 0)
		*ev = TRK_EV_STOPPED;
	else
		return -1;
	return 0;
}

const char *
trk_event_name(enum trk_event ev)
{
	switch (ev) {
	case TRK_EV_STARTED:
		return "started";
	case TRK_EV_COMPLETED:
		return "completed";
	case TRK_EV_STOPPED:
		return "stopped";
	default:
		return "";
	}
}

/* Checks a tracker URL for a scheme we speak and no fragment or spaces. */
static int
http_url_ok(const char *url, char *err)
{
	size_t i;

	if (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0)
		return bt_err(err, "not an http or https URL");
	for (i = 0; url[i] != '\0'; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == '#' ||
		    url[i] == 0x7f)
			return bt_err(err, "URL has a space, control byte or "
			    "fragment at offset %zu", i);
	return 0;
}

int
trk_http_announce_url(struct buf *b, const char *url,
    const struct trk_params *p, char *err)
{
	int rc;

	if (http_url_ok(url, err) != 0)
		return -1;
	rc = buf_adds(b, url);
	if (rc == 0)
		rc = buf_adds(b, strchr(url, '?') != NULL ? "&" : "?");
	if (rc == 0)
		rc = buf_adds(b, "info_hash=");
	if (rc == 0)
		rc = url_encode(b, p->info_hash, 20);
	if (rc == 0)
		rc = buf_adds(b, "&peer_id=");
	if (rc == 0)
		rc = url_encode(b, p->peer_id, 20);
	if (rc == 0)
		rc = buf_printf(b, "&port=%u&uploaded=%llu&downloaded=%llu"
		    "&left=%llu&compact=1", (unsigned)p->port,
		    (unsigned long long)p->uploaded,
		    (unsigned long long)p->downloaded,
		    (unsigned long long)p->left);
	if (rc == 0 && p->event != TRK_EV_NONE)
		rc = buf_printf(b, "&event=%s", trk_event_name(p->event));
	if (rc == 0 && p->numwant >= 0)
		rc = buf_printf(b, "&numwant=%ld", (long)p->numwant);
	if (rc == 0 && p->has_key)
		rc = buf_printf(b, "&key=%08x", (unsigned)p->key);
	if (rc != 0)
		return bt_err(err, "announce URL too long");
	return 0;
}

int
trk_http_scrape_url(struct buf *b, const char *url,
    const unsigned char info_hash[20], char *err)
{
	const char *q, *slash, *end;
	int rc;

	if (http_url_ok(url, err) != 0)
		return -1;
	q = strchr(url, '?');
	end = q != NULL ? q : url + strlen(url);
	slash = end;
	while (slash > url && slash[-1] != '/')
		slash--;
	/* "http://host" has its last slash inside the scheme. */
	if (slash - url <= 8 || (size_t)(end - slash) < 8 ||
	    strncmp(slash, "announce", 8) != 0)
		return bt_err(err, "no scrape URL: the path does not end in "
		    "a component starting with \"announce\" (BEP 48)");
	rc = buf_add(b, url, (size_t)(slash - url));
	if (rc == 0)
		rc = buf_adds(b, "scrape");
	if (rc == 0)
		rc = buf_adds(b, slash + 8);	/* the rest, query included */
	if (rc == 0)
		rc = buf_adds(b, q != NULL ? "&info_hash=" : "?info_hash=");
	if (rc == 0)
		rc = url_encode(b, info_hash, 20);
	if (rc != 0)
		return bt_err(err, "scrape URL too long");
	return 0;
}

/* Appends one peer to r, counting it as dropped past the limit. */
static int
add_peer(struct trk_reply *r, const struct trk_peer *p, char *err)
{
	struct trk_peer *np;
	size_t cap;

	if (p->port == 0 || r->npeers >= TRK_MAX_PEERS) {
		r->peers_dropped++;
		return 0;
	}
	/* Grow by doubling: the array is sized on powers of two. */
	if ((r->npeers & (r->npeers - 1)) == 0) {
		cap = r->npeers == 0 ? 16 : r->npeers * 2;
		if (r->npeers == 0 || cap > 16) {
			np = realloc(r->peers, cap * sizeof(*np));
			if (np == NULL)
				return bt_err(err, "out of memory");
			r->peers = np;
		}
	}
	r->peers[r->npeers++] = *p;
	return 0;
}

/* Decodes a compact list of 6- (v4) or 18-byte (v6) entries. */
int
trk_compact_peers(struct trk_reply *r, const unsigned char *s, size_t n, int v6,
    const char *what, char *err)
{
	struct trk_peer p;
	size_t alen = v6 ? 16 : 4, step = alen + 2, i;

	if (n % step != 0)
		return bt_err(err, "truncated %s: %zu bytes is not a multiple "
		    "of %zu", what, n, step);
	for (i = 0; i < n; i += step) {
		memset(&p, 0, sizeof(p));
		p.family = v6 ? 6 : 4;
		memcpy(p.addr, s + i, alen);
		p.port = (uint16_t)(s[i + alen] << 8 | s[i + alen + 1]);
		if (add_peer(r, &p, err) != 0)
			return -1;
	}
	return 0;
}

/* One {ip, port, peer id} entry of a dictionary peer list. */
static int
dict_peer(struct trk_reply *r, struct bval d, char *err)
{
	struct trk_peer p;
	struct bval v;
	const unsigned char *s;
	size_t n;
	int64_t port;
	char ip[INET6_ADDRSTRLEN];

	memset(&p, 0, sizeof(p));
	if (benc_type(d) != BENC_DICT ||
	    !benc_dict_get(d, "ip", &v) || benc_str(v, &s, &n) != 0 ||
	    n == 0 || n >= sizeof(ip) ||
	    !benc_dict_get(d, "port", &v) || benc_int(v, &port) != 0 ||
	    port < 1 || port > 65535) {
		r->peers_dropped++;
		return 0;
	}
	memcpy(ip, s, n);
	ip[n] = '\0';
	/* Host names are not resolved: a peer list names addresses. */
	if (memchr(s, '\0', n) == NULL && inet_pton(AF_INET, ip, p.addr) == 1)
		p.family = 4;
	else if (memchr(s, '\0', n) == NULL &&
	    inet_pton(AF_INET6, ip, p.addr) == 1)
		p.family = 6;
	else {
		r->peers_dropped++;
		return 0;
	}
	p.port = (uint16_t)port;
	if (benc_dict_get(d, "peer id", &v) && benc_str(v, &s, &n) == 0 &&
	    n == 20) {
		memcpy(p.peer_id, s, 20);
		p.has_peer_id = 1;
	}
	return add_peer(r, &p, err);
}

/* A non-negative integer under key, or -1 when absent or not one. */
static int64_t
get_count(struct bval d, const char *key)
{
	struct bval v;
	int64_t i;

	if (benc_dict_get(d, key, &v) && benc_int(v, &i) == 0 && i >= 0)
		return i;
	return -1;
}

int64_t
trk_clamp_interval(int64_t i, int *clamped)
{
	if (i < TRK_MIN_INTERVAL) {
		*clamped = 1;
		return TRK_MIN_INTERVAL;
	}
	if (i > TRK_MAX_INTERVAL) {
		*clamped = 1;
		return TRK_MAX_INTERVAL;
	}
	return i;
}

/* Copies the string under key into *out (NUL-terminated) if there is one. */
static int
get_text(struct bval d, const char *key, char **out, size_t *outlen,
    char *err)
{
	struct bval v;
	const unsigned char *s;
	size_t n;

	if (!benc_dict_get(d, key, &v) || benc_str(v, &s, &n) != 0)
		return 0;
	if ((*out = memdup0(s, n)) == NULL)
		return bt_err(err, "out of memory");
	*outlen = n;
	return 0;
}

/* Shows the start of a body that is not bencode, made safe to print. */
static int
not_bencode(const unsigned char *buf, size_t len, const char *why, char *err)
{
	char safe[TRK_SAFE_TEXTLEN];

	trk_safe_text(safe, sizeof(safe), buf, len < 40 ? len : 40);
	return bt_err(err, "reply is not bencode (%s): \"%s%s\"", why, safe,
	    len > 40 ? "..." : "");
}

/* Validates a reply body: one bencoded dictionary, trailing space allowed. */
static int
reply_dict(const unsigned char *buf, size_t len, struct bval *top, char *err)
{
	char berr[BT_ERRLEN];
	size_t used, i;

	if (len == 0)
		return bt_err(err, "empty reply");
	if (benc_parse_prefix(buf, len, top, &used, berr) != 0)
		return not_bencode(buf, len, berr, err);
	for (i = used; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\r' && buf[i] != '\n' &&
		    buf[i] != '\t')
			return bt_err(err, "reply has %zu bytes of junk after "
			    "the bencoded value", len - used);
	if (benc_type(*top) != BENC_DICT)
		return not_bencode(buf, len, "not a dictionary", err);
	return 0;
}

int
trk_http_parse(const void *vbuf, size_t len, struct trk_reply *r, char *err)
{
	const unsigned char *buf = vbuf, *s;
	struct bval top, v, e;
	struct biter it;
	size_t n;
	int64_t i;
	int seen = 0;

	trk_reply_init(r);
	if (reply_dict(buf, len, &top, err) != 0)
		return -1;
	if (benc_dict_get(top, "failure reason", &v)) {
		if (benc_str(v, &s, &n) != 0)
			return bt_err(err, "\"failure reason\" is not a string");
		if ((r->failure = memdup0(s, n)) == NULL)
			goto oom;
		r->failure_len = n;
		return 0;
	}
	if (get_text(top, "warning message", &r->warning, &r->warning_len,
	    err) != 0)
		goto fail;
	if (benc_dict_get(top, "tracker id", &v) && benc_str(v, &s, &n) == 0) {
		if ((r->tracker_id = malloc(n + 1)) == NULL)
			goto oom;
		memcpy(r->tracker_id, s, n);
		r->tracker_id_len = n;
	}
	if (benc_dict_get(top, "interval", &v)) {
		if (benc_int(v, &i) != 0)
			goto badint;
		r->interval = trk_clamp_interval(i, &r->interval_clamped);
		seen = 1;
	}
	if (benc_dict_get(top, "min interval", &v)) {
		if (benc_int(v, &i) != 0)
			goto badint;
		r->min_interval = trk_clamp_interval(i, &r->interval_clamped);
	}
	r->complete = get_count(top, "complete");
	r->incomplete = get_count(top, "incomplete");
	r->downloaded = get_count(top, "downloaded");
	if (benc_dict_get(top, "peers", &v)) {
		seen = 1;
		if (benc_str(v, &s, &n) == 0) {
			if (trk_compact_peers(r, s, n, 0, "compact peer list",
			    err) != 0)
				goto fail;
		} else if (benc_type(v) == BENC_LIST) {
			benc_iter(v, &it);
			while (benc_list_next(&it, &e))
				if (dict_peer(r, e, err) != 0)
					goto fail;
		} else {
			bt_err(err, "\"peers\" is neither a string nor a list");
			goto fail;
		}
	}
	if (benc_dict_get(top, "peers6", &v)) {
		seen = 1;
		if (benc_str(v, &s, &n) != 0) {
			bt_err(err, "\"peers6\" is not a string");
			goto fail;
		}
		if (trk_compact_peers(r, s, n, 1, "compact peers6 list", err) != 0)
			goto fail;
	}
	if (!seen) {
		bt_err(err, "reply has no peers, no interval and no failure "
		    "reason");
		goto fail;
	}
	return 0;
badint:
	bt_err(err, "an interval is not an integer");
	goto fail;
oom:
	bt_err(err, "out of memory");
fail:
	trk_reply_free(r);
	return -1;
}

int
trk_http_parse_scrape(const void *vbuf, size_t len,
    const unsigned char info_hash[20], struct trk_scrape *sc, char *err)
{
	const unsigned char *buf = vbuf, *s;
	struct bval top, files, k, v;
	struct biter it;
	size_t n;

	trk_scrape_init(sc);
	if (reply_dict(buf, len, &top, err) != 0)
		return -1;
	if (benc_dict_get(top, "failure reason", &v)) {
		if (benc_str(v, &s, &n) != 0)
			return bt_err(err, "\"failure reason\" is not a string");
		if ((sc->failure = memdup0(s, n)) == NULL)
			return bt_err(err, "out of memory");
		sc->failure_len = n;
		return 0;
	}
	if (!benc_dict_get(top, "files", &files) ||
	    benc_type(files) != BENC_DICT)
		return bt_err(err, "scrape reply has no \"files\" dictionary");
	benc_iter(files, &it);
	while (benc_dict_next(&it, &k, &v)) {
		if (benc_str(k, &s, &n) != 0 || n != 20 ||
		    memcmp(s, info_hash, 20) != 0)
			continue;
		if (benc_type(v) != BENC_DICT)
			return bt_err(err, "scrape entry is not a dictionary");
		sc->complete = get_count(v, "complete");
		sc->incomplete = get_count(v, "incomplete");
		sc->downloaded = get_count(v, "downloaded");
		return 0;
	}
	return bt_err(err, "scrape reply has no entry for this torrent");
}

void
trk_peer_str(const struct trk_peer *p, char *out)
{
	char a[INET6_ADDRSTRLEN] = "?";
	size_t n;

	inet_ntop(p->family == 6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a));
	n = strlen(a);
	if (p->family == 6) {
		out[0] = '[';
		memcpy(out + 1, a, n);
		out[n + 1] = ']';
		n += 2;
	} else
		memcpy(out, a, n);
	out[n++] = ':';
	/* At most 5 digits. */
	{
		char d[6];
		int k = 0;
		unsigned v = p->port;

		do {
			d[k++] = (char)('0' + v % 10);
			v /= 10;
		} while (v > 0);
		while (k > 0)
			out[n++] = d[--k];
	}
	out[n] = '\0';
}

static int
peercmp(const void *va, const void *vb)
{
	const struct trk_peer *a = va, *b = vb;
	int c;

	if (a->family != b->family)
		return a->family - b->family;
	if ((c = memcmp(a->addr, b->addr, a->family == 6 ? 16 : 4)) != 0)
		return c;
	return (int)a->port - (int)b->port;
}

size_t
trk_peers_dedup(struct trk_peer *p, size_t n)
{
	size_t i, o;

	if (n < 2)
		return n;
	qsort(p, n, sizeof(*p), peercmp);
	for (i = 1, o = 1; i < n; i++)
		if (peercmp(&p[o - 1], &p[i]) != 0)
			p[o++] = p[i];
	return o;
}

/* Length of the well-formed UTF-8 sequence at s, or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t k;

	if (s[0] < 0x80)
		return 1;
	k = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (k == 0 || k > n || !utf8_valid(s, k))
		return 0;
	/* C1 controls (U+0080..U+009F) act as escapes on some terminals. */
	if (k == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 0;
	/* Bidirectional overrides and isolates can disguise text. */
	if (k == 3 && s[0] == 0xe2 && ((s[1] == 0x80 && s[2] >= 0xaa &&
	    s[2] <= 0xae) || (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)))
		return 0;
	return k;
}

void
trk_safe_text(char *out, size_t outsz, const void *vs, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = vs;
	size_t i = 0, o = 0, k, lim = n < TRK_MAX_TEXT ? n : TRK_MAX_TEXT;

	if (outsz == 0)
		return;
	while (i < lim && o + 8 < outsz) {
		k = utf8_seq(s + i, lim - i);
		if (k == 1 && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			out[o++] = (char)s[i];
		else if (k == 1 && s[i] == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (k > 1) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
			continue;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[s[i] >> 4];
			out[o++] = hex[s[i] & 15];
		}
		i++;
	}
	if (i < n && o + 3 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

void
trk_tier_shuffle(struct trk_tier *t, const unsigned char *rnd, size_t nrnd)
{
	size_t i, j;
	char *tmp;

	if (nrnd == 0)
		return;
	for (i = t->nurls; i > 1; i--) {
		j = rnd[(i - 1) % nrnd] % i;
		tmp = t->urls[i - 1];
		t->urls[i - 1] = t->urls[j];
		t->urls[j] = tmp;
	}
}

void
trk_tier_promote(struct trk_tier *t, size_t i)
{
	char *u;

	if (i == 0 || i >= t->nurls)
		return;
	u = t->urls[i];
	memmove(t->urls + 1, t->urls, i * sizeof(*t->urls));
	t->urls[0] = u;
}
