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

/* The one final-file read loop, and the one piece-hash check. */
static void
read_range(void)
{
	char dir[] = "/tmp/test_storage.XXXXXX", cmd[64], err[BT_ERRLEN];
	unsigned char buf[35], want[35], md[20];
	struct st_reader rd;
	struct metainfo mi;
	size_t k;
	int root, fd;

	CHECK(mi_parse(&mi, torrent, sizeof(torrent) - 1, err) == 0);
	CHECK(mkdtemp(dir) != NULL);
	root = open(dir, O_RDONLY | O_DIRECTORY);
	for (k = 0; k < sizeof(want); k++)
		want[k] = (unsigned char)('a' + k);
	fd = st_openat(root, "t/a", O_WRONLY | O_CREAT, 0644);
	CHECK(fd != -1 && write(fd, want, 10) == 10);
	close(fd);
	st_reader_init(&rd, root);
	/* sub/c missing: the range that needs it says so, naming it. */
	CHECK(st_read_range(&rd, &mi, 0, buf, 10, err) == 0);
	CHECK(memcmp(buf, want, 10) == 0);
	CHECK(st_read_range(&rd, &mi, 5, buf, 10, err) == 1);
	CHECK(strstr(err, "t/sub/c") != NULL && errno == ENOENT);
	fd = st_openat(root, "t/sub/c", O_WRONLY | O_CREAT, 0644);
	CHECK(fd != -1 && write(fd, want + 10, 20) == 20);
	close(fd);
	/* Short: 20 of 25 bytes. */
	CHECK(st_read_range(&rd, &mi, 0, buf, 35, err) == 1);
	CHECK(strstr(err, "short read") != NULL);
	fd = st_openat(root, "t/sub/c", O_WRONLY | O_APPEND, 0);
	CHECK(fd != -1 && write(fd, want + 30, 5) == 5);
	close(fd);
	memset(buf, 0, sizeof(buf));
	CHECK(st_read_range(&rd, &mi, 0, buf, 35, err) == 0);
	CHECK(memcmp(buf, want, 35) == 0);
	st_reader_close(&rd);
	/* The torrent's hashes are "AAAA...": no match, then a match. */
	CHECK(st_piece_ok(&mi, 0, buf, 16) == 0);
	CHECK(st_piece_ok(&mi, 0, buf, 15) == 0);	/* wrong size */
	memset(md, 'B', 20);
	CHECK(st_piece_match(&mi, 1, md) == 1);
	CHECK(st_piece_match(&mi, 0, md) == 0);
	CHECK(st_piece_match(&mi, 3, md) == 0);		/* out of range */
	close(root);
	mi_free(&mi);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

/* The one failure-class list decides exit codes. */
static void
classes(void)
{
	CHECK(bt_fail_exit(BT_FAIL_NONE) == BT_EXIT_OK);
	CHECK(bt_fail_exit(BT_FAIL_USAGE) == BT_EXIT_INPUT);
	CHECK(bt_fail_exit(BT_FAIL_MISMATCH) == BT_EXIT_INPUT);
	CHECK(bt_fail_exit(BT_FAIL_PEER) == BT_EXIT_WORLD);
	CHECK(bt_fail_exit(BT_FAIL_OUTPUT) == BT_EXIT_WORLD);
	CHECK(bt_fail_errno(ENOENT) == BT_FAIL_INPUT);
	CHECK(bt_fail_errno(ENOSPC) == BT_FAIL_SYSTEM);
	CHECK(strstr(bt_fail_what(BT_FAIL_MISMATCH), "another torrent") !=
	    NULL);
}

int
main(void)
{
	RUN(segments);
	RUN(openat_walk);
	RUN(read_range);
	RUN(classes);
	DONE();
}
