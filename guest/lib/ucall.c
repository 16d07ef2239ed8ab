// SPDX-License-Identifier: GPL-2.0
/*
 * Guest side of the ucall port (include/guest/ucall.h).  The struct lives on
 * the calling CPU's stack, so CPUs never share one; the single `outl` of
 * its address is the whole protocol.  The host copies the struct during
 * the exit, so it may die with the stack frame afterwards.
 */
#include "guest.h"

static void copy_str(char *dst, const char *src, unsigned int size)
{
	unsigned int n = 0;

	if (src)
		for (; src[n] && n + 1 < size; n++)
			dst[n] = src[n];
	dst[n] = 0;
}

static const char *basename(const char *path)
{
	const char *b = path;

	for (; *path; path++)
		if (*path == '/')
			b = path + 1;
	return b;
}

static void ucall_va(unsigned int cmd, const char *file, unsigned int line,
		     const char *msg, unsigned int nargs, va_list ap)
{
	struct ucall uc;
	unsigned int i;

	memset(&uc, 0, sizeof(uc));
	uc.cmd = cmd;
	uc.line = line;
	uc.cpu = this_cpu_apic_id();
	for (i = 0; i < nargs && i < UCALL_MAX_ARGS; i++)
		uc.args[i] = va_arg(ap, unsigned long long);
	copy_str(uc.file, file ? basename(file) : NULL, sizeof(uc.file));
	copy_str(uc.msg, msg, sizeof(uc.msg));
	/* The stack is in the image, below 4 GiB (guest.lds). */
	outl(UCALL_PORT, (uint32_t)(uintptr_t)&uc);
}

void ucall(unsigned int cmd, const char *file, unsigned int line,
	   const char *msg, unsigned int nargs, ...)
{
	va_list ap;

	va_start(ap, nargs);
	ucall_va(cmd, file, line, msg, nargs, ap);
	va_end(ap);
}

void guest_assert_fail(const char *file, unsigned int line, const char *expr,
		       unsigned long long a, unsigned long long b)
{
	ucall(UCALL_ASSERT, file, line, expr, 2, a, b);
	guest_printf("GUEST_ASSERT failed at %s:%u: %s (%llx, %llx)\n",
		     file, line, expr, a, b);
	guest_debug_exit(1);
	guest_poweroff();	/* only if debug-exit is not enabled */
}
