/*
 * fuzz_metainfo: mi_parse on anything; for what it accepts, the piece and
 * file geometry must be consistent and every path safe to join under an
 * output directory. mi_parse_flags(MI_INSPECT) accepts what mi_parse does
 * and more: exactly the torrents mi_parse refuses for a path, flagged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "bt.h"
#include "metainfo.h"

/*
 * Whether a file's path, and the torrent name it starts with, are safe:
 * 1, or 0 (abort when want_abort).
 */
static int
path_ok(const struct mi_file *f, const char *name, int want_abort)
{
	const char *p = f->path, *c;
	size_t n;

	if (*p == '/' || *p == '\0' || *name == '\0' ||
	    strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		goto bad;
	/* Every '/'-separated component is non-empty and not . or .. */
	for (c = p;; c += n + 1) {
		n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			goto bad;
		if (c[n] == '\0')
			break;
	}
	for (size_t i = 0; i < f->ncomps; i++) {
		c = f->comps[i];
		if (*c == '\0' || strchr(c, '/') != NULL ||
		    strcmp(c, ".") == 0 || strcmp(c, "..") == 0)
			goto bad;
	}
	return 1;
bad:
	if (want_abort)
		abort();
	return 0;
}

static void
check_path(const struct mi_file *f, const char *name)
{
	path_ok(f, name, 1);
}

/*
 * MI_INSPECT: accepts whatever mi_parse accepts, with nothing flagged;
 * what it accepts beyond, mi_parse refused for a path, and the files
 * flagged unsafe are the ones whose path is.
 */
static void
inspect(const uint8_t *data, size_t size, int strict_ok)
{
	struct metainfo mi;
	char err[BT_ERRLEN];
	int any = 0;

	if (mi_parse_flags(&mi, data, size, MI_INSPECT, err) == -1) {
		if (strict_ok)
			abort();
		return;
	}
	if (strict_ok && mi.unsafe)
		abort();
	for (size_t i = 0; i < mi.nfiles; i++) {
		if (mi.files[i].unsafe == path_ok(&mi.files[i], mi.name, 0))
			abort();
		any |= mi.files[i].unsafe;
	}
	if (any != mi.unsafe || (!strict_ok && !mi.unsafe))
		abort();
	mi_free(&mi);
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metainfo mi;
	char err[BT_ERRLEN];
	unsigned char h[20];
	uint64_t off = 0, sum = 0, probe;
	size_t k;
	char *mag;

	if (mi_parse(&mi, data, size, err) == -1) {
		if (err[0] == '\0')
			abort();
		inspect(data, size, 0);
		return 0;
	}
	inspect(data, size, 1);
	SHA1(mi.info, mi.info_len, h);
	if (memcmp(h, mi.info_hash, 20) != 0)
		abort();
	if (mi.nfiles == 0 || mi.total_length == 0 || mi.npieces == 0 ||
	    mi.piece_length == 0 || mi.name == NULL)
		abort();
	if (!mi.multi && (mi.nfiles != 1 || strcmp(mi.files[0].path,
	    mi.name) != 0))
		abort();
	for (size_t i = 0; i < mi.nfiles; i++) {
		if (mi.files[i].offset != off)
			abort();
		off += mi.files[i].length;
		check_path(&mi.files[i], mi.name);
		if (mi.multi && mi.files[i].ncomps == 0)
			abort();
	}
	if (off != mi.total_length)
		abort();
	for (uint32_t i = 0; i < mi.npieces; i++) {
		uint32_t ps = mi_piece_size(&mi, i);

		if (ps == 0 || ps > mi.piece_length)
			abort();
		sum += ps;
	}
	if (sum != mi.total_length)
		abort();
	/* A few offsets: the start, the end, each file's first byte. */
	for (size_t i = 0; i <= mi.nfiles + 1 && i < 64; i++) {
		probe = i == 0 ? 0 : i == 1 ? mi.total_length - 1 :
		    mi.files[i - 2].offset;
		if (probe >= mi.total_length)
			continue;
		k = mi_file_at(&mi, probe);
		if (k >= mi.nfiles || mi.files[k].offset > probe ||
		    probe - mi.files[k].offset >= mi.files[k].length)
			abort();
	}
	if ((mag = mi_magnet(&mi)) == NULL ||
	    strncmp(mag, "magnet:?xt=urn:btih:", 20) != 0)
		abort();
	free(mag);
	for (size_t t = 0; t < mi.ntiers; t++)
		if (mi.tiers[t].nurls == 0)
			abort();
	mi_free(&mi);
	return 0;
}
