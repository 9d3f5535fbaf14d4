/*
 * btannounce: ask a torrent's trackers (HTTP, HTTPS, UDP) for peers and
 * print them one IP:PORT a line, or the whole answer with --json, or the
 * swarm's counts with --scrape.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "announce.h"
#include "bt.h"
#include "metainfo.h"
#include "tracker.h"
#include "util.h"

static const char usage[] =
    "usage: btannounce [-ajsv] [--downloaded bytes] [--event event]\n"
    "    [--key hex] [--left bytes] [--numwant n] [--peer-id id]\n"
    "    [--port port] [-t url] [--timeout seconds] [--uploaded bytes]\n"
    "    torrent\n"
    "       btannounce -h | --version\n";

/* BEP 20 style: the project's prefix, then random bytes. */
#define PEER_ID_PREFIX	"-BT0100-"
/* An hour: past any tracker's patience, still a bound. */
#define MAX_TIMEOUT	3600.0

enum {
	O_DOWNLOADED = 256, O_EVENT, O_KEY, O_LEFT, O_NUMWANT, O_PEER_ID,
	O_PORT, O_TIMEOUT, O_UPLOADED, O_VERSION
};

static int
bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "btannounce: bad %s '%s': %s\n", opt, val, why);
	return -1;
}

/* An unsigned decimal no larger than max. */
static int
num(const char *opt, const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return bad(opt, s, "not a number");
	*v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || *v > max)
		return bad(opt, s, "not a number in range");
	return 0;
}

/* 20 bytes as they are, or 40 hex digits. */
static int
peer_id(const char *s, unsigned char id[20])
{
	size_t n = strlen(s);

	if (n == 20) {
		memcpy(id, s, 20);
		return 0;
	}
	if (n != 40)
		return bad("--peer-id", s, "want 20 bytes or 40 hex digits");
	if (hex_decode(id, s, 20) == -1)
		return bad("--peer-id", s, "not hex");
	return 0;
}

static int
option(int c, const char *arg, struct ann_opts *o, int *has_left,
    int *has_id)
{
	uint64_t v;
	double d;
	char *end;
	char **t;

	switch (c) {
	case 'a':
		o->all = 1;
		return 0;
	case 'j':
		o->json = 1;
		return 0;
	case 's':
		o->scrape = 1;
		return 0;
	case 'v':
		o->verbose++;
		return 0;
	case 't':
		if (strncasecmp(arg, "http://", 7) != 0 &&
		    strncasecmp(arg, "https://", 8) != 0 &&
		    strncasecmp(arg, "udp://", 6) != 0)
			return bad("-t", arg, "want an http, https or udp URL");
		t = realloc(o->trackers, (o->ntrackers + 1) * sizeof(*t));
		if (t == NULL || o->ntrackers >= ANN_MAX_TRACKERS)
			return bad("-t", arg, "too many trackers");
		o->trackers = t;
		o->trackers[o->ntrackers++] = (char *)arg;
		return 0;
	case O_DOWNLOADED:
		return num("--downloaded", arg, INT64_MAX, &o->p.downloaded);
	case O_UPLOADED:
		return num("--uploaded", arg, INT64_MAX, &o->p.uploaded);
	case O_LEFT:
		*has_left = 1;
		return num("--left", arg, INT64_MAX, &o->p.left);
	case O_PORT:
		if (num("--port", arg, 65535, &v) != 0)
			return -1;
		o->p.port = (uint16_t)v;
		return 0;
	case O_NUMWANT:
		if (num("--numwant", arg, TRK_MAX_PEERS, &v) != 0)
			return -1;
		o->p.numwant = (int32_t)v;
		return 0;
	case O_KEY:
		errno = 0;
		v = strtoull(arg, &end, 16);
		if (*arg == '\0' || *end != '\0' || errno != 0 ||
		    v > UINT32_MAX || strlen(arg) > 8 || hex_digit(*arg) < 0)
			return bad("--key", arg, "want 1 to 8 hex digits");
		o->p.key = (uint32_t)v;
		o->p.has_key = 1;
		return 0;
	case O_PEER_ID:
		*has_id = 1;
		return peer_id(arg, o->p.peer_id);
	case O_EVENT:
		if (trk_event_parse(arg, &o->p.event) != 0)
			return bad("--event", arg, "want started, completed "
			    "or stopped");
		return 0;
	case O_TIMEOUT:
		errno = 0;
		d = strtod(arg, &end);
		if (*arg < '0' || *arg > '9' || *end != '\0' || errno != 0 ||
		    !(d > 0 && d <= MAX_TIMEOUT))
			return bad("--timeout", arg, "want seconds, more than 0 "
			    "and at most 3600");
		o->timeout = d;
		return 0;
	default:
		return -1;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "downloaded", required_argument, NULL, O_DOWNLOADED },
		{ "event", required_argument, NULL, O_EVENT },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "key", required_argument, NULL, O_KEY },
		{ "left", required_argument, NULL, O_LEFT },
		{ "numwant", required_argument, NULL, O_NUMWANT },
		{ "peer-id", required_argument, NULL, O_PEER_ID },
		{ "port", required_argument, NULL, O_PORT },
		{ "scrape", no_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "tracker", required_argument, NULL, 't' },
		{ "uploaded", required_argument, NULL, O_UPLOADED },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct ann_opts o;
	struct metainfo mi;
	char err[BT_ERRLEN];
	int c, has_left = 0, has_id = 0, code;

	memset(&o, 0, sizeof(o));
	o.timeout = ANN_DEFAULT_TIMEOUT;
	o.p.port = 6881;
	o.p.numwant = -1;
	while ((c = getopt_long(argc, argv, "ahjst:v", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return BT_EXIT_OK;
		}
		if (c == O_VERSION) {
			puts("btannounce " BT_VERSION);
			return BT_EXIT_OK;
		}
		if (option(c, optarg, &o, &has_left, &has_id) != 0) {
			fputs(usage, stderr);
			free(o.trackers);
			return BT_EXIT_INPUT;
		}
	}
	if (argc - optind != 1) {
		fputs(usage, stderr);
		free(o.trackers);
		return BT_EXIT_INPUT;
	}
	if (mi_load(&mi, argv[optind], err) != 0) {
		fprintf(stderr, "btannounce: %s: %s\n", argv[optind], err);
		free(o.trackers);
		return BT_EXIT_INPUT;
	}
	if (mi.ntiers == 0 && o.ntrackers == 0) {
		fprintf(stderr, "btannounce: %s: the torrent names no tracker "
		    "(give one with -t)\n", argv[optind]);
		code = BT_EXIT_INPUT;
		goto out;
	}
	memcpy(o.p.info_hash, mi.info_hash, 20);
	if (!has_left)
		o.p.left = mi.total_length;
	if (!has_id)
		memcpy(o.p.peer_id, PEER_ID_PREFIX, 8);
	if ((!has_id && ann_random(o.p.peer_id + 8, 12) != 0) ||
	    (!o.p.has_key && ann_random(&o.p.key, sizeof(o.p.key)) != 0)) {
		perror("btannounce: getrandom");
		code = BT_EXIT_WORLD;
		goto out;
	}
	o.p.has_key = 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("btannounce: cannot start libcurl\n", stderr);
		code = BT_EXIT_WORLD;
		goto out;
	}
	code = ann_run(&mi, &o, stdout);
	curl_global_cleanup();
	if (bt_close_stdout("btannounce") != 0)
		code = BT_EXIT_WORLD;
out:
	mi_free(&mi);
	free(o.trackers);
	return code;
}
