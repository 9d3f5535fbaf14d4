/*
 * fetch.c: the web seed download engine. Pieces are claimed through the
 * spool (as btpeer does), cut into one byte range per file they span
 * (ws_piece_ranges; pad files are zeros, never asked for), each range
 * fetched by one HTTP request with a libcurl multi handle that keeps
 * connections alive; a complete piece is hashed and committed.
 *
 * A server that answers a range request with 200 and the whole file is
 * given up at once, before its body is read ("error server ignores
 * Range"): reading every file from the start for each piece would move
 * the whole torrent again for every piece, and reading each file once in
 * order is a different tool (curl or wget and btverify do it).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "bt.h"
#include "fetch.h"
#include "webseed.h"

enum { R_TODO, R_BUSY, R_DONE };

struct wpiece {
	uint32_t	 index;
	uint32_t	 size;
	int		 endgame;	/* another process holds its claim */
	unsigned char	*data;
	struct ws_range	*rg;
	unsigned char	*st;		/* R_* per range */
	int		 nrg;
	int		 ndone;
	int		 next;		/* no R_TODO range before this one */
};

/* A header value kept from a response: short, or marked too long. */
#define WSF_HDRLEN	128

struct xfer {
	struct eng	*e;
	CURL		*h;
	int		 busy;
	uint32_t	 piece;
	int		 r;		/* range index in the piece */
	uint64_t	 got;
	int		 overlong;	/* the body went past the range */
	int		 judged;
	enum ws_verdict	 verdict;
	long		 status;
	char		 crange[WSF_HDRLEN];
	size_t		 crlen;
	int		 has_cr;
	char		 retry[WSF_HDRLEN];
	size_t		 retrylen;
	int		 has_retry;
	double		 t0;
	char		 curlerr[CURL_ERROR_SIZE];
};

struct eng {
	const struct wsf_opts *o;
	const struct metainfo *mi;
	struct spool	*sp;
	FILE		*ev;
	CURLM		*m;
	struct xfer	 x[WSF_JOBS_MAX];
	int		 nbusy;
	struct wpiece	 act[WSF_MAX_ACTIVE];
	int		 nact;
	int		 maxact;
	unsigned char	*pool[WSF_MAX_ACTIVE];	/* piece buffers, reused */
	int		 npool;
	unsigned char	*has;		/* pieces this seed may still give */
	unsigned char	*gone;		/* per file: not on this server */
	int		 nothing_left;
	int		 hashfails;
	int		 fails;		/* failed requests in a row */
	double		 last_fail;
	double		 pause_until;	/* no new request before */
	int		 done;		/* exit code once decided, else -1 */
	char		 err[BT_ERRLEN];
	double		 t0;
	struct buf	 url;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
trace(struct eng *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
event(struct eng *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int
fail(struct eng *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
trace(struct eng *e, const char *fmt, ...)
{
	va_list ap;

	if (!e->o->verbose)
		return;
	fprintf(stderr, "btwebseed: %9.3f ", now() - e->t0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
event(struct eng *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(e->ev, fmt, ap);
	va_end(ap);
	fputc('\n', e->ev);
	fflush(e->ev);
}

/* The seed failed (exit 1): the first reason is kept. */
static int
fail(struct eng *e, const char *fmt, ...)
{
	va_list ap;

	if (e->done >= 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->err, sizeof(e->err), fmt, ap);
	va_end(ap);
	e->done = BT_EXIT_WORLD;
	return -1;
}

static void
clear_bit(unsigned char *bits, uint32_t i)
{
	bits[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
}

static struct wpiece *
find(struct eng *e, uint32_t index, int *k)
{
	for (int j = 0; j < e->nact; j++)
		if (e->act[j].index == index) {
			if (k != NULL)
				*k = j;
			return &e->act[j];
		}
	return NULL;
}

static void
release(struct eng *e, struct xfer *x)
{
	curl_multi_remove_handle(e->m, x->h);
	x->busy = 0;
	e->nbusy--;
}

/* Drops active piece k: its requests, its claim; the buffer is kept. */
static void
drop_piece(struct eng *e, int k)
{
	struct wpiece *a = &e->act[k];
	int j;

	for (j = 0; j < WSF_JOBS_MAX; j++)
		if (e->x[j].busy && e->x[j].piece == a->index)
			release(e, &e->x[j]);
	if (!a->endgame)
		spool_unclaim(e->sp, a->index);
	e->pool[e->npool++] = a->data;
	free(a->rg);
	free(a->st);
	e->act[k] = e->act[--e->nact];
}

static void
finish_piece(struct eng *e, int k)
{
	struct wpiece *a = &e->act[k];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	uint32_t i = a->index;
	int r;

	if (EVP_Digest(a->data, a->size, md, &mdlen, EVP_sha1(), NULL) != 1) {
		fail(e, "SHA-1 failed");
		return;
	}
	if (memcmp(md, e->mi->pieces + (size_t)i * 20, 20) != 0) {
		e->hashfails++;
		event(e, "piece %u bad", i);
		trace(e, "  piece %u fails its hash (%d so far)", i,
		    e->hashfails);
		/* Not from this seed again: another source may have it. */
		clear_bit(e->has, i);
		drop_piece(e, k);
		if (e->hashfails >= WSF_MAX_HASHFAIL)
			fail(e, "%d pieces failed their hash", e->hashfails);
		return;
	}
	r = spool_commit(e->sp, i, a->data, a->size, e->err);
	if (r == -1) {
		char why[BT_ERRLEN];

		memcpy(why, e->err, sizeof(why));
		fail(e, "%s", why);
		return;
	}
	event(e, "piece %u %s", i, r == 1 ? "ok" : "dup");
	trace(e, "  piece %u %s", i, r == 1 ? "verified, stored" :
	    "verified, already stored");
	drop_piece(e, k);
}

static int
start_piece(struct eng *e, uint32_t i, int endgame)
{
	struct wpiece *a = &e->act[e->nact];
	int n, r;

	memset(a, 0, sizeof(*a));
	a->index = i;
	a->size = mi_piece_size(e->mi, i);
	a->endgame = endgame;
	n = ws_piece_ranges(e->mi, i, NULL, 0);
	a->rg = calloc(n > 0 ? (size_t)n : 1, sizeof(*a->rg));
	a->st = calloc(n > 0 ? (size_t)n : 1, 1);
	if (e->npool > 0)
		a->data = e->pool[--e->npool];
	else if (posix_memalign((void **)&a->data, 4096,
	    e->mi->piece_length) != 0)
		a->data = NULL;
	if (a->rg == NULL || a->st == NULL || a->data == NULL) {
		free(a->rg);
		free(a->st);
		free(a->data);
		return fail(e, "out of memory");
	}
	a->nrg = ws_piece_ranges(e->mi, i, a->rg, (size_t)n);
	e->nact++;
	if (endgame)
		event(e, "endgame %u", i);
	trace(e, "  start piece %u: %d range%s%s", i, a->nrg,
	    a->nrg == 1 ? "" : "s", endgame ? " (endgame)" : "");
	for (r = 0; r < a->nrg; r++)
		if (a->rg[r].pad) {
			memset(a->data + a->rg[r].poff, 0, a->rg[r].len);
			a->st[r] = R_DONE;
			a->ndone++;
		}
	if (a->ndone == a->nrg)
		finish_piece(e, e->nact - 1);
	return 0;
}

/* A new piece to fetch: 1 started, 0 none for now, -1 error. */
static int
next_piece(struct eng *e)
{
	int64_t r, eg = -1;

	e->nothing_left = 0;
	if (e->nact >= e->maxact)
		return 0;
	r = spool_pick(e->sp, e->o->strategy, e->has, &eg);
	if (r >= 0) {
		if (start_piece(e, (uint32_t)r, 0) == -1) {
			spool_unclaim(e->sp, (uint32_t)r);
			return -1;
		}
		return 1;
	}
	if (r == -2) {
		e->nothing_left = 1;
		return 0;
	}
	/* Endgame: all we could fetch is claimed elsewhere; help one. */
	if (e->nact == 0 && eg >= 0)
		return start_piece(e, (uint32_t)eg, 1) == -1 ? -1 : 1;
	return 0;
}

static int
start_xfer(struct eng *e, struct wpiece *a, int r)
{
	struct ws_range *rg = &a->rg[r];
	struct xfer *x = NULL;
	char range[48];
	int j;

	for (j = 0; j < WSF_JOBS_MAX && x == NULL; j++)
		if (!e->x[j].busy && e->x[j].h != NULL)
			x = &e->x[j];
	if (x == NULL)
		return fail(e, "no free request slot");
	e->url.len = 0;
	if (ws_file_url(&e->url, e->o->url, e->mi, rg->file) == -1 ||
	    buf_addc(&e->url, '\0') == -1)
		return fail(e, "URL of file %zu too long", rg->file);
	snprintf(range, sizeof(range), "%llu-%llu",
	    (unsigned long long)rg->off,
	    (unsigned long long)(rg->off + rg->len - 1));
	curl_easy_setopt(x->h, CURLOPT_URL, (char *)e->url.p);
	curl_easy_setopt(x->h, CURLOPT_RANGE, range);
	x->piece = a->index;
	x->r = r;
	x->got = 0;
	x->overlong = x->judged = x->has_cr = x->has_retry = 0;
	x->status = 0;
	x->curlerr[0] = '\0';
	x->t0 = now();
	if (curl_multi_add_handle(e->m, x->h) != CURLM_OK)
		return fail(e, "curl_multi_add_handle failed");
	x->busy = 1;
	e->nbusy++;
	a->st[r] = R_BUSY;
	trace(e, "> GET %s bytes=%s (piece %u)", (char *)e->url.p, range,
	    a->index);
	return 0;
}

static void
fill(struct eng *e)
{
	struct wpiece *a;
	int k, r, started;

	while (e->done < 0 && e->nbusy < e->o->jobs &&
	    now() >= e->pause_until) {
		started = 0;
		for (k = 0; k < e->nact && !started; k++) {
			a = &e->act[k];
			while (a->next < a->nrg && a->st[a->next] != R_TODO)
				a->next++;
			if (a->next < a->nrg) {
				r = a->next;
				if (start_xfer(e, a, r) == -1)
					return;
				started = 1;
			}
		}
		if (!started && next_piece(e) <= 0)
			return;
	}
}

/* Header values we need: Content-Range and Retry-After. */
static void
keep_header(const char *p, size_t n, const char *name, char *out,
    size_t *outlen, int *has)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(p, name, k) != 0)
		return;
	p += k;
	n -= k;
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	*has = 1;
	*outlen = 0;
	if (n >= WSF_HDRLEN)	/* no honest value is this long */
		return;
	memcpy(out, p, n);
	out[n] = '\0';
	*outlen = n;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	/* A new response (after a redirect): forget the previous one's. */
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		x->has_cr = x->has_retry = 0;
	keep_header(p, n, "content-range:", x->crange, &x->crlen, &x->has_cr);
	keep_header(p, n, "retry-after:", x->retry, &x->retrylen,
	    &x->has_retry);
	return n;
}

static void
judge(struct eng *e, struct xfer *x, const struct ws_range *rg)
{
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
	x->verdict = ws_judge(x->status, x->has_cr ? x->crange : NULL,
	    x->crlen, rg->off, rg->len, e->mi->files[rg->file].length);
	x->judged = 1;
}

static size_t
on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct eng *e = x->e;
	struct wpiece *a = find(e, x->piece, NULL);
	struct ws_range *rg;
	size_t n = size * nmemb, room;

	if (a == NULL)
		return 0;
	rg = &a->rg[x->r];
	if (!x->judged) {
		judge(e, x, rg);
		/* Not the bytes we asked for: stop before reading them. */
		if (x->verdict != WS_OK)
			return 0;
	}
	room = rg->len - x->got;
	if (n > room) {
		memcpy(a->data + rg->poff + x->got, p, room);
		x->got += room;
		x->overlong = 1;
		return 0;
	}
	memcpy(a->data + rg->poff + x->got, p, n);
	x->got += n;
	return n;
}

/* File f is not on this server: no piece touching it from here. */
static void
file_gone(struct eng *e, size_t f, long status)
{
	const struct mi_file *mf = &e->mi->files[f];
	uint64_t plen = e->mi->piece_length;
	uint32_t i;
	int k, r, hit;

	if (!e->gone[f]) {
		e->gone[f] = 1;
		event(e, "file %zu unavailable", f);
		trace(e, "  %s: HTTP %ld, not from this seed", mf->path,
		    status);
		for (i = (uint32_t)(mf->offset / plen);
		    i <= (mf->offset + mf->length - 1) / plen; i++)
			clear_bit(e->has, i);
	}
	for (k = e->nact - 1; k >= 0; k--) {
		for (r = 0, hit = 0; r < e->act[k].nrg; r++)
			hit |= e->act[k].rg[r].file == f;
		if (hit)
			drop_piece(e, k);
	}
}

/* A transient failure: the range is asked again after a backoff. */
static void
retry(struct eng *e, struct xfer *x, struct wpiece *a, const char *why)
{
	long ra = -1, wait;

	a->st[x->r] = R_TODO;
	if (x->r < a->next)
		a->next = x->r;
	if (x->has_retry && ws_retry_after(x->retry, x->retrylen,
	    time(NULL), &ra) == -1)
		ra = -1;
	/* Requests already out when the failure came are the same outage. */
	if (x->t0 >= e->last_fail || ra >= 0) {
		e->fails++;
		e->last_fail = now();
	}
	if (e->fails > e->o->retries) {
		fail(e, "%s (%d failures in a row)", why, e->fails);
		return;
	}
	if (ra > WS_MAX_RETRY_AFTER) {
		fail(e, "%s: server asks to wait %ld s", why, ra);
		return;
	}
	wait = ra >= 0 ? ra : 1L << (e->fails > 5 ? 5 : e->fails - 1);
	if (wait > WSF_BACKOFF_MAX)
		wait = WSF_BACKOFF_MAX;
	if (e->pause_until < now() + wait)
		e->pause_until = now() + wait;
	trace(e, "  %s: retry in %ld s", why, wait);
}

/* curl errors that no retry mends: the seed is given up. */
static int
fatal_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_COULDNT_RESOLVE_HOST:
		return 1;
	default:
		return 0;
	}
}

static void
xfer_done(struct eng *e, struct xfer *x, CURLcode rc)
{
	struct wpiece *a;
	struct ws_range *rg;
	char why[BT_ERRLEN];
	int k;

	release(e, x);
	a = find(e, x->piece, &k);
	if (a == NULL)
		return;
	rg = &a->rg[x->r];
	if (!x->judged && rc == CURLE_OK)
		judge(e, x, rg);
	trace(e, "< %ld%s%s for bytes=%llu-%llu of file %zu: %llu bytes "
	    "in %.3f s%s", x->status, x->has_cr ? " Content-Range:" : "",
	    x->has_cr ? x->crange : "", (unsigned long long)rg->off,
	    (unsigned long long)(rg->off + rg->len - 1), rg->file,
	    (unsigned long long)x->got, now() - x->t0,
	    rc == CURLE_OK || x->overlong ? "" : " (cut)");
	if (x->overlong || (rc == CURLE_OK && x->verdict == WS_OK &&
	    x->got == rg->len)) {
		if (x->overlong)
			trace(e, "  body longer than asked: cut off");
		e->fails = 0;
		a->st[x->r] = R_DONE;
		if (++a->ndone == a->nrg)
			finish_piece(e, k);
		return;
	}
	if (fatal_curl(rc)) {
		fail(e, "%s", x->curlerr[0] != '\0' ? x->curlerr :
		    curl_easy_strerror(rc));
		return;
	}
	if (x->judged) {
		switch (x->verdict) {
		case WS_NO_RANGE:
			fail(e, "server ignores Range (200 for bytes=%llu-%llu "
			    "of %s)", (unsigned long long)rg->off,
			    (unsigned long long)(rg->off + rg->len - 1),
			    e->mi->files[rg->file].path);
			return;
		case WS_BAD_RANGE:
			fail(e, "server answered %s for bytes=%llu-%llu of %s",
			    x->has_cr ? x->crange : "206 without Content-Range",
			    (unsigned long long)rg->off,
			    (unsigned long long)(rg->off + rg->len - 1),
			    e->mi->files[rg->file].path);
			return;
		case WS_MISSING:
			file_gone(e, rg->file, x->status);
			return;
		case WS_REFUSED:
			fail(e, "HTTP %ld for %s", x->status,
			    e->mi->files[rg->file].path);
			return;
		case WS_RETRY:
			snprintf(why, sizeof(why), "HTTP %ld", x->status);
			retry(e, x, a, why);
			return;
		case WS_OK:
			break;
		}
	}
	if (rc == CURLE_OK)
		snprintf(why, sizeof(why), "body shorter than asked (%llu of "
		    "%u bytes)", (unsigned long long)x->got, rg->len);
	else
		snprintf(why, sizeof(why), "%s", x->curlerr[0] != '\0' ?
		    x->curlerr : curl_easy_strerror(rc));
	retry(e, x, a, why);
}

/* Pieces another process stored meanwhile: stop fetching them. */
static void
drop_stored(struct eng *e)
{
	for (int k = e->nact - 1; k >= 0; k--)
		if (spool_have(e->sp, e->act[k].index)) {
			event(e, "piece %u dup", e->act[k].index);
			drop_piece(e, k);
		}
}

static int
setup(struct eng *e)
{
	const struct wsf_opts *o = e->o;
	uint64_t plen = e->mi->piece_length ? e->mi->piece_length : 1;
	size_t nb = (e->mi->npieces + 7) / 8;

	e->has = malloc(nb ? nb : 1);
	e->gone = calloc(e->mi->nfiles ? e->mi->nfiles : 1, 1);
	e->m = curl_multi_init();
	if (e->has == NULL || e->gone == NULL || e->m == NULL)
		return fail(e, "out of memory");
	memset(e->has, 0xff, nb);
	buf_init(&e->url, WS_MAX_URL);
	/* One piece per request in flight and one more, within the cap. */
	e->maxact = o->jobs + 1;
	if (e->maxact > WSF_MAX_ACTIVE)
		e->maxact = WSF_MAX_ACTIVE;
	if ((uint64_t)e->maxact * plen > WSF_MAX_INFLIGHT)
		e->maxact = (int)(WSF_MAX_INFLIGHT / plen);
	if (e->maxact < 1)
		e->maxact = 1;
	curl_multi_setopt(e->m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->jobs);
	curl_multi_setopt(e->m, CURLMOPT_MAXCONNECTS, (long)o->jobs);
	for (int j = 0; j < o->jobs; j++) {
		struct xfer *x = &e->x[j];
		CURL *h = curl_easy_init();

		if (h == NULL)
			return fail(e, "curl_easy_init failed");
		x->e = e;
		x->h = h;
		curl_easy_setopt(h, CURLOPT_PRIVATE, x);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->curlerr);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)WSF_MAX_REDIRS);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
		if (o->cacert != NULL)
			curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)o->timeout);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT,
		    (long)WSF_LOW_SPEED);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)o->timeout);
		curl_easy_setopt(h, CURLOPT_USERAGENT, "btwebseed/" BT_VERSION);
		/* Fewer, larger writes into the piece buffer. */
		curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L << 10);
	}
	return 0;
}

static void
teardown(struct eng *e)
{
	int j;

	while (e->nact > 0)
		drop_piece(e, e->nact - 1);
	for (j = 0; j < WSF_JOBS_MAX; j++)
		if (e->x[j].h != NULL) {
			if (e->x[j].busy)
				curl_multi_remove_handle(e->m, e->x[j].h);
			curl_easy_cleanup(e->x[j].h);
		}
	for (j = 0; j < e->npool; j++)
		free(e->pool[j]);
	if (e->m != NULL)
		curl_multi_cleanup(e->m);
	buf_free(&e->url);
	free(e->has);
	free(e->gone);
}

int
wsf_run(const struct wsf_opts *o, const struct metainfo *mi,
    struct spool *sp, FILE *ev)
{
	struct eng *e;
	CURLMsg *msg;
	int running, q, rc, ended;
	double wait;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		fprintf(stderr, "btwebseed: out of memory\n");
		return BT_EXIT_WORLD;
	}
	e->o = o;
	e->mi = mi;
	e->sp = sp;
	e->ev = ev;
	e->done = -1;
	e->t0 = now();
	e->last_fail = -1;
	setup(e);
	while (e->done < 0) {
		if (spool_nhave(sp) == mi->npieces) {
			event(e, "done");
			e->done = BT_EXIT_OK;
			break;
		}
		drop_stored(e);
		fill(e);
		if (e->done >= 0)
			break;
		if (e->nact == 0 && e->nbusy == 0 && e->nothing_left) {
			fail(e, "%u missing pieces are not available from "
			    "this seed", mi->npieces - spool_nhave(sp));
			break;
		}
		curl_multi_perform(e->m, &running);
		ended = 0;
		while ((msg = curl_multi_info_read(e->m, &q)) != NULL) {
			struct xfer *x = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&x);
			if (x != NULL && x->busy) {
				xfer_done(e, x, msg->data.result);
				ended++;
			}
		}
		if (e->done >= 0)
			break;
		if (ended > 0)
			continue;	/* start the next requests now */
		/* Idle: wake for the end of a pause, or to look again. */
		wait = e->nbusy > 0 ? 1000 : 100;
		if (e->nbusy == 0 && e->pause_until > now() &&
		    (e->pause_until - now()) * 1000 < wait)
			wait = (e->pause_until - now()) * 1000 + 1;
		curl_multi_poll(e->m, NULL, 0, (int)wait, NULL);
	}
	if (e->done == BT_EXIT_WORLD) {
		event(e, "error %s", e->err);
		fprintf(stderr, "btwebseed: %s\n", e->err);
	}
	rc = e->done;
	teardown(e);
	free(e);
	return rc;
}
