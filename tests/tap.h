/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny TAP producer for C tests run by prove.  ok() records one test
 * point with the file and line of a failing check; tap_done() prints the
 * plan and returns the exit status.
 */
#ifndef MVM_TAP_H
#define MVM_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline __attribute__((format(printf, 4, 5)))
int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   Failed at %s line %d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...) ({					\
	long long __g = (long long)(got), __w = (long long)(want);	\
	int __r = ok(__g == __w, __VA_ARGS__);				\
	if (!__r)							\
		printf("#   got %lld (%#llx), want %lld (%#llx)\n",	\
		       __g, (unsigned long long)__g, __w,		\
		       (unsigned long long)__w);			\
	__r; })

#define is_str(got, want, ...) ({					\
	const char *__gs = (got), *__ws = (want);			\
	int __r = ok(__gs && __ws && !strcmp(__gs, __ws), __VA_ARGS__);	\
	if (!__r)							\
		printf("#   got  '%s'\n#   want '%s'\n",			\
		       __gs ? __gs : "(null)", __ws ? __ws : "(null)");	\
	__r; })

static inline void tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

static inline void tap_skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap_n, why);
}

static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
