/*
 * btdht.h: what btdht's files share: the options, the state file, the
 * node's loop. lib/dht.c is the protocol; this is the I/O around it.
 */
#ifndef BTDHT_H
#define BTDHT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dht.h"

/* Bootstrap contacts from the command line, a torrent and the routers. */
#define BTDHT_MAX_CONTACTS	64
/* Nodes kept in the state file: enough to skip the routers next time. */
#define BTDHT_STATE_NODES	200
/* A state file larger than this is not ours: 200 lines of about 70. */
#define BTDHT_STATE_MAX		(64u << 10)
/* The routers asked when no --dht-node is given; BTDHT_ROUTERS overrides
 * (a space-separated list, empty for none). */
#define BTDHT_ROUTERS	"router.bittorrent.com:6881 " \
	"router.utorrent.com:6881 dht.transmissionbt.com:6881 " \
	"dht.libtorrent.org:25401"

enum btdht_cmd { CMD_PEERS, CMD_ANNOUNCE, CMD_PING };

struct btdht_opts {
	enum btdht_cmd	 cmd;
	unsigned char	 ih[20];		/* peers, announce */
	int		 announce_port;
	const char	*ping;			/* host:port */
	const char	*nodes[BTDHT_MAX_CONTACTS];	/* --dht-node */
	int		 nnodes;
	const char	*torrent_nodes[BTDHT_MAX_CONTACTS];	/* "host:port" */
	int		 ntorrent_nodes;
	const char	*state;			/* NULL: the default place */
	int		 port;			/* our UDP port, 0: any */
	double		 timeout;
	double		 interval;		/* -f: between lookups */
	int		 follow;
	int		 stdin_nodes;		/* -n -, with -f */
	int		 verbose;
};

/*
 * Loads the state file: our id (made at random when the file is missing
 * or unreadable) and the nodes it names. 0, or -1 with err when the file
 * exists but is not a state file (the caller warns and goes on).
 */
int	state_load(const char *path, unsigned char id[20],
	    struct dht_nodeinfo *nodes, size_t max, size_t *n, char *err);
/* Writes it atomically (temporary name, rename); 0 or -1 with err. */
int	state_save(const char *path, const unsigned char id[20],
	    const struct dht_nodeinfo *nodes, size_t n, char *err);
/* $XDG_STATE_HOME/btdht/state or ~/.local/state/btdht/state, malloc'd;
 * its directory is made. NULL if there is no home. */
char	*state_default(void);
/* A numeric "a.b.c.d:port" or "[v6]:port" into a; 0 or -1. */
int	addr_parse(const char *, struct dht_addr *);
/* The same text back, into s of n bytes (64 is enough); s. */
const char *addr_format(const struct dht_addr *, char *s, size_t n);
/* n random bytes from getrandom; 0 or -1. */
int	btdht_random(void *, size_t n);

/*
 * Resolves "host:port" or "[v6]:port" into at most max addresses; the count, or
 * -1 with err and *bad set when the text itself is malformed (else the
 * name did not resolve).
 */
int	resolve(const char *hostport, struct dht_addr *out, int max, int *bad,
	    char *err);

/* A non-blocking UDP socket of the family, bound to port (0: any); the
 * IPv6 one takes IPv6 only. -1 with errno. */
int	udp_open(int v6, int port);
int	udp_send(int fd, const unsigned char *, size_t,
	    const struct dht_addr *);
/* One datagram and its source; the length, or -1 with errno. */
ssize_t	udp_recv(int fd, unsigned char *, size_t, struct dht_addr *);

/* Runs the command; the exit code. Peers go to standard output. */
int	btdht_run(const struct btdht_opts *);

#endif
