/*
 * krpc.h: the KRPC messages of the mainline DHT (BEP 5), sans I/O.
 *
 * A message is one bencoded dictionary in one UDP datagram:
 *	query	 {"t": tid, "y": "q", "q": method, "a": {"id": 20 bytes, ...}}
 *	response {"t": tid, "y": "r", "r": {"id": 20 bytes, ...}}
 *	error	 {"t": tid, "y": "e", "e": [code, "message"]}
 * Arguments this codec knows: target and info_hash (20 bytes), token,
 * port and implied_port, nodes (26 bytes a node: id 20, IPv4 4, port 2),
 * nodes6 (BEP 32: 38 bytes, IPv6 16), values (a list of 6-byte IPv4 or
 * 18-byte IPv6 peers), ro (BEP 43). Anything else is ignored, as BEP 5
 * asks, so newer clients stay compatible.
 *
 * krpc_parse fills a struct krpc_msg that points into the caller's
 * datagram for nodes and values; it lives as long as the datagram does.
 * The krpc_put_* builders write into a caller's buffer of cap bytes and
 * return the length, or 0 if it did not fit. Nothing here allocates,
 * prints or exits.
 */
#ifndef BT_KRPC_H
#define BT_KRPC_H

#include <stddef.h>
#include <stdint.h>

/*
 * A DHT datagram longer than this is refused unread: BEP 5 messages stay
 * under a typical 1500-byte MTU (a full find_node reply is about 250
 * bytes, a get_peers reply with 100 peers about 800), and bigger ones
 * would arrive as IP fragments that nobody honest sends.
 */
#define KRPC_MAX_MSG		2048
/* Transaction ids are 2-4 bytes in every client seen; 16 leaves room. */
#define KRPC_MAX_TID		16
/* Tokens are 4-20 bytes in practice (ours 8, libtorrent 4, jech 8). */
#define KRPC_MAX_TOKEN		32
/* At most this many values are read from one reply: 2048 / 8 bytes. */
#define KRPC_MAX_VALUES		256
/* One compact node (BEP 5): node id 20, IPv4 address 4, port 2. */
#define KRPC_NODE_LEN		26
#define KRPC_PEER_LEN		6
/* The same over IPv6 (BEP 32): id 20, address 16, port 2. */
#define KRPC_NODE6_LEN		38
#define KRPC_PEER6_LEN		18
#define KRPC_ID_LEN		20

enum krpc_type {
	KRPC_QUERY = 'q',
	KRPC_RESPONSE = 'r',
	KRPC_ERROR = 'e'
};

enum krpc_method {
	KRPC_UNKNOWN = 0,	/* a query with a method we do not know */
	KRPC_PING,
	KRPC_FIND_NODE,
	KRPC_GET_PEERS,
	KRPC_ANNOUNCE_PEER
};

/* BEP 5 error codes. */
#define KRPC_E_GENERIC		201
#define KRPC_E_SERVER		202
#define KRPC_E_PROTOCOL		203
#define KRPC_E_METHOD		204

struct krpc_msg {
	enum krpc_type	 type;
	enum krpc_method method;	/* queries only */
	unsigned char	 tid[KRPC_MAX_TID];
	size_t		 tidlen;
	int		 has_id;
	unsigned char	 id[KRPC_ID_LEN];
	int		 has_target;	/* target (find_node) or info_hash */
	unsigned char	 target[KRPC_ID_LEN];
	unsigned char	 token[KRPC_MAX_TOKEN];
	size_t		 tokenlen;	/* 0: no token */
	int		 port;		/* -1: absent; else 0..65535 */
	int		 implied_port;
	int		 read_only;	/* BEP 43: do not add the sender */
	const unsigned char *nodes;	/* nnodes * KRPC_NODE_LEN bytes */
	size_t		 nnodes;
	const unsigned char *nodes6;	/* nnodes6 * KRPC_NODE6_LEN bytes */
	size_t		 nnodes6;
	const unsigned char *values[KRPC_MAX_VALUES];	/* 6 bytes each */
	size_t		 nvalues;
	const unsigned char *values6[KRPC_MAX_VALUES];	/* 18 bytes each */
	size_t		 nvalues6;
	int64_t		 ecode;		/* errors */
	const unsigned char *emsg;
	size_t		 emsglen;
};

/*
 * Parses one datagram. 0 and m filled, or -1 with err (BT_ERRLEN) saying
 * why: too long, not bencode, not a dictionary, no "t" or "y", a field of
 * the wrong type or size. A query with a method we do not know parses
 * with method KRPC_UNKNOWN; one missing a required argument is refused.
 */
int	krpc_parse(const void *buf, size_t len, struct krpc_msg *m, char *err);

/* Query flags: KRPC_RO marks us a read-only node (BEP 43). */
#define KRPC_RO			1

/* Queries. tid is tidlen bytes (1..KRPC_MAX_TID). */
size_t	krpc_put_ping(unsigned char *out, size_t cap, const unsigned char *tid,
	    size_t tidlen, const unsigned char id[20], int flags);
size_t	krpc_put_find_node(unsigned char *out, size_t cap,
	    const unsigned char *tid, size_t tidlen, const unsigned char id[20],
	    const unsigned char target[20], int flags);
size_t	krpc_put_get_peers(unsigned char *out, size_t cap,
	    const unsigned char *tid, size_t tidlen, const unsigned char id[20],
	    const unsigned char info_hash[20], int flags);
/* implied_port 1 asks the receiver to use the datagram's source port. */
size_t	krpc_put_announce_peer(unsigned char *out, size_t cap,
	    const unsigned char *tid, size_t tidlen, const unsigned char id[20],
	    const unsigned char info_hash[20], int port, int implied_port,
	    const unsigned char *token, size_t tokenlen, int flags);

/*
 * A response: id, then nodes (nnodes compact nodes, may be 0), token (may
 * be NULL), values (nvalues compact peers, may be 0). A ping or
 * announce_peer answer has only the id. With v6 set, the nodes are
 * 38-byte "nodes6" and the values 18 bytes each (BEP 32).
 */
size_t	krpc_put_response(unsigned char *out, size_t cap,
	    const unsigned char *tid, size_t tidlen, const unsigned char id[20],
	    const unsigned char *nodes, size_t nnodes,
	    const unsigned char *token, size_t tokenlen,
	    const unsigned char *values, size_t nvalues, int v6);
size_t	krpc_put_error(unsigned char *out, size_t cap, const unsigned char *tid,
	    size_t tidlen, int code, const char *msg);

#endif
