/* test_storage.c: lib/storage: byte ranges to file segments, openat walks. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "metainfo.h"
#include "storage.h"
#include "t.h"

/* Three files of 10, 0 and 25 bytes, pieces of 16: 3 pieces. */
static const char torrent[] =
    "d4:infod5:filesl"
    "d6:lengthi10e4:pathl1:aee"
    "d6:lengthi0e4:pathl1:bee"
    "d6:lengthi25e4:pathl3:sub1:cee"
    "e4:name1:t12:piece lengthi16e6:pieces60:"
    "AAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCCCCC"
    "ee";

static void
segments(void)
{
	struct metainfo mi;
	struct st_seg seg[4];
	char err[BT_ERRLEN];
	size_t n;

	CHECK(mi_parse(&mi, torrent, sizeof(torrent) - 1, err) == 0);
	/* Piece 0: a[0..10) then sub/c[0..6); the empty file skipped. */
	n = st_segments(&mi, 0, 16, seg, 4);
	CHECK(n == 2);
	CHECK(seg[0].file == 0 && seg[0].foff == 0 && seg[0].boff == 0 &&
	    seg[0].len == 10);
	CHECK(seg[1].file == 2 && seg[1].foff == 0 && seg[1].boff == 10 &&
	    seg[1].len == 6);
	/* The last piece, 3 bytes. */
	CHECK(mi_piece_size(&mi, 2) == 3);
	n = st_segments(&mi, 32, 3, seg, 4);
	CHECK(n == 1 && seg[0].file == 2 && seg[0].foff == 22 &&
	    seg[0].len == 3);
	/* A cap of one segment, then the rest from where it stopped. */
	n = st_segments(&mi, 5, 20, seg, 1);
	CHECK(n == 1 && seg[0].len == 5);
	n = st_segments(&mi, 10, 15, seg, 4);
	CHECK(n == 1 && seg[0].file == 2 && seg[0].len == 15);
	CHECK(st_segments(&mi, 35, 1, seg, 4) == 0);
	CHECK(st_segments(&mi, 0, 0, seg, 4) == 0);
	mi_free(&mi);
}

static void
openat_walk(void)
{
	char dir[] = "/tmp/test_storage.XXXXXX", path[64];
	int root, fd;

	CHECK(mkdtemp(dir) != NULL);
	root = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(root != -1);
	fd = st_openat(root, "t/sub/c", O_WRONLY | O_CREAT, 0644);
	CHECK(fd != -1);
	close(fd);
	fd = st_openat(root, "t/sub/c", O_RDONLY, 0);
	CHECK(fd != -1);
	close(fd);
	/* A link as a directory and as the file: refused. */
	CHECK(symlinkat("sub", root, "t/link") == 0);
	errno = 0;
	CHECK(st_openat(root, "t/link/c", O_RDONLY, 0) == -1);
	CHECK(errno == ELOOP || errno == ENOTDIR);
	CHECK(symlinkat("sub/c", root, "t/flink") == 0);
	errno = 0;
	CHECK(st_openat(root, "t/flink", O_WRONLY | O_CREAT, 0644) == -1);
	CHECK(errno == ELOOP);
	CHECK(st_openat(root, "t/../t/sub/c", O_RDONLY, 0) == -1);
	CHECK(st_openat(root, "", O_RDONLY, 0) == -1);
	CHECK(st_mkdirs(root, "x/y/z") == 0);
	CHECK(faccessat(root, "x/y", F_OK, 0) == 0);
	CHECK(faccessat(root, "x/y/z", F_OK, 0) == -1);
	st_piece_name(path, 4294967295u);
	CHECK(strcmp(path, "pieces/4294967295") == 0);
	close(root);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK(system(path) == 0);
}

int
main(void)
{
	RUN(segments);
	RUN(openat_walk);
	DONE();
}
