/*
 * node.c: btdht's I/O around lib/dht.c: a UDP socket and a node per
 * address family (IPv4, and IPv6 when the host has it: BEP 32 keeps the
 * two tables apart), the monotonic clock, getrandom, signals, the state
 * file, and the peers printed.
 *
 * One-shot (peers, announce, ping): runs until the lookup ends in both
 * families or --timeout passes. With -f: looks up again every
 * --interval seconds, answering other nodes in between, until SIGINT,
 * SIGTERM or a closed standard output; the state is saved every
 * SAVE_INTERVAL and at the end.
 */
#include <errno.h>
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
#define SAVE_INTERVAL	300.0
/* fam.search while dht_search runs. */
#define STARTING	DHT_MAX_SEARCHES
/* A line of -n - input: "[v6]:port" is at most 48 bytes. */
#define NODE_LINE	64

struct node;

/* One address family: its socket and its DHT node. */
struct fam {
	struct node	*n;
	struct dht	*d;
	int		 fd;
	int		 v6;
	int		 search;	/* ours, -1 when none runs */
	double		 next;		/* when dht_periodic wants us */
};

struct node {
	const struct btdht_opts *o;
	struct fam	 f[2];
	int		 nf;
	int		 round;		/* a lookup runs in some family */
	int		 lookups;	/* rounds finished */
	int		 answered;	/* nodes that answered any lookup */
	int		 announced;
	struct dht_addr	*printed;
	size_t		 nprinted;
	int		 outfail;
	const char	*path;		/* the state file, or NULL */
	double		 lookup_at;	/* the next round */
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

/* The family for a, or NULL when we have no socket for it. */
static struct fam *
fam_of(struct node *n, const struct dht_addr *a)
{
	int i;

	for (i = 0; i < n->nf; i++)
		if (!n->f[i].v6 == !a->v6)
			return &n->f[i];
	return NULL;
}

static void
cb_send(void *arg, const unsigned char *b, size_t len,
    const struct dht_addr *a)
{
	struct fam *f = arg;
	char as[64];

	if (udp_send(f->fd, b, len, a) != 0 && f->n->o->verbose)
		fprintf(stderr, "btdht: sendto %s: %s\n",
		    addr_format(a, as, sizeof(as)), strerror(errno));
}

static void
cb_peer(void *arg, int s, const unsigned char ih[20],
    const struct dht_addr *a)
{
	struct node *n = ((struct fam *)arg)->n;
	char as[64];
	size_t i;

	(void)s;
	(void)ih;
	for (i = 0; i < n->nprinted; i++)
		if (!n->printed[i].v6 == !a->v6 && n->printed[i].port ==
		    a->port && memcmp(n->printed[i].ip, a->ip, 16) == 0)
			return;
	if (n->nprinted < MAX_PRINTED)
		n->printed[n->nprinted++] = *a;
	if (printf("%s\n", addr_format(a, as, sizeof(as))) < 0 ||
	    fflush(stdout) == EOF)
		n->outfail = 1;
}

static void
cb_done(void *arg, int s, const struct dht_result *r)
{
	struct fam *f = arg;
	struct node *n = f->n;

	if (s != f->search && f->search != STARTING)
		return;
	f->search = -1;
	n->answered += r->replied;
	n->announced += r->announced;
	if (n->o->verbose)
		fprintf(stderr, "btdht: IPv%d lookup done: %d nodes answered, "
		    "%d peers received, %d announces acknowledged\n",
		    f->v6 ? 6 : 4, r->replied, r->values, r->announced);
}

static void
cb_trace(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "btdht: %s\n", line);
}

/* Adds the contacts of one list; -1 on a malformed entry (exit 2). */
static int
add_contacts(struct node *n, const char *const *list, int count,
    int *added)
{
	struct dht_addr a[8];
	struct fam *f;
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
			if ((f = fam_of(n, &a[j])) != NULL &&
			    dht_add_contact(f->d, &a[j]) == 0)
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

/* Reads what waits on f's socket into its node. */
static void
drain(struct fam *f)
{
	unsigned char buf[KRPC_MAX_MSG + 1];
	struct dht_addr a;
	ssize_t got;
	int i;

	for (i = 0; i < READ_BURST; i++) {
		if ((got = udp_recv(f->fd, buf, sizeof(buf), &a)) < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			return;
		}
		dht_input(f->d, buf, (size_t)got, &a, now());
	}
}

static void
save(struct node *n)
{
	struct dht_nodeinfo ni[BTDHT_STATE_NODES];
	char err[BT_ERRLEN];
	size_t cnt = 0;
	int i;

	if (n->path == NULL)
		return;
	for (i = 0; i < n->nf; i++)
		cnt += dht_nodes(n->f[i].d, ni + cnt, BTDHT_STATE_NODES - cnt,
		    now());
	if (state_save(n->path, dht_id(n->f[0].d), ni, cnt, err) != 0)
		fprintf(stderr, "btdht: %s: cannot save the state: %s\n",
		    n->path, err);
}

/* 1 once the pinged address answered (it is then in the table). */
static int
pinged(struct fam *f, const struct dht_addr *a, unsigned char *id)
{
	struct dht_nodeinfo ni[BTDHT_STATE_NODES];
	size_t i, cnt = dht_nodes(f->d, ni, BTDHT_STATE_NODES, now());

	for (i = 0; i < cnt; i++)
		if (memcmp(ni[i].a.ip, a->ip, 16) == 0 &&
		    ni[i].a.port == a->port) {
			memcpy(id, ni[i].id, 20);
			return 1;
		}
	return 0;
}

/*
 * -n -: node addresses, one "a.b.c.d:port" or "[v6]:port" a line, on
 * standard input while we run (a peer's BEP 5 port message, say). Each
 * is pinged, so it joins the table when it answers, and becomes a
 * contact; while no lookup had an answer, a round starts at once.
 */
static void
read_nodes(struct node *n)
{
	struct dht_addr a;
	struct fam *f;
	char *nl;
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
		if (addr_parse(n->in, &a) == 0 && (f = fam_of(n, &a)) !=
		    NULL) {
			dht_add_contact(f->d, &a);
			dht_ping(f->d, &a, now());
			if (n->answered == 0)
				n->lookup_at = now();
		}
		n->inlen -= (size_t)(nl + 1 - n->in);
		memmove(n->in, nl + 1, n->inlen);
	}
	if (n->inlen == sizeof(n->in))
		n->inlen = 0;	/* a line too long: dropped */
}

/*
 * Starts a round: our lookup in each family. One that nobody can be
 * asked ends inside dht_search, before it returns its number: cb_done
 * takes any search while f->search is STARTING.
 */
static void
start_round(struct node *n, double t)
{
	struct fam *f;
	int i, s;

	for (i = 0; i < n->nf; i++) {
		f = &n->f[i];
		f->search = STARTING;
		s = dht_search(f->d, n->o->ih, 1, n->o->announce_port, t);
		if (f->search == STARTING)
			f->search = s;
	}
	n->round = 1;
	n->lookup_at = t + n->o->interval;
}

/* 1 while a lookup of ours runs in some family. */
static int
searching(const struct node *n)
{
	int i;

	for (i = 0; i < n->nf; i++)
		if (n->f[i].search >= 0)
			return 1;
	return 0;
}

/* Prints the answer to ping; 1 once there is one. */
static int
ping_done(struct node *n, const struct dht_addr *a)
{
	struct fam *f = fam_of(n, a);
	unsigned char id[20];
	char as[64];
	int i;

	if (f == NULL || !pinged(f, a, id))
		return 0;
	for (i = 0; i < 20; i++)
		printf("%02x", id[i]);
	printf(" %s\n", addr_format(a, as, sizeof(as)));
	return 1;
}

/* The loop; the exit code, or -1 for the caller to judge the result. */
static int
loop(struct node *n, const struct dht_addr *ping)
{
	const struct btdht_opts *o = n->o;
	struct pollfd pfd[4];
	double t = now(), deadline = t + o->timeout, saved = t, until;
	int ms, i;

	n->lookup_at = t;
	for (;;) {
		t = now();
		if (stop || n->outfail)
			return n->outfail ? BT_EXIT_WORLD : BT_EXIT_OK;
		if (o->cmd == CMD_PING && ping_done(n, ping))
			return BT_EXIT_OK;
		if (o->cmd != CMD_PING && !searching(n)) {
			if (n->round) {
				n->round = 0;
				n->lookups++;
			}
			if (n->lookups > 0 && (!o->follow ||
			    (n->answered == 0 && !n->in_open)))
				return -1;
			if (t >= n->lookup_at)
				start_round(n, t);
		}
		if (!o->follow && t >= deadline) {
			fprintf(stderr, "btdht: timed out after %g seconds\n",
			    o->timeout);
			return -1;
		}
		if (o->follow && t - saved >= SAVE_INTERVAL) {
			save(n);
			saved = t;
		}
		until = !o->follow ? deadline : searching(n) ? t + 3600 :
		    n->lookup_at;
		for (i = 0; i < n->nf; i++) {
			if (t >= n->f[i].next)
				n->f[i].next = dht_periodic(n->f[i].d, t);
			if (n->f[i].next < until)
				until = n->f[i].next;
			pfd[i].fd = n->f[i].fd;
			pfd[i].events = POLLIN;
		}
		ms = until > t ? (int)((until - t) * 1000) + 1 : 0;
		/* With -f, a reader that went away ends us at once. */
		pfd[2].fd = o->follow ? STDOUT_FILENO : -1;
		pfd[2].events = 0;
		pfd[3].fd = n->in_open ? STDIN_FILENO : -1;
		pfd[3].events = POLLIN;
		if (n->nf == 1)
			pfd[1].fd = -1;
		if (poll(pfd, 4, ms) <= 0)
			continue;
		for (i = 0; i < n->nf; i++)
			if (pfd[i].revents & POLLIN)
				drain(&n->f[i]);
		if (pfd[2].revents & (POLLERR | POLLHUP))
			n->outfail = 1;
		if (pfd[3].revents & (POLLIN | POLLHUP | POLLERR))
			read_nodes(n);
	}
}

/* Opens the sockets and makes the nodes; 0, or -1 (reported). */
static int
open_families(struct node *n, const unsigned char id[20])
{
	struct dht_cb cb;
	unsigned char seed[32];
	struct fam *f;
	int v6;

	for (v6 = 0; v6 < 2; v6++) {
		f = &n->f[n->nf];
		f->n = n;
		f->v6 = v6;
		f->search = -1;
		if ((f->fd = udp_open(v6, n->o->port)) == -1) {
			/* No IPv6 here is no error; no IPv4 is. */
			if (v6 && n->o->verbose)
				fprintf(stderr, "btdht: no IPv6: %s\n",
				    strerror(errno));
			if (v6)
				continue;
			fprintf(stderr, "btdht: UDP port %d: %s\n",
			    n->o->port, strerror(errno));
			return -1;
		}
		memset(&cb, 0, sizeof(cb));
		cb.arg = f;
		cb.send = cb_send;
		cb.peer = cb_peer;
		cb.done = cb_done;
		cb.trace = n->o->verbose > 1 ? cb_trace : NULL;
		if (btdht_random(seed, sizeof(seed)) != 0 ||
		    (f->d = dht_new(id, seed, &cb, now())) == NULL) {
			close(f->fd);
			fputs("btdht: cannot start a node\n", stderr);
			return -1;
		}
		if (v6)
			dht_set_ipv6(f->d);
		/* A run of seconds should not enter other nodes' tables. */
		dht_set_read_only(f->d, !n->o->follow);
		n->nf++;
	}
	return 0;
}

/* The outcome of a finished run, reported; the exit code. */
static int
judge(struct node *n, const struct dht_stats *st)
{
	const struct btdht_opts *o = n->o;

	if (o->cmd == CMD_PING) {
		fprintf(stderr, "btdht: %s: no answer\n", o->ping);
		return BT_EXIT_WORLD;
	}
	if (n->answered == 0 && st->good == 0)
		fputs("btdht: no DHT node answered\n", stderr);
	else if (o->cmd == CMD_ANNOUNCE && n->announced == 0)
		fputs("btdht: no node accepted the announce\n", stderr);
	else if (o->cmd == CMD_PEERS && n->nprinted == 0)
		fprintf(stderr, "btdht: no peers found (%d nodes answered)\n",
		    n->answered);
	return (o->cmd == CMD_PEERS && n->nprinted > 0) ||
	    (o->cmd == CMD_ANNOUNCE && n->announced > 0) ? BT_EXIT_OK :
	    BT_EXIT_WORLD;
}

int
btdht_run(const struct btdht_opts *o)
{
	struct dht_nodeinfo ni[BTDHT_STATE_NODES];
	struct dht_addr ping[1];
	struct dht_stats st, one;
	struct node n;
	struct sigaction sa;
	struct fam *f;
	unsigned char id[20];
	char err[BT_ERRLEN], *path;
	size_t nni = 0, i;
	int code, added = 0, bad;

	memset(&n, 0, sizeof(n));
	n.o = o;
	n.in_open = o->stdin_nodes;
	if (o->cmd == CMD_PING && resolve(o->ping, ping, 1, &bad, err) < 1) {
		fprintf(stderr, "btdht: %s: %s\n", o->ping, err);
		return bad ? BT_EXIT_INPUT : BT_EXIT_WORLD;
	}
	path = o->state != NULL ? strdup(o->state) : state_default();
	n.path = path;
	if (path == NULL && o->verbose)
		fputs("btdht: no state directory: starting afresh\n", stderr);
	if (path != NULL && state_load(path, id, ni, BTDHT_STATE_NODES, &nni,
	    err) != 0)
		fprintf(stderr, "btdht: %s: %s (starting afresh)\n", path, err);
	if ((path == NULL && btdht_random(id, 20) != 0) ||
	    (n.printed = calloc(MAX_PRINTED, sizeof(*n.printed))) == NULL) {
		perror("btdht");
		free(path);
		return BT_EXIT_WORLD;
	}
	code = BT_EXIT_WORLD;
	if (open_families(&n, id) != 0)
		goto out;
	for (i = 0; i < nni; i++)
		if ((f = fam_of(&n, &ni[i].a)) != NULL)
			dht_add_node(f->d, ni[i].id, &ni[i].a, now());
	if (add_contacts(&n, o->nodes, o->nnodes, &added) != 0 ||
	    add_contacts(&n, o->torrent_nodes, o->ntorrent_nodes, &added) != 0) {
		code = BT_EXIT_INPUT;
		goto out;
	}
	if (o->nnodes == 0)
		add_routers(&n, &added);
	if (o->cmd == CMD_PING) {
		if ((f = fam_of(&n, ping)) == NULL) {
			fprintf(stderr, "btdht: %s: no IPv6 here\n", o->ping);
			goto out;
		}
		dht_ping(f->d, ping, now());
	} else if (added == 0 && nni == 0 && !o->stdin_nodes) {
		fputs("btdht: no DHT node to start from (give --dht-node)\n",
		    stderr);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (o->verbose)
		fprintf(stderr, "btdht: %zu nodes from the state, %d contacts, "
		    "IPv4%s\n", nni, added, n.nf > 1 ? " and IPv6" : " only");
	code = loop(&n, ping);
	memset(&st, 0, sizeof(st));
	for (i = 0; i < (size_t)n.nf; i++) {
		dht_get_stats(n.f[i].d, &one, now());
		st.nodes += one.nodes;
		st.good += one.good;
		st.received += one.received;
		st.dropped += one.dropped;
	}
	if (o->verbose)
		fprintf(stderr, "btdht: %d nodes in the tables (%d good), %ld "
		    "datagrams in, %ld dropped\n", st.nodes, st.good,
		    st.received, st.dropped);
	if (code == -1)
		code = judge(&n, &st);
	save(&n);
out:
	for (i = 0; i < (size_t)n.nf; i++) {
		dht_free(n.f[i].d);
		close(n.f[i].fd);
	}
	free(n.printed);
	free(path);
	return code;
}
