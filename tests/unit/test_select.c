/* test_select.c: choosing files, and the pieces that follows (select.h). */
#include <string.h>

#include "bt.h"
#include "metainfo.h"
#include "select.h"
#include "t.h"

/* Files of 10, 0 and 25 bytes ("t/a", "t/b", "t/sub/c"), pieces of 16. */
static const char plain[] =
    "d4:infod5:filesl"
    "d6:lengthi10e4:pathl1:aee"
    "d6:lengthi0e4:pathl1:bee"
    "d6:lengthi25e4:pathl3:sub1:cee"
    "e4:name1:t12:piece lengthi16e6:pieces60:"
    "AAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCCCCC"
    "ee";

/* The same with a BEP 47 pad file after "a", up to the piece boundary. */
static const char padded[] =
    "d4:infod5:filesl"
    "d6:lengthi10e4:pathl1:aee"
    "d4:attr1:p6:lengthi6e4:pathl4:.pad1:6ee"
    "d6:lengthi0e4:pathl1:bee"
    "d6:lengthi25e4:pathl3:sub1:cee"
    "e4:name1:t12:piece lengthi16e6:pieces60:"
    "AAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCCCCC"
    "ee";

static int
build(struct sel *s, const struct metainfo *mi, const char *files,
    const char *inc, const char *exc)
{
	struct sel_spec spec;
	char err[BT_ERRLEN];

	memset(&spec, 0, sizeof(spec));
	if (files != NULL)
		sel_spec_add(&spec, 'f', files, err);
	if (inc != NULL)
		sel_spec_add(&spec, 'i', inc, err);
	if (exc != NULL)
		sel_spec_add(&spec, 'x', exc, err);
	return sel_build(s, mi, &spec, err);
}

static void
lists(void)
{
	struct metainfo mi;
	struct sel s;
	char err[BT_ERRLEN];
	const char *bad[] = { "", "0", "4", "1-", "3-1", "1,,2", "a", "1;2",
	    "99999999999", "-1", "1,", NULL };
	int k;

	CHECK(mi_parse(&mi, plain, sizeof(plain) - 1, err) == 0);
	for (k = 0; bad[k] != NULL; k++) {
		CHECK(build(&s, &mi, bad[k], NULL, NULL) == -1);
		if (build(&s, &mi, bad[k], NULL, NULL) == 0) {
			printf("#   accepted '%s'\n", bad[k]);
			sel_free(&s);
		}
	}
	CHECK(build(&s, &mi, "1-3", NULL, NULL) == 0);
	CHECK(s.all && s.npieces == 3 && s.bytes == 35);
	sel_free(&s);
	/* The empty file left out: not everything, though every piece. */
	CHECK(build(&s, &mi, "3,1", NULL, NULL) == 0);
	CHECK(!s.all && s.npieces == 3 && !sel_file(&s, 1));
	sel_free(&s);
	mi_free(&mi);
}

static void
pieces(void)
{
	struct metainfo mi;
	struct sel s;
	char err[BT_ERRLEN];

	CHECK(mi_parse(&mi, plain, sizeof(plain) - 1, err) == 0);
	/* Nothing chosen: everything. */
	CHECK(build(&s, &mi, NULL, NULL, NULL) == 0);
	CHECK(s.all && s.npieces == 3 && sel_piece(&s, 2));
	CHECK(!sel_straddles(&s, &mi, 0));
	sel_free(&s);
	/* "a" alone: piece 0, which straddles into "c". */
	CHECK(build(&s, &mi, "1", NULL, NULL) == 0);
	CHECK(!s.all && s.npieces == 1 && s.bytes == 10);
	CHECK(sel_piece(&s, 0) && !sel_piece(&s, 1) && !sel_piece(&s, 2));
	CHECK(sel_file(&s, 0) && !sel_file(&s, 1) && !sel_file(&s, 2));
	CHECK(sel_straddles(&s, &mi, 0));
	sel_free(&s);
	/* "c": every piece; 0 straddles into "a", the rest do not. */
	CHECK(build(&s, &mi, NULL, "t/sub/*", NULL) == 0);
	CHECK(s.npieces == 3 && s.bytes == 25);
	CHECK(sel_straddles(&s, &mi, 0) && !sel_straddles(&s, &mi, 1) &&
	    !sel_straddles(&s, &mi, 2));
	sel_free(&s);
	/* A zero-length file alone is a selection, of no piece. */
	CHECK(build(&s, &mi, "2", NULL, NULL) == 0);
	CHECK(s.npieces == 0 && s.bytes == 0 && sel_file(&s, 1));
	sel_free(&s);
	/* `*` crosses '/'; excluding wins over including. */
	CHECK(build(&s, &mi, "1", "*c", "t/a") == 0);
	CHECK(!sel_file(&s, 0) && sel_file(&s, 2));
	sel_free(&s);
	/* Nothing left. */
	CHECK(build(&s, &mi, NULL, NULL, "*") == -1);
	CHECK(build(&s, &mi, NULL, "nomatch", NULL) == -1);
	mi_free(&mi);
}

static void
pads(void)
{
	struct metainfo mi;
	struct sel s;
	char err[BT_ERRLEN];

	CHECK(mi_parse(&mi, padded, sizeof(padded) - 1, err) == 0);
	CHECK(mi.nfiles == 4 && mi.files[1].pad);
	/* Numbers leave the pad out. */
	CHECK(sel_number(&mi, 0) == 1 && sel_number(&mi, 1) == 0 &&
	    sel_number(&mi, 2) == 2 && sel_number(&mi, 3) == 3);
	CHECK(build(&s, &mi, "4", NULL, NULL) == -1);
	/* "a" and its padding fill piece 0: no straddle. */
	CHECK(build(&s, &mi, "1", NULL, NULL) == 0);
	CHECK(s.npieces == 1 && sel_piece(&s, 0));
	CHECK(!sel_straddles(&s, &mi, 0));
	sel_free(&s);
	CHECK(build(&s, &mi, "3", NULL, NULL) == 0);
	CHECK(s.npieces == 2 && !sel_piece(&s, 0));
	CHECK(!sel_straddles(&s, &mi, 1));
	sel_free(&s);
	mi_free(&mi);
}

static void
globs(void)
{
	struct sel_spec spec;
	char err[BT_ERRLEN];
	int k;

	memset(&spec, 0, sizeof(spec));
	CHECK(!sel_spec_any(&spec));
	for (k = 0; k < SEL_MAX_GLOBS; k++)
		CHECK(sel_spec_add(&spec, 'i', "*", err) == 0);
	CHECK(sel_spec_add(&spec, 'i', "*", err) == -1);
	CHECK(sel_spec_any(&spec));
}

int
main(void)
{
	RUN(lists);
	RUN(pieces);
	RUN(pads);
	RUN(globs);
	DONE();
}
