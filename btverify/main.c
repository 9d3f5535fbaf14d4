/*
 * btverify: checks every piece of a torrent's data, whichever client
 * wrote it, or of a spool. Report on stdout; exit 0 all good, 1 some
 * piece bad or missing, 2 error.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "metainfo.h"
#include "report.h"
#include "verify.h"

/* More threads than this only fight over the disk and the caches. */
#define MAX_JOBS	64

static const char usage[] =
    "usage: btverify [-hv] [--bitfield | --json] [-j jobs] [--version]\n"
    "                torrent dir\n"
    "       btverify [-hv] [--bitfield | --json] [-j jobs] [--version]\n"
    "                --spool spooldir torrent\n";

static int
bad_usage(const char *msg)
{
	if (msg != NULL)
		fprintf(stderr, "btverify: %s\n", msg);
	fputs(usage, stderr);
	return BT_EXIT_INPUT;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "bitfield", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "json", no_argument, NULL, 'J' },
		{ "spool", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct metainfo mi;
	struct vresult res;
	struct vopts vo;
	char err[BT_ERRLEN], *end;
	const char *dir = NULL;
	long n;
	int c, json = 0, bitfield = 0, verbose = 0, rc;

	memset(&vo, 0, sizeof(vo));
	n = sysconf(_SC_NPROCESSORS_ONLN);
	vo.jobs = n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : (int)n;
	while ((c = getopt_long(argc, argv, "hj:v", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bitfield = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return BT_EXIT_OK;
		case 'j':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 ||
			    n > MAX_JOBS)
				return bad_usage("-j wants a number of jobs "
				    "from 1 to 64");
			vo.jobs = (int)n;
			break;
		case 'J':
			json = 1;
			break;
		case 's':
			vo.spool = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			puts("btverify " BT_VERSION);
			return BT_EXIT_OK;
		default:
			return bad_usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (json && bitfield)
		return bad_usage("--json and --bitfield exclude each other");
	if (argc != (vo.spool != NULL ? 1 : 2))
		return bad_usage(NULL);
	if (vo.spool == NULL)
		dir = argv[1];
	vo.progress = isatty(STDERR_FILENO);

	if (mi_load(&mi, argv[0], err) == -1) {
		fprintf(stderr, "btverify: %s: %s\n", argv[0], err);
		return BT_EXIT_INPUT;
	}
	if (verify(&mi, dir, &vo, &res, err) == -1) {
		fprintf(stderr, "btverify: %s\n", err);
		mi_free(&mi);
		return BT_EXIT_INPUT;
	}
	for (size_t i = 0; i < mi.nfiles; i++) {
		if (res.file[i].status == FS_NOTFILE)
			fprintf(stderr, "btverify: %s: not a regular file\n",
			    mi.files[i].path);
		else if (res.file[i].status == FS_UNREADABLE)
			fprintf(stderr, "btverify: %s: %s\n",
			    mi.files[i].path, strerror(res.file[i].err));
	}
	if (verbose)
		fprintf(stderr, "btverify: %llu bytes in %.3f s, %.1f MB/s, "
		    "%d jobs\n", (unsigned long long)mi.total_length,
		    res.seconds, res.seconds > 0 ?
		    mi.total_length / res.seconds / 1e6 : 0.0, vo.jobs);
	if (json)
		rc = report_json(stdout, &mi, &res, vo.spool != NULL);
	else if (bitfield)
		rc = report_bitfield(stdout, &mi, &res);
	else
		rc = report_text(stdout, &mi, &res, verbose);
	if (rc == -1)
		fputs("btverify: report: out of memory\n", stderr);
	rc = rc == -1 ? BT_EXIT_INPUT : res.complete ? BT_EXIT_OK :
	    BT_EXIT_WORLD;
	vresult_free(&res);
	mi_free(&mi);
	c = bt_close_stdout("btverify");
	return c != 0 ? c : rc;
}
