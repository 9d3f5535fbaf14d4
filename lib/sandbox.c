/*
 * sandbox.c: Landlock and seccomp for a tool past its setup (sandbox.h).
 *
 * seccomp is built with libseccomp rather than raw BPF: it resolves
 * system-call numbers per architecture, checks the audit arch (so an
 * x32 or i386 entry cannot slip past an x86_64 list) and compiles
 * argument comparisons (mmap without PROT_EXEC, ioctl TCGETS only)
 * that would be error-prone to hand-assemble. Landlock has no libc
 * wrapper: three system calls through syscall(2), with the constants of
 * later ABIs defined here when the installed headers predate them.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <linux/landlock.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "bt.h"
#include "sandbox.h"

/* Landlock rights of ABIs newer than the headers (Linux uapi values). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV	(1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP	(1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP	(1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET	(1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL			(1ULL << 1)
#endif

/*
 * Sanitized builds (make asan) need more at exit and on a report: the
 * leak checker clones a tracer thread that ptraces us and reads /proc,
 * and a report spawns llvm-symbolizer (refused here, not killed: the
 * report then comes unsymbolized).
 */
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

/* struct landlock_ruleset_attr as of ABI 6; its size tells the kernel. */
struct ll_attr {
	uint64_t	fs;
	uint64_t	net;
	uint64_t	scoped;
};

static uint64_t
ll_fs_rights(int abi)
{
	uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;	/* ABI 1 */

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

static int
ll_add(int rs, const char *dir, uint64_t allowed, char *err)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd, r;

	fd = open(dir, O_PATH | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 :
		    bt_err(err, "landlock: %s: %s", dir, strerror(errno));
	/* A file (a CA bundle, /dev/urandom): only the rights of files. */
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		allowed &= LANDLOCK_ACCESS_FS_READ_FILE |
		    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
	memset(&pb, 0, sizeof(pb));
	pb.parent_fd = fd;
	pb.allowed_access = allowed;
	r = (int)syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0);
	close(fd);
	if (r == -1)
		return bt_err(err, "landlock: %s: %s", dir, strerror(errno));
	return 0;
}

static int
landlock(struct sandbox *sb, char *err)
{
	struct ll_attr a;
	uint64_t all, rw, ro;
	size_t asize;
	int abi, rs, k;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi <= 0) {
		snprintf(sb->warn, sizeof(sb->warn), "landlock: %s",
		    errno == ENOSYS ? "not in this kernel" :
		    errno == EOPNOTSUPP ? "disabled in this kernel" :
		    strerror(errno));
		return 0;
	}
	sb->landlock_abi = abi;
	all = ll_fs_rights(abi);
	ro = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	rw = ro | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | (all & (LANDLOCK_ACCESS_FS_REFER |
	    LANDLOCK_ACCESS_FS_TRUNCATE));
	memset(&a, 0, sizeof(a));
	a.fs = all;
	asize = sizeof(a.fs);
	if (abi >= 4) {
		/* These profiles connect and bind nothing: no rule. */
		if (sb->profile == SANDBOX_PEER ||
		    sb->profile == SANDBOX_RELAY)
			a.net = LANDLOCK_ACCESS_NET_BIND_TCP |
			    LANDLOCK_ACCESS_NET_CONNECT_TCP;
		asize = offsetof(struct ll_attr, scoped);
	}
	if (abi >= 6) {
		a.scoped = LANDLOCK_SCOPE_SIGNAL |
		    LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
		asize = sizeof(a);
	}
	rs = (int)syscall(SYS_landlock_create_ruleset, &a, asize, 0);
	if (rs == -1)
		return bt_err(err, "landlock: create ruleset: %s",
		    strerror(errno));
	for (k = 0; k < SANDBOX_MAXDIRS && sb->rw[k] != NULL; k++)
		if (ll_add(rs, sb->rw[k], rw, err) == -1)
			goto fail;
	for (k = 0; k < SANDBOX_MAXDIRS && sb->ro[k] != NULL; k++)
		if (ll_add(rs, sb->ro[k], ro, err) == -1)
			goto fail;
	/* A client resolves names: /etc and the libraries NSS loads. */
	if (sb->profile == SANDBOX_CLIENT && (ll_add(rs, "/etc", ro, err) ||
	    ll_add(rs, "/usr", ro, err) || ll_add(rs, "/lib", ro, err) ||
	    ll_add(rs, "/dev/urandom", ro, err) ||
	    ll_add(rs, "/dev/null", ro, err)))
		goto fail;
	if (SANITIZED && ll_add(rs, "/proc", ro, err) == -1)
		goto fail;
	if (syscall(SYS_landlock_restrict_self, rs, 0) == -1) {
		bt_err(err, "landlock: restrict: %s", strerror(errno));
		goto fail;
	}
	close(rs);
	sb->layers |= SANDBOX_LANDLOCK;
	return 0;
fail:
	close(rs);
	return -1;
}

/* btpeer's steady state, as strace shows it (see btpeer(1), SANDBOX). */
static const int peer_calls[] = {
	/* I/O on descriptors it holds, the spool's files */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv),
	SCMP_SYS(pwritev), SCMP_SYS(lseek), SCMP_SYS(close),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(shutdown),
	SCMP_SYS(sendfile),	/* btpeer: blocks of placed pieces, zero-copy */
	SCMP_SYS(getpeername), SCMP_SYS(getsockname),	/* yourip, our port (BEP 10) */
	SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(openat), SCMP_SYS(unlinkat), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(unlink), SCMP_SYS(rename), SCMP_SYS(ftruncate), SCMP_SYS(fallocate),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(getdents64),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
	SCMP_SYS(fcntl),
	/* memory (mmap and mprotect: below, never executable) */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	/* time, randomness, signals to itself, exit */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(getrandom),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(restart_syscall), SCMP_SYS(futex), SCMP_SYS(sched_yield),
	SCMP_SYS(exit), SCMP_SYS(exit_group)
};

/*
 * The uTP relay's steady state (lib/utp_relay.c): datagrams on its
 * connected UDP socket, the stream on its end of a socketpair, poll
 * with a deadline, the clock; fcntl below, F_GETFL and F_SETFL only.
 */
static const int relay_calls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	SCMP_SYS(shutdown), SCMP_SYS(close), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(madvise),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
	SCMP_SYS(exit), SCMP_SYS(exit_group)
};

/* Only sanitized builds: the leak checker's tracer, report output. */
static const int sanitizer_calls[] = {
	SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(waitid),
	SCMP_SYS(prctl), SCMP_SYS(sigaltstack), SCMP_SYS(readlink),
	SCMP_SYS(readlinkat), SCMP_SYS(getppid), SCMP_SYS(prlimit64),
	SCMP_SYS(getrlimit), SCMP_SYS(sched_getaffinity), SCMP_SYS(kill),
	SCMP_SYS(tgkill), SCMP_SYS(uname), SCMP_SYS(pipe2), SCMP_SYS(dup2),
	SCMP_SYS(dup3), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	/* sanitizer_common's own calls on x86_64 are the legacy ones */
	SCMP_SYS(open), SCMP_SYS(getdents), SCMP_SYS(stat), SCMP_SYS(lstat),
	SCMP_SYS(access)
};

/* What no download needs, for the client profile's deny-list. */
static const int client_denied[] = {
	SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
	SCMP_SYS(process_vm_writev), SCMP_SYS(mount), SCMP_SYS(umount2),
	SCMP_SYS(pivot_root), SCMP_SYS(chroot), SCMP_SYS(unshare),
	SCMP_SYS(setns), SCMP_SYS(init_module), SCMP_SYS(finit_module),
	SCMP_SYS(delete_module), SCMP_SYS(kexec_load),
	SCMP_SYS(kexec_file_load), SCMP_SYS(reboot), SCMP_SYS(swapon),
	SCMP_SYS(swapoff), SCMP_SYS(bpf), SCMP_SYS(perf_event_open),
	SCMP_SYS(userfaultfd), SCMP_SYS(keyctl), SCMP_SYS(add_key),
	SCMP_SYS(request_key), SCMP_SYS(open_by_handle_at),
	SCMP_SYS(name_to_handle_at), SCMP_SYS(acct), SCMP_SYS(quotactl),
	SCMP_SYS(syslog), SCMP_SYS(settimeofday), SCMP_SYS(clock_settime),
	SCMP_SYS(adjtimex), SCMP_SYS(fork), SCMP_SYS(vfork),
	SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(setreuid),
	SCMP_SYS(setregid), SCMP_SYS(setresuid), SCMP_SYS(setresgid),
	SCMP_SYS(ioperm), SCMP_SYS(iopl), SCMP_SYS(personality)
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static int
add_all(scmp_filter_ctx c, uint32_t action, const int *calls, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (seccomp_rule_add(c, action, calls[k], 0) != 0)
			return -1;
	return 0;
}

static int
peer_rules(scmp_filter_ctx c, int relay)
{
	uint32_t ex = SCMP_ACT_KILL_PROCESS;

	if ((relay ? add_all(c, SCMP_ACT_ALLOW, relay_calls,
	    NELEM(relay_calls)) : add_all(c, SCMP_ACT_ALLOW, peer_calls,
	    NELEM(peer_calls))) ||
	    (SANITIZED && add_all(c, SCMP_ACT_ALLOW, sanitizer_calls,
	    NELEM(sanitizer_calls))))
		return -1;
	/* The relay sets its stream non-blocking; nothing else. */
	if (relay && (seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	    SCMP_A1(SCMP_CMP_EQ, F_GETFL, 0)) ||
	    seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	    SCMP_A1(SCMP_CMP_EQ, F_SETFL, 0))))
		return -1;
	/* Memory, never executable: no new code after setup. */
	if (seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) ||
	    seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)))
		return -1;
	/* btpeer corks a burst of blocks it sends by sendfile (TCP_CORK). */
	if (seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
	    SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP, 0),
	    SCMP_A2(SCMP_CMP_EQ, TCP_CORK, 0)))
		return -1;
	/* stdio asks whether stdout is a terminal; nothing else. */
	if (!relay && seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, TCGETS, 0)))
		return -1;
	/*
	 * btpeer acknowledges the MSE/BitTorrent handshakes at once
	 * (TCP_QUICKACK). With TCP_CORK above, that is all it may set on
	 * a socket.
	 */
	if (seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
	    SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP, 0),
	    SCMP_A2(SCMP_CMP_EQ, TCP_QUICKACK, 0)))
		return -1;
	/* abort(3) signals itself; no other process. */
	if (!SANITIZED && seccomp_rule_add(c, SCMP_ACT_ALLOW, SCMP_SYS(tgkill),
	    1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0)))
		return -1;
	/* Sanitized, the default (EPERM) covers them; libseccomp refuses
	 * a rule whose action is the default's. */
	if (!SANITIZED && (seccomp_rule_add(c, ex, SCMP_SYS(execve), 0) ||
	    seccomp_rule_add(c, ex, SCMP_SYS(execveat), 0)))
		return -1;
	return 0;
}

static int
client_rules(scmp_filter_ctx c)
{
	size_t k;

	/* Sanitized, the leak checker's tracer needs ptrace. */
	for (k = 0; k < NELEM(client_denied); k++)
		if ((!SANITIZED || client_denied[k] != SCMP_SYS(ptrace)) &&
		    seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), client_denied[k],
		    0) != 0)
			return -1;
	/*
	 * Threads (a resolver's) but no new process: clone without
	 * CLONE_THREAD fails; clone3, whose flags BPF cannot see, says
	 * ENOSYS so that libc falls back to clone.
	 */
	if (!SANITIZED && (seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)) ||
	    seccomp_rule_add(c, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)))
		return -1;
	if (SANITIZED)
		return seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(execve), 0) || seccomp_rule_add(c,
		    SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execveat), 0) ? -1 : 0;
	return seccomp_rule_add(c, SCMP_ACT_KILL_PROCESS, SCMP_SYS(execve),
	    0) || seccomp_rule_add(c, SCMP_ACT_KILL_PROCESS,
	    SCMP_SYS(execveat), 0) ? -1 : 0;
}

static int
seccomp(struct sandbox *sb, char *err)
{
	scmp_filter_ctx c;
	int r;

	c = seccomp_init(sb->profile == SANDBOX_CLIENT ? SCMP_ACT_ALLOW :
	    SCMP_ACT_ERRNO(EPERM));
	if (c == NULL)
		return bt_err(err, "seccomp: out of memory");
	if ((sb->profile == SANDBOX_CLIENT ? client_rules(c) : peer_rules(c,
	    sb->profile == SANDBOX_RELAY))) {
		seccomp_release(c);
		return bt_err(err, "seccomp: building the filter failed");
	}
	r = seccomp_load(c);
	seccomp_release(c);
	if (r == -EINVAL || r == -ENOSYS) {
		snprintf(sb->warn + strlen(sb->warn),
		    sizeof(sb->warn) - strlen(sb->warn), "%sseccomp: not in "
		    "this kernel", sb->warn[0] ? "; " : "");
		return 0;
	}
	if (r != 0)
		return bt_err(err, "seccomp: load: %s", strerror(-r));
	sb->layers |= SANDBOX_SECCOMP;
	return 0;
}

int
sandbox_apply(struct sandbox *sb, char *err)
{
	sb->layers = 0;
	sb->landlock_abi = 0;
	sb->warn[0] = '\0';
	/* Both layers need it; it also keeps set-uid programs harmless. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return bt_err(err, "no_new_privs: %s", strerror(errno));
	if (landlock(sb, err) == -1)
		return -1;
	return seccomp(sb, err);
}

const char *
sandbox_describe(const struct sandbox *sb, char *buf, unsigned long len)
{
	char ll[32] = "";

	if (sb->layers & SANDBOX_LANDLOCK)
		snprintf(ll, sizeof(ll), "landlock (ABI %d)",
		    sb->landlock_abi);
	snprintf(buf, len, "%s%s%s", ll,
	    (sb->layers & SANDBOX_LANDLOCK) && (sb->layers & SANDBOX_SECCOMP) ?
	    " + " : "", (sb->layers & SANDBOX_SECCOMP) ? "seccomp" :
	    sb->layers == 0 ? "none" : "");
	return buf;
}
