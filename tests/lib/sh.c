// SPDX-License-Identifier: GPL-2.0
/* Running a shell command from a C test: tests/lib/sh.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/sh.h"

int test_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}
