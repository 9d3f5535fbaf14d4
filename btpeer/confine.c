/* confine.c: btpeer's sandbox policy (confine.h). */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"
#include "confine.h"
#include "sandbox.h"

int
confine(const struct opts *o)
{
	struct sandbox sb;
	char err[BT_ERRLEN], what[64], pexdir[PATH_MAX];
	const char *slash;
	int k = 0;

	memset(&sb, 0, sizeof(sb));
	sb.profile = SANDBOX_PEER;
	if (o->spooldir != NULL)
		sb.rw[0] = o->spooldir;
	/* Final files are only read: btassemble writes them. */
	if (o->outdir != NULL && (o->mode == PEER_FETCH ||
	    o->mode == PEER_SERVE))
		sb.ro[k++] = o->outdir;
	/*
	 * --pex FILE is read again while the connection runs, and replaced
	 * by rename: its directory, not the file, is what stays readable.
	 */
	if (o->pexfile != NULL) {
		slash = strrchr(o->pexfile, '/');
		if (slash == NULL)
			snprintf(pexdir, sizeof(pexdir), ".");
		else if (slash == o->pexfile)
			snprintf(pexdir, sizeof(pexdir), "/");
		else
			snprintf(pexdir, sizeof(pexdir), "%.*s",
			    (int)(slash - o->pexfile), o->pexfile);
		sb.ro[k++] = pexdir;
	}
	if (sandbox_apply(&sb, err) == -1) {
		fprintf(stderr, "btpeer: sandbox: %s\n", err);
		return bt_fail_exit(BT_FAIL_SYSTEM);
	}
	if (sb.warn[0] != '\0')
		fprintf(stderr, "btpeer: warning: sandbox: %s; running "
		    "without it\n", sb.warn);
	if (o->verbose)
		fprintf(stderr, "btpeer: sandbox: %s\n",
		    sandbox_describe(&sb, what, sizeof(what)));
	return 0;
}

int
confine_relay(int verbose)
{
	struct sandbox sb;
	char err[BT_ERRLEN], what[64];
	long pid = (long)getpid();	/* not allowed once confined */

	memset(&sb, 0, sizeof(sb));
	sb.profile = SANDBOX_RELAY;
	if (sandbox_apply(&sb, err) == -1) {
		fprintf(stderr, "btpeer: uTP relay: sandbox: %s\n", err);
		return bt_fail_exit(BT_FAIL_SYSTEM);
	}
	/* A missing layer: the parent's own sandbox warned already. */
	if (verbose)
		fprintf(stderr, "btpeer: uTP relay: pid %ld, sandbox: %s\n",
		    pid, sandbox_describe(&sb, what, sizeof(what)));
	return 0;
}

#ifdef BT_TEST_HOOKS
static int
arm(const char *var)
{
	const char *m = getenv(var);
	int fd;

	if (m == NULL || (fd = open(m, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0666)) == -1)
		return 0;
	close(fd);
	return 1;
}

int
confine_test_arm(void)
{
	return arm("BT_TEST_ESCAPE");
}

int
confine_test_arm_relay(void)
{
	return arm("BT_TEST_RELAY_ESCAPE");
}

static void
report(const char *what, int r)
{
	fprintf(stderr, "btpeer: test escape: %s: %s\n", what,
	    r == -1 ? strerror(errno) : "allowed");
}

void
confine_test_escape(int armed)
{
	const char *f = getenv("BT_TEST_ESCAPE_FILE");
	char *argv[] = { "sh", "-c", "echo escaped", NULL };
	int fd;

	if (!armed)
		return;
	fprintf(stderr, "btpeer: test escape: pid %ld\n", (long)getpid());
	if (f != NULL) {
		fd = open(f, O_RDONLY | O_CLOEXEC);
		report("open", fd);
		if (fd != -1)
			close(fd);
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	report("socket", fd);
	if (fd != -1)
		close(fd);
	execve("/bin/sh", argv, NULL);
	report("exec", -1);
}
#else
int
confine_test_arm(void)
{
	return 0;
}

int
confine_test_arm_relay(void)
{
	return 0;
}

void
confine_test_escape(int armed)
{
	(void)armed;
}
#endif
