/*
 * http.c: one announce or scrape to an HTTP(S) tracker through libcurl.
 *
 * libcurl is held short: http and https only, redirects too, at most
 * HTTP_MAX_REDIRS of them; the whole exchange within --timeout; the body
 * counted after content decoding, so a small gzip body cannot inflate past
 * TRK_MAX_REPLY.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "announce.h"
#include "bt.h"
#include "buf.h"
#include "tracker.h"

/* BEP 3 trackers do not redirect; a load balancer might, once or twice. */
#define HTTP_MAX_REDIRS	5
/* A URL with every parameter is about 300 bytes plus the tracker's. */
#define HTTP_MAX_URL	(MI_MAX_URL + 1024)

struct sink {
	struct buf	b;
	int		over;	/* the cap was hit */
};

/* Keeps the decoded body, aborting the transfer once it passes the cap. */
static size_t
sink_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (buf_add(&s->b, p, size * n) != 0) {
		s->over = 1;
		return 0;
	}
	return size * n;
}

static int
setup(CURL *c, const char *url, const struct ann_opts *o, struct sink *s,
    char *cerr)
{
	long ms = (long)(o->timeout * 1000);
	CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) \
	rc = curl_easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRS);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_TIMEOUT_MS, ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, ms);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)TRK_MAX_REPLY);
	SET(CURLOPT_WRITEFUNCTION, sink_write);
	SET(CURLOPT_WRITEDATA, s);
	SET(CURLOPT_ERRORBUFFER, cerr);
	SET(CURLOPT_USERAGENT, "btannounce/" BT_VERSION);
	SET(CURLOPT_VERBOSE, o->verbose > 1 ? 1L : 0L);
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

/* GETs url into s->b. 0 with *status, or -1 with err. */
static int
fetch(const char *url, const struct ann_opts *o, struct sink *s,
    long *status, char *err)
{
	char cerr[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode rc;

	if ((c = curl_easy_init()) == NULL)
		return bt_err(err, "cannot start libcurl");
	if (setup(c, url, o, s, cerr) != 0) {
		curl_easy_cleanup(c);
		return bt_err(err, "libcurl refused an option (too old?)");
	}
	if (o->verbose)
		fprintf(stderr, "btannounce: GET %s\n", url);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	if (rc == CURLE_OK)
		return 0;
	if (s->over || rc == CURLE_FILESIZE_EXCEEDED)
		return bt_err(err, "reply larger than %u bytes (after "
		    "decoding)", TRK_MAX_REPLY);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return bt_err(err, "no reply within %g s", o->timeout);
	if (rc == CURLE_TOO_MANY_REDIRECTS)
		return bt_err(err, "more than %d redirects", HTTP_MAX_REDIRS);
	if (rc == CURLE_UNSUPPORTED_PROTOCOL)
		return bt_err(err, "redirected to a scheme other than http "
		    "or https");
	return bt_err(err, "%s", cerr[0] != '\0' ? cerr :
	    curl_easy_strerror(rc));
}

int
ann_http(const char *url, const struct ann_opts *o, struct trk_reply *r,
    struct trk_scrape *sc, char *err)
{
	struct buf u;
	struct sink s;
	long status = 0;
	int rc = -1;

	buf_init(&u, HTTP_MAX_URL);
	buf_init(&s.b, TRK_MAX_REPLY);
	s.over = 0;
	if (o->scrape) {
		if (trk_http_scrape_url(&u, url, o->p.info_hash, err) != 0)
			goto out;
	} else if (trk_http_announce_url(&u, url, &o->p, err) != 0)
		goto out;
	if (buf_addc(&u, '\0') != 0) {
		bt_err(err, "URL too long");
		goto out;
	}
	if (fetch((char *)u.p, o, &s, &status, err) != 0)
		goto out;
	if (o->scrape)
		rc = trk_http_parse_scrape(s.b.p, s.b.len, o->p.info_hash, sc,
		    err);
	else
		rc = trk_http_parse(s.b.p, s.b.len, r, err);
	/*
	 * An error status with a bencoded failure reason is a refusal like
	 * any other; with anything else the status is the news.
	 */
	if (status != 200 && (rc != 0 ||
	    (o->scrape ? sc->failure : r->failure) == NULL)) {
		if (rc == 0) {
			trk_reply_free(r);
			trk_scrape_free(sc);
		}
		rc = bt_err(err, "HTTP status %ld", status);
	}
out:
	buf_free(&u);
	buf_free(&s.b);
	return rc;
}
