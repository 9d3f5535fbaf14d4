/*
 * choke.h: choking across processes (BEP 3, "choking and optimistic
 * unchoking"), for the btpeer processes of one torrent.
 *
 * Every connection is one process, so the decision is shared: each
 * process owns one entry of a small table mapped from the spool
 * directory (DIR/choke, btspool(5)) and publishes there its peer's
 * rates and flags; every CHOKE_PERIOD each process reads the whole
 * table, runs the same pure decision (choke_decide, choke_optimistic)
 * and applies it to its own peer. What bounds the number of unchoked
 * peers is not the agreement but the slots: an unchoked peer's process
 * holds one of `slots` (+ 1 optimistic) kernel-released OFD locks on
 * DIR/choke, taken before the unchoke and dropped after the choke, so
 * at no moment can more peers be unchoked than there are slots, and a
 * process killed by SIGKILL frees its slot and entry without cleanup.
 *
 * The pure part (choke_decide, choke_optimistic, choke_meter_*) takes
 * time as microseconds and touches nothing else: unit-tested under a
 * fake clock. The table part (choke_tab_*) does the file and the locks.
 */
#ifndef BT_CHOKE_H
#define BT_CHOKE_H

#include <stddef.h>
#include <stdint.h>

#define CHOKE_SEC		1000000LL
/* BEP 3: regular slots are reconsidered every 10 s ... */
#define CHOKE_PERIOD		(10 * CHOKE_SEC)
/*
 * Rates are published at the start of a period and read this much
 * later, so that every process ranks the same snapshot: half a second
 * is ample for each process's next tick, which comes at least every
 * second and normally at once.
 */
#define CHOKE_EVAL_DELAY	(CHOKE_SEC / 2)
/* ... and the optimistic unchoke rotates every 30 s (three periods). */
#define CHOKE_OPT_PERIOD	(30 * CHOKE_SEC)
/* A peer that unchokes us and sends nothing for a minute snubs us. */
#define CHOKE_SNUB		(60 * CHOKE_SEC)
/* Rates are averaged with this time constant: two periods. */
#define CHOKE_RATE_TAU		(20 * CHOKE_SEC)
/* Default upload slots per torrent (libtorrent and BEP 3 use 4). */
#define CHOKE_SLOTS_DEFAULT	4
/* Upper bound of --upload-slots: each slot is a lock byte. */
#define CHOKE_SLOTS_MAX		256
/*
 * Connections one table tracks: bittorrent's 50 peer processes and
 * btpeer --listen's 32 children by default, with room for both maxima
 * raised; a process that finds no free entry simply never unchokes.
 */
#define CHOKE_ENTRIES		1024
#define CHOKE_MAGIC		"BTCHOKE1"
#define CHOKE_VERSION		1
/* Lock offsets in DIR/choke: entries at k, slots from CHOKE_SLOT_BASE. */
#define CHOKE_SLOT_BASE		(1 << 20)
#define CHOKE_SLOT_OPT		(CHOKE_SLOT_BASE + CHOKE_SLOTS_MAX)

/* What the decision sees of one entry. */
struct choke_peer {
	int		 live;		/* owned by a running process */
	int		 interested;	/* the peer wants our data */
	int		 snubbed;	/* it unchoked us and sends nothing */
	int		 unchoked;	/* it holds a slot now */
	uint64_t	 rate;		/* the ranking key, bytes/s */
};

/*
 * The regular slots: regular[k] = 1 for the `slots` live, interested,
 * not snubbed entries with the highest rate (ties: an entry already
 * unchoked first, then the lower index), 0 for every other. Returns
 * how many were chosen.
 */
int	choke_decide(const struct choke_peer *, uint32_t n, int slots,
	    unsigned char *regular);

/*
 * The optimistic unchoke, encoded as one word (for a compare-and-swap
 * in the table): the entry index + 1 in the low 16 bits (0: none) and
 * the CLOCK_MONOTONIC second it was chosen above them.
 */
#define CHOKE_OPT_WORD(k, sec)	((((uint64_t)(sec)) << 16) | \
				    (uint64_t)((k) + 1))
#define CHOKE_OPT_ENTRY(w)	((int64_t)((w) & 0xffff) - 1)
#define CHOKE_OPT_SINCE(w)	((int64_t)((w) >> 16) * CHOKE_SEC)
/*
 * Given the current word and the regular set, the word that should be:
 * the same while its entry is live, interested, not regular and younger
 * than CHOKE_OPT_PERIOD; else the next live, interested, non-regular
 * entry after it in index order (round robin), chosen at now; or 0.
 */
uint64_t choke_optimistic(const struct choke_peer *, uint32_t n,
	    const unsigned char *regular, uint64_t cur, int64_t now);

/*
 * One connection's rates and snub state, fed with its byte counters
 * and flags at every tick (any interval).
 */
struct choke_meter {
	int64_t		 last;		/* time of the last feed, 0: none */
	uint64_t	 down, up;	/* counters at the last feed */
	double		 down_rate, up_rate;	/* bytes/s, averaged */
	int64_t		 last_data;	/* data from the peer, or unchoke */
	int		 was_choked;	/* the peer choked us at last feed */
};
void	choke_meter_init(struct choke_meter *, int64_t now);
/*
 * down/up: byte counters; choked: the peer chokes us; interested: we
 * want its pieces. Returns 1 if the peer snubs us now: it unchoked us,
 * we want something, and no data came for CHOKE_SNUB.
 */
int	choke_meter_feed(struct choke_meter *, uint64_t down, uint64_t up,
	    int choked, int interested, int64_t now);

/*
 * A token bucket shared by processes (--max-download-rate,
 * --max-upload-rate), lock-free: whoever comes refills it for the time
 * since the last refill (a compare-and-swap of last decides who), and
 * bytes are spent after the fact, so tokens may go negative: the spender
 * then waits until the debt is paid. Over any long window the bytes
 * moved are rate * time + one burst.
 */
struct choke_bucket {
	int64_t		 tokens;	/* bytes that may go now; < 0: debt */
	int64_t		 last;		/* time of the last refill, us */
};
/*
 * Burst: a quarter second of the rate, at least two 16 KiB blocks (a
 * peer's message is not cut), so short bursts keep the average exact.
 */
#define CHOKE_BURST(rate)	((int64_t)(rate) / 4 > 32768 ? \
				    (int64_t)(rate) / 4 : 32768)
/* The largest rate limit: 1 TiB/s, far past any link, no overflow. */
#define CHOKE_RATE_MAX		((uint64_t)1 << 40)
/*
 * "200k", "1.5M" style: bytes per second, k = 1024, M = 1048576
 * (decimal fractions allowed with a suffix); 0 means unlimited.
 * 0, or -1 for anything else or more than CHOKE_RATE_MAX.
 */
int	choke_parse_rate(const char *, uint64_t *);
/* Refills for the time elapsed; the microseconds to wait (0: go). */
int64_t	choke_bucket_wait(struct choke_bucket *, uint64_t rate, int64_t now);
/* Spends n bytes (after moving them). */
void	choke_bucket_spend(struct choke_bucket *, uint64_t n);

/*
 * The shared table, DIR/choke (btspool(5)): a header then CHOKE_ENTRIES
 * entries, host byte order, each word changed with atomic operations.
 */
struct choke_hdr {
	char		 magic[8];	/* CHOKE_MAGIC, no NUL */
	uint32_t	 version;
	uint32_t	 nent;		/* CHOKE_ENTRIES */
	uint64_t	 opt;		/* CHOKE_OPT_WORD, compare-and-swap */
	struct choke_bucket bucket[2];	/* CHOKE_DOWN, CHOKE_UP */
	unsigned char	 reserved[8];	/* zero; pads to 64 */
};

enum {
	CHOKE_F_INTERESTED = 1,
	CHOKE_F_SNUBBED = 2,
	CHOKE_F_UNCHOKED = 4
};

struct choke_ent {
	uint32_t	 used;		/* 1 while owned (a hint: the lock says) */
	uint32_t	 flags;		/* CHOKE_F_* */
	uint64_t	 down;		/* bytes/s from the peer */
	uint64_t	 up;		/* bytes/s to the peer */
	int64_t		 pid;		/* the owner, for a reader's eyes */
	unsigned char	 reserved[32];	/* zero; pads to 64 */
};

enum { CHOKE_DOWN, CHOKE_UP };

/* Which slot a process holds. */
enum { CHOKE_HELD_NONE = -1, CHOKE_HELD_OPT = -2 };

struct choke_tab {
	int		 fd;		/* DIR/choke, this process's own open */
	struct choke_hdr *hdr;
	struct choke_ent *ent;
	size_t		 maplen;
	int		 me;		/* our entry, or -1 */
	int		 held;		/* slot index, or CHOKE_HELD_* */
	int		 slots;		/* regular slots */
};

/*
 * Opens (creating) DIR/choke in the spool directory dirfd and takes a
 * free entry. 0, or -1 with err. With no entry free, me stays -1 and
 * the process never unchokes.
 */
int	choke_tab_open(struct choke_tab *, int dirfd, int slots, char *err);
/* Marks the entry unused and closes: every lock of ours goes with it. */
void	choke_tab_close(struct choke_tab *);
/* Publishes our entry. */
void	choke_tab_publish(struct choke_tab *, uint64_t down, uint64_t up,
	    uint32_t flags);
/*
 * Reads every entry into out (n = CHOKE_ENTRIES), the ranking key the
 * upload rate when seeding, else the download rate. Liveness is asked
 * of the kernel (the entry's lock is held), ours is live.
 */
void	choke_tab_read(struct choke_tab *, int seeding,
	    struct choke_peer *out);
/*
 * Takes a slot: a regular one (opt 0: any free of 0..slots-1) or the
 * optimistic one; held names it. 1 taken (or already held of that
 * kind), 0 none free. A slot of the other kind held before stays locked
 * until choke_tab_release: the caller says so first.
 */
int	choke_tab_take(struct choke_tab *, int opt);
/* Unlocks one slot (a CHOKE_HELD_* or an index); held is unchanged. */
void	choke_tab_release(struct choke_tab *, int slot);
/* Drops the slot held, if any. */
void	choke_tab_drop(struct choke_tab *);
/* The optimistic word, and a compare-and-swap of it. */
uint64_t choke_tab_opt(const struct choke_tab *);
int	choke_tab_set_opt(struct choke_tab *, uint64_t old, uint64_t new);

#endif
