/*
 * fuzz_metainfo_v2: mi_parse_v2 on anything, for the BEP 52 file tree and
 * piece layers. For what it accepts: every path is safe, v2 files start
 * on piece boundaries within the piece count, every non-empty file has a
 * pieces root, and the info-hashes are those of the info bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "bt.h"
#include "metainfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metainfo mi;
	char err[BT_ERRLEN];
	unsigned char h[32];
	const char *c;
	char *mag;
	size_t n;

	if (mi_parse_v2(&mi, data, size, err) == -1) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	if (mi.nfiles == 0 || mi.name == NULL || mi.piece_length == 0)
		abort();
	if (mi.has_v2) {
		SHA256(mi.info, mi.info_len, h);
		if (memcmp(h, mi.info_hash_v2, 32) != 0)
			abort();
	}
	if (mi.v2_only && (mi.pieces != NULL ||
	    memcmp(mi.info_hash, mi.info_hash_v2, 20) != 0))
		abort();
	for (size_t i = 0; i < mi.nfiles; i++) {
		const struct mi_file *f = &mi.files[i];

		if (*f->path == '/' || *f->path == '\0')
			abort();
		for (c = f->path;; c += n + 1) {
			n = strcspn(c, "/");
			if (n == 0 || (n == 1 && c[0] == '.') ||
			    (n == 2 && c[0] == '.' && c[1] == '.'))
				abort();
			if (c[n] == '\0')
				break;
		}
		if (!mi.has_v2 || f->pad || f->length == 0)
			continue;
		if (f->root == NULL || f->offset % mi.piece_length != 0 ||
		    f->offset / mi.piece_length + (f->length +
		    mi.piece_length - 1) / mi.piece_length > mi.npieces)
			abort();
		if (f->layer != NULL && (f->layer < mi.layers ||
		    f->layer >= mi.layers + mi.layers_len))
			abort();
	}
	if ((mag = mi_magnet(&mi)) == NULL ||
	    strncmp(mag, mi.v2_only ? "magnet:?xt=urn:btmh:1220" :
	    "magnet:?xt=urn:btih:", 20) != 0)
		abort();
	free(mag);
	mi_free(&mi);
	return 0;
}
