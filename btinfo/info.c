/* btinfo's outputs: the JSON document and the human summary. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "info.h"
#include "json.h"
#include "magnet.h"
#include "metainfo.h"

/* The JSON text is built in memory; 2 GiB is past any torrent's worth. */
#define INFO_MAX_OUT	((size_t)2 << 30)

static int
flush(FILE *f, struct buf *b, int rc)
{
	if (rc == 0 && fwrite(b->p, 1, b->len, f) != b->len)
		rc = -1;
	buf_free(b);
	return rc;
}

static void
jw_hex(struct jw *w, const unsigned char *s, size_t n)
{
	char hex[65];

	hex_str(hex, s, n);
	jw_str(w, hex);
}

int
info_json(FILE *f, const struct metainfo *mi, int pieces)
{
	struct buf b;
	struct jw w;
	char *magnet;
	size_t i, j;

	buf_init(&b, INFO_MAX_OUT);
	jw_init(&w, &b, 1);
	jw_obj(&w);
	jw_key(&w, "name");
	jw_bytes(&w, mi->name, strlen(mi->name));
	jw_key(&w, "info_hash");
	jw_hex(&w, mi->info_hash, 20);
	if (mi->has_v2) {
		jw_key(&w, "info_hash_v2");
		jw_hex(&w, mi->info_hash_v2, 32);
	}
	jw_key(&w, "piece_length");
	jw_uint(&w, mi->piece_length);
	jw_key(&w, "piece_count");
	jw_uint(&w, mi->npieces);
	jw_key(&w, "total_length");
	jw_uint(&w, mi->total_length);
	jw_key(&w, "multi_file");
	jw_bool(&w, mi->multi);
	jw_key(&w, "private");
	jw_bool(&w, mi->private);
	if (mi->unsafe) {
		jw_key(&w, "unsafe");
		jw_str(&w, mi->unsafe_why);
	}
	jw_key(&w, "files");
	jw_arr(&w);
	for (i = 0; i < mi->nfiles; i++) {
		const struct mi_file *mf = &mi->files[i];

		jw_obj(&w);
		jw_key(&w, "path");
		jw_arr(&w);
		if (mi->multi) {
			jw_bytes(&w, mi->name, strlen(mi->name));
			for (j = 0; j < mf->ncomps; j++)
				jw_bytes(&w, mf->comps[j],
				    strlen(mf->comps[j]));
		} else
			jw_bytes(&w, mi->name, strlen(mi->name));
		jw_end(&w);
		jw_key(&w, "path_string");
		jw_bytes(&w, mf->path, strlen(mf->path));
		jw_key(&w, "length");
		jw_uint(&w, mf->length);
		jw_key(&w, "offset");
		jw_uint(&w, mf->offset);
		if (mf->pad) {
			jw_key(&w, "pad");
			jw_bool(&w, 1);
		}
		if (mf->unsafe) {
			jw_key(&w, "unsafe");
			jw_bool(&w, 1);
		}
		if (mf->attr[0] != '\0') {
			jw_key(&w, "attr");
			jw_str(&w, mf->attr);
		}
		jw_end(&w);
	}
	jw_end(&w);
	jw_key(&w, "trackers");
	jw_arr(&w);
	for (i = 0; i < mi->ntiers; i++) {
		jw_arr(&w);
		for (j = 0; j < mi->tiers[i].nurls; j++)
			jw_bytes(&w, mi->tiers[i].urls[j],
			    strlen(mi->tiers[i].urls[j]));
		jw_end(&w);
	}
	jw_end(&w);
	jw_key(&w, "web_seeds");
	jw_arr(&w);
	for (i = 0; i < mi->nwebseeds; i++)
		jw_bytes(&w, mi->webseeds[i], strlen(mi->webseeds[i]));
	jw_end(&w);
	jw_key(&w, "nodes");
	jw_arr(&w);
	for (i = 0; i < mi->nnodes; i++) {
		jw_arr(&w);
		jw_bytes(&w, mi->nodes[i].host, strlen(mi->nodes[i].host));
		jw_uint(&w, mi->nodes[i].port);
		jw_end(&w);
	}
	jw_end(&w);
	jw_key(&w, "source");
	mi->source ? jw_bytes(&w, mi->source, strlen(mi->source)) :
	    jw_null(&w);
	jw_key(&w, "comment");
	mi->comment ? jw_bytes(&w, mi->comment, strlen(mi->comment)) :
	    jw_null(&w);
	jw_key(&w, "created_by");
	mi->created_by ? jw_bytes(&w, mi->created_by,
	    strlen(mi->created_by)) : jw_null(&w);
	jw_key(&w, "creation_date");
	mi->has_creation_date ? jw_int(&w, mi->creation_date) : jw_null(&w);
	if (mi->encoding != NULL) {
		jw_key(&w, "encoding");
		jw_bytes(&w, mi->encoding, strlen(mi->encoding));
	}
	jw_key(&w, "magnet");
	if ((magnet = mi_magnet(mi)) == NULL) {
		buf_free(&b);
		return -1;
	}
	jw_str(&w, magnet);
	free(magnet);
	if (pieces) {
		jw_key(&w, "pieces");
		jw_arr(&w);
		for (uint32_t p = 0; p < mi->npieces; p++)
			jw_hex(&w, mi->pieces + 20 * (size_t)p, 20);
		jw_end(&w);
	}
	jw_end(&w);
	return flush(f, &b, jw_finish(&w));
}

/* The length of the UTF-8 sequence a lead byte starts; 0 if none. */
static size_t
seqlen(unsigned char c)
{
	return c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 :
	    c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
}

void
info_putsafe(FILE *f, const char *s, int backslash)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, avail;

	while (*p != '\0') {
		n = seqlen(*p);
		for (avail = 0; avail < n && p[avail] != '\0'; avail++)
			;
		if (n == 1 && *p >= 0x20 && *p != 0x7f &&
		    !(backslash && *p == '\\'))
			putc(*p, f);
		else if (n > 1 && avail == n && utf8_valid(p, n) &&
		    !(p[0] == 0xc2 && p[1] < 0xa0))	/* C1 controls */
			fwrite(p, 1, n, f);
		else {
			fprintf(f, "\\x%02x", *p);
			n = 1;
		}
		p += n;
	}
}

/* Text from a torrent is a stranger's: no control bytes to a terminal. */
static void
putsafe(FILE *f, const char *s)
{
	info_putsafe(f, s, 0);
}

static void
human(char *out, size_t n, uint64_t v)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB",
	    "PiB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, n, "%llu B", (unsigned long long)v);
	else
		snprintf(out, n, "%.1f %s", d, units[u]);
}

int
info_summary(FILE *f, const struct metainfo *mi, int pieces)
{
	char hex[65], size[32], psize[32], date[64];
	struct tm tm;
	time_t t;
	size_t i, j;

	fputs("name:       ", f);
	putsafe(f, mi->name);
	hex_str(hex, mi->info_hash, 20);
	fprintf(f, "\ninfo hash:  %s\n", hex);
	if (mi->has_v2) {
		hex_str(hex, mi->info_hash_v2, 32);
		fprintf(f, "v2 hash:    %s\n", hex);
	}
	human(size, sizeof(size), mi->total_length);
	human(psize, sizeof(psize), mi->piece_length);
	fprintf(f, "size:       %s (%llu bytes)\n", size,
	    (unsigned long long)mi->total_length);
	fprintf(f, "pieces:     %u x %s\n", mi->npieces, psize);
	fprintf(f, "private:    %s\n", mi->private ? "yes" : "no");
	if (mi->unsafe)
		fprintf(f, "unsafe:     %s\n", mi->unsafe_why);
	if (mi->comment != NULL) {
		fputs("comment:    ", f);
		putsafe(f, mi->comment);
		putc('\n', f);
	}
	if (mi->created_by != NULL) {
		fputs("created by: ", f);
		putsafe(f, mi->created_by);
		putc('\n', f);
	}
	if (mi->has_creation_date) {
		t = (time_t)mi->creation_date;
		if (gmtime_r(&t, &tm) != NULL &&
		    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm))
			fprintf(f, "created:    %s\n", date);
	}
	for (i = 0; i < mi->ntiers; i++)
		for (j = 0; j < mi->tiers[i].nurls; j++) {
			fprintf(f, "tracker:    tier %zu: ", i + 1);
			putsafe(f, mi->tiers[i].urls[j]);
			putc('\n', f);
		}
	for (i = 0; i < mi->nwebseeds; i++) {
		fputs("web seed:   ", f);
		putsafe(f, mi->webseeds[i]);
		putc('\n', f);
	}
	fprintf(f, "files:      %zu\n", mi->nfiles);
	for (i = 0; i < mi->nfiles; i++) {
		if (mi->files[i].pad)
			continue;
		human(size, sizeof(size), mi->files[i].length);
		fprintf(f, "  %10s  ", size);
		putsafe(f, mi->files[i].path);
		fputs(mi->files[i].unsafe ? "  (unsafe path)\n" : "\n", f);
	}
	if (pieces)
		for (uint32_t p = 0; p < mi->npieces; p++) {
			hex_str(hex, mi->pieces + 20 * (size_t)p, 20);
			fprintf(f, "piece %u: %s\n", p, hex);
		}
	return 0;
}

int
info_magnet_json(FILE *f, const struct magnet *m)
{
	struct buf b;
	struct jw w;
	size_t i;

	buf_init(&b, INFO_MAX_OUT);
	jw_init(&w, &b, 1);
	jw_obj(&w);
	jw_key(&w, "name");
	m->name ? jw_bytes(&w, m->name, strlen(m->name)) : jw_null(&w);
	jw_key(&w, "info_hash");
	jw_hex(&w, m->info_hash, 20);
	if (m->has_v2) {
		jw_key(&w, "info_hash_v2");
		jw_hex(&w, m->info_hash_v2, 32);
	}
	jw_key(&w, "trackers");
	jw_arr(&w);
	for (i = 0; i < m->ntrackers; i++) {
		jw_arr(&w);
		jw_bytes(&w, m->trackers[i], strlen(m->trackers[i]));
		jw_end(&w);
	}
	jw_end(&w);
	jw_key(&w, "peers");
	jw_arr(&w);
	for (i = 0; i < m->npeers; i++)
		jw_bytes(&w, m->peers[i], strlen(m->peers[i]));
	jw_end(&w);
	jw_key(&w, "web_seeds");
	jw_arr(&w);
	for (i = 0; i < m->nwebseeds; i++)
		jw_bytes(&w, m->webseeds[i], strlen(m->webseeds[i]));
	jw_end(&w);
	if (m->has_length) {
		jw_key(&w, "total_length");
		jw_uint(&w, m->length);
	}
	jw_end(&w);
	return flush(f, &b, jw_finish(&w));
}

int
info_magnet_summary(FILE *f, const struct magnet *m)
{
	char hex[65], size[32];

	fputs("name:       ", f);
	putsafe(f, m->name ? m->name : "(none)");
	hex_str(hex, m->info_hash, 20);
	fprintf(f, "\ninfo hash:  %s\n", hex);
	if (m->has_length) {
		human(size, sizeof(size), m->length);
		fprintf(f, "size:       %s (%llu bytes)\n", size, m->length);
	}
	for (size_t i = 0; i < m->ntrackers; i++) {
		fputs("tracker:    ", f);
		putsafe(f, m->trackers[i]);
		putc('\n', f);
	}
	for (size_t i = 0; i < m->nwebseeds; i++) {
		fputs("web seed:   ", f);
		putsafe(f, m->webseeds[i]);
		putc('\n', f);
	}
	for (size_t i = 0; i < m->npeers; i++) {
		fputs("peer:       ", f);
		putsafe(f, m->peers[i]);
		putc('\n', f);
	}
	return 0;
}
