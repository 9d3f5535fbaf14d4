/*
 * btpeer: the wire protocol with one peer. Downloads what it can claim
 * into the shared spool and answers the peer's requests; or serves a
 * socket on fds 0/1, or listens; or debugs one peer (--bitfield,
 * --piece). Event lines on stdout, traces on stderr with -v.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "util.h"
#include "confine.h"
#include "choke.h"
#include "metainfo.h"
#include "loop.h"
#include "metadata.h"
#include "net.h"
#include "opts.h"
#include "proc.h"
#include "select.h"
#include "spool.h"

/* Default seconds without progress before the peer is given up. */
#define DEFAULT_TIMEOUT	60
/* Default cap on --listen children: one process each, keep it modest. */
#define DEFAULT_MAXCONNS	32

static const char usage[] =
    "usage: btpeer [-hv] [--direct] [--utp] [--version] [--pex file]"
    " [--seed]"
    " [--encryption off|prefer|require|tolerate] [--dht-port n]"
    " [--strategy sequential|random|rarest]"
    " [--queue n] [--timeout seconds] [--upload-slots n]"
    " [--max-download-rate rate] [--max-upload-rate rate]"
    " [--files list] [--include glob] [--exclude glob] [-o dir]"
    " [--piece-log file] --spool dir file.torrent"
    " host:port\n"
    "       btpeer [-v] [--utp] --bitfield file.torrent host:port\n"
    "       btpeer [-v] [--utp] --piece n file.torrent host:port\n"
    "       btpeer [-v] [--timeout seconds] --metadata magnet-uri host:port\n"
    "       btpeer [-v] --serve [--encryption mode] [--spool dir] [-o dir]"
    " file.torrent\n"
    "       btpeer [-v] --listen [host:]port [--encryption mode]"
    " [--max-conns n] [--pex file]"
    " [--dht-port n]"
    " [--upload-slots n] [--max-download-rate rate]"
    " [--max-upload-rate rate] [--files list] [--include glob]"
    " [--exclude glob] [--piece-log file] [--spool dir] [-o dir]"
    " file.torrent\n";

struct ctx {
	const struct opts *o;
	const struct metainfo *mi;
};

/*
 * Opens the spool (after any fork: OFD claims are per open). 0, or the
 * exit code of the failure's class.
 */
static int
open_spool(const struct opts *o, const struct metainfo *mi,
    struct spool *sp, struct spool **spp)
{
	char err[BT_ERRLEN];

	*spp = NULL;
	if (o->spooldir == NULL)
		return 0;
	if (spool_open(sp, o->spooldir, mi, err) == -1) {
		fprintf(stderr, "btpeer: spool: %s\n", err);
		return bt_fail_exit(sp->fail);
	}
	sp->direct = o->direct;
	*spp = sp;
	return 0;
}

/* Setup is over: the sandbox (confine.h), and a test build's escape. */
static int
lockdown(const struct opts *o)
{
	int armed = confine_test_arm(), rc;

	if ((rc = confine(o)) == 0)
		confine_test_escape(armed);
	return rc;
}

/* Every wanted piece is in the spool: nothing to fetch. */
static int
wanted_done(struct spool *sp, const struct opts *o)
{
	uint32_t i;

	for (i = 0; i < sp->npieces; i++)
		if (!spool_have(sp, i) && (o->sel == NULL ||
		    sel_piece(o->sel, i)))
			return 0;
	return 1;
}

static int
handle(int fd, void *arg)
{
	struct ctx *c = arg;
	struct spool sp, *spp;
	struct conn cn;
	int rc;

	if ((rc = open_spool(c->o, c->mi, &sp, &spp)) != 0)
		return rc;
	if ((rc = lockdown(c->o)) != 0) {
		if (spp != NULL)
			spool_close(spp);
		return rc;
	}
	conn_stream(&cn, fd, fd);
	rc = loop_run(c->o, c->mi, spp, &cn, stdout, c->o->encryption, NULL);
	if (spp != NULL)
		spool_close(spp);
	return rc;
}

/* Connects to the peer and runs the connection with MSE policy enc. */
static int
dial(const struct opts *o, const struct metainfo *mi, struct spool *spp,
    enum peer_crypto enc, int *fallback)
{
	struct conn cn;
	char err[BT_ERRLEN];
	pid_t pid = -1;
	int fd, rc;

	if (fallback != NULL)
		*fallback = 0;
	if (o->utp && o->verbose)
		fprintf(stderr, "btpeer: uTP to %s\n", o->addr);
	fd = o->utp ? net_connect_utp(o->addr, o->timeout, o->verbose, &pid,
	    err) : net_connect(o->addr, o->timeout, err);
	if (fd < 0) {
		fprintf(stderr, "btpeer: %s\n", err);
		/* --piece: stdout is the data, never an event. */
		if (o->mode != PEER_PIECE)
			printf("error %s\n", err);
		return fd == -2 ? BT_EXIT_INPUT : BT_EXIT_WORLD;
	}
	if ((rc = lockdown(o)) != 0) {
		close(fd);
		return rc;
	}
	conn_stream(&cn, fd, fd);
	rc = loop_run(o, mi, spp, &cn, o->mode == PEER_PIECE ? NULL : stdout,
	    enc, fallback);
	if (o->utp)
		net_utp_done(fd, pid);
	else
		close(fd);
	return rc;
}

/* A child's exit status meaning "MSE refused: dial again in plain". */
#define EXIT_FALLBACK	99

/*
 * --encryption prefer: MSE first, then plain if the peer refused it;
 * tolerate: plain first, then MSE. Once sandboxed, a process can open no
 * new socket, so the first attempt runs in a child (sandboxed, dying
 * with us) and the second, if needed, here. This process reads no byte
 * of the peer before its own attempt.
 */
static int
dial_twice(const struct opts *o, const struct metainfo *mi,
    struct spool *spp)
{
	int tol = o->encryption == PEER_CRYPTO_TOLERATE;
	enum peer_crypto first = tol ? PEER_CRYPTO_OFF : o->encryption;
	enum peer_crypto second = tol ? PEER_CRYPTO_PREFER : PEER_CRYPTO_OFF;
	pid_t pid;
	int st, fallback = 0, rc;

	fflush(stdout);
	if ((pid = fork()) == -1)
		return dial(o, mi, spp, first, NULL);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(BT_EXIT_WORLD);
		rc = dial(o, mi, spp, first, &fallback);
		fflush(stdout);
		_exit(fallback ? EXIT_FALLBACK : rc);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return BT_EXIT_WORLD;
	if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_FALLBACK)
		return dial(o, mi, spp, second, NULL);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	/* Killed (the sandbox's SIGSYS, say): the shell's status, as if we were. */
	fprintf(stderr, "btpeer: connection process killed by signal %d\n",
	    WTERMSIG(st));
	return 128 + WTERMSIG(st);
}

static int
run(const struct opts *o, const struct metainfo *mi)
{
	struct spool sp, *spp = NULL;
	struct ctx c = { o, mi };
	struct opts so;
	struct conn cn;
	char err[BT_ERRLEN];
	int fd, port, rc;

	if (o->mode == PEER_SERVE && o->listen != NULL) {
		fd = net_listen(o->listen, &port, err);
		if (fd < 0) {
			fprintf(stderr, "btpeer: %s\n", err);
			return fd == -2 ? BT_EXIT_INPUT : BT_EXIT_WORLD;
		}
		printf("listening %d\n", port);
		fflush(stdout);
		rc = net_accept_loop(fd, o->maxconns, handle, &c);
		close(fd);
		return rc;
	}
	if (o->mode == PEER_SERVE) {
		if ((rc = open_spool(o, mi, &sp, &spp)) != 0)
			return rc;
		if ((rc = lockdown(o)) != 0) {
			if (spp != NULL)
				spool_close(spp);
			return rc;
		}
		/* stdout is the socket: no event lines. */
		conn_stream(&cn, 0, 1);
		rc = loop_run(o, mi, spp, &cn, NULL, o->encryption, NULL);
		if (spp != NULL)
			spool_close(spp);
		return rc;
	}
	if (o->mode == PEER_FETCH && (rc = open_spool(o, mi, &sp, &spp)) != 0)
		return rc;
	if (spp != NULL && wanted_done(spp, o)) {
		puts("done");
		if (!o->seed) {
			spool_close(spp);
			return BT_EXIT_OK;
		}
		/*
		 * --seed: dial the peer all the same and seed it, until it
		 * has every piece too, leaves, or idles --timeout seconds
		 * (a peer that ignores those it is told of, as Transmission
		 * does 127.x ones, is reached so).
		 */
		so = *o;
		so.mode = PEER_SERVE;
		so.seed_out = 1;
		o = &so;
	}
	rc = o->encryption == PEER_CRYPTO_PREFER ||
	    o->encryption == PEER_CRYPTO_TOLERATE ?
	    dial_twice(o, mi, spp) : dial(o, mi, spp, o->encryption, NULL);
	if (spp != NULL)
		spool_close(spp);
	return rc;
}

static int
bad_usage(const char *msg)
{
	if (msg != NULL)
		fprintf(stderr, "btpeer: %s\n", msg);
	fputs(usage, stderr);
	return BT_EXIT_INPUT;
}

int
main(int argc, char *argv[])
{
	enum { O_STRATEGY = 256, O_DIRECT_IO, O_QUEUE, O_TIMEOUT, O_SPOOL,
	    O_BITFIELD, O_PIECE, O_SERVE, O_LISTEN, O_MAXCONNS, O_VERSION,
	    O_SLOTS, O_FILES, O_INCLUDE, O_EXCLUDE, O_MAXDOWN, O_MAXUP,
	    O_METADATA, O_PEX, O_ENCRYPTION,
	    O_DHTPORT, O_PIECELOG, O_SEED };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "output", required_argument, NULL, 'o' },
		{ "version", no_argument, NULL, O_VERSION },
		{ "direct", no_argument, NULL, O_DIRECT_IO },
		{ "utp", no_argument, NULL, 'U' },	/* no short option */
		{ "strategy", required_argument, NULL, O_STRATEGY },
		{ "queue", required_argument, NULL, O_QUEUE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "spool", required_argument, NULL, O_SPOOL },
		{ "bitfield", no_argument, NULL, O_BITFIELD },
		{ "piece", required_argument, NULL, O_PIECE },
		{ "serve", no_argument, NULL, O_SERVE },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "max-conns", required_argument, NULL, O_MAXCONNS },
		{ "upload-slots", required_argument, NULL, O_SLOTS },
		{ "files", required_argument, NULL, O_FILES },
		{ "max-download-rate", required_argument, NULL, O_MAXDOWN },
		{ "max-upload-rate", required_argument, NULL, O_MAXUP },
		{ "include", required_argument, NULL, O_INCLUDE },
		{ "exclude", required_argument, NULL, O_EXCLUDE },
		{ "metadata", no_argument, NULL, O_METADATA },
		{ "pex", required_argument, NULL, O_PEX },
		{ "encryption", required_argument, NULL, O_ENCRYPTION },
		{ "seed", no_argument, NULL, O_SEED },
		{ "dht-port", required_argument, NULL, O_DHTPORT },
		{ "piece-log", required_argument, NULL, O_PIECELOG },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o;
	struct metainfo mi;
	struct sel sel;
	char err[BT_ERRLEN];
	long v;
	const char *plog = NULL;
	int c, rc, modes = 0, want;

	memset(&o, 0, sizeof(o));
	o.mode = PEER_FETCH;
	o.strategy = SPOOL_RAREST;
	o.queue = PEER_QUEUE_DEFAULT;
	o.timeout = DEFAULT_TIMEOUT;
	o.maxconns = DEFAULT_MAXCONNS;
	o.slots = CHOKE_SLOTS_DEFAULT;
	o.encryption = PEER_CRYPTO_PREFER;
	o.piecelog = -1;
	while ((c = getopt_long(argc, argv, "hvo:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return BT_EXIT_OK;
		case 'v':
			o.verbose = 1;
			break;
		case 'o':
			o.outdir = optarg;
			break;
		case O_VERSION:
			puts("btpeer " BT_VERSION);
			return BT_EXIT_OK;
		case O_DIRECT_IO:
			o.direct = 1;
			break;
		case 'U':
			o.utp = 1;
			break;
		case O_STRATEGY:
			if (strcmp(optarg, "sequential") == 0)
				o.strategy = SPOOL_SEQUENTIAL;
			else if (strcmp(optarg, "random") == 0)
				o.strategy = SPOOL_RANDOM;
			else if (strcmp(optarg, "rarest") == 0)
				o.strategy = SPOOL_RAREST;
			else
				return bad_usage("unknown strategy");
			break;
		case O_QUEUE:
			if (num_parse(optarg, 1, PEER_QUEUE_MAX, &v) == -1)
				return bad_usage("--queue: want 1..1024");
			o.queue = (int)v;
			break;
		case O_TIMEOUT:
			if (num_parse(optarg, 1, 86400, &v) == -1)
				return bad_usage("--timeout: want 1..86400");
			o.timeout = (int)v;
			break;
		case O_SPOOL:
			o.spooldir = optarg;
			break;
		case O_BITFIELD:
			o.mode = PEER_BITFIELD;
			modes++;
			break;
		case O_PIECE:
			if (num_parse(optarg, 0, LONG_MAX, &v) == -1 ||
			    v > UINT32_MAX)
				return bad_usage("--piece: want a piece index");
			o.mode = PEER_PIECE;
			o.piece = (uint32_t)v;
			modes++;
			break;
		case O_SERVE:
			o.mode = PEER_SERVE;
			modes++;
			break;
		case O_LISTEN:
			o.mode = PEER_SERVE;
			o.listen = optarg;
			modes++;
			break;
		case O_SEED:
			o.seed = 1;
			break;
		case O_PEX:
			o.pexfile = optarg;
			break;
		case O_DHTPORT:
			if (num_parse(optarg, 1, 65535, &v) == -1)
				return bad_usage("--dht-port: want 1..65535");
			o.dht_port = (uint16_t)v;
			break;
		case O_METADATA:
			o.mode = PEER_METADATA;
			modes++;
			break;
		case O_MAXCONNS:
			if (num_parse(optarg, 1, 4096, &v) == -1)
				return bad_usage("--max-conns: want 1..4096");
			o.maxconns = (int)v;
			break;
		case O_SLOTS:
			if (num_parse(optarg, 0, CHOKE_SLOTS_MAX, &v) == -1)
				return bad_usage("--upload-slots: want 0..256");
			o.slots = (int)v;
			break;
		case O_MAXDOWN:
		case O_MAXUP:
			if (choke_parse_rate(optarg, c == O_MAXDOWN ?
			    &o.maxdown : &o.maxup) == -1)
				return bad_usage(c == O_MAXDOWN ?
				    "--max-download-rate: want bytes/s, "
				    "such as 500k or 2M" :
				    "--max-upload-rate: want bytes/s, "
				    "such as 500k or 2M");
			break;
		case O_FILES:
		case O_INCLUDE:
		case O_EXCLUDE:
			if (sel_spec_add(&o.spec, c == O_FILES ? 'f' :
			    c == O_INCLUDE ? 'i' : 'x', optarg, err) == -1)
				return bad_usage(err);
			break;
		case O_PIECELOG:
			plog = optarg;
			break;
		case O_ENCRYPTION:
			if (peer_crypto_parse(optarg, &o.encryption) == -1)
				return bad_usage("--encryption: want off, "
				    "prefer, require or tolerate");
			break;
		default:
			return bad_usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (modes > 1)
		return bad_usage("choose one of --bitfield, --piece, --serve, "
		    "--listen, --metadata");
	want = o.mode == PEER_SERVE ? 1 : 2;
	if (argc != want)
		return bad_usage(NULL);
	o.torrent = argv[0];
	o.addr = want == 2 ? argv[1] : NULL;
	if (bt_watch_parent() == -1)
		return BT_EXIT_WORLD;	/* our orchestrator is gone */
	if (o.mode == PEER_METADATA) {
		signal(SIGPIPE, SIG_IGN);
		rc = metadata_run(&o);
		c = bt_close_stdout("btpeer");
		return c != 0 ? c : rc;
	}
	if (o.mode == PEER_FETCH && o.spooldir == NULL)
		return bad_usage("--spool is needed to download");
	if (o.mode == PEER_SERVE && o.spooldir == NULL && o.outdir == NULL)
		return bad_usage("--spool or -o is needed to serve");
	/* Appended to by every process of the spool: a write at a time. */
	if (plog != NULL && (o.piecelog = open(plog, O_WRONLY | O_APPEND |
	    O_CREAT | O_CLOEXEC, 0666)) == -1) {
		fprintf(stderr, "btpeer: --piece-log %s: %s\n", plog,
		    strerror(errno));
		return bt_fail_exit(bt_fail_errno(errno));
	}
	if (mi_load(&mi, o.torrent, err) == -1) {
		fprintf(stderr, "btpeer: %s: %s\n", o.torrent, err);
		return BT_EXIT_INPUT;
	}
	if (o.mode == PEER_PIECE && o.piece >= mi.npieces) {
		fprintf(stderr, "btpeer: --piece %u: the torrent has %u "
		    "pieces\n", o.piece, mi.npieces);
		mi_free(&mi);
		return BT_EXIT_INPUT;
	}
	if (sel_spec_any(&o.spec)) {
		if (sel_build(&sel, &mi, &o.spec, err) == -1) {
			fprintf(stderr, "btpeer: %s\n", err);
			mi_free(&mi);
			return BT_EXIT_INPUT;
		}
		o.sel = &sel;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = run(&o, &mi);
	if (o.sel != NULL)
		sel_free(&sel);
	mi_free(&mi);
	/* --serve: stdout is the socket, not ours to report on. */
	if (o.mode != PEER_SERVE || o.listen != NULL) {
		c = bt_close_stdout("btpeer");
		if (c != 0)
			return c;
	}
	return rc;
}
