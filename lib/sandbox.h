/*
 * sandbox.h: what a tool that reads a stranger's bytes gives up once its
 * setup is done, so that a parser bug cannot reach the rest of the
 * user's files, programs or the network.
 *
 * Two layers, each applied when the kernel offers it:
 *
 *   Landlock   file access only beneath the named directories (rw: read,
 *              write, create, remove, rename; ro: read), nothing else on
 *              the file system; on ABI 4 and later no TCP bind or connect
 *              either (profile SANDBOX_PEER), on ABI 6 and later no signal
 *              to a process outside the sandbox and no abstract UNIX
 *              socket. Needs Linux 5.13 and Landlock among the LSMs.
 *   seccomp    a BPF system-call filter. SANDBOX_PEER allows only the
 *              steady state of btpeer (I/O on descriptors it has, files
 *              under its directories, memory, time, randomness, exit);
 *              any other call fails with EPERM, and execve/execveat kill
 *              the process. SANDBOX_CLIENT, for a tool whose library
 *              still needs the network (libcurl), denies what no download
 *              needs: exec, ptrace, new privileges, mounts, module and
 *              kernel-wide calls. SANDBOX_RELAY, for a process that
 *              only moves bytes between descriptors it holds (btpeer's
 *              uTP relay child: its UDP socket and a socketpair), allows
 *              I/O on them, poll, the clock, memory and exit: no file
 *              (Landlock: none named), no new socket, no signal.
 *
 * Both are irrevocable and inherited by children. A layer the kernel
 * lacks is reported in warn and skipped (the caller says so once); a
 * layer the kernel offers but refuses is an error.
 */
#ifndef BT_SANDBOX_H
#define BT_SANDBOX_H

/* Directories of each kind a policy names: the spool, -o, a few more. */
#define SANDBOX_MAXDIRS	4

enum sandbox_layer {
	SANDBOX_LANDLOCK = 1,
	SANDBOX_SECCOMP = 2
};

enum sandbox_profile {
	SANDBOX_PEER,		/* allow-list: btpeer after connect/accept */
	SANDBOX_CLIENT,		/* deny-list: a libcurl client */
	SANDBOX_RELAY		/* allow-list: a relay between descriptors */
};

struct sandbox {
	enum sandbox_profile profile;
	const char	*rw[SANDBOX_MAXDIRS];	/* NULL-terminated or full */
	const char	*ro[SANDBOX_MAXDIRS];
	/* Out: */
	int		 layers;	/* SANDBOX_* applied */
	int		 landlock_abi;	/* 0: none */
	char		 warn[256];	/* a layer missing and why, or "" */
};

/*
 * Applies the policy to this process (and its future children). 0 with
 * sb->layers set (possibly 0, with sb->warn saying why), or -1 with err
 * (BT_ERRLEN) if a layer the kernel offers could not be applied. A
 * directory in rw or ro that does not exist is left out (no access).
 */
int	sandbox_apply(struct sandbox *sb, char *err);

/* "landlock (ABI 7) + seccomp", "seccomp", "none": for -v traces. */
const char *sandbox_describe(const struct sandbox *sb, char *buf,
	    unsigned long len);

#endif
