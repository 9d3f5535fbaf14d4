/*
 * fuzz_webseed.c: the web seed's header parsers (Content-Range,
 * Retry-After) and the response verdict on hostile bytes, checking what
 * btwebseed relies on: a parsed range is ordered and inside its total, a
 * wait is never negative, a 206 judged OK names exactly the range asked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webseed.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	const char *s = (const char *)d;
	uint64_t first, last, total;
	long secs;

	if (ws_content_range(s, n, &first, &last, &total) == 0) {
		if (last < first || (total != UINT64_MAX && last >= total))
			abort();
		if (ws_judge(206, s, n, first, (uint32_t)(last - first + 1),
		    total) != WS_OK && last - first < UINT32_MAX &&
		    total != UINT64_MAX)
			abort();
		if (first > 0 && ws_judge(206, s, n, first - 1, 1, total) ==
		    WS_OK)
			abort();
	}
	if (ws_retry_after(s, n, 784111777, &secs) == 0 &&
	    (secs < 0 || secs > INT32_MAX))
		abort();
	if (ws_judge(206, s, n, 0, 1, 1) == WS_OK &&
	    (ws_content_range(s, n, &first, &last, &total) != 0 ||
	    first != 0 || last != 0))
		abort();
	return 0;
}
