/*
 * node.c: btdht's I/O around lib/dht.c: one UDP socket, the monotonic
 * clock, getrandom, signals, the state file, and the peers printed.
 *
 * One-shot (peers, announce, ping): runs until the lookup ends or
 * --timeout passes. With -f: looks up again every --interval seconds,
 * answering other nodes in between, until SIGINT, SIGTERM or a closed
 * standard output; the state is saved every DHT_SAVE_INTERVAL and at
 * the end.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt.h"
#include "btdht.h"
#include "krpc.h"

/* Distinct peers remembered so each is printed once. */
#define MAX_PRINTED	8192
/* Datagrams read per wakeup, so a flood cannot starve the timers. */
#define READ_BURST	64
/* -f saves the state this often, so a crash loses little. */
#define DHT_SAVE_INTERVAL	300.0
/* n->search while dht_search runs. */
#define STARTING	DHT_MAX_SEARCHES
/* A line of -n - input: "a.b.c.d:port" is 21 bytes; longer is noise. */
#define NODE_LINE	64

struct node {
	const struct btdht_opts *o;
	struct dht	*d;
	int		 fd;
	int		 search;	/* ours, -1 when none runs */
	int		 lookups;	/* finished */
	int		 answered;	/* nodes that answered any lookup */
	int		 announced;
	uint64_t	*printed;	/* ip << 16 | port */
	size_t		 nprinted;
	int		 outfail;
	const char	*path;		/* the state file, or NULL */
	double		 lookup_at;	/* -f: the next lookup */
	int		 in_open;	/* -n -: standard input still open */
	char		 in[NODE_LINE];
	size_t		 inlen;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
cb_send(void *arg, const unsigned char *b, size_t len,
    const struct dht_addr *a)
{
	struct node *n = arg;
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	memcpy(&sin.sin_addr, a->ip, 4);
	sin.sin_port = htons(a->port);
	if (sendto(n->fd, b, len, 0, (struct sockaddr *)&sin,
	    sizeof(sin)) == -1 && n->o->verbose)
		fprintf(stderr, "btdht: sendto %u.%u.%u.%u:%u: %s\n",
		    a->ip[0], a->ip[1], a->ip[2], a->ip[3], a->port,
		    strerror(errno));
}

static void
cb_peer(void *arg, int s, const unsigned char ih[20],
    const struct dht_addr *a)
{
	struct node *n = arg;
	uint64_t key = (uint64_t)a->ip[0] << 40 | (uint64_t)a->ip[1] << 32 |
	    (uint64_t)a->ip[2] << 24 | (uint64_t)a->ip[3] << 16 | a->port;
	size_t i;

	(void)s;
	(void)ih;
	for (i = 0; i < n->nprinted; i++)
		if (n->printed[i] == key)
			return;
	if (n->nprinted < MAX_PRINTED)
		n->printed[n->nprinted++] = key;
	if (printf("%u.%u.%u.%u:%u\n", a->ip[0], a->ip[1], a->ip[2],
	    a->ip[3], a->port) < 0 || fflush(stdout) == EOF)
		n->outfail = 1;
}

static void
cb_done(void *arg, int s, const struct dht_result *r)
{
	struct node *n = arg;

	if (s != n->search && n->search != STARTING)
		return;
	n->search = -1;
	n->lookups++;
	n->answered += r->replied;
	n->announced += r->announced;
	if (n->o->verbose)
		fprintf(stderr, "btdht: lookup done: %d nodes answered, %d "
		    "peers received, %d announces acknowledged\n", r->replied,
		    r->values, r->announced);
}

static void
cb_trace(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "btdht: %s\n", line);
}

int
resolve(const char *hostport, struct dht_addr *out, int max, int *bad,
    char *err)
{
	struct addrinfo hints, *res, *ai;
	const char *colon = strrchr(hostport, ':');
	char host[256];
	size_t hl;
	int rc, n = 0;
	unsigned long port;
	char *end;

	*bad = 1;
	if (colon == NULL || colon == hostport ||
	    (hl = (size_t)(colon - hostport)) >= sizeof(host))
		return bt_err(err, "want host:port");
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || port == 0 ||
	    port > 65535)
		return bt_err(err, "want a port of 1 to 65535");
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	*bad = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_DGRAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0)
		return bt_err(err, "%s", gai_strerror(rc));
	for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		memcpy(out[n].ip, &((struct sockaddr_in *)ai->ai_addr)->sin_addr,
		    4);
		out[n++].port = (uint16_t)port;
	}
	freeaddrinfo(res);
	return n;
}

/* Adds the contacts of one list; -1 on a malformed entry (exit 2). */
static int
add_contacts(struct node *n, const char *const *list, int count,
    int *added)
{
	struct dht_addr a[8];
	char err[BT_ERRLEN];
	int i, j, got, bad;

	for (i = 0; i < count; i++) {
		if ((got = resolve(list[i], a, 8, &bad, err)) < 0) {
			fprintf(stderr, "btdht: %s: %s\n", list[i], err);
			if (bad)
				return -1;
			continue;
		}
		for (j = 0; j < got; j++)
			if (dht_add_contact(n->d, &a[j]) == 0)
				(*added)++;
	}
	return 0;
}

/* The routers: BTDHT_ROUTERS when set (even empty), else the built-in. */
static void
add_routers(struct node *n, int *added)
{
	const char *env = getenv("BTDHT_ROUTERS");
	char *list, *tok, *save = NULL;
	const char *one[1];

	if ((list = strdup(env != NULL ? env : BTDHT_ROUTERS)) == NULL)
		return;
	for (tok = strtok_r(list, " \t,", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t,", &save)) {
		one[0] = tok;
		add_contacts(n, one, 1, added);
	}
	free(list);
}

static int
open_socket(int port)
{
	struct sockaddr_in sin;
	int fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads what is waiting on the socket into the node. */
static void
drain(struct node *n)
{
	unsigned char buf[KRPC_MAX_MSG + 1];
	struct sockaddr_in sin;
	socklen_t sl;
	struct dht_addr a;
	ssize_t got;
	int i;

	for (i = 0; i < READ_BURST; i++) {
		sl = sizeof(sin);
		got = recvfrom(n->fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&sin, &sl);
		if (got < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			return;
		}
		if (sin.sin_family != AF_INET)
			continue;
		memcpy(a.ip, &sin.sin_addr, 4);
		a.port = ntohs(sin.sin_port);
		dht_input(n->d, buf, (size_t)got, &a, now());
	}
}

static void
save(struct node *n, const char *path)
{
	struct dht_nodeinfo ni[BTDHT_STATE_NODES];
	char err[BT_ERRLEN];
	size_t cnt;

	if (path == NULL)
		return;
	cnt = dht_nodes(n->d, ni, BTDHT_STATE_NODES, now());
	if (state_save(path, dht_id(n->d), ni, cnt, err) != 0)
		fprintf(stderr, "btdht: %s: cannot save the state: %s\n", path,
		    err);
}

/* 1 once the pinged address answered (it is then in the table). */
static int
pinged(struct node *n, const struct dht_addr *a, unsigned char *id)
{
	struct dht_nodeinfo ni[BTDHT_STATE_NODES];
	size_t i, cnt = dht_nodes(n->d, ni, BTDHT_STATE_NODES, now());

	for (i = 0; i < cnt; i++)
		if (memcmp(ni[i].a.ip, a->ip, 4) == 0 &&
		    ni[i].a.port == a->port) {
			memcpy(id, ni[i].id, 20);
			return 1;
		}
	return 0;
}

/*
 * -n -: node addresses, one "a.b.c.d:port" a line, on standard input
 * while we run (a peer's BEP 5 port message, say). Each is pinged, so it
 * joins the table when it answers, and becomes a contact; while no
 * lookup had an answer, one starts at once.
 */
static void
read_nodes(struct node *n)
{
	struct dht_addr a;
	char *nl, *colon, *end;
	struct in_addr in;
	unsigned long port;
	ssize_t got;

	got = read(STDIN_FILENO, n->in + n->inlen, sizeof(n->in) - n->inlen);
	if (got <= 0) {
		if (got == 0 || (errno != EINTR && errno != EAGAIN))
			n->in_open = 0;
		return;
	}
	n->inlen += (size_t)got;
	while ((nl = memchr(n->in, '\n', n->inlen)) != NULL) {
		*nl = '\0';
		if ((colon = strrchr(n->in, ':')) != NULL) {
			*colon = '\0';
			port = strtoul(colon + 1, &end, 10);
			if (inet_pton(AF_INET, n->in, &in) == 1 && *end == '\0' &&
			    port > 0 && port <= 65535) {
				memcpy(a.ip, &in, 4);
				a.port = (uint16_t)port;
				dht_add_contact(n->d, &a);
				dht_ping(n->d, &a, now());
				if (n->answered == 0)
					n->lookup_at = now();
			}
		}
		n->inlen -= (size_t)(nl + 1 - n->in);
		memmove(n->in, nl + 1, n->inlen);
	}
	if (n->inlen == sizeof(n->in))
		n->inlen = 0;	/* a line too long: dropped */
}

/*
 * Starts our lookup. One that nobody can be asked ends inside
 * dht_search, before it returns its number: cb_done takes any search
 * while n->search is STARTING.
 */
static void
start_lookup(struct node *n, double t)
{
	int s;

	n->search = STARTING;
	s = dht_search(n->d, n->o->ih, 1, n->o->announce_port, t);
	if (n->search == STARTING)
		n->search = s;
	n->lookup_at = t + (s < 0 ? 1 : n->o->interval);
}

/* The loop; the exit code. */
static int
loop(struct node *n, const struct dht_addr *ping)
{
	const struct btdht_opts *o = n->o;
	struct pollfd pfd[3];
	unsigned char id[20];
	double t = now(), deadline = t + o->timeout, next = t;
	double saved = t, until;
	int ms, i;

	n->lookup_at = t;

	for (;;) {
		t = now();
		if (stop || n->outfail)
			return n->outfail ? BT_EXIT_WORLD : BT_EXIT_OK;
		if (o->cmd == CMD_PING && pinged(n, ping, id)) {
			for (i = 0; i < 20; i++)
				printf("%02x", id[i]);
			printf(" %u.%u.%u.%u:%u\n", ping->ip[0], ping->ip[1],
			    ping->ip[2], ping->ip[3], ping->port);
			return BT_EXIT_OK;
		}
		if (o->cmd != CMD_PING && n->search < 0) {
			if (n->lookups > 0 && (!o->follow ||
			    (n->answered == 0 && !n->in_open)))
				return -1;	/* the caller judges */
			if (t >= n->lookup_at)
				start_lookup(n, t);
		}
		if (!o->follow && t >= deadline) {
			fprintf(stderr, "btdht: timed out after %g seconds\n",
			    o->timeout);
			return -1;
		}
		if (o->follow && t - saved >= DHT_SAVE_INTERVAL) {
			save(n, n->path);
			saved = t;
		}
		if (t >= next)
			next = dht_periodic(n->d, t);
		until = next;
		if (!o->follow && deadline < until)
			until = deadline;
		if (n->search < 0 && o->follow && n->lookup_at < until)
			until = n->lookup_at;
		ms = until > t ? (int)((until - t) * 1000) + 1 : 0;
		pfd[0].fd = n->fd;
		pfd[0].events = POLLIN;
		/* With -f, a reader that went away ends us at once. */
		pfd[1].fd = o->follow ? STDOUT_FILENO : -1;
		pfd[1].events = 0;
		pfd[2].fd = n->in_open ? STDIN_FILENO : -1;
		pfd[2].events = POLLIN;
		if (poll(pfd, 3, ms) > 0) {
			if (pfd[0].revents & POLLIN)
				drain(n);
			if (pfd[1].revents & (POLLERR | POLLHUP))
				n->outfail = 1;
			if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR))
				read_nodes(n);
		}
	}
}

int
btdht_run(const struct btdht_opts *o)
{
	struct dht_nodeinfo ni[BTDHT_STATE_NODES];
	struct dht_addr ping[1];
	struct dht_stats st;
	struct dht_cb cb;
	struct node n;
	struct sigaction sa;
	unsigned char id[20], seed[32];
	char err[BT_ERRLEN], *path = NULL;
	size_t nni = 0, i;
	int code, added = 0, bad;

	memset(&n, 0, sizeof(n));
	n.o = o;
	n.search = -1;
	n.in_open = o->stdin_nodes;
	if (o->cmd == CMD_PING) {
		if (resolve(o->ping, ping, 1, &bad, err) < 1) {
			fprintf(stderr, "btdht: %s: %s\n", o->ping, err);
			return bad ? BT_EXIT_INPUT : BT_EXIT_WORLD;
		}
	}
	path = o->state != NULL ? strdup(o->state) : state_default();
	n.path = path;
	if (path == NULL && o->verbose)
		fputs("btdht: no state directory: starting afresh\n", stderr);
	if (path != NULL && state_load(path, id, ni, BTDHT_STATE_NODES, &nni,
	    err) != 0)
		fprintf(stderr, "btdht: %s: %s (starting afresh)\n", path, err);
	if (path == NULL && btdht_random(id, 20) != 0) {
		perror("btdht: getrandom");
		return BT_EXIT_WORLD;
	}
	if (btdht_random(seed, sizeof(seed)) != 0 ||
	    (n.printed = calloc(MAX_PRINTED, sizeof(*n.printed))) == NULL) {
		perror("btdht: getrandom");
		free(path);
		return BT_EXIT_WORLD;
	}
	if ((n.fd = open_socket(o->port)) == -1) {
		fprintf(stderr, "btdht: UDP port %d: %s\n", o->port,
		    strerror(errno));
		free(path);
		free(n.printed);
		return BT_EXIT_WORLD;
	}
	memset(&cb, 0, sizeof(cb));
	cb.arg = &n;
	cb.send = cb_send;
	cb.peer = cb_peer;
	cb.done = cb_done;
	cb.trace = o->verbose > 1 ? cb_trace : NULL;
	if ((n.d = dht_new(id, seed, &cb, now())) == NULL) {
		fputs("btdht: out of memory\n", stderr);
		code = BT_EXIT_WORLD;
		goto out;
	}
	/* A run of seconds should not enter other nodes' tables. */
	dht_set_read_only(n.d, !o->follow);
	for (i = 0; i < nni; i++)
		dht_add_node(n.d, ni[i].id, &ni[i].a, now());
	if (add_contacts(&n, o->nodes, o->nnodes, &added) != 0 ||
	    add_contacts(&n, o->torrent_nodes, o->ntorrent_nodes, &added) != 0) {
		code = BT_EXIT_INPUT;
		goto out;
	}
	if (o->nnodes == 0)
		add_routers(&n, &added);
	if (o->cmd == CMD_PING)
		dht_ping(n.d, ping, now());
	else if (added == 0 && nni == 0 && !o->stdin_nodes) {
		fputs("btdht: no DHT node to start from (give --dht-node)\n",
		    stderr);
		code = BT_EXIT_WORLD;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (o->verbose)
		fprintf(stderr, "btdht: %zu nodes from the state, %d contacts\n",
		    nni, added);
	code = loop(&n, ping);
	dht_get_stats(n.d, &st, now());
	if (o->verbose)
		fprintf(stderr, "btdht: %d nodes in the table (%d good), %ld "
		    "datagrams in, %ld dropped\n", st.nodes, st.good,
		    st.received, st.dropped);
	if (code == -1) {
		/* A lookup ended or time ran out: judge by what it got. */
		if (o->cmd == CMD_PING)
			fprintf(stderr, "btdht: %s: no answer\n", o->ping);
		else if (n.answered == 0 && st.good == 0)
			fputs("btdht: no DHT node answered\n", stderr);
		else if (o->cmd == CMD_ANNOUNCE && n.announced == 0)
			fputs("btdht: no node accepted the announce\n", stderr);
		else if (o->cmd == CMD_PEERS && n.nprinted == 0)
			fprintf(stderr, "btdht: no peers found (%d nodes "
			    "answered)\n", n.answered);
		code = (o->cmd == CMD_PEERS && n.nprinted > 0) ||
		    (o->cmd == CMD_ANNOUNCE && n.announced > 0) ?
		    BT_EXIT_OK : BT_EXIT_WORLD;
	}
	save(&n, path);
out:
	dht_free(n.d);
	close(n.fd);
	free(n.printed);
	free(path);
	return code;
}
