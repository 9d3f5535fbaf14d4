/*
 * fetch.c: the web seed's HTTP side. Runs of ranges (engine.h) are
 * fetched by a libcurl multi handle that keeps connections alive, up to
 * --jobs requests at once; each response is judged (ws_judge) before its
 * body is used, its bytes go straight into the pieces' buffers, and
 * failures are retried with backoff or end the run (exit 1).
 *
 * A server that answers a range request with 200 and the whole file is
 * given up at once, before its body is read ("error server ignores
 * Range"): reading every file from the start for each piece would move
 * the whole torrent again for every piece, and reading each file once in
 * order is a different tool (curl or wget and btverify do it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "engine.h"
#include "spool.h"

void
xfer_release(struct eng *e, struct xfer *x)
{
	curl_multi_remove_handle(e->m, x->h);
	x->busy = 0;
	e->nbusy--;
}

/*
 * The piece before a's index, if it is active and its last range is to
 * be fetched and ends where a's range r starts: a run should start there.
 */
static struct wpiece *
before(struct eng *e, struct wpiece *a, int r)
{
	struct wpiece *p;
	struct ws_range *l;

	if (r != 0 || a->index == 0 ||
	    (p = piece_find(e, a->index - 1, NULL)) == NULL || p->nrg == 0)
		return NULL;
	l = &p->rg[p->nrg - 1];
	if (p->st[p->nrg - 1] != R_TODO || l->pad ||
	    l->file != a->rg[0].file || l->off + l->len != a->rg[0].off)
		return NULL;
	return p;
}

/* Adds range r of piece a to request x. */
static void
add_seg(struct xfer *x, struct wpiece *a, int r)
{
	struct seg *sg = &x->seg[x->nseg++];

	sg->piece = a->index;
	sg->gen = a->gen;
	sg->r = r;
	sg->len = a->rg[r].len;
	x->len += sg->len;
	a->st[r] = R_BUSY;
}

/*
 * One request for range r of piece a and the ranges that follow it in
 * the same file in the next active pieces (engine.h).
 */
static int
start_xfer(struct eng *e, struct wpiece *a, int r)
{
	struct xfer *x = NULL;
	struct wpiece *p;
	char range[48];
	int j, guard = 0;

	for (j = 0; j < WSF_JOBS_MAX && x == NULL; j++)
		if (!e->x[j].busy && e->x[j].h != NULL)
			x = &e->x[j];
	if (x == NULL)
		return wsf_fail(e, "no free request slot");
	while ((p = before(e, a, r)) != NULL && guard++ < WSF_RUN_MAX) {
		a = p;
		r = p->nrg - 1;
	}
	x->nseg = 0;
	x->len = 0;
	x->file = a->rg[r].file;
	x->off = a->rg[r].off;
	add_seg(x, a, r);
	while (x->nseg < e->o->span && x->nseg < WSF_RUN_MAX &&
	    x->len < WSF_RUN_BYTES && r == a->nrg - 1 &&
	    (p = piece_find(e, a->index + 1, NULL)) != NULL &&
	    p->nrg > 0 && p->st[0] == R_TODO && !p->rg[0].pad &&
	    p->rg[0].file == x->file && p->rg[0].off == x->off + x->len) {
		a = p;
		r = 0;
		add_seg(x, a, r);
	}
	e->url.len = 0;
	if (ws_file_url(&e->url, e->o->url, e->mi, x->file) == -1 ||
	    buf_addc(&e->url, '\0') == -1)
		return wsf_fail(e, "URL of file %zu too long", x->file);
	snprintf(range, sizeof(range), "%llu-%llu",
	    (unsigned long long)x->off,
	    (unsigned long long)(x->off + x->len - 1));
	curl_easy_setopt(x->h, CURLOPT_URL, (char *)e->url.p);
	curl_easy_setopt(x->h, CURLOPT_RANGE, range);
	x->cur = 0;
	x->curgot = 0;
	x->got = 0;
	x->overlong = x->judged = x->has_cr = x->has_retry = 0;
	x->status = 0;
	x->curlerr[0] = '\0';
	x->t0 = wsf_now();
	if (curl_multi_add_handle(e->m, x->h) != CURLM_OK)
		return wsf_fail(e, "curl_multi_add_handle failed");
	x->busy = 1;
	e->nbusy++;
	if (x->nseg == 1)
		wsf_trace(e, "> GET %s bytes=%s (piece %u)", (char *)e->url.p,
		    range, x->seg[0].piece);
	else
		wsf_trace(e, "> GET %s bytes=%s (pieces %u-%u)",
		    (char *)e->url.p, range, x->seg[0].piece,
		    x->seg[x->nseg - 1].piece);
	return 0;
}

static void
fill(struct eng *e)
{
	struct wpiece *a;
	int k, started;

	while (e->done < 0 && e->nbusy < e->o->jobs &&
	    wsf_now() >= e->pause_until) {
		started = 0;
		for (k = 0; k < e->nact && !started; k++) {
			a = &e->act[k];
			while (a->next < a->nrg && a->st[a->next] != R_TODO)
				a->next++;
			if (a->next < a->nrg) {
				if (start_xfer(e, a, a->next) == -1)
					return;
				started = 1;
			}
		}
		if (!started && piece_next(e) <= 0)
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
	out[0] = '\0';
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
judge(struct eng *e, struct xfer *x)
{
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
	x->verdict = ws_judge(x->status, x->has_cr ? x->crange : NULL,
	    x->crlen, x->off, (uint32_t)x->len, e->mi->files[x->file].length);
	x->judged = 1;
}

/*
 * Body bytes, in order: into each range's piece in turn (dropped pieces'
 * bytes are skipped). No curl call and no piece finished here: the main
 * loop does that once curl returns.
 */
static size_t
on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct eng *e = x->e;
	size_t n = size * nmemb, left = n, take;

	if (!x->judged) {
		judge(e, x);
		/* Not the bytes we asked for: stop before reading them. */
		if (x->verdict != WS_OK)
			return 0;
	}
	while (left > 0) {
		struct seg *sg;
		struct wpiece *a;

		if (x->cur == x->nseg) {
			x->overlong = 1;
			return 0;
		}
		sg = &x->seg[x->cur];
		take = sg->len - x->curgot;
		if (take > left)
			take = left;
		if ((a = piece_of(e, sg)) != NULL)
			memcpy(a->data + a->rg[sg->r].poff + x->curgot, p, take);
		p += take;
		left -= take;
		x->got += take;
		x->curgot += (uint32_t)take;
		if (x->curgot == sg->len) {
			if (a != NULL) {
				a->st[sg->r] = R_DONE;
				a->ndone++;
			}
			x->cur++;
			x->curgot = 0;
		}
	}
	return n;
}

/* A transient failure: the ranges not in are asked again after a backoff. */
static void
retry(struct eng *e, struct xfer *x, const char *why)
{
	struct wpiece *a;
	long ra = -1, wait;
	int k;

	for (k = x->cur; k < x->nseg; k++)
		if ((a = piece_of(e, &x->seg[k])) != NULL &&
		    a->st[x->seg[k].r] == R_BUSY) {
			a->st[x->seg[k].r] = R_TODO;
			if (x->seg[k].r < a->next)
				a->next = x->seg[k].r;
		}
	if (x->has_retry && ws_retry_after(x->retry, x->retrylen,
	    time(NULL), &ra) == -1)
		ra = -1;
	/* Requests already out when the failure came are the same outage. */
	if (x->t0 >= e->last_fail || ra >= 0) {
		e->fails++;
		e->last_fail = wsf_now();
	}
	if (e->fails > e->o->retries) {
		wsf_fail(e, "%s (%d failures in a row)", why, e->fails);
		return;
	}
	if (ra > WS_MAX_RETRY_AFTER) {
		wsf_fail(e, "%s: server asks to wait %ld s", why, ra);
		return;
	}
	wait = ra >= 0 ? ra : 1L << (e->fails > 5 ? 5 : e->fails - 1);
	if (wait > WSF_BACKOFF_MAX)
		wait = WSF_BACKOFF_MAX;
	if (e->pause_until < wsf_now() + wait)
		e->pause_until = wsf_now() + wait;
	wsf_trace(e, "  %s: retry in %ld s", why, wait);
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
	const char *path = e->mi->files[x->file].path;
	unsigned long long first = x->off, last = x->off + x->len - 1;
	char why[BT_ERRLEN];

	xfer_release(e, x);
	if (!x->judged && rc == CURLE_OK)
		judge(e, x);
	wsf_trace(e, "< %ld%s%s for bytes=%llu-%llu of file %zu: %llu bytes "
	    "in %.3f s%s", x->status, x->has_cr ? " Content-Range:" : "",
	    x->has_cr ? x->crange : "", first, last, x->file,
	    (unsigned long long)x->got, wsf_now() - x->t0,
	    rc == CURLE_OK || x->overlong ? "" : " (cut)");
	/* Every range in: the pieces are finished by the main loop. */
	if (x->cur == x->nseg) {
		if (x->overlong)
			wsf_trace(e, "  body longer than asked: cut off");
		e->fails = 0;
		return;
	}
	if (fatal_curl(rc)) {
		wsf_fail(e, "%s", x->curlerr[0] != '\0' ? x->curlerr :
		    curl_easy_strerror(rc));
		return;
	}
	if (x->judged) {
		switch (x->verdict) {
		case WS_NO_RANGE:
			wsf_fail(e, "server ignores Range (200 for "
			    "bytes=%llu-%llu of %s)", first, last, path);
			return;
		case WS_BAD_RANGE:
			wsf_fail(e, "server answered %s for bytes=%llu-%llu "
			    "of %s", x->has_cr ? x->crange :
			    "206 without Content-Range", first, last, path);
			return;
		case WS_MISSING:
			piece_file_gone(e, x->file, x->status);
			return;
		case WS_REFUSED:
			wsf_fail(e, "HTTP %ld for %s", x->status, path);
			return;
		case WS_RETRY:
			snprintf(why, sizeof(why), "HTTP %ld", x->status);
			retry(e, x, why);
			return;
		case WS_OK:
			break;
		}
	}
	if (rc == CURLE_OK)
		snprintf(why, sizeof(why), "body shorter than asked (%llu of "
		    "%llu bytes)", (unsigned long long)x->got,
		    (unsigned long long)x->len);
	else
		snprintf(why, sizeof(why), "%s", x->curlerr[0] != '\0' ?
		    x->curlerr : curl_easy_strerror(rc));
	retry(e, x, why);
}

static int
setup(struct eng *e)
{
	const struct wsf_opts *o = e->o;
	uint64_t plen = e->mi->piece_length ? e->mi->piece_length : 1, run;
	size_t nb = (e->mi->npieces + 7) / 8;

	e->has = malloc(nb ? nb : 1);
	e->gone = calloc(e->mi->nfiles ? e->mi->nfiles : 1, 1);
	e->m = curl_multi_init();
	if (e->has == NULL || e->gone == NULL || e->m == NULL)
		return wsf_fail(e, "out of memory");
	memset(e->has, 0xff, nb);
	/* A selection: the pieces it does not want are never asked for. */
	if (o->sel != NULL)
		for (uint32_t i = 0; i < e->mi->npieces; i++)
			if (!sel_piece(o->sel, i))
				e->has[i / 8] &=
				    (unsigned char)~(0x80u >> (i % 8));
	buf_init(&e->url, WS_MAX_URL);
	/* A run per request in flight and one piece more, within the caps. */
	run = (WSF_RUN_BYTES + plen - 1) / plen;
	if (run > (uint64_t)o->span)
		run = (uint64_t)o->span;
	e->maxact = (int)((uint64_t)o->jobs * run + 1);
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
			return wsf_fail(e, "curl_easy_init failed");
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
		piece_drop(e, e->nact - 1);
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

/*
 * The wanted pieces (all, or the selection's) not in the spool. A scan:
 * only once nothing more can be picked.
 */
static uint32_t
wanted_left(const struct eng *e)
{
	uint32_t i, n = 0;

	for (i = 0; i < e->mi->npieces; i++)
		if (!spool_have(e->sp, i) && (e->o->sel == NULL ||
		    sel_piece(e->o->sel, i)))
			n++;
	return n;
}

int
wsf_run(const struct wsf_opts *o, const struct metainfo *mi,
    struct spool *sp, FILE *ev)
{
	struct eng *e;
	CURLMsg *msg;
	int running, q, rc, ended;
	uint32_t left;
	double wait;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		fprintf(stderr, "btwebseed: out of memory\n");
		return BT_EXIT_WORLD;
	}
	e->o = o;
	e->mi = mi;
	e->sp = sp;
	e->ev = ev;
	plog_init(&e->plog, o->piecelog);
	e->done = -1;
	e->t0 = wsf_now();
	e->last_fail = -1;
	setup(e);
	while (e->done < 0) {
		if (spool_nhave(sp) == mi->npieces) {
			wsf_event(e, "done");
			e->done = BT_EXIT_OK;
			break;
		}
		plog_count(&e->plog, ev, wsf_usec(), 0);
		piece_drop_stored(e);
		piece_finish_ready(e);
		fill(e);
		if (e->done >= 0)
			break;
		if (e->nact == 0 && e->nbusy == 0 && e->nothing_left) {
			if ((left = wanted_left(e)) == 0) {
				wsf_event(e, "done");
				e->done = BT_EXIT_OK;
			} else
				wsf_fail(e, "%u missing pieces are not "
				    "available from this seed", left);
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
		ended += piece_finish_ready(e);
		if (e->done >= 0)
			break;
		if (ended > 0)
			continue;	/* start the next requests now */
		/* Idle: wake for the end of a pause, or to look again. */
		wait = e->nbusy > 0 ? 1000 : 100;
		if (e->nbusy == 0 && e->pause_until > wsf_now() &&
		    (e->pause_until - wsf_now()) * 1000 < wait)
			wait = (e->pause_until - wsf_now()) * 1000 + 1;
		curl_multi_poll(e->m, NULL, 0, (int)wait, NULL);
	}
	if (e->done == BT_EXIT_WORLD) {
		wsf_event(e, "error %s", e->err);
		fprintf(stderr, "btwebseed: %s\n", e->err);
	}
	plog_count(&e->plog, ev, wsf_usec(), 1);
	rc = e->done;
	teardown(e);
	free(e);
	return rc;
}
