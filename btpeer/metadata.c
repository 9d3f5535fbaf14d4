/*
 * metadata.c: btpeer --metadata: a magnet link's info dictionary from
 * one peer (BEP 9), written to stdout as a .torrent whose info-hash is
 * the magnet's, with the magnet's trackers as its announce list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bencode.h"
#include "bt.h"
#include "buf.h"
#include "loop.h"
#include "magnet.h"
#include "metadata.h"
#include "net.h"
#include "ut_metadata.h"

/* The .torrent: announce, announce-list (a tier per tracker), info. */
static int
write_torrent(const struct magnet *m, const struct utm *u)
{
	struct buf b;
	size_t k;
	int r;

	buf_init(&b, (size_t)u->size + MAGNET_MAX_LEN + 64);
	r = buf_addc(&b, 'd');
	if (m->ntrackers > 0)
		r |= buf_adds(&b, "8:announce") |
		    benc_put_cstr(&b, m->trackers[0]);
	if (m->ntrackers > 1) {
		r |= buf_adds(&b, "13:announce-listl");
		for (k = 0; k < m->ntrackers; k++)
			r |= buf_addc(&b, 'l') |
			    benc_put_cstr(&b, m->trackers[k]) |
			    buf_addc(&b, 'e');
		r |= buf_addc(&b, 'e');
	}
	r |= buf_adds(&b, "4:info") | buf_add(&b, u->buf, u->size) |
	    buf_addc(&b, 'e');
	if (r == 0 && fwrite(b.p, 1, b.len, stdout) != b.len)
		r = -1;
	buf_free(&b);
	return r;
}

int
metadata_run(struct opts *o)
{
	struct magnet m;
	struct metainfo mi;
	struct utm u;
	struct conn cn;
	char err[BT_ERRLEN];
	int fd, rc;

	if (magnet_parse(&m, o->torrent, err) == -1) {
		fprintf(stderr, "btpeer: %s: %s\n", o->torrent, err);
		return BT_EXIT_INPUT;
	}
	if (!m.has_v1) {
		fprintf(stderr, "btpeer: %s: a v2-only magnet link (btmh): "
		    "not supported\n", o->torrent);
		magnet_free(&m);
		return BT_EXIT_INPUT;
	}
	/* Only the info-hash is known: PEER_METADATA needs no more. */
	memset(&mi, 0, sizeof(mi));
	memcpy(mi.info_hash, m.info_hash, 20);
	utm_init(&u, NULL, 0, m.info_hash);
	o->utm = &u;
	fd = net_connect(o->addr, o->timeout, err);
	if (fd < 0) {
		fprintf(stderr, "btpeer: %s\n", err);
		magnet_free(&m);
		return fd == -2 ? BT_EXIT_INPUT : BT_EXIT_WORLD;
	}
	conn_stream(&cn, fd, fd);
	/* No plain retry here: MSE only when the user requires it. */
	rc = loop_run(o, &mi, NULL, &cn, NULL, o->encryption ==
	    PEER_CRYPTO_REQUIRE ? PEER_CRYPTO_REQUIRE : PEER_CRYPTO_OFF, NULL);
	close(fd);
	if (rc == BT_EXIT_OK && !u.done) {
		fprintf(stderr, "btpeer: %s: the peer closed before the "
		    "metadata was complete\n", o->addr);
		rc = BT_EXIT_WORLD;
	}
	if (rc == BT_EXIT_OK && write_torrent(&m, &u) == -1) {
		fprintf(stderr, "btpeer: writing the torrent failed\n");
		rc = BT_EXIT_WORLD;
	}
	utm_free(&u);
	magnet_free(&m);
	return rc;
}
