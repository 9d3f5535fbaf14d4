/*
 * test_storage_map.c: lib/storage_map: ranges mapped for hashing, and a
 * file truncated under the mapped hash reported as bytes gone, not a
 * crash; a SIGBUS outside the guard still kills.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "bt.h"
#include "metainfo.h"
#include "storage.h"
#include "storage_map.h"
#include "t.h"

/*
 * Four pieces of 16 KiB in one file of 60000 bytes (the last 10848);
 * piece 2 is zeros.
 */
#define PL	16384
#define LEN	60000
#define NP	4

/* st_piece_ok_mapped over one stretch. */
static int
ok1(const struct metainfo *mi, uint32_t i, const unsigned char *p, size_t n)
{
	struct iovec iov = { (void *)p, n };

	return st_piece_ok_mapped(mi, i, &iov, 1);
}

static char dir[] = "/tmp/test_storage_map.XXXXXX";
static char path[64];

/* A single-file torrent of data, hashes computed. */
static int
mktorrent(struct metainfo *mi, const unsigned char *data)
{
	char head[128], err[BT_ERRLEN], *t;
	size_t n, i;
	int rc;

	n = (size_t)snprintf(head, sizeof(head), "d4:infod6:lengthi%de"
	    "4:name1:f12:piece lengthi%de6:pieces%d:", LEN, PL, NP * 20);
	if ((t = malloc(n + NP * 20 + 2)) == NULL)
		return -1;
	memcpy(t, head, n);
	for (i = 0; i < NP; i++)
		SHA1(data + i * PL, i == NP - 1 ? LEN - i * PL : PL,
		    (unsigned char *)t + n + i * 20);
	memcpy(t + n + NP * 20, "ee", 2);
	rc = mi_parse(mi, t, n + NP * 20 + 2, err);
	free(t);
	return rc;
}

static void
mapped(void)
{
	static unsigned char data[LEN];
	struct metainfo mi;
	struct st_reader rd;
	struct st_map m, m2;
	struct sigaction old;
	size_t i;
	int root, fd, st = 0;
	pid_t pid;

	for (i = 0; i < LEN; i++)
		data[i] = i / PL == 2 ? 0 : (unsigned char)(i * 7 + i / 251);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd != -1 && write(fd, data, LEN) == LEN);
	CHECK(mktorrent(&mi, data) == 0);
	root = open(dir, O_RDONLY | O_DIRECTORY);
	st_reader_init(&rd, root);
	CHECK(st_guard_install(&old) == 0);

	/* Pieces 1 to 3 mapped at an offset that is not page-aligned. */
	CHECK(st_map_range(&rd, &mi, PL + 100, 2 * PL - 100, &m2) == 0);
	st_unmap(&m2);
	CHECK(st_map_range(&rd, &mi, PL, LEN - PL, &m) == 0);
	CHECK(m.len == LEN - PL);
	CHECK(ok1(&mi, 1, m.p, PL) == 1);
	CHECK(ok1(&mi, 3, m.p + 2 * PL, LEN - 3 * PL) == 1);
	CHECK(ok1(&mi, 2, m.p + PL - 1, PL) == 0);
	/* In stretches; zeros (a pad file) without memory behind them. */
	{
		struct iovec iov[3] = {
			{ (void *)m.p, 1000 }, { (void *)(m.p + 1000), PL - 1000 },
		};

		CHECK(st_piece_ok_mapped(&mi, 1, iov, 2) == 1);
		CHECK(st_piece_ok_mapped(&mi, 1, iov, 1) == 0);
		iov[0].iov_base = (void *)(m.p + PL);
		iov[1].iov_base = NULL;
		iov[2].iov_base = NULL;
		iov[2].iov_len = 0;
		CHECK(st_piece_ok_mapped(&mi, 2, iov, 3) == 1);
		iov[0].iov_base = NULL;
		iov[0].iov_len = PL;
		CHECK(st_piece_ok_mapped(&mi, 2, iov, 1) == 1);
	}
	/* Past the end of the file, or of the torrent: not mappable. */
	CHECK(st_map_range(&rd, &mi, PL, LEN, &m2) == 1);

	/* Truncated under the mapping: the bytes are gone, no crash. */
	CHECK(ftruncate(fd, PL) == 0);
	CHECK(ok1(&mi, 2, m.p + PL, PL) == 2);
	CHECK(ok1(&mi, 3, m.p + 2 * PL, LEN - 3 * PL) == 2);
	/* And again: the guard is re-armed after a jump. */
	CHECK(ok1(&mi, 2, m.p + PL, PL) == 2);
	/* Still there before the new end; the short file is not mapped. */
	CHECK(st_map_range(&rd, &mi, 0, PL, &m2) == 0);
	CHECK(ok1(&mi, 0, m2.p, PL) == 1);
	st_unmap(&m2);
	CHECK(st_map_range(&rd, &mi, PL, PL, &m2) == 1);

	/* Outside a guarded hash, a SIGBUS takes its default action. */
	if ((pid = fork()) == 0) {
		struct rlimit nocore = { 0, 0 };

		(void)setrlimit(RLIMIT_CORE, &nocore);
		_exit(m.p[PL] == 42 ? 3 : 4);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS);
	/* And a SIGBUS sent by kill(2) still ends the process. */
	if ((pid = fork()) == 0) {
		struct rlimit nocore = { 0, 0 };

		(void)setrlimit(RLIMIT_CORE, &nocore);
		kill(getpid(), SIGBUS);
		_exit(3);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS);

	st_guard_restore(&old);
	st_unmap(&m);
	st_unmap(&m);
	st_reader_close(&rd);
	close(root);
	close(fd);
	unlink(path);
	rmdir(dir);
	mi_free(&mi);
}

int
main(void)
{
	RUN(mapped);
	DONE();
}
