/* piecelog.c: piece lines to a log, counts to the events (piecelog.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "piecelog.h"

void
plog_init(struct piecelog *pl, int fd)
{
	memset(pl, 0, sizeof(*pl));
	pl->fd = fd;
}

/*
 * Writes the held piece lines to the log. A failed write loses them: the
 * log is a record, the spool holds the pieces.
 */
static void
plog_flush(struct piecelog *pl)
{
	size_t off = 0;
	ssize_t n;

	while (off < pl->plen) {
		n = write(pl->fd, pl->pbuf + off, pl->plen - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	pl->plen = 0;
}

void
plog_count(struct piecelog *pl, FILE *ev, int64_t now, int force)
{
	if (pl->npend == 0 || (!force && now - pl->tcount < PLOG_EVERY))
		return;
	plog_flush(pl);
	fprintf(ev, "pieces %u\n", pl->npend);
	fflush(ev);
	pl->npend = 0;
	pl->tcount = now;
}

/* "piece I ok", the line the log takes off the event stream. */
static int
is_piece_ok(const char *line)
{
	size_t n = strlen(line);

	return strncmp(line, "piece ", 6) == 0 && n > 9 &&
	    strcmp(line + n - 3, " ok") == 0;
}

void
plog_event(struct piecelog *pl, FILE *ev, const char *line, int64_t now)
{
	size_t n;

	if (pl->fd != -1 && is_piece_ok(line)) {
		n = strlen(line);
		if (n + 1 > sizeof(pl->pbuf) - pl->plen)
			plog_flush(pl);
		if (n + 1 <= sizeof(pl->pbuf) - pl->plen) {
			memcpy(pl->pbuf + pl->plen, line, n);
			pl->pbuf[pl->plen + n] = '\n';
			pl->plen += n + 1;
		}
		pl->npend++;
		plog_count(pl, ev, now, 0);
		return;
	}
	plog_count(pl, ev, now, 1);
	fputs(line, ev);
	fputc('\n', ev);
	fflush(ev);
}
