/* net.h: the sockets of btpeer: one outgoing connection, or a listener. */
#ifndef BTPEER_NET_H
#define BTPEER_NET_H

#include <sys/types.h>

/*
 * Connects to "host:port" or "[v6]:port" within timeout seconds. The fd,
 * -1 with err on a network failure, -2 with err on a malformed address.
 */
int	net_connect(const char *addr, int timeout, char *err);
/*
 * The same over uTP (BEP 29): a stream socket whose other end a child,
 * *pid, relays to a uTP connection. The child closes every other
 * descriptor but stdio and is sandboxed (confine_relay; verbose: it says
 * so). Its failures come to light on the stream (end of file);
 * net_utp_done() closes fd and reaps the child.
 */
int	net_connect_utp(const char *addr, int timeout, int verbose,
	    pid_t *pid, char *err);
void	net_utp_done(int fd, pid_t pid);
/* Listens on "[host:]port" (port 0: any); *port gets the bound one. */
int	net_listen(const char *spec, int *port, char *err);
/*
 * Accepts until SIGTERM/SIGINT, forking handler(fd, arg) per connection
 * (its return is the child's exit code); past maxconns live children a
 * new connection is closed at once. Children are killed on the way out.
 */
int	net_accept_loop(int lfd, int maxconns, int (*handler)(int, void *),
	    void *arg);

#endif
