/*
 * magnet.h: magnet URIs (BEP 9): xt=urn:btih:<40 hex | 32 base32>,
 * xt=urn:btmh:1220<64 hex> (BEP 52), dn, tr (repeatable), x.pe (peers),
 * xl (the length in bytes), ws (web seeds, repeatable; BEP 19).
 * struct magnet owns its strings; magnet_free releases them.
 */
#ifndef BT_MAGNET_H
#define BT_MAGNET_H

#include <stddef.h>

/* Longer than any real magnet; bounds what a stranger's link can cost. */
#define MAGNET_MAX_LEN		65536
#define MAGNET_MAX_LIST		256

struct magnet {
	unsigned char	 info_hash[20];
	int		 has_v1;
	unsigned char	 info_hash_v2[32];
	int		 has_v2;
	char		*name;		/* dn, or NULL */
	char		**trackers;	/* tr */
	size_t		 ntrackers;
	char		**peers;	/* x.pe, HOST:PORT */
	size_t		 npeers;
	char		**webseeds;	/* ws */
	size_t		 nwebseeds;
	unsigned long long length;	/* xl, when has_length */
	int		 has_length;
};

/* 0, or -1 with err (BT_ERRLEN). */
int	magnet_parse(struct magnet *, const char *uri, char *err);
void	magnet_free(struct magnet *);

#endif
