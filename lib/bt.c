#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bt.h"

int
bt_err(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, BT_ERRLEN, fmt, ap);
	va_end(ap);
	return -1;
}

int
bt_fail_exit(enum bt_fail f)
{
	switch (f) {
#define BT_FAIL_CASE(name, code, what)	case name: return code;
	BT_FAILURES(BT_FAIL_CASE)
#undef BT_FAIL_CASE
	case BT_FAIL_NONE:
		break;
	}
	return BT_EXIT_OK;
}

const char *
bt_fail_what(enum bt_fail f)
{
	switch (f) {
#define BT_FAIL_CASE(name, code, what)	case name: return what;
	BT_FAILURES(BT_FAIL_CASE)
#undef BT_FAIL_CASE
	case BT_FAIL_NONE:
		break;
	}
	return "no failure";
}

enum bt_fail
bt_fail_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
	case EISDIR:
	case EACCES:
	case EPERM:
	case ELOOP:
	case ENAMETOOLONG:
	case EROFS:
	case EEXIST:
		return BT_FAIL_INPUT;
	default:
		return BT_FAIL_SYSTEM;
	}
}

int
bt_close_stdout(const char *tool)
{
	int bad, e;

	errno = 0;
	bad = fflush(stdout) == EOF || ferror(stdout);
	e = errno;
	if (fclose(stdout) == EOF && !bad) {
		bad = 1;
		e = errno;
	}
	if (!bad)
		return 0;
	fprintf(stderr, "%s: writing output failed: %s\n", tool,
	    e != 0 ? strerror(e) : "write error");
	return bt_fail_exit(BT_FAIL_OUTPUT);
}
