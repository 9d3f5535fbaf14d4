/*
 * choker.h: btpeer's part in the torrent's shared choking (lib/choke.h):
 * its entry in DIR/choke, its peer's rates, and the slot it holds while
 * the peer is unchoked. Event lines "unchoke N", "unchoke optimistic",
 * "choke N", "choke optimistic" (btpeer(1)).
 */
#ifndef BTPEER_CHOKER_H
#define BTPEER_CHOKER_H

#include <stdint.h>

#include "choke.h"
#include "peer.h"

struct host;

struct choker {
	int		 on;		/* a spool and --upload-slots > 0 */
	uint64_t	 rate[2];	/* limits on tab's buckets, 0: none */
	struct choke_tab tab;
	struct choke_meter meter;
	struct choke_peer *view;	/* CHOKE_ENTRIES, read each evaluation */
	unsigned char	*regular;
	int64_t		 next_feed;	/* the meter, every second */
	int64_t		 next_pub;	/* rates published, every period */
	int64_t		 eval_at;	/* this period's evaluation, or 0 */
	int64_t		 next_retry;
	uint64_t	 down, up;	/* the rates published */
	int		 snub;
	int		 want;		/* the last evaluation: 1 regular, 2 opt */
};

/* 0, or -1 with err. Off (nothing to do) without a spool or slots. */
int	choker_init(struct host *, char *err);
void	choker_free(struct host *);
/* Publishes rates, evaluates when due; the next time it wants a call. */
int64_t	choker_tick(struct host *, struct peer *, int64_t now);
/* host.unchoke: a free slot now, or wait for the next evaluation. */
int	choker_unchoke(void *ctx, const struct peer *);
/*
 * The torrent's shared rate limits (CHOKE_DOWN, CHOKE_UP): microseconds
 * to wait before moving more bytes that way (0: go, or no limit), and
 * the bytes moved.
 */
int64_t	choker_rate_wait(struct host *, int dir, int64_t now);
void	choker_rate_spend(struct host *, int dir, size_t n);

#endif
