/*
 * fuzz_storage.c: any torrent mi_parse accepts maps every piece onto its
 * files exactly: st_segments gives contiguous, in-bounds segments in file
 * order that add up to the piece, however the files are cut.
 */
#include <stdint.h>
#include <stdlib.h>

#include "bt.h"
#include "metainfo.h"
#include "storage.h"

/* Pieces checked per input: keeps each run fast on huge piece counts. */
#define MAX_CHECK	4096

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_range(const struct metainfo *mi, uint64_t off, uint64_t len)
{
	struct st_seg seg[3];
	uint64_t at = off, done = 0;
	size_t n, k, last = 0;
	int first = 1;

	while (done < len) {
		n = st_segments(mi, at, len - done, seg, 3);
		if (n == 0)
			abort();
		for (k = 0; k < n; k++) {
			const struct mi_file *f = &mi->files[seg[k].file];

			if (seg[k].len == 0 || f->length == 0 ||
			    seg[k].foff + seg[k].len > f->length ||
			    f->offset + seg[k].foff != at + seg[k].boff ||
			    (!first && seg[k].file <= last))
				abort();
			if (k > 0 && seg[k].boff != seg[k - 1].boff +
			    seg[k - 1].len)
				abort();
			last = seg[k].file;
			first = 0;
		}
		if (seg[0].boff != 0)
			abort();
		at += seg[n - 1].boff + seg[n - 1].len;
		done = at - off;
	}
	if (done != len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metainfo mi;
	char err[BT_ERRLEN];
	uint32_t i, step;

	if (mi_parse(&mi, data, size, err) == -1)
		return 0;
	step = mi.npieces / MAX_CHECK + 1;
	for (i = 0; i < mi.npieces; i += step)
		check_range(&mi, (uint64_t)i * mi.piece_length,
		    mi_piece_size(&mi, i));
	check_range(&mi, 0, mi.total_length < 100000 ? mi.total_length : 1);
	mi_free(&mi);
	return 0;
}
