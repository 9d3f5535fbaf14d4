#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "buf.h"
#include "bencode.h"
#include "magnet.h"
#include "metainfo.h"
#include "t.h"

/* A multi-file torrent: lengths 5, 0, 7, 0, 4 in pieces of 4 bytes. */
static int
mk(struct metainfo *mi, char *err)
{
	struct buf b;
	int rc;
	static const char *names[] = { "a", "e1", "b", "e2", "c" };
	static const int lens[] = { 5, 0, 7, 0, 4 };

	buf_init(&b, 1 << 16);
	buf_adds(&b, "d8:announce14:http://x/a b?c4:infod5:filesl");
	for (int i = 0; i < 5; i++) {
		buf_adds(&b, "d6:lengthi");
		buf_printf(&b, "%de4:pathl", lens[i]);
		benc_put_cstr(&b, names[i]);
		buf_adds(&b, "ee");
	}
	buf_adds(&b, "e4:name3:dir12:piece lengthi4e6:pieces80:");
	for (int i = 0; i < 80; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "ee");
	rc = mi_parse(mi, b.p, b.len, err);
	buf_free(&b);
	return rc;
}

static void
layout(void)
{
	struct metainfo mi;
	char err[BT_ERRLEN] = "";

	CHECK(mk(&mi, err) == 0);
	if (err[0] != '\0')
		printf("#   %s\n", err);
	CHECK(mi.multi && mi.nfiles == 5 && mi.total_length == 16);
	CHECK(mi.npieces == 4);
	CHECK(mi_piece_size(&mi, 0) == 4 && mi_piece_size(&mi, 3) == 4);
	CHECK(strcmp(mi.files[2].path, "dir/b") == 0);
	CHECK(mi.files[2].offset == 5 && mi.files[4].offset == 12);
	/* Zero-length files never hold a byte. */
	CHECK(mi_file_at(&mi, 0) == 0);
	CHECK(mi_file_at(&mi, 4) == 0);
	CHECK(mi_file_at(&mi, 5) == 2);
	CHECK(mi_file_at(&mi, 11) == 2);
	CHECK(mi_file_at(&mi, 12) == 4);
	CHECK(mi_file_at(&mi, 15) == 4);
	mi_free(&mi);
}

static void
lastpiece(void)
{
	struct metainfo mi;
	char err[BT_ERRLEN];
	const char *t = "d4:infod6:lengthi10e4:name1:n12:piece lengthi4e"
	    "6:pieces60:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxee";

	CHECK(mi_parse(&mi, t, strlen(t), err) == 0);
	CHECK(mi.npieces == 3 && mi_piece_size(&mi, 2) == 2);
	CHECK(!mi.multi && strcmp(mi.files[0].path, "n") == 0);
	CHECK(mi.ntiers == 0);
	mi_free(&mi);
}

static void
magnet(void)
{
	struct metainfo mi;
	struct magnet m;
	char err[BT_ERRLEN], *uri;

	CHECK(mk(&mi, err) == 0);
	uri = mi_magnet(&mi);
	CHECK(uri != NULL && strstr(uri, "&dn=dir&tr=http%3A%2F%2Fx%2Fa%20b%3Fc")
	    != NULL);
	CHECK(magnet_parse(&m, uri, err) == 0);
	CHECK(memcmp(m.info_hash, mi.info_hash, 20) == 0);
	CHECK(m.ntrackers == 1 && strcmp(m.trackers[0], "http://x/a b?c") == 0);
	CHECK(strcmp(m.name, "dir") == 0);
	magnet_free(&m);
	free(uri);
	mi_free(&mi);
	/* base32 form of the same 20 bytes */
	CHECK(magnet_parse(&m, "magnet:?xt=urn:btih:"
	    "AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT", err) == 0);
	CHECK(m.info_hash[0] == 0 && m.info_hash[1] == 1 &&
	    m.info_hash[19] == 19);
	magnet_free(&m);
	CHECK(magnet_parse(&m, "magnet:?dn=x", err) == -1);
	CHECK(magnet_parse(&m, "http://x", err) == -1);
}

/* xl and ws of a magnet link; ws= in the links mi_magnet makes. */
static void
magnet_extras(void)
{
	static const char t[] = "d4:infod6:lengthi1e4:name1:n"
	    "12:piece lengthi4e6:pieces20:xxxxxxxxxxxxxxxxxxxxe"
	    "8:url-listl12:http://w/a b12:http://w/c&dee";
	char err[BT_ERRLEN], *uri;
	struct metainfo mi;
	struct magnet m;

	CHECK(mi_parse(&mi, t, strlen(t), err) == 0);
	uri = mi_magnet(&mi);
	CHECK(uri != NULL &&
	    strstr(uri, "&ws=http%3A%2F%2Fw%2Fa%20b&ws=http%3A%2F%2Fw%2Fc%26d")
	    != NULL);
	CHECK(magnet_parse(&m, uri, err) == 0);
	CHECK(m.nwebseeds == 2 && strcmp(m.webseeds[1], "http://w/c&d") == 0);
	CHECK(!m.has_length);
	magnet_free(&m);
	free(uri);
	mi_free(&mi);
	CHECK(magnet_parse(&m, "magnet:?xt=urn:btih:"
	    "000102030405060708090a0b0c0d0e0f10111213&xl=18446744073709551615",
	    err) == 0);
	CHECK(m.has_length && m.length == 18446744073709551615ull);
	magnet_free(&m);
	CHECK(magnet_parse(&m, "magnet:?xt=urn:btih:"
	    "000102030405060708090a0b0c0d0e0f10111213&xl=18446744073709551616",
	    err) == -1);
	CHECK(magnet_parse(&m, "magnet:?xt=urn:btih:"
	    "000102030405060708090a0b0c0d0e0f10111213&xl=", err) == -1);
}

/* MI_INSPECT: unsafe paths flagged, not refused; mi_parse refuses them. */
static void
inspect(void)
{
	static const char t[] = "d5:nodesl" "l9:127.0.0.1i6881ee"
	    "l1:xi0ee" "i5e" "e4:infod5:filesl"
	    "d6:lengthi1e4:pathl2:..1:xee" "d6:lengthi1e4:pathl1:yee"
	    "e4:name1:n12:piece lengthi4e6:pieces20:xxxxxxxxxxxxxxxxxxxx"
	    "6:source3:TRKee";
	char err[BT_ERRLEN];
	struct metainfo mi;

	CHECK(mi_parse(&mi, t, strlen(t), err) == -1);
	CHECK(strcmp(err, "a file path has a '..' path component") == 0);
	CHECK(mi_parse_flags(&mi, t, strlen(t), MI_INSPECT, err) == 0);
	CHECK(mi.unsafe && strcmp(mi.unsafe_why,
	    "a file path has a '..' path component") == 0);
	CHECK(mi.nfiles == 2 && mi.files[0].unsafe && !mi.files[1].unsafe);
	CHECK(strcmp(mi.files[0].path, "n/../x") == 0);
	CHECK(mi.source != NULL && strcmp(mi.source, "TRK") == 0);
	CHECK(mi.nnodes == 1 && strcmp(mi.nodes[0].host, "127.0.0.1") == 0 &&
	    mi.nodes[0].port == 6881);
	mi_free(&mi);
}

int
main(void)
{
	RUN(layout);
	RUN(lastpiece);
	RUN(magnet);
	RUN(magnet_extras);
	RUN(inspect);
	DONE();
}
