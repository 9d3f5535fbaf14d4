/*
 * btinfo --lines: the fields a script needs, one a line, for `read`.
 *
 * Each line is a keyword, a tab, then the value; fields of a value are
 * tab-separated too. Text from the torrent has its control bytes, bytes
 * that are not UTF-8 and backslashes written as \xHH, so a value never
 * holds a tab or a newline
 * and a line is always one record. New keywords may be added; readers skip
 * the ones they do not know. The order is fixed: the single fields first,
 * then the repeated ones (tracker, web_seed, file; peer for magnets).
 */
#include <stdio.h>

#include "info.h"
#include "json.h"
#include "magnet.h"
#include "metainfo.h"

/* A field's text: control bytes, bad UTF-8 and backslash as \xHH. */
static void
putfield(FILE *f, const char *s)
{
	info_putsafe(f, s, 1);
}

static void
text(FILE *f, const char *key, const char *s)
{
	fprintf(f, "%s\t", key);
	putfield(f, s);
	putc('\n', f);
}

int
info_lines(FILE *f, const struct metainfo *mi)
{
	char hex[65];
	size_t i, j;

	text(f, "name", mi->name);
	hex_str(hex, mi->info_hash, 20);
	fprintf(f, "info_hash\t%s\n", hex);
	if (mi->has_v2) {
		hex_str(hex, mi->info_hash_v2, 32);
		fprintf(f, "info_hash_v2\t%s\n", hex);
	}
	fprintf(f, "piece_length\t%llu\n", (unsigned long long)mi->piece_length);
	fprintf(f, "piece_count\t%u\n", mi->npieces);
	fprintf(f, "total_length\t%llu\n", (unsigned long long)mi->total_length);
	fprintf(f, "private\t%d\n", mi->private ? 1 : 0);
	if (mi->unsafe)
		text(f, "unsafe", mi->unsafe_why);
	for (i = 0; i < mi->ntiers; i++)
		for (j = 0; j < mi->tiers[i].nurls; j++) {
			fprintf(f, "tracker\t%zu\t", i + 1);
			putfield(f, mi->tiers[i].urls[j]);
			putc('\n', f);
		}
	for (i = 0; i < mi->nwebseeds; i++)
		text(f, "web_seed", mi->webseeds[i]);
	for (i = 0; i < mi->nfiles; i++) {
		if (mi->files[i].pad)
			continue;
		fprintf(f, "file\t%llu\t",
		    (unsigned long long)mi->files[i].length);
		putfield(f, mi->files[i].path);
		fputs(mi->files[i].unsafe ? "\tunsafe\n" : "\n", f);
	}
	return 0;
}

int
info_magnet_lines(FILE *f, const struct magnet *m)
{
	char hex[65];
	size_t i;

	if (m->name != NULL)
		text(f, "name", m->name);
	if (m->has_v1) {
		hex_str(hex, m->info_hash, 20);
		fprintf(f, "info_hash\t%s\n", hex);
	}
	if (m->has_v2) {
		hex_str(hex, m->info_hash_v2, 32);
		fprintf(f, "info_hash_v2\t%s\n", hex);
	}
	if (m->has_length)
		fprintf(f, "total_length\t%llu\n", m->length);
	/* A magnet link's trackers are a tier each, as in the JSON. */
	for (i = 0; i < m->ntrackers; i++) {
		fprintf(f, "tracker\t%zu\t", i + 1);
		putfield(f, m->trackers[i]);
		putc('\n', f);
	}
	for (i = 0; i < m->nwebseeds; i++)
		text(f, "web_seed", m->webseeds[i]);
	for (i = 0; i < m->npeers; i++)
		text(f, "peer", m->peers[i]);
	return 0;
}
