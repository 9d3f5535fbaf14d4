/*
 * state.c: the state file, so a run need not bootstrap from scratch.
 *
 *	# btdht state
 *	id <40 hex digits>
 *	node <40 hex digits> <a.b.c.d>:<port>
 *	node <40 hex digits> [<IPv6>]:<port>
 *	...
 *
 * It is a cache: a missing file means a new id; lines we do not know are
 * skipped; a file that is not ours is reported and replaced.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "btdht.h"
#include "metainfo.h"
#include "util.h"

int
btdht_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t got;

	while (n > 0) {
		if ((got = getrandom(p, n, 0)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

int
addr_parse(const char *s, struct dht_addr *a)
{
	char ip[INET6_ADDRSTRLEN + 2], *end;
	const char *colon = strrchr(s, ':');
	unsigned long port;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (colon == NULL || (n = (size_t)(colon - s)) == 0 ||
	    n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || port == 0 ||
	    port > 65535)
		return -1;
	a->port = (uint16_t)port;
	if (ip[0] == '[' && ip[n - 1] == ']') {
		ip[n - 1] = '\0';
		a->v6 = 1;
		return inet_pton(AF_INET6, ip + 1, a->ip) == 1 ? 0 : -1;
	}
	return inet_pton(AF_INET, ip, a->ip) == 1 ? 0 : -1;
}

const char *
addr_format(const struct dht_addr *a, char *s, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	if (inet_ntop(a->v6 ? AF_INET6 : AF_INET, a->ip, ip, sizeof(ip)) ==
	    NULL)
		ip[0] = '\0';
	snprintf(s, n, a->v6 ? "[%s]:%u" : "%s:%u", ip, a->port);
	return s;
}

/* One "node HEX ADDR:PORT" line into ni; 0 or -1. */
static int
parse_node(const char *line, struct dht_nodeinfo *ni)
{
	char hex[41], addr[64];

	if (sscanf(line, "node %40[0-9a-fA-F] %63s", hex, addr) != 2 ||
	    strlen(hex) != 40 || hex_decode(ni->id, hex, 20) != 0)
		return -1;
	return addr_parse(addr, &ni->a);
}

int
state_load(const char *path, unsigned char id[20],
    struct dht_nodeinfo *nodes, size_t max, size_t *n, char *err)
{
	unsigned char *data;
	size_t len;
	char *text, *line, *save = NULL, hex[41];
	int has_id = 0;

	*n = 0;
	if (btdht_random(id, 20) != 0)
		return bt_err(err, "getrandom: %s", strerror(errno));
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if (read_file(path, BTDHT_STATE_MAX, &data, &len, err) != 0)
		return -1;
	text = memdup0(data, len);
	free(data);
	if (text == NULL)
		return bt_err(err, "out of memory");
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "id ", 3) == 0 && sscanf(line,
		    "id %40[0-9a-fA-F]", hex) == 1 && strlen(hex) == 40) {
			has_id = hex_decode(id, hex, 20) == 0;
		} else if (strncmp(line, "node ", 5) == 0 && *n < max &&
		    parse_node(line, &nodes[*n]) == 0)
			(*n)++;
	}
	free(text);
	if (!has_id) {
		*n = 0;
		return bt_err(err, "not a btdht state file (no id line)");
	}
	return 0;
}

static void
hex(char *out, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
state_save(const char *path, const unsigned char id[20],
    const struct dht_nodeinfo *nodes, size_t n, char *err)
{
	char *tmp, h[41], as[64];
	size_t i, plen = strlen(path);
	FILE *f;
	int fd;

	if ((tmp = malloc(plen + 16)) == NULL)
		return bt_err(err, "out of memory");
	snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		bt_err(err, "%s", strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return -1;
	}
	hex(h, id, 20);
	fprintf(f, "# btdht state: our node id, then nodes that answered\n");
	fprintf(f, "id %s\n", h);
	for (i = 0; i < n; i++) {
		hex(h, nodes[i].id, 20);
		fprintf(f, "node %s %s\n", h, addr_format(&nodes[i].a, as,
		    sizeof(as)));
	}
	if (fflush(f) == EOF || ferror(f) || fsync(fileno(f)) != 0) {
		bt_err(err, "%s", strerror(errno));
		fclose(f);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (fclose(f) == EOF || rename(tmp, path) != 0) {
		bt_err(err, "%s", strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* mkdir -p for the directories of a path of our own making. */
static int
mkdirs(char *dir)
{
	char *p;

	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(dir, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

char *
state_default(void)
{
	const char *base = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *path;
	size_t n;

	if (base == NULL || *base != '/') {
		if (home == NULL || *home != '/')
			return NULL;
		n = strlen(home) + sizeof("/.local/state/btdht/state");
		if ((path = malloc(n)) == NULL)
			return NULL;
		snprintf(path, n, "%s/.local/state/btdht", home);
	} else {
		n = strlen(base) + sizeof("/btdht/state");
		if ((path = malloc(n)) == NULL)
			return NULL;
		snprintf(path, n, "%s/btdht", base);
	}
	if (mkdirs(path) != 0) {
		free(path);
		return NULL;
	}
	memcpy(path + strlen(path), "/state", sizeof("/state"));
	return path;
}
