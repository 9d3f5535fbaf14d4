/*
 * metainfo.h: a .torrent file (BEP 3, 12, 19, 27, 47; hybrid BEP 52),
 * checked once by mi_parse and then read from the struct.
 *
 * struct metainfo owns every pointer in it; mi_free releases them all.
 * mi_parse copies what it keeps, so the caller's buffer may go after it.
 * Every file path in it has been checked: no empty, "." or ".."
 * component, no '/' inside a component, no NUL, no absolute path, so
 * joining it under an output directory can never leave that directory.
 */
#ifndef BT_METAINFO_H
#define BT_METAINFO_H

#include <stddef.h>
#include <stdint.h>

#include "bt.h"

/* A 2^22-piece torrent carries 80 MiB of hashes; nothing honest is larger. */
#define MI_MAX_TORRENT	(128u << 20)
#define MI_MAX_PIECES	(1u << 22)
/* 256 MiB: past what any client creates; btpeer holds one piece at once. */
#define MI_MAX_PIECE_LEN	(256u << 20)
/* A million files is past every real torrent and bounds the allocations. */
#define MI_MAX_FILES	(1u << 20)
/* PATH_MAX on Linux: a longer joined path cannot be created anyway. */
#define MI_MAX_PATH	4096
#define MI_MAX_URL	4096
/* DHT nodes kept from a torrent: a handful bootstrap a node; more is junk. */
#define MI_MAX_NODES	256

struct mi_file {
	char		*path;	/* under the output dir: "name" or "name/a/b" */
	char		**comps;	/* the torrent's path list (multi-file) */
	size_t		 ncomps;	/* 0 for a single-file torrent */
	uint64_t	 length;
	uint64_t	 offset;	/* where it starts in the torrent's bytes */
	int		 pad;		/* BEP 47 pad file: zeros, not on disk */
	int		 unsafe;	/* MI_INSPECT only: a path that could leave the dir */
	char		 attr[8];	/* BEP 47 attributes, "" if none */
};

/* A DHT node of the torrent's "nodes" list (BEP 5): [host, port]. */
struct mi_node {
	char		*host;
	uint16_t	 port;
};

struct mi_tier {
	char		**urls;
	size_t		 nurls;
};

struct metainfo {
	unsigned char	 info_hash[20];	/* SHA-1 of the raw info bytes */
	int		 has_v2;	/* hybrid v1/v2 (BEP 52) */
	unsigned char	 info_hash_v2[32];	/* SHA-256 of the same bytes */
	char		*name;
	int		 multi;		/* a "files" list, not a "length" */
	uint64_t	 piece_length;
	uint32_t	 npieces;
	const unsigned char *pieces;	/* npieces * 20 bytes, inside info */
	uint64_t	 total_length;	/* including pad files */
	struct mi_file	*files;
	size_t		 nfiles;
	struct mi_tier	*tiers;	/* announce-list, else announce as one tier */
	size_t		 ntiers;
	char		**webseeds;	/* url-list (BEP 19) */
	size_t		 nwebseeds;
	int		 private;	/* BEP 27 */
	char		*comment;	/* NULL when absent */
	char		*created_by;
	char		*encoding;
	int64_t		 creation_date;
	int		 has_creation_date;
	unsigned char	*info;		/* the raw info dictionary */
	size_t		 info_len;
	char		*source;	/* info.source (private trackers), or NULL */
	struct mi_node	*nodes;		/* "nodes" (BEP 5); junk entries skipped */
	size_t		 nnodes;
	int		 flags;		/* as given to mi_parse_flags */
	int		 unsafe;	/* MI_INSPECT only: some path is unsafe */
	char		 unsafe_why[BT_ERRLEN];	/* the first unsafe path, why */
};

/*
 * MI_INSPECT: a torrent whose paths could leave the output directory
 * (empty, "." or ".." components, '/' inside one) is parsed anyway, its
 * files and metainfo flagged unsafe, for tools that only show it. Tools
 * that write never pass it: to them such a torrent stays invalid.
 */
#define MI_INSPECT	1

/* 0, or -1 with err (BT_ERRLEN) naming the problem. */
int	mi_parse(struct metainfo *, const void *buf, size_t len, char *err);
/* Reads and parses a file, "-" for stdin. */
int	mi_load(struct metainfo *, const char *path, char *err);
/* The same with MI_* flags. */
int	mi_parse_flags(struct metainfo *, const void *buf, size_t len,
	    int flags, char *err);
int	mi_load_flags(struct metainfo *, const char *path, int flags,
	    char *err);
void	mi_free(struct metainfo *);

/* Length of piece i (the last one may be shorter). */
uint32_t mi_piece_size(const struct metainfo *, uint32_t i);
/* Index of the file holding byte off of the stream (off < total_length). */
size_t	mi_file_at(const struct metainfo *, uint64_t off);
/* A magnet URI (BEP 9), malloc'd; NULL when memory is short. */
char	*mi_magnet(const struct metainfo *);

/*
 * Reads a whole file ("-" for stdin) of at most max bytes into a malloc'd
 * buffer. 0 with the data and its length set, or -1 with err, which
 * says what went wrong but not the file's name: the caller names it.
 */
int	read_file(const char *path, size_t max, unsigned char **data,
	    size_t *len, char *err);

#endif
