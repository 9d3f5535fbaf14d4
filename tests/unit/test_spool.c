#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "spool.h"
#include "t.h"

static char dir[64];
static struct metainfo mi;

static void
basics(void)
{
	struct spool a, b;
	char err[BT_ERRLEN], path[128];
	unsigned char data[1000], back[100], all[2] = {0xff, 0xc0};
	struct stat st;

	CHECK(spool_open(&a, dir, &mi, err) == 0);
	CHECK(spool_open(&b, dir, &mi, err) == 0);
	CHECK(spool_nhave(&a) == 0);
	/* Two handles are two claimants, like two processes. */
	CHECK(spool_claim(&a, 3, err) == 1);
	CHECK(spool_claim(&b, 3, err) == 0);
	CHECK(spool_claim(&a, 3, err) == 1);
	spool_unclaim(&a, 3);
	CHECK(spool_claim(&b, 3, err) == 1);
	spool_unclaim(&b, 3);
	memset(data, 7, sizeof(data));
	CHECK(spool_commit(&a, 9, data, 999, err) == -1);
	CHECK(spool_commit(&a, 9, data, 1000, err) == 1);
	CHECK(spool_have(&b, 9) && spool_nhave(&b) == 1);
	CHECK(spool_commit(&b, 9, data, 1000, err) == 0);
	snprintf(path, sizeof(path), "%s/pieces/9", dir);
	CHECK(stat(path, &st) == 0 && st.st_size == 1000);
	CHECK(spool_read(&b, 9, 900, back, 100, err) == 0 && back[99] == 7);
	CHECK(spool_read(&b, 9, 901, back, 100, err) == -1);
	/* Sequential takes the lowest missing piece nobody holds. */
	CHECK(spool_claim(&b, 0, err) == 1);
	CHECK(spool_pick(&a, SPOOL_SEQUENTIAL, all, NULL) == 1);
	/* Its own claims are skipped too. */
	CHECK(spool_pick(&a, SPOOL_SEQUENTIAL, all, NULL) == 2);
	spool_unclaim(&a, 2);
	spool_avail_bits(&a, all, 1);
	spool_avail_add(&a, 5, -1);
	CHECK(spool_avail(&b, 5) == 0 && spool_avail(&b, 4) == 1);
	CHECK(spool_pick(&a, SPOOL_RAREST, all, NULL) == 5);
	CHECK(spool_pick(&a, SPOOL_RANDOM, all, NULL) >= 0);
	spool_close(&a);
	spool_close(&b);
}

static void
direct(void)
{
	struct spool a;
	char err[BT_ERRLEN];
	unsigned char *p, back[16];

	CHECK(spool_open(&a, dir, &mi, err) == 0);
	a.direct = 1;
	CHECK(posix_memalign((void **)&p, 4096, 32768 + 1) == 0);
	memset(p, 0x42, 32768 + 1);
	CHECK(spool_commit(&a, 7, p, 32768, err) == 1);
	CHECK(spool_read(&a, 7, 32768 - 16, back, 16, err) == 0);
	CHECK(back[15] == 0x42);
	/* Unaligned: written plainly. */
	CHECK(spool_commit(&a, 8, p + 1, 32768, err) == 1);
	CHECK(spool_read(&a, 8, 0, back, 16, err) == 0 && back[0] == 0x42);
	free(p);
	spool_close(&a);
}

static void
cursor(void)
{
	struct spool a;
	struct metainfo big = mi;
	char err[BT_ERRLEN], d2[80];
	unsigned char all[25];

	snprintf(d2, sizeof(d2), "%s.big", dir);
	big.npieces = 200;
	big.total_length = 200 * 32768;
	memset(all, 0xff, sizeof(all));
	CHECK(spool_open(&a, d2, &big, err) == 0);
	/* As if pieces 0..127 were had: sequential starts past them. */
	a.have[0] = a.have[1] = ~(uint64_t)0;
	CHECK(spool_pick(&a, SPOOL_SEQUENTIAL, all, NULL) == 128);
	CHECK(a.cursor == 128);
	CHECK(spool_pick(&a, SPOOL_SEQUENTIAL, all, NULL) == 129);
	spool_close(&a);
	snprintf(d2, sizeof(d2), "rm -rf %s.big", dir);
	CHECK(system(d2) == 0);
}

static void
endgame(void)
{
	struct spool a, b;
	char err[BT_ERRLEN];
	unsigned char only3[2] = {0x10, 0}, none[2] = {0, 0};
	int64_t eg = -9;

	CHECK(spool_open(&a, dir, &mi, err) == 0);
	CHECK(spool_open(&b, dir, &mi, err) == 0);
	CHECK(spool_claim(&b, 3, err) == 1);
	CHECK(spool_pick(&a, SPOOL_SEQUENTIAL, only3, &eg) == -1 && eg == 3);
	CHECK(spool_pick(&a, SPOOL_SEQUENTIAL, none, NULL) == -2);
	spool_close(&b);	/* its claim goes with it */
	CHECK(spool_pick(&a, SPOOL_SEQUENTIAL, only3, &eg) == 3);
	spool_close(&a);
}

static void
recovery(void)
{
	struct spool a;
	struct metainfo other = mi;
	char err[BT_ERRLEN], path[128];
	int fd;

	/* A piece file without its have bit (death after rename). */
	snprintf(path, sizeof(path), "%s/pieces/2", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0666);
	CHECK(fd != -1 && write(fd, "x", 1) == 1);
	close(fd);
	/* A temp file of a dead writer. */
	snprintf(path, sizeof(path), "%s/tmp/4.999999999", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0666);
	close(fd);
	CHECK(spool_open(&a, dir, &mi, err) == 0);
	CHECK(spool_have(&a, 2) && spool_nhave(&a) == 4);
	CHECK(access(path, F_OK) == -1);
	spool_set_placed(&a, 2);
	CHECK(spool_placed(&a, 2) && !spool_placed(&a, 9));
	spool_close(&a);
	other.info_hash[0] ^= 1;
	CHECK(spool_open(&a, dir, &other, err) == -1);
	CHECK(strstr(err, "another torrent") != NULL);
	other = mi;
	other.npieces = 11;
	CHECK(spool_open(&a, dir, &other, err) == -1);
}

int
main(void)
{
	char cmd[128];
	int r;

	snprintf(dir, sizeof(dir), "/tmp/test_spool.%ld", (long)getpid());
	mi.npieces = 10;
	mi.piece_length = 32768;
	mi.total_length = 9 * 32768 + 1000;
	memset(mi.info_hash, 0x5a, 20);
	RUN(basics);
	RUN(direct);
	RUN(cursor);
	RUN(endgame);
	RUN(recovery);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	r = system(cmd);
	(void)r;
	DONE();
}
