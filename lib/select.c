/* select.c: a torrent's wanted files and pieces (select.h). */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "select.h"

int
sel_spec_add(struct sel_spec *s, int kind, const char *arg, char *err)
{
	switch (kind) {
	case 'f':
		s->files = arg;
		return 0;
	case 'i':
		if (s->ninc == SEL_MAX_GLOBS)
			return bt_err(err, "more than %d --include globs",
			    SEL_MAX_GLOBS);
		s->inc[s->ninc++] = arg;
		return 0;
	default:
		if (s->nexc == SEL_MAX_GLOBS)
			return bt_err(err, "more than %d --exclude globs",
			    SEL_MAX_GLOBS);
		s->exc[s->nexc++] = arg;
		return 0;
	}
}

int
sel_spec_any(const struct sel_spec *s)
{
	return s->files != NULL || s->ninc > 0 || s->nexc > 0;
}

/* A decimal number from 1 to max at *pp, advancing it. 0 if none. */
static uint32_t
number(const char **pp, uint32_t max)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p++ - '0');
		if (v > max)
			return 0;
	}
	*pp = p;
	return (uint32_t)v;
}

/* "1,3-5": marks the numbered files in byno (index: number - 1). */
static int
parse_list(const char *list, uint32_t n, unsigned char *byno, char *err)
{
	const char *p = list;
	uint32_t a, b, k;

	for (;;) {
		if ((a = number(&p, n)) == 0)
			return bt_err(err, "--files '%s': want numbers 1 to %u "
			    "(as btinfo shows them), like 1,3-5", list, n);
		b = a;
		if (*p == '-') {
			p++;
			if ((b = number(&p, n)) == 0 || b < a)
				return bt_err(err, "--files '%s': a bad range",
				    list);
		}
		for (k = a; k <= b; k++)
			byno[k - 1] = 1;
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			return bt_err(err, "--files '%s': want numbers and "
			    "ranges separated by commas", list);
	}
}

static int
matches(const char *const *globs, int n, const char *path)
{
	int k;

	for (k = 0; k < n; k++)
		if (fnmatch(globs[k], path, 0) == 0)
			return 1;
	return 0;
}

uint32_t
sel_number(const struct metainfo *mi, size_t f)
{
	uint32_t no = 0;
	size_t k;

	if (mi->files[f].pad)
		return 0;
	for (k = 0; k <= f; k++)
		if (!mi->files[k].pad)
			no++;
	return no;
}

int
sel_build(struct sel *s, const struct metainfo *mi,
    const struct sel_spec *spec, char *err)
{
	unsigned char *byno = NULL;
	const struct mi_file *f;
	uint32_t n = 0, no = 0, nwanted = 0, i, last;
	size_t k;
	int r = -1;

	memset(s, 0, sizeof(*s));
	for (k = 0; k < mi->nfiles; k++)
		n += !mi->files[k].pad;
	s->file = calloc(mi->nfiles + 1, 1);
	s->piece = calloc(((size_t)mi->npieces + 63) / 64 + 1, 8);
	byno = calloc((size_t)n + 1, 1);
	if (s->file == NULL || s->piece == NULL || byno == NULL) {
		bt_err(err, "out of memory");
		goto out;
	}
	if (spec->files != NULL && parse_list(spec->files, n, byno, err) == -1)
		goto out;
	s->all = 1;
	for (k = 0; k < mi->nfiles; k++) {
		f = &mi->files[k];
		if (f->pad)
			continue;
		no++;
		if (spec->files == NULL && spec->ninc == 0)
			s->file[k] = 1;
		else
			s->file[k] = byno[no - 1] ||
			    matches(spec->inc, spec->ninc, f->path);
		if (matches(spec->exc, spec->nexc, f->path))
			s->file[k] = 0;
		if (!s->file[k]) {
			s->all = 0;
			continue;
		}
		s->bytes += f->length;
		nwanted++;
		if (f->length == 0 || mi->piece_length == 0)
			continue;
		last = (uint32_t)((f->offset + f->length - 1) /
		    mi->piece_length);
		for (i = (uint32_t)(f->offset / mi->piece_length); i <= last;
		    i++)
			s->piece[i / 64] |= (uint64_t)1 << (i % 64);
	}
	for (i = 0; i < mi->npieces; i++)
		s->npieces += sel_piece(s, i);
	if (nwanted == 0 && n > 0) {
		bt_err(err, "the selection leaves no file to download");
		goto out;
	}
	r = 0;
out:
	free(byno);
	if (r == -1)
		sel_free(s);
	return r;
}

void
sel_free(struct sel *s)
{
	free(s->file);
	free(s->piece);
	s->file = NULL;
	s->piece = NULL;
}

int
sel_piece(const struct sel *s, uint32_t i)
{
	return s->all || ((s->piece[i / 64] >> (i % 64)) & 1);
}

int
sel_file(const struct sel *s, size_t f)
{
	return s->file[f];
}

int
sel_straddles(const struct sel *s, const struct metainfo *mi, uint32_t i)
{
	uint64_t off = (uint64_t)i * mi->piece_length;
	uint64_t end = off + mi_piece_size(mi, i);
	size_t lo = 0, hi = mi->nfiles, mid, k;

	if (s->all)
		return 0;
	/* The first file ending after off: files are in offset order. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (mi->files[mid].offset + mi->files[mid].length <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k < mi->nfiles && mi->files[k].offset < end; k++)
		if (!mi->files[k].pad && !s->file[k] &&
		    mi->files[k].length > 0)
			return 1;
	return 0;
}
