#include <sys/prctl.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "proc.h"

int
bt_watch_parent(void)
{
	const char *s = getenv("BT_PARENT_PID");
	char *end;
	intmax_t pid;

	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	pid = strtoimax(s, &end, 10);
	if (errno != 0 || *end != '\0' || pid <= 1)
		return 0;
	/*
	 * The signal comes when our direct parent dies: the orchestrator, or
	 * a wrapper it ran us under (time, nice, strace), which then only
	 * delays the end. The orchestrator may have died before the prctl.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		return 0;
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return -1;
	return 0;
}
