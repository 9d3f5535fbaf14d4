/*
 * webseed.c: BEP 19 URL mapping, piece-to-range mapping and HTTP
 * response checks for web seeds, on buffers only (webseed.h).
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "storage.h"
#include "util.h"
#include "webseed.h"

int
ws_file_url(struct buf *b, const char *base, const struct metainfo *mi,
    size_t f)
{
	size_t n = strlen(base), k;
	int slash = n > 0 && base[n - 1] == '/';

	if (buf_add(b, base, n) == -1)
		return -1;
	if (!mi->multi)
		return slash ? url_encode(b, mi->name, strlen(mi->name)) : 0;
	if (!slash && buf_addc(b, '/') == -1)
		return -1;
	if (url_encode(b, mi->name, strlen(mi->name)) == -1)
		return -1;
	for (k = 0; k < mi->files[f].ncomps; k++) {
		const char *c = mi->files[f].comps[k];

		if (buf_addc(b, '/') == -1 || url_encode(b, c, strlen(c)) == -1)
			return -1;
	}
	return 0;
}

int
ws_piece_ranges(const struct metainfo *mi, uint32_t i, struct ws_range *out,
    size_t max)
{
	uint64_t start = (uint64_t)i * mi->piece_length;
	uint64_t len = mi_piece_size(mi, i), done = 0;
	struct st_seg seg[16];
	size_t n = 0, got, k;

	if (i >= mi->npieces)
		return 0;
	while (done < len) {
		got = st_segments(mi, start + done, len - done, seg, 16);
		if (got == 0)
			break;
		for (k = 0; k < got; k++, n++) {
			if (out == NULL)
				continue;
			if (n == max)
				return -1;
			out[n].file = seg[k].file;
			out[n].off = seg[k].foff;
			out[n].len = (uint32_t)seg[k].len;
			out[n].poff = (uint32_t)(done + seg[k].boff);
			out[n].pad = mi->files[seg[k].file].pad;
		}
		done += seg[got - 1].boff + seg[got - 1].len;
	}
	return (int)n;
}

static int
blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Decimal digits at s[*i..n): at least one, no overflow past 2^63. */
static int
number(const char *s, size_t n, size_t *i, uint64_t *v)
{
	size_t k = *i;

	*v = 0;
	while (k < n && s[k] >= '0' && s[k] <= '9') {
		if (*v > (UINT64_MAX / 2 - 9) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(s[k] - '0');
		k++;
	}
	if (k == *i)
		return -1;
	*i = k;
	return 0;
}

int
ws_content_range(const char *s, size_t n, uint64_t *first, uint64_t *last,
    uint64_t *total)
{
	size_t i = 0;

	while (n > 0 && blank(s[n - 1]))
		n--;
	while (i < n && blank(s[i]))
		i++;
	if (n - i < 6 || strncmp(s + i, "bytes", 5) != 0 || !blank(s[i + 5]))
		return -1;
	i += 6;
	while (i < n && blank(s[i]))
		i++;
	if (number(s, n, &i, first) == -1 || i >= n || s[i++] != '-' ||
	    number(s, n, &i, last) == -1 || i >= n || s[i++] != '/')
		return -1;
	if (i + 1 == n && s[i] == '*')
		*total = UINT64_MAX;
	else if (number(s, n, &i, total) == -1 || i != n || *last >= *total)
		return -1;
	return *last < *first ? -1 : 0;
}

/* A fixed-width field of w digits. */
static int
digits(const char *s, int w)
{
	int v = 0;

	for (int k = 0; k < w; k++) {
		if (s[k] < '0' || s[k] > '9')
			return -1;
		v = v * 10 + (s[k] - '0');
	}
	return v;
}

/* IMF-fixdate, RFC 9110 5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT". */
static int
imf_date(const char *s, size_t n, time_t *t)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	int m;

	if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
	    s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
	    s[25] != ' ' || memcmp(s + 26, "GMT", 3) != 0)
		return -1;
	memset(&tm, 0, sizeof(tm));
	for (m = 0; m < 12; m++)
		if (memcmp(s + 8, months + 3 * m, 3) == 0)
			break;
	tm.tm_mon = m;
	tm.tm_mday = digits(s + 5, 2);
	tm.tm_year = digits(s + 12, 4) - 1900;
	tm.tm_hour = digits(s + 17, 2);
	tm.tm_min = digits(s + 20, 2);
	tm.tm_sec = digits(s + 23, 2);
	if (m == 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 0 ||
	    tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
	    tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
		return -1;
	*t = timegm(&tm);
	return *t == (time_t)-1 ? -1 : 0;
}

int
ws_retry_after(const char *s, size_t n, time_t now, long *secs)
{
	uint64_t v;
	size_t i = 0;
	time_t t;

	while (n > 0 && blank(s[n - 1]))
		n--;
	while (i < n && blank(s[i]))
		i++;
	s += i;
	n -= i;
	i = 0;
	if (n > 0 && s[0] >= '0' && s[0] <= '9') {
		for (i = 0; i < n; i++)
			if (s[i] < '0' || s[i] > '9')
				return -1;
		i = 0;
		if (n > 18)	/* past any wait we would honour */
			v = INT32_MAX;
		else if (number(s, n, &i, &v) == -1)
			return -1;
		*secs = v > INT32_MAX ? INT32_MAX : (long)v;
		return 0;
	}
	if (imf_date(s, n, &t) == -1)
		return -1;
	if (t <= now)
		*secs = 0;
	else
		*secs = t - now > INT32_MAX ? INT32_MAX : (long)(t - now);
	return 0;
}

enum ws_verdict
ws_judge(long status, const char *crange, size_t crlen, uint64_t off,
    uint32_t len, uint64_t filelen)
{
	uint64_t first, last, total;

	switch (status) {
	case 200:
		return off == 0 && len == filelen ? WS_OK : WS_NO_RANGE;
	case 206:
		if (crange == NULL ||
		    ws_content_range(crange, crlen, &first, &last, &total) == -1)
			return WS_BAD_RANGE;
		if (first != off || last != off + len - 1)
			return WS_BAD_RANGE;
		/* A file of another size is another file. */
		if (total != UINT64_MAX && total != filelen)
			return WS_MISSING;
		return WS_OK;
	case 404:
	case 410:
	case 416:
		return WS_MISSING;
	case 408:
	case 429:
		return WS_RETRY;
	default:
		return status >= 500 && status <= 599 ? WS_RETRY : WS_REFUSED;
	}
}
