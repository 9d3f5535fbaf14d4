/* peer_io.c: the output buffer, event and trace lines, closing (peer.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_int.h"

/* An event or trace line; longer ones (none today) are cut. */
#define LINE_MAX_LEN	512

void
peer_event(struct peer *p, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;

	if (p->host->event == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	p->host->event(p->host->ctx, line);
}

void
peer_trace(struct peer *p, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;

	if (!p->cfg->verbose || p->host->trace == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	p->host->trace(p->host->ctx, line);
}

int
peer_close(struct peer *p, enum bt_fail f, const char *fmt, ...)
{
	va_list ap;

	if (p->done < 0) {
		va_start(ap, fmt);
		vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
		va_end(ap);
		p->fail = f;
		p->done = bt_fail_exit(f);
	}
	return -1;
}

int
peer_done(const struct peer *p)
{
	return p->done;
}

const char *
peer_reason(const struct peer *p)
{
	return p->reason;
}

int
peer_bit(const struct peer *p, uint32_t i)
{
	return (p->peer_has[i / 8] >> (7 - i % 8)) & 1;
}

int
peer_fetching(const struct peer *p)
{
	return p->cfg->mode == PEER_PIECE || (p->host->claim != NULL &&
	    (p->cfg->mode == PEER_FETCH || p->cfg->mode == PEER_SERVE));
}

int
peer_out_space(struct peer *p, size_t n)
{
	/* Keep what is encoded but unsent; slide the rest down. */
	if (p->wpos > 0 && p->wlen + n > p->wcap) {
		memmove(p->wbuf, p->wbuf + p->wpos, p->wlen - p->wpos);
		p->wbase += p->wpos;
		p->wlen -= p->wpos;
		p->wenc -= p->wpos;
		p->wpos = 0;
	}
	if (p->wlen + n > p->wcap) {
		size_t ncap = p->wcap * 2 + n;
		unsigned char *nb = realloc(p->wbuf, ncap);

		if (nb == NULL)
			return peer_fail(p, BT_FAIL_SYSTEM, "out of memory");
		p->wbuf = nb;
		p->wcap = ncap;
	}
	return 0;
}

int
peer_out_add(struct peer *p, const void *b, size_t n)
{
	if (peer_out_space(p, n) == -1)
		return -1;
	memcpy(p->wbuf + p->wlen, b, n);
	p->wlen += n;
	return 0;
}

int
peer_send_simple(struct peer *p, int type)
{
	unsigned char m[5];

	peer_trace(p, "> %s", wire_name(type));
	return peer_out_add(p, m, wire_simple(m, type));
}

void
peer_output(struct peer *p, const unsigned char **b, size_t *n)
{
	if (p->tr != NULL && p->phase != PEER_PH_TRANSFORM &&
	    p->tr->encode != NULL && p->wenc < p->wlen) {
		p->tr->encode(p->tr->ctx, p->wbuf + p->wenc, p->wlen - p->wenc);
		p->wenc = p->wlen;
	}
	if (p->tr == NULL || p->phase == PEER_PH_TRANSFORM)
		p->wenc = p->wlen;
	*b = p->wbuf + p->wpos;
	*n = p->wenc - p->wpos;
	/* Up to the next block the host sends from storage. */
	if (p->nzc > 0 && p->zc[p->zchead].at - (p->wbase + p->wpos) < *n)
		*n = (size_t)(p->zc[p->zchead].at - (p->wbase + p->wpos));
}

int
peer_output_file(const struct peer *p, struct peer_fileref *ref)
{
	if (p->nzc == 0 || p->zc[p->zchead].at != p->wbase + p->wpos)
		return 0;
	*ref = p->zc[p->zchead];
	return 1;
}

void
peer_sent_file(struct peer *p, size_t n, int64_t now)
{
	struct peer_fileref *z = &p->zc[p->zchead];

	p->now = now;
	if (n == 0 || p->nzc == 0)
		return;
	if (n > z->len)
		n = z->len;
	z->begin += (uint32_t)n;
	z->len -= (uint32_t)n;
	p->zcbytes -= n;
	p->last_send = now;
	if (z->len == 0) {
		p->zchead = (p->zchead + 1) % PEER_ZC_MAX;
		p->nzc--;
	}
}

uint64_t
peer_unsent(const struct peer *p)
{
	return p->wlen - p->wpos + p->zcbytes;
}

int
peer_out_file(struct peer *p, uint32_t i, uint32_t begin, uint32_t len)
{
	struct peer_fileref *z;

	if (p->nzc == PEER_ZC_MAX)
		return -1;
	z = &p->zc[(p->zchead + p->nzc++) % PEER_ZC_MAX];
	z->at = p->wbase + p->wlen;
	z->index = i;
	z->begin = begin;
	z->len = len;
	p->zcbytes += len;
	return 0;
}

void
peer_sent(struct peer *p, size_t n, int64_t now)
{
	p->now = now;
	if (n == 0)
		return;
	p->wpos += n;
	p->last_send = now;
	if (p->wpos == p->wlen) {
		p->wbase += p->wlen;
		p->wpos = p->wlen = p->wenc = 0;
	}
}
