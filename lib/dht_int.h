/*
 * dht_int.h: the inside of struct dht, shared by dht.c (messages, server,
 * peer store), dht_table.c (routing table) and dht_search.c (lookups).
 * Not for tools: they see only dht.h.
 */
#ifndef BT_DHT_INT_H
#define BT_DHT_INT_H

#include "dht.h"
#include "krpc.h"

/* BEP 5: a node is good if it answered within 15 minutes. */
#define DHT_GOOD_TIME		(15 * 60.0)
/* Failed queries in a row that make a node bad (BEP 5: "multiple"). */
#define DHT_MAX_FAILS		3
/* A query unanswered after this is lost: loopback answers in under 1 ms,
 * the Internet in under a second for nearly every live node. */
#define DHT_QUERY_TIMEOUT	2.0
/* A lookup query unanswered this long stops counting against
 * DHT_ALPHA, so a dead node slows a lookup by a second, not by
 * DHT_TRIES timeouts (libtorrent's "short timeout" does the same). */
#define DHT_SLOW_TIME		1.0
/* A lookup ends after this long whatever it is waiting for: hostile
 * nodes that keep naming closer nodes cannot keep it going. */
#define DHT_SEARCH_TIME		60.0
/* Tries per lookup candidate, so one lost datagram does not drop it. */
#define DHT_TRIES		2
/* Candidates a lookup keeps, closest first: 4 K, as libtorrent does. */
#define DHT_SEARCH_SIZE		(4 * DHT_K)
/* Queries awaiting an answer: DHT_MAX_SEARCHES * DHT_ALPHA, announces,
 * pings. */
#define DHT_MAX_QUERIES		128
/* Bootstrap contacts (routers, --dht-node, a torrent's nodes). */
#define DHT_MAX_CONTACTS	64
/* BEP 5: token secrets change every 5 minutes; the last one still works,
 * so a token is accepted for 5 to 10 minutes. */
#define DHT_TOKEN_ROTATE	(5 * 60.0)
#define DHT_TOKEN_LEN		8
/* BEP 5 peer store: announces expire after 30 minutes. */
#define DHT_PEER_TTL		(30 * 60.0)
/* Peer store bounds: 256 torrents of 64 peers, 512 KiB at most. */
#define DHT_STORE_TORRENTS	256
#define DHT_STORE_PEERS		64
/* Peers in one get_peers answer: 32 * 6 bytes keeps the answer near the
 * size of a nodes answer (8 * 26), about 300 bytes; over IPv6 half as
 * many (16 * 18 bytes, against 8 * 38 for nodes6). */
#define DHT_REPLY_VALUES	32
/* Answers per second, a token bucket: bounds what we send to strangers. */
#define DHT_REPLY_RATE		200.0
/* A questionable node is pinged at most this often. */
#define DHT_PING_INTERVAL	60.0
/* Pings of questionable nodes per dht_periodic call. */
#define DHT_PINGS_PER_TICK	4
/* A bucket is refreshed after this long without a change (BEP 5). */
#define DHT_REFRESH_TIME	(15 * 60.0)
/* While the table is short of K good nodes, look up our own id this
 * often (bootstrap): a contact learns of other nodes only as they ask it,
 * so a new small network needs a few rounds. */
#define DHT_BOOTSTRAP_INTERVAL	10.0
/* Longest sleep dht_periodic asks for. */
#define DHT_TICK		1.0

struct dht_node {
	unsigned char	id[DHT_ID_LEN];
	struct dht_addr	a;
	double		replied;	/* last answer; 0: never */
	double		queried;	/* last query from it */
	double		pinged;		/* last ping we sent it */
	int		fails;		/* queries unanswered in a row */
};

struct dht_bucket {
	struct dht_node	n[DHT_K];
	int		count;
	struct dht_node	repl;		/* waits for a bad node's slot */
	int		has_repl;
	double		changed;
};

enum cand_state { C_NEW, C_INFLIGHT, C_REPLIED, C_FAILED };

struct dht_cand {
	unsigned char	id[DHT_ID_LEN];
	struct dht_addr	a;
	enum cand_state	state;
	int		tries;
	int		noid;		/* a contact: id unknown until it answers */
	double		sent;		/* the last query to it */
	unsigned char	token[KRPC_MAX_TOKEN];
	size_t		tokenlen;
};

enum search_phase { S_IDLE, S_LOOKUP, S_ANNOUNCE };

struct dht_search {
	enum search_phase phase;
	int		get_peers;
	int		port;		/* to announce; 0: none */
	int		internal;	/* a refresh or bootstrap: no callback */
	unsigned char	target[DHT_ID_LEN];
	struct dht_cand	c[DHT_SEARCH_SIZE];
	int		n;
	int		pending;	/* announces awaiting an answer */
	unsigned	gen;		/* tells this lookup from the slot's last */
	double		started;
	struct dht_result res;
};

struct dht_query {
	int		used;
	uint16_t	seq;		/* with the slot index, the tid */
	struct dht_addr	a;
	enum krpc_method method;
	int		search;		/* -1: none */
	unsigned	gen;		/* the search's gen when sent */
	double		sent;
};

struct dht_peer {
	struct dht_addr	a;
	double		seen;
};

struct dht_torrent {
	unsigned char	ih[DHT_ID_LEN];
	struct dht_peer	p[DHT_STORE_PEERS];
	int		n;
};

struct dht {
	unsigned char	id[DHT_ID_LEN];
	struct dht_cb	cb;
	uint64_t	rng;		/* splitmix64 state, from the seed */
	int		flags;		/* KRPC_RO when read-only */
	int		v6;		/* an IPv6 node (BEP 32) */
	unsigned char	seed[32];
	unsigned char	secret[2][20];	/* current, previous */
	uint64_t	epoch;		/* token secrets made so far */
	double		rotated;
	double		allowance;	/* reply token bucket */
	double		allowed_at;
	double		bootstrapped;	/* last own-id lookup start */
	struct dht_bucket b[160];
	struct dht_search s[DHT_MAX_SEARCHES];
	struct dht_query q[DHT_MAX_QUERIES];
	uint16_t	seq;
	unsigned	gen;
	struct dht_addr	contacts[DHT_MAX_CONTACTS];
	int		ncontacts;
	struct dht_torrent *store[DHT_STORE_TORRENTS];
	int		nstore;
	long		received;
	long		dropped;
};

/* dht.c */
uint64_t dht_rand(struct dht *);
void	dht_tracef(struct dht *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* Sends a query; 0, or -1 when no query slot is free. */
int	dht_send_query(struct dht *, const struct dht_addr *, enum krpc_method,
	    const unsigned char *target, int search, double now,
	    const unsigned char *token, size_t tokenlen, int port);
int	dht_addr_eq(const struct dht_addr *, const struct dht_addr *);
/* The peers announced to us for ih, or NULL. */
struct dht_torrent *dht_store_find(struct dht *, const unsigned char ih[20]);
/* 1 if a can be a node or peer: not 0.0.0.0, not port 0. */
int	dht_addr_ok(const struct dht_addr *);
const char *dht_addr_str(const struct dht_addr *, char *, size_t);
/* Bytes of a's address: 4 or 16. */
size_t	dht_iplen(const struct dht_addr *);
/* A compact node (id, address, port) or peer (address, port) to out;
 * the bytes written. */
size_t	dht_put_compact(unsigned char *out, const unsigned char *id,
	    const struct dht_addr *);
/* The address of a compact peer of the node's family at p. */
void	dht_get_compact(const struct dht *, const unsigned char *p,
	    struct dht_addr *);

/* dht_table.c */
/* Bit-prefix length shared by a and b: 0..160. */
int	dht_common(const unsigned char *a, const unsigned char *b);
/* -1, 0, 1 as a is closer to t than b, as close, farther. */
int	dht_closer(const unsigned char *t, const unsigned char *a,
	    const unsigned char *b);
int	dht_node_good(const struct dht_node *, double now);
/* A node answered (replied) or queried us (!replied). */
void	dht_table_seen(struct dht *, const unsigned char id[DHT_ID_LEN],
	    const struct dht_addr *, int replied, double now);
/* A query to a timed out. */
void	dht_table_failed(struct dht *, const struct dht_addr *);
/* The up to max closest answering nodes to t, closest first. */
int	dht_table_closest(const struct dht *, const unsigned char *t,
	    struct dht_node **out, int max, int answered_only);
void	dht_table_tick(struct dht *, double now);

/* dht_search.c */
/* An answer to, or the loss of, query q of a search. */
void	dht_search_reply(struct dht *, const struct dht_query *q,
	    const struct krpc_msg *, double now);
void	dht_search_lost(struct dht *, const struct dht_query *q, double now);
void	dht_search_tick(struct dht *, double now);

#endif
