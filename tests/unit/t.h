/* t.h: a minimal TAP harness for the C unit tests. */
#ifndef T_H
#define T_H
#include <stdio.h>

static int t_fail;
#define CHECK(c) do { if (!(c)) { printf("#   %s:%d: failed: %s\n", \
	__FILE__, __LINE__, #c); t_fail++; } } while (0)
#define RUN(fn) do { int t_f0 = t_fail; fn(); printf("%sok - %s: %s\n", \
	t_fail > t_f0 ? "not " : "", __FILE__, #fn); } while (0)
#define DONE() return t_fail != 0
#endif
