/* rc4.c: RC4 (see rc4.h for why not OpenSSL's). */
#include "rc4.h"

void
rc4_init(struct rc4 *c, const uint8_t *key, size_t len)
{
	uint32_t k, j, t;

	for (k = 0; k < 256; k++)
		c->s[k] = k;
	for (k = 0, j = 0; k < 256; k++) {
		j = (j + c->s[k] + key[k % len]) & 255;
		t = c->s[k];
		c->s[k] = c->s[j];
		c->s[j] = t;
	}
	c->i = c->j = 0;
}

void
rc4_crypt(struct rc4 *c, uint8_t *buf, size_t n)
{
	uint32_t i = c->i, j = c->j, si, sj, *s = c->s;
	size_t k;

	for (k = 0; k < n; k++) {
		i = (i + 1) & 255;
		si = s[i];
		j = (j + si) & 255;
		sj = s[j];
		s[i] = sj;
		s[j] = si;
		if (buf != NULL)
			buf[k] ^= (uint8_t)s[(si + sj) & 255];
	}
	c->i = i;
	c->j = j;
}

void
rc4_skip(struct rc4 *c, size_t n)
{
	rc4_crypt(c, NULL, n);
}
