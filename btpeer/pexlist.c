/*
 * pexlist.c: the peers btpeer tells others about by PEX (BEP 11), read
 * from the file --pex names: one HOST:PORT a line ([v6]:PORT too),
 * optionally followed by a space and its flags as events name them
 * ("enc,seed"; bittorrent(1) says enc for the peers it speaks RC4 with),
 * as bittorrent(1) writes the peers of the download there. The file is
 * read each time a message is due (once a minute a connection).
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pexlist.h"

/* "1.2.3.4:5" or "[::1]:5" into a; 0, or -1 if it is not one. */
int
pexlist_parse(const char *s, struct pex_peer *a)
{
	char host[64];
	const char *colon;
	unsigned long port;
	char *end;
	size_t n;

	memset(a, 0, sizeof(*a));
	if ((colon = strrchr(s, ':')) == NULL)
		return -1;
	n = (size_t)(colon - s);
	if (n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port == 0 || port > 65535)
		return -1;
	a->port = (uint16_t)port;
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		host[n - 1] = '\0';
		a->v6 = 1;
		return inet_pton(AF_INET6, host + 1, a->ip) == 1 ? 0 : -1;
	}
	return inet_pton(AF_INET, host, a->ip) == 1 ? 0 : -1;
}

int
pexlist_read(const char *file, const struct pex_peer *self,
    struct pex_peer *out, int max)
{
	char line[128];
	FILE *f;
	int n = 0;

	if ((f = fopen(file, "re")) == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		char *fl;
		uint8_t fv = 0;

		line[strcspn(line, "\r\n")] = '\0';
		if ((fl = strchr(line, ' ')) != NULL) {
			*fl++ = '\0';
			if (pex_flags_parse(fl, &fv) == -1)
				fv = 0;	/* a name from a later version */
		}
		if (pexlist_parse(line, &out[n]) == -1)
			continue;
		out[n].flags = fv;
		if (self != NULL && self->port == out[n].port &&
		    self->v6 == out[n].v6 && memcmp(self->ip, out[n].ip, 16) == 0)
			continue;	/* the peer itself */
		n++;
	}
	fclose(f);
	return n;
}
