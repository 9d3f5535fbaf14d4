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
	/* Two peers have everything, one of them no longer piece 5. */
	spool_avail_bits(&a, all, 1);
	spool_avail_bits(&a, all, 1);
	spool_avail_add(&a, 5, -1);
	CHECK(spool_avail(&b, 5) == 1 && spool_avail(&b, 4) == 2);
	CHECK(spool_pick(&a, SPOOL_RAREST, all, NULL) == 5);
	spool_unclaim(&a, 5);
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

/*
 * The word-wise scan: over 200 pieces (a partial last word), the peer
 * has every third piece, 0..63 are had; each strategy picks every
 * candidate exactly once (its claims are skipped), from any start, and
 * nothing else.
 */
static void
scan_words(void)
{
	static const enum spool_strategy strat[] = {
		SPOOL_SEQUENTIAL, SPOOL_RANDOM, SPOOL_RAREST
	};
	struct spool a;
	struct metainfo big = mi;
	char err[BT_ERRLEN], d2[80];
	unsigned char peer[25], seen[200];
	uint32_t i, want = 0, got;
	int64_t p;
	size_t k;

	snprintf(d2, sizeof(d2), "%s.words", dir);
	big.npieces = 200;
	big.total_length = 200 * 32768;
	memset(peer, 0, sizeof(peer));
	for (i = 0; i < 200; i += 3) {
		peer[i / 8] |= 0x80 >> (i % 8);
		want += i >= 64;
	}
	CHECK(spool_open(&a, d2, &big, err) == 0);
	a.have[0] = ~(uint64_t)0;
	spool_avail_bits(&a, peer, 1);
	spool_avail_add(&a, 199, 1);
	for (k = 0; k < sizeof(strat) / sizeof(strat[0]); k++) {
		memset(seen, 0, sizeof(seen));
		for (got = 0; (p = spool_pick(&a, strat[k], peer, NULL)) >= 0;
		    got++) {
			CHECK(p >= 64 && p < 200 && p % 3 == 0 && !seen[p]);
			seen[p] = 1;
		}
		CHECK(got == want && p == -2);
		for (i = 0; i < 200; i++)
			if (seen[i])
				spool_unclaim(&a, i);
	}
	spool_close(&a);
	snprintf(d2, sizeof(d2), "rm -rf %s.words", dir);
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

/* Size and every byte of a spool file against c repeated len times. */
static int
file_is(const char *d, const char *name, int c, size_t len)
{
	char path[160];
	unsigned char buf[40000];
	struct stat st;
	ssize_t r;
	size_t k;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", d, name);
	if ((fd = open(path, O_RDONLY)) == -1)
		return 0;
	r = read(fd, buf, sizeof(buf));
	close(fd);
	if (r != (ssize_t)len || stat(path, &st) == -1 ||
	    (size_t)st.st_size != len)
		return 0;
	for (k = 0; k < len; k++)
		if (buf[k] != c)
			return 0;
	return 1;
}

static ino_t
ino(const char *d, const char *name)
{
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", d, name);
	return lstat(path, &st) == 0 ? st.st_ino : 0;
}

static void
recycle(void)
{
	struct spool a;
	char err[BT_ERRLEN], d[80], path[160], cmd[128];
	unsigned char data[32768], back[16];
	ino_t in;
	int fd;

	snprintf(d, sizeof(d), "%s.free", dir);
	CHECK(spool_open(&a, d, &mi, err) == 0);
	CHECK(a.nfree == SPOOL_FREE_SLOTS);	/* 64 MiB of 32 KiB pieces */
	memset(data, 0x11, sizeof(data));
	CHECK(spool_commit(&a, 0, data, 32768, err) == 1);
	in = ino(d, "pieces/0");
	/* Placed: the file moves to free/ instead of going away. */
	spool_set_placed(&a, 0);
	CHECK(spool_recycle(&a, 0, err) == 0);
	CHECK(ino(d, "pieces/0") == 0 && ino(d, "free/0") == in);
	CHECK(spool_read(&a, 0, 0, back, 16, err) == -1);
	/* The short last piece reuses the long file: cut to its length. */
	memset(data, 0x22, sizeof(data));
	CHECK(spool_commit(&a, 9, data, 1000, err) == 1);
	CHECK(ino(d, "free/0") == 0 && ino(d, "pieces/9") == in);
	CHECK(file_is(d, "pieces/9", 0x22, 1000));
	CHECK(spool_read(&a, 9, 990, back, 10, err) == 0 && back[9] == 0x22);
	/* And a full piece grows the short file back. */
	spool_set_placed(&a, 9);
	CHECK(spool_recycle(&a, 9, err) == 0 && ino(d, "free/1") == in);
	memset(data, 0x33, sizeof(data));
	CHECK(spool_commit(&a, 1, data, 32768, err) == 1);
	CHECK(ino(d, "pieces/1") == in && file_is(d, "pieces/1", 0x33, 32768));
	/* Every slot taken: the piece is unlinked, the slots left alone. */
	a.nfree = 2;
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/free/%d", d, k);
		fd = open(path, O_WRONLY | O_CREAT, 0666);
		CHECK(fd != -1 && write(fd, "junk", 4) == 4);
		close(fd);
	}
	spool_set_placed(&a, 1);
	CHECK(spool_recycle(&a, 1, err) == 0 && ino(d, "pieces/1") == 0);
	CHECK(ino(d, "free/0") != 0 && ino(d, "free/0") != in &&
	    ino(d, "free/1") != 0 && ino(d, "free/1") != in);
	/* Gone already: fine. */
	CHECK(spool_recycle(&a, 1, err) == 0);
	/* A symbolic link in free/ is never written through. */
	snprintf(path, sizeof(path), "%s/free/%u", d, a.free_take % a.nfree);
	CHECK(unlink(path) == 0 && symlink("../outside", path) == 0);
	snprintf(cmd, sizeof(cmd), "%s/outside", d);
	fd = open(cmd, O_WRONLY | O_CREAT, 0666);
	CHECK(fd != -1 && write(fd, "\"\"", 2) == 2);
	close(fd);
	memset(data, 0x44, sizeof(data));
	CHECK(spool_commit(&a, 3, data, 32768, err) == 1);
	CHECK(file_is(d, "pieces/3", 0x44, 32768));
	CHECK(file_is(d, "outside", '"', 2));
	/* A junk file taken is overwritten whole: exactly the piece. */
	CHECK(spool_commit(&a, 4, data, 32768, err) == 1);
	CHECK(file_is(d, "pieces/4", 0x44, 32768));
	spool_free_clear(&a);
	CHECK(ino(d, "free/0") == 0 && ino(d, "free/1") == 0);
	spool_close(&a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d);
	CHECK(system(cmd) == 0);
}

/*
 * Several writers: a taker whose cursor others overtook, and a putter
 * whose next slots takers left full, look in free/ for the nearest
 * file or hole instead of creating a file or unlinking one.
 */
static void
recycle_many(void)
{
	struct spool a, b;
	char err[BT_ERRLEN], d[80], path[160], cmd[128];
	unsigned char data[32768];
	ino_t in0, in2;
	int fd, k;

	snprintf(d, sizeof(d), "%s.many", dir);
	CHECK(spool_open(&a, d, &mi, err) == 0);
	CHECK(spool_open(&b, d, &mi, err) == 0);
	memset(data, 0x55, sizeof(data));
	CHECK(spool_commit(&a, 0, data, 32768, err) == 1);
	CHECK(spool_commit(&a, 1, data, 32768, err) == 1);
	in0 = ino(d, "pieces/0");
	spool_set_placed(&a, 0);
	spool_set_placed(&a, 1);
	CHECK(spool_recycle(&a, 0, err) == 0 && ino(d, "free/0") == in0);
	CHECK(spool_recycle(&a, 1, err) == 0 && ino(d, "free/1") != 0);
	/* b's cursor is past the files, more than SPOOL_FREE_TRIES on. */
	b.free_take = 10;
	CHECK(spool_commit(&b, 2, data, 32768, err) == 1);
	CHECK(ino(d, "pieces/2") == in0 && ino(d, "free/0") == 0);
	CHECK(b.free_take == 1 && file_is(d, "pieces/2", 0x55, 32768));
	in2 = in0;
	/* The putter's next slots are full: the nearest hole after them. */
	for (k = 5; k < 5 + SPOOL_FREE_TRIES; k++) {
		snprintf(path, sizeof(path), "%s/free/%d", d, k);
		fd = open(path, O_WRONLY | O_CREAT, 0666);
		CHECK(fd != -1 && write(fd, "junk", 4) == 4);
		close(fd);
	}
	a.free_put = 5;
	spool_set_placed(&b, 2);
	CHECK(spool_recycle(&b, 2, err) == 0);
	CHECK(ino(d, "pieces/2") == 0 && ino(d, "free/0") == in2);
	CHECK(spool_commit(&a, 3, data, 32768, err) == 1);
	in2 = ino(d, "pieces/3");
	spool_set_placed(&a, 3);
	CHECK(spool_recycle(&a, 3, err) == 0);
	CHECK(ino(d, "pieces/3") == 0 && ino(d, "free/9") == in2 &&
	    a.free_put == 10);
	/* Nothing in free/ at all: a new file, as before. */
	spool_free_clear(&a);
	CHECK(spool_commit(&b, 4, data, 32768, err) == 1);
	CHECK(file_is(d, "pieces/4", 0x55, 32768));
	spool_close(&b);
	spool_close(&a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d);
	CHECK(system(cmd) == 0);
}

/* The door: spool_read_piece, spool_read_whole, spool_open_ro. */
/* Locks or unlocks free slot n's byte of DIR/claims through handle b. */
static int
slot_lock(struct spool *b, uint32_t n, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = SPOOL_SLOT_LOCK + n;
	fl.l_len = 1;
	return fcntl(b->claimfd, F_OFD_SETLK, &fl);
}

/*
 * A free slot another writer holds is neither taken nor put into, nor
 * removed; once released it is taken, written in place and renamed.
 */
static void
slotlock(void)
{
	struct spool a, b;
	char err[BT_ERRLEN], d[80], cmd[128];
	unsigned char data[32768];
	ino_t in;

	snprintf(d, sizeof(d), "%s.lock", dir);
	CHECK(spool_open(&a, d, &mi, err) == 0);
	CHECK(spool_open(&b, d, &mi, err) == 0);
	memset(data, 0x55, sizeof(data));
	CHECK(spool_commit(&a, 0, data, 32768, err) == 1);
	in = ino(d, "pieces/0");
	spool_set_placed(&a, 0);
	CHECK(spool_recycle(&a, 0, err) == 0 && ino(d, "free/0") == in);
	CHECK(slot_lock(&b, 0, F_WRLCK) == 0);
	a.free_take = 0;
	CHECK(spool_commit(&a, 1, data, 32768, err) == 1);
	CHECK(ino(d, "free/0") == in && ino(d, "pieces/1") != in);
	spool_set_placed(&a, 1);
	a.free_put = 0;
	CHECK(slot_lock(&b, 0, F_UNLCK) == 0);
	CHECK(slot_lock(&b, 2, F_WRLCK) == 0);
	/* Slot 0 taken: put into 1; 2 locked: left alone by a clear. */
	CHECK(spool_recycle(&a, 1, err) == 0 && ino(d, "free/1") != 0);
	CHECK(ino(d, "pieces/1") == 0);
	a.free_take = 0;
	CHECK(spool_commit(&a, 2, data, 32768, err) == 1);
	CHECK(ino(d, "pieces/2") == in && ino(d, "free/0") == 0);
	CHECK(file_is(d, "pieces/2", 0x55, 32768));
	snprintf(cmd, sizeof(cmd), "%s/free/2", d);
	CHECK(close(open(cmd, O_WRONLY | O_CREAT, 0666)) == 0);
	spool_free_clear(&a);
	CHECK(ino(d, "free/1") == 0 && ino(d, "free/2") != 0);
	spool_close(&b);
	spool_close(&a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d);
	CHECK(system(cmd) == 0);
}

static void
door(void)
{
	struct spool a, r;
	struct spool_rd rd;
	struct metainfo other = mi;
	char err[BT_ERRLEN], d[96], path[128];
	unsigned char data[32768], back[32768];
	int fd;

	snprintf(d, sizeof(d), "%s.door", dir);
	/* Read-only on nothing: refused, as bad input. */
	CHECK(spool_open_ro(&r, d, &mi, err) == -1 && r.fail == BT_FAIL_INPUT);
	CHECK(spool_open(&a, d, &mi, err) == 0);
	memset(data, 0x33, sizeof(data));
	CHECK(spool_commit(&a, 2, data, 32768, err) == 1);
	spool_rd_init(&rd);
	CHECK(spool_read_piece(&a, &rd, 2, 100, back, 50, err) == 1 &&
	    back[49] == 0x33);
	CHECK(spool_read_piece(&a, &rd, 3, 0, back, 50, err) == 0);
	CHECK(spool_read_piece(&a, &rd, 2, 32760, back, 50, err) == -1);
	CHECK(spool_read_whole(&a, 2, back, err) == SPOOL_PIECE_OK);
	CHECK(spool_read_whole(&a, 4, back, err) == SPOOL_PIECE_GONE);
	/* Placed: the file may hold another piece now, so it is gone. */
	CHECK(spool_open_ro(&r, d, &mi, err) == 0);
	CHECK(spool_read_whole(&r, 2, back, err) == SPOOL_PIECE_OK);
	spool_set_placed(&a, 2);
	CHECK(spool_read_piece(&a, &rd, 2, 0, back, 50, err) == 0);
	CHECK(spool_read_whole(&r, 2, back, err) == SPOOL_PIECE_GONE);
	spool_rd_close(&rd);
	/* A piece file of the wrong size is damaged, not gone. */
	snprintf(path, sizeof(path), "%s/pieces/5", d);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	CHECK(fd != -1 && write(fd, data, 10) == 10);
	close(fd);
	CHECK(spool_read_whole(&r, 5, back, err) == SPOOL_PIECE_SIZE);
	spool_close(&r);
	/* Another torrent's: refused, a mismatch (exit 2). */
	memset(other.info_hash, 0x11, 20);
	CHECK(spool_open_ro(&r, d, &other, err) == -1 &&
	    r.fail == BT_FAIL_MISMATCH);
	CHECK(spool_open(&r, d, &other, err) == -1 &&
	    r.fail == BT_FAIL_MISMATCH);
	spool_close(&a);
	snprintf(path, sizeof(path), "rm -rf %s", d);
	CHECK(system(path) == 0);
}

/* The fresh rule: commit sets, drop clears, a new boot id clears all;
 * a state file of the first layout is grown; the placer lock is one. */
static void
fresh(void)
{
	struct spool a, b, r;
	char err[BT_ERRLEN], d[96], path[128];
	unsigned char data[32768];
	struct stat st;
	off_t len1;
	int fd;

	snprintf(d, sizeof(d), "%s.fresh", dir);
	CHECK(spool_open(&a, d, &mi, err) == 0);
	if (!a.boot_ok) {	/* no /proc here: nothing is ever fresh */
		CHECK(spool_commit(&a, 1, memset(data, 1, 32768), 32768,
		    err) == 1 && !spool_fresh(&a, 1));
		spool_close(&a);
		goto out;
	}
	memset(data, 0x44, sizeof(data));
	CHECK(!spool_fresh(&a, 1));
	CHECK(spool_commit(&a, 1, data, 32768, err) == 1);
	CHECK(spool_commit(&a, 2, data, 32768, err) == 1);
	CHECK(spool_fresh(&a, 1) && spool_fresh(&a, 2) && !spool_fresh(&a, 3));
	/* Another opener in the same boot sees the bits and keeps them. */
	CHECK(spool_open(&b, d, &mi, err) == 0);
	CHECK(spool_fresh(&b, 1) && spool_fresh(&b, 2));
	CHECK(spool_drop(&b, 2, err) == 0 && !spool_fresh(&a, 2));
	/* One placer at a time; the lock goes with the handle. */
	CHECK(spool_lock_placer(&a, err) == 1);
	CHECK(spool_lock_placer(&b, err) == 0);
	spool_close(&b);
	/* A reboot: another boot id in the header; the next opener clears
	 * every bit before it writes its own. */
	memset(a.hdr->boot_id, 0xee, sizeof(a.hdr->boot_id));
	CHECK(!spool_fresh(&a, 1));
	CHECK(spool_open(&b, d, &mi, err) == 0);
	CHECK(memcmp(b.hdr->boot_id, b.boot, 16) == 0);
	CHECK(!spool_fresh(&b, 1) && !spool_fresh(&a, 1));
	CHECK(spool_have(&b, 1));
	spool_close(&b);
	spool_close(&a);
	/* A first-layout state file (no fresh map): read as is, grown by a
	 * writer, with no bit set. */
	snprintf(path, sizeof(path), "%s/state", d);
	CHECK(stat(path, &st) == 0);
	len1 = 128 + 2 * 8 + 10 * 4;
	CHECK(st.st_size == ((len1 + 7) & ~7) + 8);
	CHECK(truncate(path, len1) == 0);
	CHECK(spool_open_ro(&r, d, &mi, err) == 0 && spool_have(&r, 1) &&
	    !spool_fresh(&r, 1));
	spool_close(&r);
	CHECK(spool_open(&a, d, &mi, err) == 0 && !spool_fresh(&a, 1));
	CHECK(stat(path, &st) == 0 && st.st_size == ((len1 + 7) & ~7) + 8);
	spool_close(&a);
	/* Neither size: refused. */
	fd = open(path, O_WRONLY);
	CHECK(fd != -1 && ftruncate(fd, len1 + 1) == 0);
	close(fd);
	CHECK(spool_open(&a, d, &mi, err) == -1 && a.fail == BT_FAIL_MISMATCH);
out:
	snprintf(path, sizeof(path), "rm -rf %s", d);
	CHECK(system(path) == 0);
}

/*
 * Slabs: 16 KiB pieces, 64 a slab; 100 pieces, the last 1000 bytes, so
 * slab 0 holds 0..63 and slab 1 64..99.
 */
static void
slab(void)
{
	struct spool a, b;
	struct spool_rd rd;
	struct metainfo sm = mi;
	struct stat st;
	char err[BT_ERRLEN], d[80], path[160];
	static unsigned char data[16384], back[16384];
	uint64_t off;
	uint32_t i;
	int fd;

	snprintf(d, sizeof(d), "%s.slab", dir);
	sm.npieces = 100;
	sm.piece_length = 16384;
	sm.total_length = 99 * 16384 + 1000;
	CHECK(spool_open(&a, d, &sm, err) == 0);
	CHECK(spool_open(&b, d, &sm, err) == 0);
	CHECK(spool_slab_pieces(&a) == 64);
	memset(data, 3, sizeof(data));
	CHECK(spool_commit(&a, 5, data, 16384, err) == 1);
	/* No piece file: the bytes are at 5 * 16 KiB of slabs/0. */
	snprintf(path, sizeof(path), "%s/pieces/5", d);
	CHECK(stat(path, &st) == -1);
	snprintf(path, sizeof(path), "%s/slabs/0", d);
	CHECK(stat(path, &st) == 0 && st.st_size == 6 * 16384);
	CHECK(spool_have(&b, 5) && spool_nhave(&b) == 1);
	CHECK(!a.boot_ok || spool_fresh(&b, 5));
	/* A second writer of the same piece: nothing counted twice. */
	CHECK(spool_commit(&b, 5, data, 16384, err) == 0);
	CHECK(spool_nhave(&a) == 1);
	CHECK(spool_read(&b, 5, 16000, back, 384, err) == 0 && back[383] == 3);
	CHECK(spool_read(&b, 5, 16001, back, 384, err) == -1);
	/* Not had: nothing to read, though the slab is there. */
	CHECK(spool_read_whole(&b, 6, back, err) == SPOOL_PIECE_GONE);
	CHECK(spool_read(&b, 6, 0, back, 16, err) == -1);
	/* The short last piece, in slab 1 at 35 * 16 KiB. */
	memset(data, 9, sizeof(data));
	CHECK(spool_commit(&b, 99, data, 1000, err) == 1);
	memset(back, 0, sizeof(back));
	CHECK(spool_read_whole(&a, 99, back, err) == SPOOL_PIECE_OK);
	CHECK(back[0] == 9 && back[999] == 9);
	CHECK(spool_open_whole(&a, 99, &fd, &off, err) == SPOOL_PIECE_OK);
	CHECK(off == 35 * 16384);
	/* Dropped: have and fresh clear, the piece is gone, then fetched
	 * again over the same bytes. */
	CHECK(spool_drop(&a, 5, err) == 0);
	CHECK(!spool_have(&b, 5) && !spool_fresh(&b, 5) &&
	    spool_nhave(&b) == 1);
	CHECK(spool_read_whole(&b, 5, back, err) == SPOOL_PIECE_GONE);
	memset(data, 4, sizeof(data));
	CHECK(spool_commit(&b, 5, data, 16384, err) == 1);
	CHECK(spool_read_whole(&a, 5, back, err) == SPOOL_PIECE_OK &&
	    back[0] == 4 && back[16383] == 4);
	/* A writer killed between its pwrite and its bit: the bytes are
	 * there, the piece is not, and it is stored again on reopen. */
	snprintf(path, sizeof(path), "%s/slabs/0", d);
	{
		int wfd = open(path, O_WRONLY);

		CHECK(wfd != -1 && pwrite(wfd, data, 16384, 7 * 16384) ==
		    16384);
		close(wfd);
	}
	spool_close(&a);
	CHECK(spool_open(&a, d, &sm, err) == 0);
	CHECK(!spool_have(&a, 7) && spool_nhave(&a) == 2);
	CHECK(spool_read_whole(&a, 7, back, err) == SPOOL_PIECE_GONE);
	CHECK(spool_commit(&a, 7, data, 16384, err) == 1);
	/* A reader's cached descriptor of slab 1, then every piece of it
	 * placed: the slab is unlinked, the open fd still reads the bytes,
	 * and the door sends readers to the final files. */
	spool_rd_init(&rd);
	CHECK(spool_read_piece(&b, &rd, 99, 0, back, 10, err) == 1);
	for (i = 64; i < 100; i++) {
		spool_set_have(&a, i);
		spool_set_placed(&a, i);
	}
	CHECK(spool_slab_release(&a, 99, 1, err) == 1);
	snprintf(path, sizeof(path), "%s/slabs/1", d);
	CHECK(stat(path, &st) == -1);
	memset(back, 0, sizeof(back));
	CHECK(pread(fd, back, 1000, (off_t)off) == 1000 && back[999] == 9);
	close(fd);
	CHECK(spool_read_piece(&b, &rd, 99, 0, back, 10, err) == 0);
	spool_rd_close(&rd);
	/* A placed piece is not written again: no slab made anew. */
	CHECK(spool_commit(&b, 98, data, 16384, err) == 0);
	CHECK(stat(path, &st) == -1);
	/* Placed pieces of a slab still in use: a hole, the others stay. */
	spool_set_placed(&a, 5);
	CHECK(spool_slab_release(&a, 5, 1, err) == 0);
	snprintf(path, sizeof(path), "%s/slabs/0", d);
	CHECK(stat(path, &st) == 0);
	CHECK(spool_read_whole(&b, 7, back, err) == SPOOL_PIECE_OK &&
	    back[0] == 4);
	CHECK(spool_read_whole(&b, 5, back, err) == SPOOL_PIECE_GONE);
	/* Done: the rest placed, the slab goes with spool_slab_clear. */
	for (i = 0; i < 64; i++) {
		spool_set_have(&a, i);
		spool_set_placed(&a, i);
	}
	spool_slab_clear(&b);
	CHECK(stat(path, &st) == -1);
	spool_close(&a);
	spool_close(&b);
	/* Picking goes slab by slab: a random pick starts a slab, the
	 * next ones follow it within the slab. */
	snprintf(path, sizeof(path), "rm -rf %s", d);
	CHECK(system(path) == 0);
	CHECK(spool_open(&a, d, &sm, err) == 0);
	{
		unsigned char all[13];
		int64_t p0, p1, p2;

		memset(all, 0xff, sizeof(all));
		all[12] = 0xf0;
		p0 = spool_pick(&a, SPOOL_RANDOM, all, NULL);
		p1 = spool_pick(&a, SPOOL_RANDOM, all, NULL);
		p2 = spool_pick(&a, SPOOL_RAREST, all, NULL);
		CHECK(p0 == 0 || p0 == 64);
		CHECK(p1 == p0 + 1 && p2 == p0 + 2);
	}
	spool_close(&a);
	/* Pieces of 32 KiB stay files. */
	CHECK(spool_open(&a, dir, &mi, err) == 0);
	CHECK(spool_slab_pieces(&a) == 0);
	spool_close(&a);
	snprintf(path, sizeof(path), "rm -rf %s", d);
	CHECK(system(path) == 0);
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
	RUN(scan_words);
	RUN(endgame);
	RUN(recovery);
	RUN(recycle);
	RUN(recycle_many);
	RUN(slotlock);
	RUN(door);
	RUN(fresh);
	RUN(slab);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	r = system(cmd);
	(void)r;
	DONE();
}
