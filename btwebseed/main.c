/*
 * btwebseed: a BEP 19 web seed as a piece source beside btpeer. Claims
 * missing pieces in the shared spool, fetches their byte ranges from one
 * HTTP(S) server, checks and commits them. Event lines on stdout (those
 * of btpeer), traces on stderr with -v.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "bt.h"
#include "util.h"
#include "fetch.h"
#include "metainfo.h"
#include "proc.h"
#include "sandbox.h"
#include "select.h"
#include "spool.h"

/* Default seconds to connect, and of a stalled request. */
#define DEFAULT_TIMEOUT	30

static const char usage[] =
    "usage: btwebseed [-hv] [-j n] [--version] [--cacert file]"
    " [--files list] [--include glob] [--exclude glob] [--piece-log file]"
    " [--retries n] [--span n] [--strategy sequential|random|rarest]"
    " [--timeout seconds] --spool dir file.torrent url\n";

static int
bad_usage(const char *msg)
{
	if (msg != NULL)
		fprintf(stderr, "btwebseed: %s\n", msg);
	fputs(usage, stderr);
	return BT_EXIT_INPUT;
}

/*
 * The HTTP replies are a stranger's bytes: once the spool is open and
 * libcurl started, files only beneath the spool (and the system's
 * resolver and TLS files, read-only), no exec, no new process
 * (lib/sandbox.h, profile SANDBOX_CLIENT). 0, or the exit code.
 */
static int
confine(const struct wsf_opts *o, const char *spooldir)
{
	struct sandbox sb;
	char err[BT_ERRLEN], what[64];

	memset(&sb, 0, sizeof(sb));
	sb.profile = SANDBOX_CLIENT;
	sb.rw[0] = spooldir;
	sb.ro[0] = o->cacert;
	if (sandbox_apply(&sb, err) == -1) {
		fprintf(stderr, "btwebseed: sandbox: %s\n", err);
		return BT_EXIT_WORLD;
	}
	if (sb.warn[0] != '\0')
		fprintf(stderr, "btwebseed: warning: sandbox: %s; running "
		    "without it\n", sb.warn);
	if (o->verbose)
		fprintf(stderr, "btwebseed: sandbox: %s\n",
		    sandbox_describe(&sb, what, sizeof(what)));
	return 0;
}

static int
run(const struct wsf_opts *o, const char *spooldir,
    const struct metainfo *mi)
{
	struct spool sp;
	char err[BT_ERRLEN];
	int rc;

	if (spool_open(&sp, spooldir, mi, err) == -1) {
		fprintf(stderr, "btwebseed: spool: %s\n", err);
		return BT_EXIT_INPUT;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "btwebseed: curl_global_init failed\n");
		spool_close(&sp);
		return BT_EXIT_WORLD;
	}
	if ((rc = confine(o, spooldir)) == 0)
		rc = wsf_run(o, mi, &sp, stdout);
	curl_global_cleanup();
	spool_close(&sp);
	return rc;
}

int
main(int argc, char *argv[])
{
	enum { O_VERSION = 256, O_CACERT, O_RETRIES, O_SPAN, O_STRATEGY,
	    O_TIMEOUT, O_SPOOL, O_FILES, O_INCLUDE, O_EXCLUDE, O_PIECELOG };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "version", no_argument, NULL, O_VERSION },
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "span", required_argument, NULL, O_SPAN },
		{ "strategy", required_argument, NULL, O_STRATEGY },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "spool", required_argument, NULL, O_SPOOL },
		{ "files", required_argument, NULL, O_FILES },
		{ "include", required_argument, NULL, O_INCLUDE },
		{ "exclude", required_argument, NULL, O_EXCLUDE },
		{ "piece-log", required_argument, NULL, O_PIECELOG },
		{ NULL, 0, NULL, 0 }
	};
	struct wsf_opts o;
	struct metainfo mi;
	struct sel_spec spec;
	struct sel sel;
	const char *spooldir = NULL, *plog = NULL, *torrent;
	char err[BT_ERRLEN];
	long v;
	int c, rc;

	memset(&o, 0, sizeof(o));
	memset(&spec, 0, sizeof(spec));
	o.strategy = SPOOL_RAREST;
	o.jobs = WSF_JOBS_DEFAULT;
	o.timeout = DEFAULT_TIMEOUT;
	o.retries = WSF_RETRIES_DEFAULT;
	o.span = WSF_RUN_DEFAULT;
	o.piecelog = -1;
	while ((c = getopt_long(argc, argv, "hvj:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return BT_EXIT_OK;
		case 'v':
			o.verbose = 1;
			break;
		case 'j':
			if (num_parse(optarg, 1, WSF_JOBS_MAX, &v) == -1)
				return bad_usage("-j: want 1..64");
			o.jobs = (int)v;
			break;
		case O_VERSION:
			puts("btwebseed " BT_VERSION);
			return BT_EXIT_OK;
		case O_CACERT:
			o.cacert = optarg;
			break;
		case O_RETRIES:
			if (num_parse(optarg, 0, 100, &v) == -1)
				return bad_usage("--retries: want 0..100");
			o.retries = (int)v;
			break;
		case O_SPAN:
			if (num_parse(optarg, 1, WSF_RUN_MAX, &v) == -1)
				return bad_usage("--span: want 1..32");
			o.span = (int)v;
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
		case O_TIMEOUT:
			if (num_parse(optarg, 1, 86400, &v) == -1)
				return bad_usage("--timeout: want 1..86400");
			o.timeout = (int)v;
			break;
		case O_SPOOL:
			spooldir = optarg;
			break;
		case O_PIECELOG:
			plog = optarg;
			break;
		case O_FILES:
		case O_INCLUDE:
		case O_EXCLUDE:
			if (sel_spec_add(&spec, c == O_FILES ? 'f' :
			    c == O_INCLUDE ? 'i' : 'x', optarg, err) == -1)
				return bad_usage(err);
			break;
		default:
			return bad_usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		return bad_usage(NULL);
	torrent = argv[0];
	o.url = argv[1];
	if (spooldir == NULL)
		return bad_usage("--spool is needed");
	if (strncasecmp(o.url, "http://", 7) != 0 &&
	    strncasecmp(o.url, "https://", 8) != 0)
		return bad_usage("the web seed URL must be http:// or https://");
	if (strlen(o.url) > MI_MAX_URL)
		return bad_usage("the web seed URL is too long");
	/* Appended to by every piece source of the spool (piecelog.h). */
	if (plog != NULL && (o.piecelog = open(plog, O_WRONLY | O_APPEND |
	    O_CREAT | O_CLOEXEC, 0666)) == -1) {
		fprintf(stderr, "btwebseed: --piece-log %s: %s\n", plog,
		    strerror(errno));
		return bt_fail_exit(bt_fail_errno(errno));
	}
	if (bt_watch_parent() == -1)
		return BT_EXIT_WORLD;	/* our orchestrator is gone */
	if (mi_load(&mi, torrent, err) == -1) {
		fprintf(stderr, "btwebseed: %s: %s\n", torrent, err);
		return BT_EXIT_INPUT;
	}
	if (sel_spec_any(&spec)) {
		if (sel_build(&sel, &mi, &spec, err) == -1) {
			fprintf(stderr, "btwebseed: %s\n", err);
			mi_free(&mi);
			return BT_EXIT_INPUT;
		}
		o.sel = &sel;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = run(&o, spooldir, &mi);
	if (o.sel != NULL)
		sel_free(&sel);
	mi_free(&mi);
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF) {
		perror("btwebseed: writing output failed");
		return BT_EXIT_WORLD;
	}
	return rc;
}
