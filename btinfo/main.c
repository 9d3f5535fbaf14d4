/*
 * btinfo: inspect a .torrent file (or a magnet URI). JSON on stdout by
 * default, so `btinfo x.torrent | jq` needs no flags; -s for people.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "buf.h"
#include "info.h"
#include "magnet.h"
#include "metainfo.h"

static const char usage[] =
    "usage: btinfo [-hps] [--version] [file | - | magnet-uri]\n";

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "pieces", no_argument, NULL, 'p' },
		{ "summary", no_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct metainfo mi;
	struct magnet mg;
	char err[BT_ERRLEN];
	const char *path;
	int c, pieces = 0, summary = 0, rc;

	while ((c = getopt_long(argc, argv, "hps", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return BT_EXIT_OK;
		case 'p':
			pieces = 1;
			break;
		case 's':
			summary = 1;
			break;
		case 'V':
			puts("btinfo " BT_VERSION);
			return BT_EXIT_OK;
		default:
			fputs(usage, stderr);
			return BT_EXIT_INPUT;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1) {
		fputs(usage, stderr);
		return BT_EXIT_INPUT;
	}
	path = argc == 1 ? argv[0] : "-";

	if (strncmp(path, "magnet:", 7) == 0) {
		if (magnet_parse(&mg, path, err) == -1) {
			fprintf(stderr, "btinfo: bad magnet URI: %s\n", err);
			return BT_EXIT_INPUT;
		}
		rc = summary ? info_magnet_summary(stdout, &mg) :
		    info_magnet_json(stdout, &mg);
		magnet_free(&mg);
	} else {
		if (mi_load(&mi, path, err) == -1) {
			fprintf(stderr, "btinfo: %s: %s\n",
			    strcmp(path, "-") == 0 ? "stdin" : path, err);
			return BT_EXIT_INPUT;
		}
		rc = summary ? info_summary(stdout, &mi, pieces) :
		    info_json(stdout, &mi, pieces);
		mi_free(&mi);
	}
	if (rc == -1) {
		fputs("btinfo: out of memory\n", stderr);
		return BT_EXIT_WORLD;
	}
	return bt_close_stdout("btinfo");
}
