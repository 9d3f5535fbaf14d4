/*
 * test_sandbox.c: each policy applied in a child process (it is
 * irrevocable): what stays allowed, what is refused, what kills. Where
 * the kernel lacks a layer, its checks are skipped (sb.layers says).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "sandbox.h"
#include "t.h"

/* As in sandbox.c: sanitized builds keep clone for the leak checker. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static char top[64], rw[96], ro[96], outside[96];

/* Exit codes of the child: 0 all as expected, else the failed step. */
static int
peer_child(int try_exec)
{
	struct sandbox sb;
	char err[BT_ERRLEN], path[160];
	int fd;

	memset(&sb, 0, sizeof(sb));
	sb.profile = SANDBOX_PEER;
	sb.rw[0] = rw;
	sb.ro[0] = ro;
	if (sandbox_apply(&sb, err) == -1)
		return 10;
	if (sb.layers & SANDBOX_LANDLOCK) {
		/* Beneath rw: create, rename, remove. Beneath ro: read only. */
		snprintf(path, sizeof(path), "%s/new", rw);
		if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) == -1)
			return 11;
		close(fd);
		if (unlink(path) == -1)
			return 12;
		snprintf(path, sizeof(path), "%s/f", ro);
		if ((fd = open(path, O_RDONLY)) == -1)
			return 13;
		close(fd);
		if (open(path, O_WRONLY) != -1 || errno != EACCES)
			return 14;
		if (open(outside, O_RDONLY) != -1 || errno != EACCES)
			return 15;
	}
	if (sb.layers & SANDBOX_SECCOMP) {
		if (socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != EPERM)
			return 16;
		if (!SANITIZED && (fork() != -1 || errno != EPERM))
			return 17;
		if (malloc(1 << 20) == NULL)
			return 18;
		if (try_exec) {
			execl("/bin/true", "true", (char *)NULL);
			return errno == EPERM ? 0 : 19;	/* sanitized builds */
		}
	}
	return 0;
}

static int
run_child(int (*fn)(int), int arg)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(fn(arg));
	if (pid == -1 || waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

static void
peer(void)
{
	int st = run_child(peer_child, 0);

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("#   child: status %#x\n", st);
	/* exec: killed by the filter (SIGSYS), or refused (sanitized). */
	st = run_child(peer_child, 1);
	CHECK((WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) ||
	    (WIFEXITED(st) && WEXITSTATUS(st) == 0));
}

static int
client_child(int arg)
{
	struct sandbox sb;
	char err[BT_ERRLEN];
	int fd;

	(void)arg;
	memset(&sb, 0, sizeof(sb));
	sb.profile = SANDBOX_CLIENT;
	sb.rw[0] = rw;
	if (sandbox_apply(&sb, err) == -1)
		return 10;
	/* Sockets stay (libcurl), /etc readable (the resolver). */
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 11;
	close(fd);
	if ((sb.layers & SANDBOX_LANDLOCK) && ((fd = open("/etc/hosts",
	    O_RDONLY)) == -1 || close(fd) != 0))
		return 12;
	if ((sb.layers & SANDBOX_LANDLOCK) && (open(outside, O_RDONLY) != -1 ||
	    errno != EACCES))
		return 13;
	if (!SANITIZED && (sb.layers & SANDBOX_SECCOMP) && (fork() != -1 ||
	    errno != EPERM))
		return 14;
	return 0;
}

static void
client(void)
{
	int st = run_child(client_child, 0);

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("#   child: status %#x\n", st);
}

/* The relay: bytes through a socketpair and UDP; no file, no socket. */
static int
relay_child(int try_exec)
{
	struct sandbox sb;
	struct pollfd p;
	char err[BT_ERRLEN], b[4];
	int sv[2], fl;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return 9;
	memset(&sb, 0, sizeof(sb));
	sb.profile = SANDBOX_RELAY;
	if (sandbox_apply(&sb, err) == -1)
		return 10;
	if ((fl = fcntl(sv[1], F_GETFL)) == -1 ||
	    fcntl(sv[1], F_SETFL, fl | O_NONBLOCK) == -1)
		return 11;
	p.fd = sv[1];
	p.events = POLLIN;
	if (write(sv[0], "abc", 3) != 3 || poll(&p, 1, 1000) != 1 ||
	    read(sv[1], b, sizeof(b)) != 3 || memcmp(b, "abc", 3) != 0)
		return 12;
	if (malloc(1 << 20) == NULL)
		return 13;
	if ((sb.layers & SANDBOX_LANDLOCK) && !(sb.layers & SANDBOX_SECCOMP) &&
	    (open(outside, O_RDONLY) != -1 || errno != EACCES))
		return 14;
	if (sb.layers & SANDBOX_SECCOMP) {
		/* No file, socket, lock or process; not even getpid. */
		if (open(outside, O_RDONLY) != -1 || errno != EPERM)
			return 15;
		if (socket(AF_INET, SOCK_DGRAM, 0) != -1 || errno != EPERM)
			return 16;
		if (fcntl(sv[1], F_DUPFD, 0) != -1 || errno != EPERM)
			return 17;
		if (!SANITIZED && (getpid() != -1 || errno != EPERM))
			return 18;
		if (try_exec) {
			execl("/bin/true", "true", (char *)NULL);
			return errno == EPERM ? 0 : 19;	/* sanitized builds */
		}
	}
	return 0;
}

static void
relay(void)
{
	int st = run_child(relay_child, 0);

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("#   child: status %#x\n", st);
	st = run_child(relay_child, 1);
	CHECK((WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) ||
	    (WIFEXITED(st) && WEXITSTATUS(st) == 0));
}

/* A kernel without Landlock, as the filter of a parent can fake it. */
static int
nolandlock_child(int arg)
{
	struct sandbox sb;
	scmp_filter_ctx c;
	char err[BT_ERRLEN];

	(void)arg;
	if ((c = seccomp_init(SCMP_ACT_ALLOW)) == NULL ||
	    seccomp_rule_add(c, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(landlock_create_ruleset), 0) != 0 || seccomp_load(c) != 0)
		return 10;
	seccomp_release(c);
	memset(&sb, 0, sizeof(sb));
	sb.profile = SANDBOX_PEER;
	sb.rw[0] = rw;
	if (sandbox_apply(&sb, err) == -1)
		return 11;
	if (sb.layers != SANDBOX_SECCOMP)
		return 12;
	if (strcmp(sb.warn, "landlock: not in this kernel") != 0)
		return 13;
	return 0;
}

static void
degrades(void)
{
	int st = run_child(nolandlock_child, 0);

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("#   child: status %#x\n", st);
}

static void
describe(void)
{
	struct sandbox sb;
	char buf[64];

	memset(&sb, 0, sizeof(sb));
	CHECK(strcmp(sandbox_describe(&sb, buf, sizeof(buf)), "none") == 0);
	sb.layers = SANDBOX_SECCOMP;
	CHECK(strcmp(sandbox_describe(&sb, buf, sizeof(buf)), "seccomp") == 0);
	sb.layers = SANDBOX_SECCOMP | SANDBOX_LANDLOCK;
	sb.landlock_abi = 7;
	CHECK(strcmp(sandbox_describe(&sb, buf, sizeof(buf)),
	    "landlock (ABI 7) + seccomp") == 0);
}

int
main(void)
{
	char path[160];
	int fd;

	snprintf(top, sizeof(top), "/tmp/test_sandbox.%ld", (long)getpid());
	snprintf(rw, sizeof(rw), "%s/rw", top);
	snprintf(ro, sizeof(ro), "%s/ro", top);
	snprintf(outside, sizeof(outside), "%s/secret", top);
	if (mkdir(top, 0755) == -1 || mkdir(rw, 0755) == -1 ||
	    mkdir(ro, 0755) == -1)
		return 1;
	snprintf(path, sizeof(path), "%s/f", ro);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) != -1)
		close(fd);
	if ((fd = open(outside, O_WRONLY | O_CREAT, 0644)) != -1)
		close(fd);
	RUN(describe);
	RUN(peer);
	RUN(client);
	RUN(relay);
	RUN(degrades);
	unlink(path);
	unlink(outside);
	rmdir(ro);
	rmdir(rw);
	rmdir(top);
	DONE();
}
