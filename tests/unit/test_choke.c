/* test_choke.c: the choking decision under a fake clock (lib/choke.h). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>

#include "choke.h"
#include "t.h"

#define N 8

static void
peer(struct choke_peer *pe, int k, uint64_t rate)
{
	pe[k].live = 1;
	pe[k].interested = 1;
	pe[k].rate = rate;
}

/* The fastest interested live peers get the slots, nobody else. */
static void
ranking(void)
{
	struct choke_peer pe[N];
	unsigned char reg[N];

	memset(pe, 0, sizeof(pe));
	peer(pe, 0, 10);
	peer(pe, 1, 50);
	peer(pe, 2, 30);
	peer(pe, 3, 40);
	peer(pe, 4, 20);
	peer(pe, 5, 99);
	pe[5].interested = 0;		/* the fastest, but wants nothing */
	peer(pe, 6, 98);
	pe[6].snubbed = 1;		/* sends us nothing: not a slot */
	peer(pe, 7, 97);
	pe[7].live = 0;			/* its process died */
	CHECK(choke_decide(pe, N, 3, reg) == 3);
	CHECK(reg[1] && reg[3] && reg[2]);
	CHECK(!reg[0] && !reg[4] && !reg[5] && !reg[6] && !reg[7]);
	/* Fewer candidates than slots: all of them. */
	CHECK(choke_decide(pe, N, 6, reg) == 5);
	CHECK(!reg[5] && !reg[6] && !reg[7]);
	/* Zero slots: none. */
	CHECK(choke_decide(pe, N, 0, reg) == 0);
}

/* Ties: the one unchoked already keeps its slot, then the lower index. */
static void
ties(void)
{
	struct choke_peer pe[N];
	unsigned char reg[N];

	memset(pe, 0, sizeof(pe));
	peer(pe, 0, 0);
	peer(pe, 1, 0);
	peer(pe, 2, 0);
	pe[2].unchoked = 1;
	CHECK(choke_decide(pe, N, 1, reg) == 1);
	CHECK(reg[2] && !reg[0] && !reg[1]);
	pe[2].unchoked = 0;
	CHECK(choke_decide(pe, N, 2, reg) == 2);
	CHECK(reg[0] && reg[1] && !reg[2]);
}

/* The optimistic slot: kept 30 s, then the next one round the table. */
static void
optimistic(void)
{
	struct choke_peer pe[N];
	unsigned char reg[N];
	int64_t t = 1000 * CHOKE_SEC;
	uint64_t w, w2;
	int k, seen[N];

	memset(pe, 0, sizeof(pe));
	memset(seen, 0, sizeof(seen));
	for (k = 0; k < 6; k++)
		peer(pe, k, (uint64_t)(100 - k));
	choke_decide(pe, N, 2, reg);		/* 0 and 1 */
	w = choke_optimistic(pe, N, reg, 0, t);
	CHECK(CHOKE_OPT_ENTRY(w) == 2);
	CHECK(CHOKE_OPT_SINCE(w) == t);
	/* Kept for 30 s, whatever the evaluations in between. */
	CHECK(choke_optimistic(pe, N, reg, w, t + 10 * CHOKE_SEC) == w);
	CHECK(choke_optimistic(pe, N, reg, w, t + 29 * CHOKE_SEC) == w);
	w2 = choke_optimistic(pe, N, reg, w, t + 30 * CHOKE_SEC);
	CHECK(CHOKE_OPT_ENTRY(w2) == 3);
	/* Round robin over the choked interested ones, then around. */
	for (k = 0; k < 8; k++) {
		t += CHOKE_OPT_PERIOD;
		w = choke_optimistic(pe, N, reg, w, t);
		CHECK(CHOKE_OPT_ENTRY(w) >= 2 && CHOKE_OPT_ENTRY(w) <= 5);
		seen[CHOKE_OPT_ENTRY(w)]++;
	}
	CHECK(seen[2] == 2 && seen[3] == 2 && seen[4] == 2 && seen[5] == 2);
	/* Its holder dies or loses interest: replaced at once. */
	w = CHOKE_OPT_WORD(4, t / CHOKE_SEC);
	pe[4].live = 0;
	CHECK(CHOKE_OPT_ENTRY(choke_optimistic(pe, N, reg, w, t)) == 5);
	pe[4].live = 1;
	pe[4].interested = 0;
	CHECK(CHOKE_OPT_ENTRY(choke_optimistic(pe, N, reg, w, t)) == 5);
	/* It won a regular slot: the optimistic one goes to another. */
	pe[4].interested = 1;
	reg[4] = 1;
	CHECK(CHOKE_OPT_ENTRY(choke_optimistic(pe, N, reg, w, t)) == 5);
	/* Nobody to choose. */
	memset(pe, 0, sizeof(pe));
	CHECK(choke_optimistic(pe, N, reg, w, t) == 0);
}

/* Rates average over time; snubbing after 60 s without data. */
static void
meter(void)
{
	struct choke_meter m;
	int64_t t = 5 * CHOKE_SEC;
	uint64_t down = 0;
	int k, snub = 0;

	choke_meter_init(&m, t);
	/* 1000 bytes/s for a minute: the average gets close. */
	for (k = 0; k < 60; k++) {
		t += CHOKE_SEC;
		down += 1000;
		snub |= choke_meter_feed(&m, down, 0, 0, 1, t);
	}
	CHECK(!snub);
	CHECK(m.down_rate > 900 && m.down_rate <= 1000);
	CHECK(m.up_rate == 0);
	/* Unchoked, wanted, nothing arrives: snubbed at 60 s, not before. */
	for (k = 0; k < 59; k++) {
		t += CHOKE_SEC;
		snub |= choke_meter_feed(&m, down, 0, 0, 1, t);
	}
	CHECK(!snub);
	CHECK(m.down_rate < 100);
	t += CHOKE_SEC;
	CHECK(choke_meter_feed(&m, down, 0, 0, 1, t) == 1);
	/* Not snubbing when we want nothing, or when it chokes us. */
	CHECK(choke_meter_feed(&m, down, 0, 0, 0, t + CHOKE_SEC) == 0);
	CHECK(choke_meter_feed(&m, down, 0, 1, 1, t + 2 * CHOKE_SEC) == 0);
	/* An unchoke starts the minute again. */
	t += 3 * CHOKE_SEC;
	CHECK(choke_meter_feed(&m, down, 0, 0, 1, t) == 0);
	CHECK(choke_meter_feed(&m, down, 0, 0, 1, t + 59 * CHOKE_SEC) == 0);
	CHECK(choke_meter_feed(&m, down + 1, 0, 0, 1, t + 61 * CHOKE_SEC) ==
	    0);
}

/* The shared token bucket under a fake clock: the average holds. */
static void
bucket(void)
{
	struct choke_bucket b = { 0, 0 };
	uint64_t rate = 100000, moved = 0;
	int64_t t = 7 * CHOKE_SEC, w, end;

	/* The first look fills it with one burst. */
	CHECK(choke_bucket_wait(&b, rate, t) == 0);
	CHECK(b.tokens == CHOKE_BURST(rate));
	/* A greedy mover: 16 KiB whenever allowed, for 100 s. */
	end = t + 100 * CHOKE_SEC;
	while (t < end) {
		w = choke_bucket_wait(&b, rate, t);
		if (w > 0) {
			CHECK(w < 2 * CHOKE_SEC);
			t += w;
			continue;
		}
		choke_bucket_spend(&b, 16384);
		moved += 16384;
	}
	/* rate * time, plus at most the first burst and one block. */
	CHECK(moved >= 100 * rate);
	CHECK(moved <= 100 * rate + (uint64_t)CHOKE_BURST(rate) + 16384);
	/* Idle: it refills to the burst only, never beyond. */
	CHECK(choke_bucket_wait(&b, rate, t + 5 * CHOKE_SEC) == 0);
	CHECK(b.tokens <= CHOKE_BURST(rate));
	/* A debt is waited out at the rate. */
	choke_bucket_spend(&b, (uint64_t)b.tokens + 50000);
	w = choke_bucket_wait(&b, rate, t + 5 * CHOKE_SEC);
	CHECK(w >= CHOKE_SEC / 2 && w <= CHOKE_SEC / 2 + 2000);
	/* No limit: never a wait. */
	CHECK(choke_bucket_wait(&b, 0, t) == 0);
}

static void
rates(void)
{
	uint64_t v;
	const char *bad[] = { "", "k", "-1", "1x", "1kk", "1.5", "1.k",
	    ".5k", "2000000000000M", "99999999999999999999", NULL };
	int k;

	CHECK(choke_parse_rate("0", &v) == 0 && v == 0);
	CHECK(choke_parse_rate("12345", &v) == 0 && v == 12345);
	CHECK(choke_parse_rate("200k", &v) == 0 && v == 204800);
	CHECK(choke_parse_rate("2M", &v) == 0 && v == 2097152);
	CHECK(choke_parse_rate("1.5M", &v) == 0 && v == 1572864);
	CHECK(choke_parse_rate("0.5k", &v) == 0 && v == 512);
	for (k = 0; bad[k] != NULL; k++)
		CHECK(choke_parse_rate(bad[k], &v) == -1);
}

/* The table: entries and slots are locks that die with the process. */
static void
table(void)
{
	char dir[] = "/tmp/test_choke.XXXXXX", err[256];
	struct choke_tab a, b;
	struct choke_peer *view = calloc(CHOKE_ENTRIES, sizeof(*view));
	int dfd, st, fds[2];
	pid_t pid;
	char c;

	CHECK(mkdtemp(dir) != NULL);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(choke_tab_open(&a, dfd, 1, err) == 0);
	CHECK(choke_tab_open(&b, dfd, 1, err) == 0);
	CHECK(a.me == 0 && b.me == 1);
	choke_tab_publish(&b, 7, 8, CHOKE_F_INTERESTED);
	choke_tab_read(&a, 0, view);
	CHECK(view[0].live && view[1].live && !view[2].live);
	CHECK(view[1].rate == 7 && view[1].interested);
	choke_tab_read(&a, 1, view);
	CHECK(view[1].rate == 8);
	/* One regular slot, one optimistic: a second taker waits. */
	CHECK(choke_tab_take(&a, 0) == 1 && a.held == 0);
	CHECK(choke_tab_take(&b, 0) == 0);
	CHECK(choke_tab_take(&b, 1) == 1 && b.held == CHOKE_HELD_OPT);
	CHECK(choke_tab_take(&a, 1) == 0);
	choke_tab_drop(&a);
	CHECK(choke_tab_take(&b, 0) == 1 && b.held == 0);
	choke_tab_release(&b, CHOKE_HELD_OPT);
	CHECK(choke_tab_take(&a, 1) == 1);
	CHECK(choke_tab_set_opt(&a, 0, CHOKE_OPT_WORD(1, 5)) == 1);
	CHECK(choke_tab_set_opt(&b, 0, CHOKE_OPT_WORD(0, 5)) == 0);
	CHECK(CHOKE_OPT_ENTRY(choke_tab_opt(&b)) == 1);
	choke_tab_close(&a);
	choke_tab_close(&b);
	/* A child takes an entry and the slot, then is killed -9. */
	CHECK(pipe(fds) == 0);
	pid = fork();
	if (pid == 0) {
		if (choke_tab_open(&a, dfd, 1, err) == 0 &&
		    choke_tab_take(&a, 0) == 1)
			(void)!write(fds[1], "x", 1);
		pause();
		_exit(0);
	}
	CHECK(read(fds[0], &c, 1) == 1);
	CHECK(choke_tab_open(&b, dfd, 1, err) == 0);
	CHECK(b.me == 1);
	choke_tab_read(&b, 0, view);
	CHECK(view[0].live);
	CHECK(choke_tab_take(&b, 0) == 0);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	choke_tab_read(&b, 0, view);
	CHECK(!view[0].live);		/* used stays set; the lock says */
	CHECK(choke_tab_take(&b, 0) == 1);
	choke_tab_close(&b);
	close(fds[0]);
	close(fds[1]);
	close(dfd);
	{
		char path[300];

		snprintf(path, sizeof(path), "%s/choke", dir);
		unlink(path);
		rmdir(dir);
	}
	free(view);
}

int
main(void)
{
	RUN(ranking);
	RUN(ties);
	RUN(optimistic);
	RUN(meter);
	RUN(bucket);
	RUN(rates);
	RUN(table);
	DONE();
}
