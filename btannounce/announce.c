/*
 * announce.c: the BEP 12 walk over the tiers and the output.
 *
 * Tiers are tried in order, each shuffled once; the first tracker that
 * answers is moved to the front of its tier and, unless --all, ends the
 * walk. A tracker that refuses ("failure reason") has answered nothing:
 * the walk goes on. Peers from every answer are merged, sorted and
 * printed once each.
 */
#include <sys/random.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "announce.h"
#include "bt.h"
#include "buf.h"
#include "json.h"
#include "tracker.h"

/* The JSON document: a few hundred bytes per peer and tracker at most. */
#define ANN_MAX_JSON	(64u << 20)

struct result {
	const char	*url;
	size_t		 tier;
	int		 tried;
	int		 ok;		/* answered, not refused */
	char		 err[BT_ERRLEN];	/* why not, when tried && !ok */
	struct trk_reply r;
	struct trk_scrape s;
};

int
ann_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t got;

	while (n > 0) {
		got = getrandom(p, n, 0);
		if (got == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* A tracker URL made safe to print (it comes from the torrent file). */
static const char *
safe_url(const char *url, char *out)
{
	trk_safe_text(out, TRK_SAFE_TEXTLEN, url, strlen(url));
	return out;
}

/* One exchange with the tracker of res, by its URL's scheme. */
static void
ask(struct result *res, const struct ann_opts *o)
{
	char safe[TRK_SAFE_TEXTLEN];
	const char *fail;
	size_t flen;
	int rc;

	trk_reply_init(&res->r);
	trk_scrape_init(&res->s);
	res->tried = 1;
	if (strncasecmp(res->url, "http://", 7) == 0 ||
	    strncasecmp(res->url, "https://", 8) == 0)
		rc = ann_http(res->url, o, &res->r, &res->s, res->err);
	else if (strncasecmp(res->url, "udp://", 6) == 0)
		rc = ann_udp(res->url, o, &res->r, &res->s, res->err);
	else
		rc = bt_err(res->err, "unsupported tracker URL scheme");
	if (rc != 0)
		return;
	fail = o->scrape ? res->s.failure : res->r.failure;
	flen = o->scrape ? res->s.failure_len : res->r.failure_len;
	if (fail != NULL) {
		trk_safe_text(safe, sizeof(safe), fail, flen);
		bt_err(res->err, "tracker failure: %s", safe);
		return;
	}
	res->ok = 1;
}

/* Reports what the tracker of res said besides peers (stderr). */
static void
report(const struct result *res, const struct ann_opts *o, int all_failed)
{
	char su[TRK_SAFE_TEXTLEN], st[TRK_SAFE_TEXTLEN];

	if (!res->tried)
		return;
	if (!res->ok) {
		if (all_failed || o->verbose)
			fprintf(stderr, "btannounce: %s: %s\n",
			    safe_url(res->url, su), res->err);
		return;
	}
	if (res->r.warning != NULL) {
		trk_safe_text(st, sizeof(st), res->r.warning,
		    res->r.warning_len);
		fprintf(stderr, "btannounce: %s: warning: %s\n",
		    safe_url(res->url, su), st);
	}
	if (res->r.peers_dropped > 0)
		fprintf(stderr, "btannounce: %s: %zu peer%s dropped (over "
		    "%d, or unusable)\n", safe_url(res->url, su),
		    res->r.peers_dropped, res->r.peers_dropped == 1 ? "" : "s",
		    TRK_MAX_PEERS);
	if (o->verbose && res->r.interval_clamped)
		fprintf(stderr, "btannounce: %s: interval clamped into "
		    "[%d, %d] s\n", safe_url(res->url, su), TRK_MIN_INTERVAL,
		    TRK_MAX_INTERVAL);
}

static int
json_count(struct jw *j, const char *key, int64_t v)
{
	if (v < 0)
		return 0;
	jw_key(j, key);
	return jw_int(j, v);
}

static void
json_peer(struct jw *j, const struct trk_peer *p)
{
	char s[TRK_PEER_STRLEN], *colon;

	trk_peer_str(p, s);
	colon = strrchr(s, ':');
	*colon = '\0';
	jw_obj(j);
	jw_key(j, "ip");
	/* "[v6]" loses its brackets: the address alone. */
	if (p->family == 6) {
		colon[-1] = '\0';
		jw_str(j, s + 1);
	} else
		jw_str(j, s);
	jw_key(j, "port");
	jw_int(j, p->port);
	if (p->has_peer_id) {
		jw_key(j, "peer id");
		jw_bytes(j, p->peer_id, 20);
	}
	jw_end(j);
}

static void
json_result(struct jw *j, const struct result *res, const struct ann_opts *o)
{
	const struct trk_reply *r = &res->r;
	size_t i;

	jw_obj(j);
	jw_key(j, "url");
	jw_bytes(j, res->url, strlen(res->url));
	jw_key(j, "tier");
	jw_uint(j, res->tier + 1);	/* numbered from 1, as btinfo -s */
	jw_key(j, "ok");
	jw_bool(j, res->ok);
	if (!res->ok) {
		jw_key(j, "error");
		jw_str(j, res->err);
		if (r->failure != NULL || res->s.failure != NULL) {
			jw_key(j, "failure reason");
			if (r->failure != NULL)
				jw_bytes(j, r->failure, r->failure_len);
			else
				jw_bytes(j, res->s.failure, res->s.failure_len);
		}
		jw_end(j);
		return;
	}
	if (o->scrape) {
		json_count(j, "complete", res->s.complete);
		json_count(j, "incomplete", res->s.incomplete);
		json_count(j, "downloaded", res->s.downloaded);
		jw_end(j);
		return;
	}
	json_count(j, "interval", r->interval);
	json_count(j, "min interval", r->min_interval);
	json_count(j, "complete", r->complete);
	json_count(j, "incomplete", r->incomplete);
	json_count(j, "downloaded", r->downloaded);
	if (r->tracker_id != NULL) {
		jw_key(j, "tracker id");
		jw_bytes(j, r->tracker_id, r->tracker_id_len);
	}
	if (r->warning != NULL) {
		jw_key(j, "warning message");
		jw_bytes(j, r->warning, r->warning_len);
	}
	jw_key(j, "peers");
	jw_arr(j);
	for (i = 0; i < r->npeers; i++)
		json_peer(j, &r->peers[i]);
	jw_end(j);
	jw_end(j);
}

/* The answer as one JSON document. */
static int
print_json(FILE *out, const struct metainfo *mi, const struct result *res,
    size_t nres, const struct trk_tier *tiers, size_t ntiers,
    const struct trk_peer *peers, size_t npeers, const struct ann_opts *o)
{
	struct buf b;
	struct jw j;
	char s[TRK_PEER_STRLEN];
	size_t i, k;
	int rc;

	buf_init(&b, ANN_MAX_JSON);
	jw_init(&j, &b, 1);
	jw_obj(&j);
	hex_str(s, mi->info_hash, 20);
	jw_key(&j, "info_hash");
	jw_str(&j, s);
	jw_key(&j, "tiers");
	jw_arr(&j);
	for (i = 0; i < ntiers; i++) {
		jw_arr(&j);
		for (k = 0; k < tiers[i].nurls; k++)
			jw_bytes(&j, tiers[i].urls[k], strlen(tiers[i].urls[k]));
		jw_end(&j);
	}
	jw_end(&j);
	jw_key(&j, "trackers");
	jw_arr(&j);
	for (i = 0; i < nres; i++)
		if (res[i].tried)
			json_result(&j, &res[i], o);
	jw_end(&j);
	if (!o->scrape) {
		jw_key(&j, "peers");
		jw_arr(&j);
		for (i = 0; i < npeers; i++) {
			trk_peer_str(&peers[i], s);
			jw_str(&j, s);
		}
		jw_end(&j);
	}
	jw_end(&j);
	rc = jw_finish(&j);
	if (rc == 0)
		fwrite(b.p, 1, b.len, out);
	buf_free(&b);
	return rc;
}

/* Builds the tier list: --tracker URLs (a tier each) or the torrent's. */
static int
make_tiers(const struct metainfo *mi, const struct ann_opts *o,
    struct trk_tier **tiers_return, size_t *ntiers_return)
{
	struct trk_tier *t;
	size_t i, n = o->ntrackers > 0 ? o->ntrackers : mi->ntiers;

	if ((t = calloc(n + 1, sizeof(*t))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		t[i].nurls = o->ntrackers > 0 ? 1 : mi->tiers[i].nurls;
		t[i].urls = calloc(t[i].nurls + 1, sizeof(char *));
		if (t[i].urls == NULL)
			goto fail;
		if (o->ntrackers > 0)
			t[i].urls[0] = o->trackers[i];
		else
			memcpy(t[i].urls, mi->tiers[i].urls,
			    t[i].nurls * sizeof(char *));
	}
	*tiers_return = t;
	*ntiers_return = n;
	return 0;
fail:
	while (i-- > 0)
		free(t[i].urls);
	free(t);
	return -1;
}

/* Walks the tiers; fills res (in the order asked); the count of answers. */
static size_t
walk(struct trk_tier *tiers, size_t ntiers, const struct ann_opts *o,
    struct result *res, size_t *nres)
{
	unsigned char rnd[64];
	size_t i, k, answers = 0;
	struct result *x;

	for (i = 0; i < ntiers; i++) {
		if (ann_random(rnd, sizeof(rnd)) == 0)
			trk_tier_shuffle(&tiers[i], rnd, sizeof(rnd));
		for (k = 0; k < tiers[i].nurls; k++) {
			if (*nres >= ANN_MAX_TRACKERS)
				return answers;
			x = &res[(*nres)++];
			x->url = tiers[i].urls[k];
			x->tier = i;
			ask(x, o);
			if (!x->ok)
				continue;
			answers++;
			trk_tier_promote(&tiers[i], k);
			if (!o->all)
				return answers;
		}
	}
	return answers;
}

/*
 * Whether p is ourselves: our --port on an address of this host (any
 * interface address, or the unspecified one). Trackers hand a client back
 * its own address; dialling it would only reach our own listener.
 */
static int
is_self(const struct trk_peer *p, uint16_t port, const struct ifaddrs *ifs)
{
	static const unsigned char zero[16];
	const struct ifaddrs *i;
	const void *a;
	size_t n = p->family == 4 ? 4 : 16;

	if (p->port != port)
		return 0;
	if (memcmp(p->addr, zero, n) == 0)
		return 1;
	for (i = ifs; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (p->family == 4 && i->ifa_addr->sa_family == AF_INET)
			a = &((const struct sockaddr_in *)(const void *)
			    i->ifa_addr)->sin_addr;
		else if (p->family == 6 && i->ifa_addr->sa_family == AF_INET6)
			a = &((const struct sockaddr_in6 *)(const void *)
			    i->ifa_addr)->sin6_addr;
		else
			continue;
		if (memcmp(p->addr, a, n) == 0)
			return 1;
	}
	return 0;
}

/* Drops ourselves from peers (see is_self); the count left. */
static size_t
drop_self(struct trk_peer *peers, size_t n, uint16_t port)
{
	struct ifaddrs *ifs = NULL;
	size_t i, k = 0;

	if (getifaddrs(&ifs) == -1)
		ifs = NULL;	/* then only the unspecified address is us */
	for (i = 0; i < n; i++)
		if (!is_self(&peers[i], port, ifs))
			peers[k++] = peers[i];
	if (ifs != NULL)
		freeifaddrs(ifs);
	return k;
}

/*
 * --lines: one record a line, a keyword first. "interval N": the shortest
 * interval among the trackers that answered (none when none did); then
 * "peer ADDR" for each peer, as the default output prints them.
 */
static void
print_lines(FILE *out, const struct result *res, size_t nres,
    const struct trk_peer *peers, size_t npeers)
{
	char s[TRK_PEER_STRLEN];
	int64_t iv = -1;
	size_t i;

	for (i = 0; i < nres; i++)
		if (res[i].ok && res[i].r.interval >= 0 &&
		    (iv < 0 || res[i].r.interval < iv))
			iv = res[i].r.interval;
	if (iv >= 0)
		fprintf(out, "interval %lld\n", (long long)iv);
	for (i = 0; i < npeers; i++) {
		trk_peer_str(&peers[i], s);
		fprintf(out, "peer %s\n", s);
	}
}

static void
print_scrape(FILE *out, const struct result *res)
{
	const struct trk_scrape *s = &res->s;
	char su[TRK_SAFE_TEXTLEN];
	const int64_t v[3] = { s->complete, s->incomplete, s->downloaded };
	int i;

	for (i = 0; i < 3; i++) {
		if (v[i] < 0)
			fputs("-\t", out);
		else
			fprintf(out, "%lld\t", (long long)v[i]);
	}
	fprintf(out, "%s\n", safe_url(res->url, su));
}

int
ann_run(const struct metainfo *mi, const struct ann_opts *o, FILE *out)
{
	struct trk_tier *tiers = NULL;
	struct result *res;
	struct trk_peer *peers = NULL, *np;
	char s[TRK_PEER_STRLEN];
	size_t ntiers = 0, nres = 0, npeers = 0, answers, i;
	int code = BT_EXIT_WORLD;

	res = calloc(ANN_MAX_TRACKERS, sizeof(*res));
	if (res == NULL || make_tiers(mi, o, &tiers, &ntiers) != 0) {
		free(res);
		fputs("btannounce: out of memory\n", stderr);
		return BT_EXIT_WORLD;
	}
	answers = walk(tiers, ntiers, o, res, &nres);
	for (i = 0; i < nres; i++) {
		report(&res[i], o, answers == 0);
		if (!res[i].ok || o->scrape || res[i].r.npeers == 0)
			continue;
		np = realloc(peers, (npeers + res[i].r.npeers) *
		    sizeof(*peers));
		if (np == NULL) {
			fputs("btannounce: out of memory\n", stderr);
			goto out;
		}
		peers = np;
		memcpy(peers + npeers, res[i].r.peers,
		    res[i].r.npeers * sizeof(*peers));
		npeers += res[i].r.npeers;
	}
	npeers = trk_peers_dedup(peers, npeers);
	npeers = drop_self(peers, npeers, o->p.port);
	if (o->json) {
		if (print_json(out, mi, res, nres, tiers, ntiers, peers,
		    npeers, o) != 0) {
			fputs("btannounce: JSON output too large\n", stderr);
			goto out;
		}
	} else if (o->lines && !o->scrape) {
		print_lines(out, res, nres, peers, npeers);
	} else if (o->scrape) {
		for (i = 0; i < nres; i++)
			if (res[i].ok)
				print_scrape(out, &res[i]);
	} else
		for (i = 0; i < npeers; i++) {
			trk_peer_str(&peers[i], s);
			fprintf(out, "%s\n", s);
		}
	if (answers > 0)
		code = BT_EXIT_OK;
	else if (nres > 1)
		fprintf(stderr, "btannounce: none of %zu trackers answered\n",
		    nres);
out:
	for (i = 0; i < nres; i++) {
		trk_reply_free(&res[i].r);
		trk_scrape_free(&res[i].s);
	}
	for (i = 0; i < ntiers; i++)
		free(tiers[i].urls);
	free(tiers);
	free(res);
	free(peers);
	return code;
}
