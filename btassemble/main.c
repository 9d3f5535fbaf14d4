/*
 * btassemble: moves verified pieces from a spool into the torrent's final
 * files under an output directory, and out of the spool once durable.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "assemble.h"
#include "bt.h"
#include "metainfo.h"
#include "proc.h"

static const char usage[] =
    "usage: btassemble [-fhv] [--nosync] [--recheck] [--version]"
    " [--files list]\n"
    "                  [--include glob] [--exclude glob] --spool dir"
    " -o outdir torrent\n"
    "       btassemble --mark bitfield --spool dir -o outdir torrent\n";

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "files", required_argument, NULL, 'F' },
		{ "include", required_argument, NULL, 'I' },
		{ "exclude", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ "mark", required_argument, NULL, 'm' },
		{ "nosync", no_argument, NULL, 'N' },
		{ "output", required_argument, NULL, 'o' },
		{ "recheck", no_argument, NULL, 'R' },
		{ "spool", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct metainfo mi;
	struct aopts ao;
	struct sel_spec spec;
	struct sel sel;
	char err[BT_ERRLEN];
	const char *mark = NULL;
	uint32_t count;
	int c, rc;

	memset(&ao, 0, sizeof(ao));
	memset(&spec, 0, sizeof(spec));
	while ((c = getopt_long(argc, argv, "fho:v", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			ao.follow = 1;
			break;
		case 'F':
		case 'I':
		case 'X':
			if (sel_spec_add(&spec, c == 'F' ? 'f' : c == 'I' ?
			    'i' : 'x', optarg, err) == -1) {
				fprintf(stderr, "btassemble: %s\n", err);
				return BT_EXIT_INPUT;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return BT_EXIT_OK;
		case 'm':
			mark = optarg;
			break;
		case 'N':
			ao.nosync = 1;
			break;
		case 'o':
			ao.outdir = optarg;
			break;
		case 'R':
			ao.recheck = 1;
			break;
		case 's':
			ao.spool = optarg;
			break;
		case 'v':
			ao.verbose = 1;
			break;
		case 'V':
			puts("btassemble " BT_VERSION);
			return BT_EXIT_OK;
		default:
			fputs(usage, stderr);
			return BT_EXIT_INPUT;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || ao.spool == NULL || ao.outdir == NULL ||
	    (mark != NULL && ao.follow)) {
		fputs(usage, stderr);
		return BT_EXIT_INPUT;
	}
	if (bt_watch_parent() == -1)
		return BT_EXIT_WORLD;	/* our orchestrator is gone */
	if (mi_load(&mi, argv[0], err) == -1) {
		fprintf(stderr, "btassemble: %s: %s\n", argv[0], err);
		return BT_EXIT_INPUT;
	}
	ao.events = stdout;
	if (sel_spec_any(&spec)) {
		if (sel_build(&sel, &mi, &spec, err) == -1) {
			fprintf(stderr, "btassemble: %s\n", err);
			mi_free(&mi);
			return BT_EXIT_INPUT;
		}
		ao.sel = &sel;
	}
	if (mark != NULL) {
		rc = assemble_mark(&mi, &ao, mark, &count, err) == -1 ?
		    BT_EXIT_INPUT : BT_EXIT_OK;
		if (rc == BT_EXIT_OK)
			printf("%u\n", count);
	} else
		rc = assemble(&mi, &ao, err);
	if (rc != BT_EXIT_OK && err[0] != '\0')
		fprintf(stderr, "btassemble: %s\n", err);
	else if (rc != BT_EXIT_OK && ao.verbose)
		fprintf(stderr, "btassemble: incomplete, pieces missing\n");
	if (ao.sel != NULL)
		sel_free(&sel);
	mi_free(&mi);
	c = bt_close_stdout("btassemble");
	return rc == BT_EXIT_OK ? c : rc;
}
