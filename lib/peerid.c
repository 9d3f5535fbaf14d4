/*
 * peerid.c: the client a peer id names. Two conventions cover nearly
 * every client (BEP 20): Azureus style "-XXvvvv-" (two letters, four
 * version characters) and Shadow style "Xvvv--" (one letter, version
 * characters in base 64 digits "0-9A-Za-z.-"); aria2 uses "A2-v-v-v-".
 */
#include <stdio.h>
#include <string.h>

#include "peer.h"

static const struct {
	const char	*code;
	const char	*name;
} azureus[] = {
	{ "AZ", "Vuze" }, { "BC", "BitComet" }, { "BP", "btpeer" },
	{ "BT", "BitTorrent" }, { "DE", "Deluge" }, { "KT", "KTorrent" },
	{ "LT", "libtorrent" }, { "lt", "libTorrent (rakshasa)" },
	{ "qB", "qBittorrent" }, { "TR", "Transmission" },
	{ "UT", "uTorrent" }, { "UM", "uTorrent Mac" }, { "WW", "WebTorrent" },
	{ "BI", "BiglyBT" }, { "FD", "Free Download Manager" },
	{ "TX", "Tixati" }, { "XL", "Xunlei" }, { "SD", "Thunder" },
	{ "PI", "PicoTorrent" }, { "RT", "rtorrent" },
};

static const struct {
	char		 code;
	const char	*name;
} shadow[] = {
	{ 'A', "ABC" }, { 'M', "Mainline" }, { 'O', "Osprey" },
	{ 'Q', "BTQueue" }, { 'R', "Tribler" }, { 'S', "Shadow" },
	{ 'T', "BitTornado" }, { 'U', "UPnP NAT" },
};

static int
alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

/* Shadow's version digit: 0-9, A-Z = 10-35, a-z = 36-61. */
static int
digit64(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	return -1;
}

static void
az_version(const char *code, const unsigned char *v, char *out, size_t n)
{
	const char *name = NULL;
	size_t k;

	for (k = 0; k < sizeof(azureus) / sizeof(azureus[0]); k++)
		if (memcmp(azureus[k].code, code, 2) == 0)
			name = azureus[k].name;
	if (strcmp(code, "TR") == 0 || strcmp(code, "qB") == 0) {
		/* Transmission "3000" is 3.00; qBittorrent "4360" 4.3.6. */
		if (code[0] == 'T')
			snprintf(out, n, "%s %c.%c%c", name, v[0], v[1], v[2]);
		else
			snprintf(out, n, "%s %c.%c.%c", name, v[0], v[1], v[2]);
		return;
	}
	if (name != NULL)
		snprintf(out, n, "%s %c.%c.%c", name, v[0], v[1], v[2]);
	else
		snprintf(out, n, "unknown (-%c%c%c%c%c%c-)", code[0], code[1],
		    v[0], v[1], v[2], v[3]);
}

void
peer_client_name(const unsigned char id[20], char *out, size_t n)
{
	char code[3];
	size_t k;
	int a, b, c;

	if (id[0] == '-' && id[7] == '-' && alnum(id[1]) && alnum(id[2]) &&
	    alnum(id[3]) && alnum(id[4]) && alnum(id[5]) && alnum(id[6])) {
		code[0] = (char)id[1];
		code[1] = (char)id[2];
		code[2] = '\0';
		az_version(code, id + 3, out, n);
		return;
	}
	if (memcmp(id, "A2-", 3) == 0) {
		/* aria2: "A2-1-36-0-". */
		char v[16];

		for (k = 0; k < sizeof(v) - 1 && id[3 + k] != '\0' &&
		    (id[3 + k] == '-' || (id[3 + k] >= '0' &&
		    id[3 + k] <= '9')); k++)
			v[k] = id[3 + k] == '-' ? '.' : (char)id[3 + k];
		while (k > 0 && v[k - 1] == '.')
			k--;
		v[k] = '\0';
		snprintf(out, n, "aria2 %s", v);
		return;
	}
	for (k = 0; k < sizeof(shadow) / sizeof(shadow[0]); k++) {
		if (id[0] != shadow[k].code)
			continue;
		/* Mainline "M7-2-2--": letter, digits between dashes. */
		if (id[0] == 'M' && id[2] == '-') {
			snprintf(out, n, "%s %c.%c.%c", shadow[k].name, id[1],
			    id[3], id[5]);
			return;
		}
		a = digit64(id[1]);
		b = digit64(id[2]);
		c = digit64(id[3]);
		if (a >= 0 && b >= 0 && c >= 0 && id[4] == '-' &&
		    id[5] == '-') {
			snprintf(out, n, "%s %d.%d.%d", shadow[k].name, a, b, c);
			return;
		}
	}
	snprintf(out, n, "unknown");
}
