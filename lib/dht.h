/*
 * dht.h: a mainline DHT node (BEP 5, IPv4), sans I/O, in the manner of
 * jech/dht's dht_periodic: the caller owns the UDP socket, the clock and
 * the randomness.
 *
 * The caller feeds each datagram it receives to dht_input and calls
 * dht_periodic by the time it returned; both send through cb->send and
 * report through cb->peer and cb->done. Time is the caller's monotonic
 * clock in seconds (a fake one in tests). The 32 seed bytes (from
 * getrandom) make transaction ids, random lookup targets and the token
 * secrets; nothing else is random.
 *
 * One node speaks one address family: IPv4 (BEP 5), or IPv6 (BEP 32)
 * after dht_set_ipv6, with its own routing table, as BEP 32 asks; a tool
 * that wants both runs two, one per socket.
 *
 * What it does: a routing table of 160 buckets of K = 8 nodes by the
 * length of the prefix shared with our id, good / questionable / bad
 * nodes as BEP 5 defines them, one replacement candidate per bucket,
 * questionable nodes pinged, quiet buckets refreshed; iterative lookups
 * (find_node, get_peers) with DHT_ALPHA queries in flight converging on
 * the K closest nodes, then announce_peer to them on request; the server
 * side of ping, find_node, get_peers and announce_peer, tokens rotated
 * every 5 minutes and accepted for 10, announced peers kept 30 minutes.
 * Every table and store is bounded; struct dht is one allocation (about
 * 100 KiB) plus one per torrent announced to it (2 KiB each, 256 at most).
 *
 * dht_new returns memory the caller releases with dht_free. Callbacks run
 * inside dht_input, dht_periodic and dht_search, never later.
 */
#ifndef BT_DHT_H
#define BT_DHT_H

#include <stddef.h>
#include <stdint.h>

#define DHT_K			8	/* BEP 5 bucket size */
#define DHT_ID_LEN		20
/* Queries in flight per lookup: BEP 5 leaves it open; 3 is Kademlia's. */
#define DHT_ALPHA		4
/* Lookups at once: ours plus refreshes; a tool needs one or two. */
#define DHT_MAX_SEARCHES	8

struct dht;

/*
 * An address (network byte order; IPv4 in the first 4 bytes) and a port
 * (host order).
 */
struct dht_addr {
	unsigned char	ip[16];
	uint16_t	port;
	int		v6;
};

struct dht_result {
	int	replied;	/* nodes that answered the lookup */
	int	values;		/* peers received, duplicates included */
	int	announced;	/* nodes that acknowledged announce_peer */
};

struct dht_cb {
	void	*arg;
	/* Sends one datagram to a. Required. */
	void	(*send)(void *arg, const unsigned char *, size_t,
		    const struct dht_addr *a);
	/* A peer for search s's info-hash (may repeat). May be NULL. */
	void	(*peer)(void *arg, int s, const unsigned char ih[20],
		    const struct dht_addr *);
	/* Search s ended (converged, exhausted, or announced). May be NULL. */
	void	(*done)(void *arg, int s, const struct dht_result *);
	/* One line of trace, no newline. May be NULL. */
	void	(*trace)(void *arg, const char *line);
};

/* A node for the state file. */
struct dht_nodeinfo {
	unsigned char	id[DHT_ID_LEN];
	struct dht_addr	a;
};

struct dht_stats {
	int	nodes;		/* in the routing table */
	int	good;
	int	torrents;	/* info-hashes in the peer store */
	int	stored;		/* peers in it */
	int	inflight;	/* queries awaiting an answer */
	long	received;	/* datagrams fed to dht_input */
	long	dropped;	/* of those, malformed or unexpected */
};

/* NULL when memory is short. */
struct dht *dht_new(const unsigned char id[DHT_ID_LEN],
	    const unsigned char seed[32], const struct dht_cb *, double now);
void	dht_free(struct dht *);
/* Makes d an IPv6 node (BEP 32); before anything else is done with it. */
void	dht_set_ipv6(struct dht *);

/* One datagram from a. Malformed or unexpected ones are counted, dropped. */
void	dht_input(struct dht *, const unsigned char *, size_t,
	    const struct dht_addr *a, double now);
/* Timeouts, lookups, refreshes. Returns when to call again (>= now). */
double	dht_periodic(struct dht *, double now);

/*
 * A bootstrap contact whose id we do not know (a router, --dht-node): it
 * is asked by the lookups while the table has fewer than K good nodes.
 * 0, or -1 when the contact list is full.
 */
int	dht_add_contact(struct dht *, const struct dht_addr *);
/* A node from the state file: enters the table as questionable. */
void	dht_add_node(struct dht *, const unsigned char id[DHT_ID_LEN],
	    const struct dht_addr *, double now);

/*
 * Starts a lookup of target: get_peers when get_peers is set (peers
 * reported through cb->peer), else find_node. announce_port > 0 then
 * announces that port to the K closest nodes that gave a token. Returns
 * the search number, or -1 when DHT_MAX_SEARCHES are running.
 */
int	dht_search(struct dht *, const unsigned char target[DHT_ID_LEN],
	    int get_peers, int announce_port, double now);
/*
 * A read-only node (BEP 43) marks its queries "ro" so that others do not
 * put it in their tables: right for a run of a few seconds. It still
 * answers what reaches it.
 */
void	dht_set_read_only(struct dht *, int);
/* Sends one ping to a (dht_ping's answer arrives as a table node). */
void	dht_ping(struct dht *, const struct dht_addr *, double now);

/* Up to max table nodes that answered us, closest buckets first. */
size_t	dht_nodes(const struct dht *, struct dht_nodeinfo *out, size_t max,
	    double now);
void	dht_get_stats(const struct dht *, struct dht_stats *, double now);
/* Our node id. */
const unsigned char *dht_id(const struct dht *);

#endif
