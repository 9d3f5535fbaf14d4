/*
 * announce.h: btannounce's modules. http.c and udp.c do one exchange with
 * one tracker; announce.c walks the BEP 12 tiers and prints the answer.
 */
#ifndef BTANNOUNCE_H
#define BTANNOUNCE_H

#include <stdio.h>

#include "metainfo.h"
#include "tracker.h"

/* The default --timeout: the first UDP try (15 s) and one retry. */
#define ANN_DEFAULT_TIMEOUT	20.0
/* BEP 12 lists with more trackers than this are cut: no honest one has. */
#define ANN_MAX_TRACKERS	256

struct ann_opts {
	struct trk_params p;
	double		 timeout;	/* seconds, per tracker */
	int		 verbose;
	int		 json;
	int		 lines;		/* --lines: "peer A" and "interval N" */
	int		 all;
	int		 scrape;
	char		**trackers;	/* --tracker URLs, one tier each */
	size_t		 ntrackers;
};

/*
 * One exchange with one tracker: 0 with r (or s, when scraping) filled,
 * perhaps with a failure message, or -1 with err saying why there is no
 * answer (unreachable, timed out, malformed).
 */
int	ann_http(const char *url, const struct ann_opts *, struct trk_reply *r,
	    struct trk_scrape *s, char *err);
int	ann_udp(const char *url, const struct ann_opts *, struct trk_reply *r,
	    struct trk_scrape *s, char *err);

/* Fills buf with n random bytes from getrandom(2); -1 if it fails. */
int	ann_random(void *buf, size_t n);

/*
 * Asks the trackers of mi (or o->trackers) and prints the peers or the
 * scrape counts to out. Returns the exit code (bt.h).
 */
int	ann_run(const struct metainfo *mi, const struct ann_opts *o, FILE *out);

#endif
