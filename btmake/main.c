/*
 * btmake: create a .torrent (v1, v2 or hybrid) from a file or directory.
 * The torrent goes to standard output unless -o names a file, so that
 * `btmake dir | btinfo -` works.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt.h"
#include "util.h"
#include "buf.h"
#include "encode.h"
#include "hash.h"
#include "metainfo.h"
#include "scan.h"

static const char usage[] =
    "usage: btmake [-hpv] [-o out.torrent] [-a tracker[,tracker ...]] ... "
    "[-w webseed] ... [-l piece-size | auto] [-s source] [-c comment] "
    "[-j jobs] [--no-date] [--v1 | --v2 | --hybrid] [--hidden] [--follow] "
    "[--version] path\n";

/*
 * Auto piece size: the smallest power of two from 16 KiB to 16 MiB that
 * cuts the data into at most AUTO_PIECES pieces (so between 1024 and
 * 2048, except at the bounds), as mktorrent's and libtorrent's rules aim.
 */
#define AUTO_MIN	(16u << 10)
#define AUTO_MAX	(16u << 20)
#define AUTO_PIECES	2048

struct opts {
	const char	*out;
	const char	*piece;
	struct mkmeta	 meta;
	struct scanopts	 scan;
	struct hashopts	 hash;
	int		 verbose;
};

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL) {
		fputs("btmake: out of memory\n", stderr);
		exit(BT_EXIT_WORLD);
	}
	return p;
}

/* Splits a comma-separated list onto *v; 0, or -1 on an empty item. */
static int
add_urls(char ***v, size_t *n, char *arg)
{
	char *u, *save;

	if (*arg == '\0' || arg[strlen(arg) - 1] == ',' || *arg == ',' ||
	    strstr(arg, ",,") != NULL)
		return -1;
	for (u = strtok_r(arg, ",", &save); u != NULL;
	    u = strtok_r(NULL, ",", &save)) {
		if (strlen(u) > MI_MAX_URL)
			return -1;
		*v = xrealloc(*v, (*n + 1) * sizeof(char *));
		(*v)[(*n)++] = u;
	}
	return 0;
}

/* "auto", or bytes with an optional K, M or G (binary) suffix. */
static int
piece_size(const char *s, uint64_t total, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (strcmp(s, "auto") == 0) {
		for (v = AUTO_MIN; v < AUTO_MAX &&
		    (total + v - 1) / v > AUTO_PIECES; v <<= 1)
			;
		*out = v;
		return 0;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-')
		return -1;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	if (*end != '\0' || v < AUTO_MIN || v > MI_MAX_PIECE_LEN ||
	    (v & (v - 1)) != 0)
		return -1;
	*out = v;
	return 0;
}

static int
parse_args(struct opts *o, int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "no-date", no_argument, NULL, 'D' },
		{ "v1", no_argument, NULL, '1' },
		{ "v2", no_argument, NULL, '2' },
		{ "hybrid", no_argument, NULL, '3' },
		{ "hidden", no_argument, NULL, 'H' },
		{ "follow", no_argument, NULL, 'L' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct mkmeta *m = &o->meta;
	struct mktier *t;
	long j;
	int c;

	o->piece = "auto";
	m->mode = MK_V1;
	j = sysconf(_SC_NPROCESSORS_ONLN);
	o->hash.jobs = j < 1 ? 1 : j > MK_MAX_JOBS ? MK_MAX_JOBS : (int)j;
	while ((c = getopt_long(argc, argv, "a:c:hj:l:o:ps:vw:", lopts,
	    NULL)) != -1) {
		switch (c) {
		case 'a':
			m->tiers = xrealloc(m->tiers, (m->ntiers + 1) *
			    sizeof(*m->tiers));
			t = &m->tiers[m->ntiers++];
			memset(t, 0, sizeof(*t));
			if (add_urls(&t->urls, &t->nurls, optarg) == -1) {
				fprintf(stderr, "btmake: -a: bad tracker list "
				    "'%s'\n", optarg);
				return BT_EXIT_INPUT;
			}
			break;
		case 'c':
			m->comment = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(BT_EXIT_OK);
		case 'j':
			if (num_parse(optarg, 1, MK_MAX_JOBS, &j) == -1) {
				fprintf(stderr, "btmake: -j: want 1 to %d\n",
				    MK_MAX_JOBS);
				return BT_EXIT_INPUT;
			}
			o->hash.jobs = (int)j;
			break;
		case 'l':
			o->piece = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'p':
			m->private = 1;
			break;
		case 's':
			m->source = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'w':
			if (add_urls(&m->webseeds, &m->nwebseeds, optarg) == -1) {
				fprintf(stderr, "btmake: -w: bad web seed list "
				    "'%s'\n", optarg);
				return BT_EXIT_INPUT;
			}
			break;
		case 'D':
			m->no_date = 1;
			break;
		case '1':
		case '2':
		case '3':
			m->mode = c - '0';
			break;
		case 'H':
			o->scan.hidden = 1;
			break;
		case 'L':
			o->scan.follow = 1;
			break;
		case 'V':
			puts("btmake " BT_VERSION);
			exit(BT_EXIT_OK);
		default:
			fputs(usage, stderr);
			return BT_EXIT_INPUT;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return BT_EXIT_INPUT;
	}
	for (c = 0; c < (int)m->nwebseeds + 2; c++) {
		const char *s = c == 0 ? m->comment : c == 1 ? m->source :
		    m->webseeds[c - 2];

		if (s != NULL && !mk_utf8_ok((const unsigned char *)s,
		    strlen(s))) {
			fprintf(stderr, "btmake: '%s' is not valid UTF-8\n", s);
			return BT_EXIT_INPUT;
		}
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct mktree t;
	struct stat st;
	struct buf b;
	unsigned char *pieces = NULL;
	uint32_t npieces = 0;
	char err[BT_ERRLEN];
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&t, 0, sizeof(t));
	if ((rc = parse_args(&o, argc, argv)) != 0)
		goto out;
	if ((o.out == NULL || strcmp(o.out, "-") == 0) &&
	    isatty(STDOUT_FILENO)) {
		fputs("btmake: not writing a torrent to a terminal; use -o or "
		    "a pipe\n", stderr);
		rc = BT_EXIT_INPUT;
		goto out;
	}
	o.scan.order = o.meta.mode == MK_V1 ? MK_ORDER_PATH : MK_ORDER_TREE;
	/* A torrent made before into the directory is not part of it. */
	if (o.out != NULL && strcmp(o.out, "-") != 0 &&
	    stat(o.out, &st) == 0 && S_ISREG(st.st_mode)) {
		o.scan.skip = 1;
		o.scan.skip_dev = st.st_dev;
		o.scan.skip_ino = st.st_ino;
	}
	if ((rc = mk_scan(&t, argv[optind], &o.scan, err)) != 0) {
		fprintf(stderr, "btmake: %s\n", err);
		goto out;
	}
	if (t.skipped_links > 0)
		fprintf(stderr, "btmake: skipped %zu symbolic link%s "
		    "(--follow follows them)\n", t.skipped_links,
		    t.skipped_links > 1 ? "s" : "");
	if (o.verbose && t.skipped_out)
		fprintf(stderr, "btmake: left out %s, the output\n", o.out);
	if (o.verbose && t.skipped_hidden + t.skipped_other > 0)
		fprintf(stderr, "btmake: skipped %zu hidden names and %zu "
		    "special files\n", t.skipped_hidden, t.skipped_other);
	rc = BT_EXIT_INPUT;
	if (piece_size(o.piece, t.total, &o.meta.piece_len) == -1) {
		fprintf(stderr, "btmake: -l: '%s' is not auto nor a power of "
		    "two from 16K to %uM\n", o.piece, MI_MAX_PIECE_LEN >> 20);
		goto out;
	}
	if (o.verbose)
		fprintf(stderr, "btmake: %s: %zu files, %llu bytes, pieces of "
		    "%llu\n", t.name, t.nfiles, (unsigned long long)t.total,
		    (unsigned long long)o.meta.piece_len);
	o.hash.mode = o.meta.mode;
	o.hash.piece_len = o.meta.piece_len;
	o.hash.progress = isatty(STDERR_FILENO);
	if ((rc = mk_hash(&t, &o.hash, &pieces, &npieces, err)) != 0) {
		fprintf(stderr, "btmake: %s\n", err);
		goto out;
	}
	o.meta.date = (long long)time(NULL);
	buf_init(&b, MI_MAX_TORRENT);
	if (mk_encode(&b, &t, &o.meta, pieces, npieces, err) == -1) {
		fprintf(stderr, "btmake: %s\n", err);
		rc = BT_EXIT_INPUT;
	} else if (mk_check(&b, o.verbose) == -1)
		rc = BT_EXIT_INPUT;
	else
		rc = mk_write(o.out, &b) == -1 ? BT_EXIT_WORLD : BT_EXIT_OK;
	buf_free(&b);
out:
	free(pieces);
	mk_tree_free(&t);
	for (size_t i = 0; i < o.meta.ntiers; i++)
		free(o.meta.tiers[i].urls);
	free(o.meta.tiers);
	free(o.meta.webseeds);
	if (rc == BT_EXIT_OK && fclose(stdout) == EOF) {
		fprintf(stderr, "btmake: standard output: %s\n",
		    strerror(errno));
		rc = BT_EXIT_WORLD;
	}
	return rc;
}
