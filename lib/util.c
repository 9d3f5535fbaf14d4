#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(unsigned char *out, const char *s, size_t n)
{
	int hi, lo;

	for (size_t i = 0; i < n; i++) {
		if ((hi = hex_digit(s[2 * i])) == -1 ||
		    (lo = hex_digit(s[2 * i + 1])) == -1)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

char *
memdup0(const void *s, size_t n)
{
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int
url_encode(struct buf *b, const void *sv, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = sv;
	char esc[3];
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			rc = buf_addc(b, c);
		else {
			esc[0] = '%';
			esc[1] = hex[c >> 4];
			esc[2] = hex[c & 15];
			rc = buf_add(b, esc, 3);
		}
	}
	return rc;
}

int
num_parse(const char *s, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return *s != '\0' && *end == '\0' && errno == 0 && *v >= lo &&
	    *v <= hi ? 0 : -1;
}
