#include <stdarg.h>
#include <stdio.h>

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
