/*
 * tracker.h: the tracker protocols without I/O: announce and scrape URLs
 * for HTTP trackers (BEP 3, 23, 7, 48), their bencoded replies, the UDP
 * tracker packets (BEP 15), the multitracker tier order (BEP 12), and
 * the printing of untrusted tracker text.
 *
 * Every parser takes (buf, len) of untrusted bytes and enforces the
 * limits below; none does I/O, prints or exits. A struct trk_reply owns
 * its peer array and strings; trk_reply_free releases them, and a reply
 * that was only zeroed may be freed too.
 */
#ifndef BT_TRACKER_H
#define BT_TRACKER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * 1 MiB of decoded reply: a compact reply with 16384 IPv4 and 16384
 * IPv6 peers is under 400 KiB, and real trackers send at most a few
 * hundred peers. Anything larger is refused, however small it was on the
 * wire (a gzip body can inflate a thousandfold).
 */
#define TRK_MAX_REPLY	(1u << 20)
/* Peers kept from one reply; more is absurd and the rest are dropped. */
#define TRK_MAX_PEERS	16384
/*
 * Intervals are clamped into [1 min, 1 day]: a tracker asking for an
 * announce every second, or once a century, is not obeyed.
 */
#define TRK_MIN_INTERVAL	60
#define TRK_MAX_INTERVAL	86400
/* Tracker text shown to the user is cut to this many bytes first. */
#define TRK_MAX_TEXT	200
/* A UDP reply never needs more than this; the socket reads at most so much. */
#define TRK_UDP_MAX_PACKET	65536
/* BEP 15: a connection id is valid for one minute after it was received. */
#define TRK_UDP_CID_LIFETIME	60
/* BEP 15: wait 15 * 2^n seconds before try n+1, at most n = 8. */
#define TRK_UDP_BASE_WAIT	15
#define TRK_UDP_MAX_TRIES	9

enum trk_event {
	TRK_EV_NONE = 0,
	TRK_EV_COMPLETED = 1,
	TRK_EV_STARTED = 2,
	TRK_EV_STOPPED = 3	/* the UDP numbering */
};

/* What the client says about itself in an announce. */
struct trk_params {
	unsigned char	info_hash[20];
	unsigned char	peer_id[20];
	uint16_t	port;
	uint64_t	uploaded;
	uint64_t	downloaded;
	uint64_t	left;
	enum trk_event	event;
	int32_t		numwant;	/* -1: the tracker's default */
	uint32_t	key;
	int		has_key;
};

struct trk_peer {
	int		 family;	/* 4 or 6 */
	unsigned char	 addr[16];	/* 4 or 16 bytes used */
	uint16_t	 port;
	unsigned char	 peer_id[20];
	int		 has_peer_id;
};

/*
 * One tracker's answer to an announce. Counts are -1 when the tracker did
 * not say. failure is set when the tracker refused (HTTP "failure reason",
 * UDP action 3); then the other fields are unset.
 */
struct trk_reply {
	char		*failure;	/* raw bytes, NUL-terminated */
	size_t		 failure_len;
	char		*warning;
	size_t		 warning_len;
	unsigned char	*tracker_id;
	size_t		 tracker_id_len;
	int64_t		 interval;
	int64_t		 min_interval;
	int		 interval_clamped;	/* the tracker's value was absurd */
	int64_t		 complete;
	int64_t		 incomplete;
	int64_t		 downloaded;
	struct trk_peer	*peers;
	size_t		 npeers;
	size_t		 peers_dropped;	/* past TRK_MAX_PEERS, or unusable */
};

/* One torrent's scrape entry (BEP 48; UDP scrape). -1 when absent. */
struct trk_scrape {
	char		*failure;
	size_t		 failure_len;
	int64_t		 complete;
	int64_t		 incomplete;
	int64_t		 downloaded;
};

void	trk_reply_init(struct trk_reply *);
void	trk_reply_free(struct trk_reply *);
void	trk_scrape_init(struct trk_scrape *);
void	trk_scrape_free(struct trk_scrape *);

/* "started", "completed", "stopped" or "" to an event; -1 if unknown. */
int	trk_event_parse(const char *, enum trk_event *);
const char *trk_event_name(enum trk_event);

/*
 * Appends the announce URL for p to b: the tracker's URL (which may
 * already have a query, such as a passkey) plus the BEP 3 parameters,
 * the bytes of info_hash and peer_id percent-encoded, and compact=1.
 */
int	trk_http_announce_url(struct buf *, const char *url,
	    const struct trk_params *p, char *err);
/*
 * Appends the BEP 48 scrape URL: the last path component must begin with
 * "announce", which becomes "scrape". -1 with err when the tracker has no
 * scrape URL by that rule.
 */
int	trk_http_scrape_url(struct buf *, const char *url,
	    const unsigned char info_hash[20], char *err);

/*
 * Parses an HTTP announce reply body. 0 with r filled (perhaps with
 * r->failure set), or -1 with err when the body is not a valid reply
 * (not bencode, not a dictionary, a peer list of the wrong shape).
 */
int	trk_http_parse(const void *, size_t, struct trk_reply *r, char *err);
/* Parses an HTTP scrape reply, looking up info_hash in its "files". */
int	trk_http_parse_scrape(const void *, size_t,
	    const unsigned char info_hash[20], struct trk_scrape *s,
	    char *err);

/*
 * Appends the peers of a compact list to r: 6-byte entries (IPv4 address
 * and port), or 18-byte ones when v6. -1 with err when n is not a
 * multiple of the entry size; what names the list in that message.
 */
int	trk_compact_peers(struct trk_reply *r, const unsigned char *s,
	    size_t n, int v6, const char *what, char *err);
/* i clamped into [TRK_MIN_INTERVAL, TRK_MAX_INTERVAL]; *clamped set if so. */
int64_t	trk_clamp_interval(int64_t i, int *clamped);

/*
 * UDP packets (BEP 15), in tracker_udp.c. The builders write into out, which has room for
 * the packet (16, 98 and 36 bytes), and return its length.
 */
#define TRK_UDP_CONNECT_LEN	16
#define TRK_UDP_ANNOUNCE_LEN	98
#define TRK_UDP_SCRAPE_LEN	36
size_t	trk_udp_connect(unsigned char *out, uint32_t tid);
size_t	trk_udp_announce(unsigned char *out, uint64_t cid, uint32_t tid,
	    const struct trk_params *);
size_t	trk_udp_scrape(unsigned char *out, uint64_t cid, uint32_t tid,
	    const unsigned char info_hash[20]);

enum trk_udp_action {
	TRK_UDP_CONNECT = 0,
	TRK_UDP_ANNOUNCE = 1,
	TRK_UDP_SCRAPE = 2,
	TRK_UDP_ERROR = 3
};

/* What a received datagram is to the exchange waiting for tid. */
enum trk_udp_verdict {
	TRK_UDP_OK,		/* the awaited reply, parsed */
	TRK_UDP_REFUSED,	/* action 3: failure holds the message */
	TRK_UDP_STRAY,		/* another transaction id: ignore it */
	TRK_UDP_BAD		/* our transaction but malformed: err says */
};

/* Connect reply: OK with *cid set. */
enum trk_udp_verdict trk_udp_parse_connect(const void *, size_t,
	    uint32_t tid, uint64_t *cid, struct trk_reply *r, char *err);
/*
 * Announce reply: OK with r filled. v6 says the request went over IPv6,
 * so peers are 18 bytes each, else 6. REFUSED sets r->failure.
 */
enum trk_udp_verdict trk_udp_parse_announce(const void *, size_t,
	    uint32_t tid, int v6, struct trk_reply *r, char *err);
/* Scrape reply for one info-hash. REFUSED sets s->failure. */
enum trk_udp_verdict trk_udp_parse_scrape(const void *, size_t,
	    uint32_t tid, struct trk_scrape *s, char *err);

/*
 * Splits "udp://host:port[/path]" (host may be "[v6]") into host and port
 * strings for getaddrinfo. -1 with err if malformed.
 */
int	trk_udp_hostport(const char *url, char *host, size_t hostsz,
	    char *port, size_t portsz, char *err);

/*
 * Writes peer as "a.b.c.d:port" or "[v6]:port" with a NUL into out,
 * which has TRK_PEER_STRLEN bytes.
 */
#define TRK_PEER_STRLEN	64
void	trk_peer_str(const struct trk_peer *, char *out);
/* Sorts peers and removes duplicates (same address and port); new count. */
size_t	trk_peers_dedup(struct trk_peer *, size_t n);

/*
 * Makes untrusted tracker text safe for a terminal: at most
 * TRK_MAX_TEXT input bytes, control bytes (and DEL, and bytes that are
 * not UTF-8) written as \xHH, backslash as \\, "..." when cut. out has
 * outsz bytes (4 * TRK_MAX_TEXT + 8 is always enough).
 */
#define TRK_SAFE_TEXTLEN	(4 * TRK_MAX_TEXT + 8)
void	trk_safe_text(char *out, size_t outsz, const void *s, size_t n);

/*
 * BEP 12 tier order. Each tier's URLs are shuffled with the random
 * bytes given (one per URL is enough); a tracker that answered is moved
 * to the front of its tier.
 */
struct trk_tier {
	char	**urls;
	size_t	  nurls;
};
void	trk_tier_shuffle(struct trk_tier *, const unsigned char *rnd,
	    size_t nrnd);
void	trk_tier_promote(struct trk_tier *, size_t i);

#endif
