#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "magnet.h"
#include "util.h"

/* RFC 4648 base32, 32 characters for 20 bytes. */
static int
unbase32(unsigned char *out, const char *s)
{
	uint64_t acc = 0;
	int bits = 0, v;
	size_t o = 0;

	for (int i = 0; i < 32; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else
			return -1;
		acc = acc << 5 | (uint64_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return 0;
}

/* Percent-decodes s[0..n) into a new string; '+' stays as is. */
static char *
pdecode(const char *s, size_t n)
{
	char *out, *o;

	if ((o = out = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hex_digit(s[i + 1]) >= 0 &&
		    hex_digit(s[i + 2]) >= 0) {
			*o++ = (char)(hex_digit(s[i + 1]) << 4 | hex_digit(s[i + 2]));
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

static int
push(char ***list, size_t *n, char *s, char *err)
{
	char **nl;

	if (*n >= MAGNET_MAX_LIST) {
		free(s);
		return bt_err(err, "more than %d trackers, peers or web seeds",
		    MAGNET_MAX_LIST);
	}
	if ((nl = realloc(*list, (*n + 1) * sizeof(*nl))) == NULL) {
		free(s);
		return bt_err(err, "out of memory");
	}
	nl[(*n)++] = s;
	*list = nl;
	return 0;
}

static int
xt(struct magnet *m, const char *v, char *err)
{
	size_t n = strlen(v);

	if (strncmp(v, "urn:btih:", 9) == 0) {
		v += 9;
		n -= 9;
		if ((n == 40 && hex_decode(m->info_hash, v, 20) == 0) ||
		    (n == 32 && unbase32(m->info_hash, v) == 0)) {
			m->has_v1 = 1;
			return 0;
		}
		return bt_err(err, "bad btih info-hash");
	}
	if (strncmp(v, "urn:btmh:1220", 13) == 0) {
		if (n != 13 + 64 || hex_decode(m->info_hash_v2, v + 13, 32) == -1)
			return bt_err(err, "bad btmh info-hash");
		m->has_v2 = 1;
		return 0;
	}
	return 0;	/* other namespaces are not ours */
}

/* xl: a decimal byte count (BEP 9). */
static int
xl_parse(struct magnet *m, const char *v, char *err)
{
	unsigned long long n = 0;
	const char *s;

	for (s = v; *s >= '0' && *s <= '9'; s++) {
		unsigned long long d = (unsigned long long)(*s - '0');

		if (n > (ULLONG_MAX - d) / 10)
			return bt_err(err, "xl is too large");
		n = n * 10 + d;
	}
	if (s == v || *s != '\0')
		return bt_err(err, "xl is not a number");
	m->length = n;
	m->has_length = 1;
	return 0;
}

int
magnet_parse(struct magnet *m, const char *uri, char *err)
{
	const char *p, *amp, *eq;
	char *v;
	size_t klen;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	if (strlen(uri) > MAGNET_MAX_LEN)
		return bt_err(err, "longer than %d bytes", MAGNET_MAX_LEN);
	if (strncmp(uri, "magnet:?", 8) != 0)
		return bt_err(err, "does not start with 'magnet:?'");
	for (p = uri + 8; *p != '\0' && rc == 0; p = *amp ? amp + 1 : amp) {
		amp = p + strcspn(p, "&");
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			continue;
		klen = (size_t)(eq - p);
		if ((v = pdecode(eq + 1, (size_t)(amp - eq - 1))) == NULL) {
			rc = bt_err(err, "out of memory");
			break;
		}
		if (klen == 2 && memcmp(p, "xt", 2) == 0) {
			rc = xt(m, v, err);
			free(v);
		} else if (klen == 2 && memcmp(p, "dn", 2) == 0) {
			free(m->name);
			m->name = v;
		} else if (klen == 2 && memcmp(p, "tr", 2) == 0)
			rc = push(&m->trackers, &m->ntrackers, v, err);
		else if (klen == 4 && memcmp(p, "x.pe", 4) == 0)
			rc = push(&m->peers, &m->npeers, v, err);
		else if (klen == 2 && memcmp(p, "ws", 2) == 0)
			rc = push(&m->webseeds, &m->nwebseeds, v, err);
		else if (klen == 2 && memcmp(p, "xl", 2) == 0) {
			rc = xl_parse(m, v, err);
			free(v);
		} else
			free(v);
	}
	if (rc == 0 && !m->has_v1 && !m->has_v2)
		rc = bt_err(err, "no urn:btih or urn:btmh info-hash");
	if (rc == 0 && !m->has_v1)
		rc = bt_err(err, "v2-only magnets are not supported yet");
	if (rc == -1)
		magnet_free(m);
	return rc;
}

void
magnet_free(struct magnet *m)
{
	for (size_t i = 0; i < m->ntrackers; i++)
		free(m->trackers[i]);
	for (size_t i = 0; i < m->npeers; i++)
		free(m->peers[i]);
	for (size_t i = 0; i < m->nwebseeds; i++)
		free(m->webseeds[i]);
	free(m->webseeds);
	free(m->trackers);
	free(m->peers);
	free(m->name);
	memset(m, 0, sizeof(*m));
}
