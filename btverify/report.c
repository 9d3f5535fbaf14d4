/*
 * report.c: btverify's outputs. The text report is a summary line, one
 * line per file that is not complete (every file with -v), then the bad
 * and missing pieces as ranges. The JSON report is one object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "report.h"

/* A report of four million piece numbers is about 40 MB; cap it there. */
#define REPORT_MAX	(256u << 20)

/* Prints the pieces in state st as "3 7-9 12", or "-" if none. */
static void
ranges(FILE *fp, const struct vresult *res, uint32_t n, int st)
{
	uint32_t i = 0, j;
	int any = 0;

	while (i < n) {
		if (res->piece[i] != st) {
			i++;
			continue;
		}
		for (j = i; j + 1 < n && res->piece[j + 1] == st; j++)
			;
		if (j == i)
			fprintf(fp, "%s%u", any ? " " : "", i);
		else
			fprintf(fp, "%s%u-%u", any ? " " : "", i, j);
		any = 1;
		i = j + 1;
	}
	if (!any)
		fputc('-', fp);
	fputc('\n', fp);
}

int
report_text(FILE *fp, const struct metainfo *mi, const struct vresult *res,
    int all)
{
	const struct vfile *vf;
	size_t i;

	fprintf(fp, "%s: %u pieces: %u good, %u bad, %u missing; "
	    "bytes: %llu good, %llu bad, %llu missing\n", mi->name,
	    mi->npieces, res->good, res->bad, res->missing,
	    (unsigned long long)res->good_bytes,
	    (unsigned long long)res->bad_bytes,
	    (unsigned long long)res->missing_bytes);
	for (i = 0; i < mi->nfiles; i++) {
		vf = &res->file[i];
		if (mi->files[i].pad || (!all && vf->status == FS_COMPLETE))
			continue;
		fprintf(fp, "%-10s %s", fstat_name(vf->status),
		    mi->files[i].path);
		if (vf->status == FS_WRONGSIZE)
			fprintf(fp, " (%llu bytes, want %llu)",
			    (unsigned long long)vf->size,
			    (unsigned long long)mi->files[i].length);
		else if (vf->status == FS_UNREADABLE)
			fprintf(fp, " (%s)", strerror(vf->err));
		fputc('\n', fp);
	}
	if (res->bad > 0) {
		fputs("bad pieces: ", fp);
		ranges(fp, res, mi->npieces, PS_BAD);
	}
	if (res->missing > 0) {
		fputs("missing pieces: ", fp);
		ranges(fp, res, mi->npieces, PS_MISSING);
	}
	return 0;
}

static void
list(struct jw *w, const char *key, const struct vresult *res, uint32_t n,
    int st)
{
	uint32_t i;

	jw_key(w, key);
	jw_arr(w);
	for (i = 0; i < n; i++)
		if (res->piece[i] == st)
			jw_uint(w, i);
	jw_end(w);
}

static void
bitfield_hex(struct buf *b, const struct metainfo *mi,
    const struct vresult *res)
{
	static const char hexd[] = "0123456789abcdef";
	uint32_t i;
	unsigned byte;

	for (i = 0; i < mi->npieces; i += 8) {
		byte = 0;
		for (uint32_t k = 0; k < 8 && i + k < mi->npieces; k++)
			if (res->piece[i + k] == PS_GOOD)
				byte |= 0x80u >> k;
		buf_addc(b, hexd[byte >> 4]);
		buf_addc(b, hexd[byte & 15]);
	}
}

int
report_json(FILE *fp, const struct metainfo *mi, const struct vresult *res,
    int spool)
{
	struct buf b, bits;
	struct jw w;
	const struct mi_file *f;
	const struct vfile *vf;
	char hex[41];
	size_t i, k;
	int rc = -1;

	buf_init(&b, REPORT_MAX);
	buf_init(&bits, REPORT_MAX);
	jw_init(&w, &b, 1);
	hex_str(hex, mi->info_hash, 20);
	jw_obj(&w);
	jw_key(&w, "name");
	jw_bytes(&w, mi->name, strlen(mi->name));
	jw_key(&w, "info_hash");
	jw_str(&w, hex);
	jw_key(&w, "source");
	jw_str(&w, spool ? "spool" : "files");
	jw_key(&w, "complete");
	jw_bool(&w, res->complete);
	jw_key(&w, "pieces");
	jw_uint(&w, mi->npieces);
	jw_key(&w, "piece_length");
	jw_uint(&w, mi->piece_length);
	jw_key(&w, "total_length");
	jw_uint(&w, mi->total_length);
	jw_key(&w, "good");
	jw_uint(&w, res->good);
	jw_key(&w, "bad");
	jw_uint(&w, res->bad);
	jw_key(&w, "missing");
	jw_uint(&w, res->missing);
	jw_key(&w, "good_bytes");
	jw_uint(&w, res->good_bytes);
	jw_key(&w, "bad_bytes");
	jw_uint(&w, res->bad_bytes);
	jw_key(&w, "missing_bytes");
	jw_uint(&w, res->missing_bytes);
	jw_key(&w, "milliseconds");
	jw_uint(&w, (uint64_t)(res->seconds * 1000 + 0.5));
	list(&w, "bad_pieces", res, mi->npieces, PS_BAD);
	list(&w, "missing_pieces", res, mi->npieces, PS_MISSING);
	bitfield_hex(&bits, mi, res);
	jw_key(&w, "bitfield");
	jw_strn(&w, bits.p == NULL ? "" : (const char *)bits.p, bits.len);
	jw_key(&w, "files");
	jw_arr(&w);
	for (i = 0; i < mi->nfiles; i++) {
		f = &mi->files[i];
		vf = &res->file[i];
		if (f->pad)
			continue;
		jw_obj(&w);
		/* The shape of btinfo's files: components, then the string. */
		jw_key(&w, "path");
		jw_arr(&w);
		jw_bytes(&w, mi->name, strlen(mi->name));
		for (k = 0; k < f->ncomps; k++)
			jw_bytes(&w, f->comps[k], strlen(f->comps[k]));
		jw_end(&w);
		jw_key(&w, "path_string");
		jw_bytes(&w, f->path, strlen(f->path));
		jw_key(&w, "length");
		jw_uint(&w, f->length);
		jw_key(&w, "status");
		jw_str(&w, fstat_name(vf->status));
		if (!spool) {
			jw_key(&w, "size");
			if (vf->exists && vf->status != FS_NOTFILE)
				jw_uint(&w, vf->size);
			else
				jw_null(&w);
		}
		if (vf->status == FS_UNREADABLE) {
			jw_key(&w, "error");
			jw_str(&w, strerror(vf->err));
		}
		jw_key(&w, "good_pieces");
		jw_uint(&w, vf->good);
		jw_key(&w, "bad_pieces");
		jw_uint(&w, vf->bad);
		jw_key(&w, "missing_pieces");
		jw_uint(&w, vf->missing);
		jw_end(&w);
	}
	jw_end(&w);
	jw_end(&w);
	if (jw_finish(&w) == 0 && bits.len == (mi->npieces + 7) / 8 * 2) {
		fwrite(b.p, 1, b.len, fp);
		rc = 0;
	}
	buf_free(&b);
	buf_free(&bits);
	return rc;
}

int
report_bitfield(FILE *fp, const struct metainfo *mi,
    const struct vresult *res)
{
	struct buf b;
	int rc = -1;

	buf_init(&b, REPORT_MAX);
	bitfield_hex(&b, mi, res);
	if (buf_addc(&b, '\n') == 0 &&
	    b.len == (mi->npieces + 7) / 8 * 2 + 1) {
		fwrite(b.p, 1, b.len, fp);
		rc = 0;
	}
	buf_free(&b);
	return rc;
}
