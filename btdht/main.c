/*
 * btdht: find peers for a torrent through the mainline DHT (BEP 5), and
 * announce to it; print the peers one IP:PORT a line, like btannounce.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "bt.h"
#include "btdht.h"
#include "magnet.h"
#include "metainfo.h"
#include "proc.h"
#include "util.h"

static const char usage[] =
    "usage: btdht [-fv] [-n host:port] [--interval seconds] [--port port]\n"
    "    [--state file] [--timeout seconds] peers target\n"
    "       btdht [-fv] [-n host:port] [--interval seconds] [--port port]\n"
    "    [--state file] [--timeout seconds] announce target port\n"
    "       btdht [-v] [-n host:port] [--port port] [--state file]\n"
    "    [--timeout seconds] ping host:port\n"
    "       btdht -h | --version\n";

/* A day: past any honest wait, still a bound. */
#define MAX_SECONDS	86400.0
/* -f looks up again this often by default: announces live 30 minutes
 * (BEP 5), and new peers arrive between lookups. */
#define DEFAULT_INTERVAL	300.0
#define DEFAULT_TIMEOUT		30.0

enum { O_INTERVAL = 256, O_PORT, O_STATE, O_TIMEOUT, O_VERSION };

static int
bad(const char *what, const char *val, const char *why)
{
	fprintf(stderr, "btdht: bad %s '%s': %s\n", what, val, why);
	return -1;
}

static int
seconds(const char *opt, const char *s, double min, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 ||
	    !(*v >= min && *v <= MAX_SECONDS))
		return bad(opt, s, "want seconds in range");
	return 0;
}

static int
port(const char *what, const char *s, int min, int *v)
{
	char *end;
	long l;

	errno = 0;
	l = strtol(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || l < min ||
	    l > 65535)
		return bad(what, s, "want a port number");
	*v = (int)l;
	return 0;
}

/* A torrent's "nodes": [["host", port], ...] (BEP 5), as "host:port". */
static void
torrent_nodes(const char *path, struct btdht_opts *o)
{
	unsigned char *data;
	const unsigned char *host;
	size_t len, hl;
	struct bval d, list, pair, h, p;
	struct biter it, pit;
	int64_t pn;
	char err[BT_ERRLEN], *s;

	if (read_file(path, MI_MAX_TORRENT, &data, &len, err) != 0)
		return;
	if (benc_parse(data, len, &d, err) == 0 && benc_type(d) == BENC_DICT &&
	    benc_dict_get(d, "nodes", &list) && benc_type(list) == BENC_LIST) {
		benc_iter(list, &it);
		while (benc_list_next(&it, &pair) &&
		    o->ntorrent_nodes < BTDHT_MAX_CONTACTS) {
			if (benc_type(pair) != BENC_LIST)
				continue;
			benc_iter(pair, &pit);
			if (!benc_list_next(&pit, &h) ||
			    !benc_list_next(&pit, &p) ||
			    benc_str(h, &host, &hl) != 0 || hl == 0 ||
			    hl > 253 || memchr(host, '\0', hl) != NULL ||
			    benc_int(p, &pn) != 0 || pn < 1 || pn > 65535 ||
			    (s = malloc(hl + 8)) == NULL)
				continue;
			memcpy(s, host, hl);
			snprintf(s + hl, 8, ":%d", (int)pn);
			o->torrent_nodes[o->ntorrent_nodes++] = s;
		}
	}
	free(data);
}

/* The info-hash from 40 hex digits, a magnet URI or a torrent file. */
static int
target(const char *t, struct btdht_opts *o)
{
	struct magnet mg;
	struct metainfo mi;
	char err[BT_ERRLEN];

	if (strlen(t) == 40 && hex_decode(o->ih, t, 20) == 0)
		return 0;
	if (strncmp(t, "magnet:", 7) == 0) {
		if (magnet_parse(&mg, t, err) != 0)
			return bad("magnet", t, err);
		if (!mg.has_v1) {
			magnet_free(&mg);
			return bad("magnet", t, "no BitTorrent v1 info-hash");
		}
		memcpy(o->ih, mg.info_hash, 20);
		magnet_free(&mg);
		return 0;
	}
	if (mi_load(&mi, t, err) != 0) {
		fprintf(stderr, "btdht: %s: %s\n", t, err);
		return -1;
	}
	if (mi.private) {
		mi_free(&mi);
		return bad("torrent", t, "private (BEP 27): not for the DHT");
	}
	memcpy(o->ih, mi.info_hash, 20);
	mi_free(&mi);
	if (strcmp(t, "-") != 0)
		torrent_nodes(t, o);
	return 0;
}

/* The command and its arguments; 0 or -1 (usage). */
static int
command(int argc, char **argv, struct btdht_opts *o)
{
	if (argc == 2 && strcmp(argv[0], "peers") == 0) {
		o->cmd = CMD_PEERS;
		return target(argv[1], o);
	}
	if (argc == 3 && strcmp(argv[0], "announce") == 0) {
		o->cmd = CMD_ANNOUNCE;
		if (port("port", argv[2], 1, &o->announce_port) != 0)
			return -1;
		return target(argv[1], o);
	}
	if (argc == 2 && strcmp(argv[0], "ping") == 0 && !o->follow) {
		o->cmd = CMD_PING;
		o->ping = argv[1];
		return 0;
	}
	fputs(usage, stderr);
	return -1;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "dht-node", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "port", required_argument, NULL, O_PORT },
		{ "state", required_argument, NULL, O_STATE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct btdht_opts o;
	int c, code, i, rc = 0;

	memset(&o, 0, sizeof(o));
	o.timeout = DEFAULT_TIMEOUT;
	o.interval = DEFAULT_INTERVAL;
	while (rc == 0 && (c = getopt_long(argc, argv, "fhn:v", opts,
	    NULL)) != -1) {
		switch (c) {
		case 'f':
			o.follow = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return BT_EXIT_OK;
		case 'n':
			if (strcmp(optarg, "-") == 0)
				o.stdin_nodes = 1;
			else if (o.nnodes == BTDHT_MAX_CONTACTS)
				rc = bad("--dht-node", optarg, "too many");
			else
				o.nodes[o.nnodes++] = optarg;
			break;
		case 'v':
			o.verbose++;
			break;
		case O_INTERVAL:
			rc = seconds("--interval", optarg, 10, &o.interval);
			break;
		case O_PORT:
			rc = port("--port", optarg, 0, &o.port);
			break;
		case O_STATE:
			o.state = optarg;
			break;
		case O_TIMEOUT:
			rc = seconds("--timeout", optarg, 0.1, &o.timeout);
			break;
		case O_VERSION:
			puts("btdht " BT_VERSION);
			return BT_EXIT_OK;
		default:
			rc = -1;
			fputs(usage, stderr);
			break;
		}
	}
	if (rc == 0 && o.stdin_nodes && !o.follow) {
		fputs("btdht: -n - needs -f\n", stderr);
		rc = -1;
	}
	if (rc != 0 || command(argc - optind, argv + optind, &o) != 0)
		code = BT_EXIT_INPUT;
	else if (bt_watch_parent() == -1)
		code = BT_EXIT_WORLD;	/* our orchestrator is gone */
	else
		code = btdht_run(&o);
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF) {
		perror("btdht: writing output failed");
		code = BT_EXIT_WORLD;
	}
	for (i = 0; i < o.ntorrent_nodes; i++)
		free((char *)o.torrent_nodes[i]);
	return code;
}
