/*
 * wire.h: the BitTorrent peer wire protocol (BEP 3), sans I/O.
 *
 * Parsers take (buf, len) and say how many bytes they used, or how many
 * they need; builders write into a caller's buffer of the stated size.
 * Nothing here reads a socket, allocates, prints or exits. struct
 * wire_msg points into the caller's buffer and lives as long as it does.
 */
#ifndef BT_WIRE_H
#define BT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "metainfo.h"

#define WIRE_HANDSHAKE_LEN	68
#define WIRE_PSTR		"BitTorrent protocol"
#define WIRE_PSTRLEN		19
/*
 * Block size: BEP 3 says clients close connections that request more
 * than 16 KiB, so we neither ask for nor serve more.
 */
#define WIRE_BLOCK		(16u << 10)
/* Length prefix + id + index + begin: what precedes a block's bytes. */
#define WIRE_PIECE_HDR		13
#define WIRE_REQUEST_LEN	17
#define WIRE_HAVE_LEN		9

enum wire_type {
	WIRE_CHOKE = 0,
	WIRE_UNCHOKE = 1,
	WIRE_INTERESTED = 2,
	WIRE_NOT_INTERESTED = 3,
	WIRE_HAVE = 4,
	WIRE_BITFIELD = 5,
	WIRE_REQUEST = 6,
	WIRE_PIECE = 7,
	WIRE_CANCEL = 8,
	WIRE_PORT = 9,		/* BEP 5 */
	WIRE_SUGGEST = 13,	/* BEP 6, the fast extension */
	WIRE_HAVE_ALL = 14,
	WIRE_HAVE_NONE = 15,
	WIRE_REJECT = 16,
	WIRE_ALLOWED_FAST = 17,
	WIRE_EXTENDED = 20,	/* BEP 10 */
	WIRE_KEEPALIVE = 256	/* a zero-length message; not an id */
};

/* Reserved-byte flags (byte index, mask) as in BEP 5, 6, 10. */
#define WIRE_RES_DHT_BYTE	7
#define WIRE_RES_DHT		0x01
#define WIRE_RES_FAST_BYTE	7
#define WIRE_RES_FAST		0x04
#define WIRE_RES_EXT_BYTE	5
#define WIRE_RES_EXT		0x10

/*
 * What a parser needs to know of the torrent. maxmsg is the length cap
 * (prefix excluded): the larger of a whole bitfield message and a piece
 * message of one block, so a 2^22-piece torrent allows 512 KiB + 1, a
 * small one about 16 KiB. Unknown and extension messages share the cap.
 */
struct wire_limits {
	uint32_t	 npieces;
	uint64_t	 piece_length;
	uint64_t	 total_length;
	uint32_t	 maxmsg;
	uint32_t	 bitfield_len;	/* ceil(npieces / 8) */
	/*
	 * The torrent's size is not known yet (fetching its metadata): a
	 * bitfield of 1..bitfield_len bytes is taken, spare bits unchecked.
	 */
	int		 loose;
};

struct wire_hs {
	unsigned char	 reserved[8];
	unsigned char	 info_hash[20];
	unsigned char	 peer_id[20];
};

struct wire_msg {
	int		 type;		/* enum wire_type, or an unknown id */
	uint32_t	 len;		/* payload bytes after the id */
	uint32_t	 index;		/* have, request, piece, cancel, ... */
	uint32_t	 begin;		/* request, piece, cancel, reject */
	uint32_t	 length;	/* request, cancel, reject; piece: block */
	uint16_t	 port;		/* port */
	const unsigned char *data;	/* bitfield bits, block, other payload */
};

void	wire_limits_init(struct wire_limits *, const struct metainfo *);
/* The same from bare numbers (tests, fuzzing). */
void	wire_limits_set(struct wire_limits *, uint32_t npieces,
	    uint64_t piece_length, uint64_t total_length);
uint32_t wire_piece_size(const struct wire_limits *, uint32_t i);

/* Writes the 68-byte handshake. */
void	wire_handshake(unsigned char out[WIRE_HANDSHAKE_LEN],
	    const unsigned char reserved[8], const unsigned char info_hash[20],
	    const unsigned char peer_id[20]);
/*
 * Parses a handshake at buf: WIRE_HANDSHAKE_LEN when whole, 0 when more
 * bytes are needed (a wrong protocol string is refused as soon as seen),
 * -1 with err. If want is non-NULL, the info-hash must equal it.
 */
int	wire_handshake_parse(const void *buf, size_t len,
	    const unsigned char *want, struct wire_hs *, char *err);

/*
 * Parses one message at buf. Returns the bytes it used (> 0) with *m
 * filled; 0 when the message is incomplete, with *need set to the total
 * bytes that message takes (4 while the prefix itself is incomplete);
 * -1 with err when the message breaks a rule: length over the cap, a
 * wrong size for its type, an index or range outside the torrent, a
 * block of 0 or more than WIRE_BLOCK bytes, a bitfield of the wrong
 * length or with spare bits set. Unknown ids are returned, not refused.
 */
int	wire_parse(const struct wire_limits *, const void *buf, size_t len,
	    struct wire_msg *m, size_t *need, char *err);

/* Builders: each returns the bytes written. */
size_t	wire_keepalive(unsigned char out[4]);
size_t	wire_simple(unsigned char out[5], int type);
size_t	wire_have(unsigned char out[WIRE_HAVE_LEN], uint32_t index);
/* request, cancel (and reject): 17 bytes. */
size_t	wire_request(unsigned char out[WIRE_REQUEST_LEN], int type,
	    uint32_t index, uint32_t begin, uint32_t length);
/* The 13 bytes before a block of blocklen bytes. */
size_t	wire_piece_hdr(unsigned char out[WIRE_PIECE_HDR], uint32_t index,
	    uint32_t begin, uint32_t blocklen);
/* The 5 bytes before nbytes of bitfield. */
size_t	wire_bitfield_hdr(unsigned char out[5], uint32_t nbytes);

/* "choke", "piece", ...; "unknown" for others. */
const char *wire_name(int type);

#endif
