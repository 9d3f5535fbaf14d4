/*
 * net.c: btdht's sockets: names to addresses, one UDP socket per family,
 * datagrams to and from struct dht_addr.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "btdht.h"

int
resolve(const char *hostport, struct dht_addr *out, int max, int *bad,
    char *err)
{
	struct addrinfo hints, *res, *ai;
	const char *colon = strrchr(hostport, ':');
	char host[256], *end;
	size_t hl;
	int rc, n = 0;
	unsigned long port;

	*bad = 1;
	if (colon == NULL || colon == hostport ||
	    (hl = (size_t)(colon - hostport)) >= sizeof(host))
		return bt_err(err, "want host:port");
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || port == 0 ||
	    port > 65535)
		return bt_err(err, "want a port of 1 to 65535");
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	if (host[0] == '[') {
		if (hl < 3 || host[hl - 1] != ']')
			return bt_err(err, "want [IPv6 address]:port");
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	*bad = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0)
		return bt_err(err, "%s", gai_strerror(rc));
	for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		memset(&out[n], 0, sizeof(out[n]));
		if (ai->ai_family == AF_INET)
			memcpy(out[n].ip, &((struct sockaddr_in *)
			    ai->ai_addr)->sin_addr, 4);
		else if (ai->ai_family == AF_INET6) {
			memcpy(out[n].ip, &((struct sockaddr_in6 *)
			    ai->ai_addr)->sin6_addr, 16);
			out[n].v6 = 1;
		} else
			continue;
		out[n++].port = (uint16_t)port;
	}
	freeaddrinfo(res);
	return n;
}

int
udp_open(int v6, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1;

	if ((fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (v6) {
		/* The IPv4 socket takes IPv4: no mapped addresses here. */
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one)) != 0) {
			close(fd);
			return -1;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		len = sizeof(*sin);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
udp_send(int fd, const unsigned char *b, size_t n, const struct dht_addr *a)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (a->v6) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a->ip, 16);
		sin6->sin6_port = htons(a->port);
		len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->ip, 4);
		sin->sin_port = htons(a->port);
		len = sizeof(*sin);
	}
	return sendto(fd, b, n, 0, (struct sockaddr *)&ss, len) == -1 ? -1 : 0;
}

ssize_t
udp_recv(int fd, unsigned char *b, size_t n, struct dht_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t got;

	memset(a, 0, sizeof(*a));
	if ((got = recvfrom(fd, b, n, 0, (struct sockaddr *)&ss, &sl)) < 0)
		return -1;
	if (ss.ss_family == AF_INET) {
		memcpy(a->ip, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		a->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		memcpy(a->ip, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		a->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		a->v6 = 1;
	}
	return got;
}
