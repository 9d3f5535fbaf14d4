/*
 * utp_ring.c: the send and receive byte buffers of a uTP connection:
 * rings that grow on demand up to their limit.
 */
#include <stdlib.h>
#include <string.h>

#include "utp_int.h"

size_t
utp_ring_free(const struct ring *r)
{
	return r->max - r->len;
}

/* Makes room for n more bytes (n <= utp_ring_free()); -1 if out of memory. */
int
utp_ring_grow(struct ring *r, size_t n)
{
	unsigned char *b;
	size_t cap, k;

	if (r->cap - r->len >= n)
		return 0;
	cap = r->cap < 65536 ? 65536 : r->cap;
	while (cap - r->len < n)
		cap *= 2;
	if (cap > r->max)
		cap = r->max;
	if ((b = malloc(cap)) == NULL)
		return -1;
	k = r->cap - r->head < r->len ? r->cap - r->head : r->len;
	if (r->len > 0) {
		memcpy(b, r->b + r->head, k);
		memcpy(b + k, r->b, r->len - k);
	}
	free(r->b);
	r->b = b;
	r->cap = cap;
	r->head = 0;
	return 0;
}

size_t
utp_ring_put(struct ring *r, const unsigned char *p, size_t n)
{
	size_t tail, k, done = 0;

	if (n > utp_ring_free(r))
		n = utp_ring_free(r);
	if (n == 0 || utp_ring_grow(r, n) == -1)
		return 0;
	while (done < n) {
		tail = (r->head + r->len) % r->cap;
		k = r->cap - tail;
		if (k > n - done)
			k = n - done;
		memcpy(r->b + tail, p + done, k);
		r->len += k;
		done += k;
	}
	return n;
}

size_t
utp_ring_get(struct ring *r, unsigned char *p, size_t n)
{
	size_t k, done = 0;

	if (n > r->len)
		n = r->len;
	while (done < n) {
		k = r->cap - r->head;
		if (k > n - done)
			k = n - done;
		memcpy(p + done, r->b + r->head, k);
		r->head = (r->head + k) % r->cap;
		r->len -= k;
		done += k;
	}
	return n;
}
