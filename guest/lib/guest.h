/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test-guest library, in the style of KVM selftests: guest code is
 * ordinary C; guest_main() runs on the boot CPU with a stack and a zeroed
 * .bss, and reports to the host test through the ucall port.
 *
 *   GUEST_SYNC(stage, val)	record a checkpoint, keep running
 *   GUEST_ASSERT(cond)		on failure: ucall UCALL_ASSERT with file,
 *				line and the condition text, then exit through
 *				the debug-exit port with status 1 (and power
 *				off if the port is not enabled)
 *   GUEST_ASSERT_EQ(a, b)	same, with both values in args[0..1]
 *   GUEST_DONE()		ucall UCALL_DONE, then power off (ACPI S5),
 *				so a passing test ends with status 0 and
 *				VM_EXIT_POWEROFF
 * Returning from guest_main() powers off without UCALL_DONE.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "io.h"
#include "bootparam.h"
#include "guest/ucall.h"
#include "x86/layout.h"

/* Every guest provides this; bp is the zero page. */
void guest_main(void *bp);
void __attribute__((noreturn)) guest_start(void *bp);

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* 16550A at SERIAL0_PORT; output is serialised across CPUs. */
void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);
/* %s %c %d %i %u %x %p %%, flags '0', width, length l/ll/z. */
void guest_printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void guest_vprintf(const char *fmt, va_list ap);

struct spinlock {
	volatile int locked;
};
void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);

void ucall(unsigned int cmd, const char *file, unsigned int line,
	   const char *msg, unsigned int nargs, ...);
void __attribute__((noreturn))
guest_assert_fail(const char *file, unsigned int line, const char *expr,
		  unsigned long long a, unsigned long long b);

#define GUEST_SYNC(stage, val)						\
	ucall(UCALL_SYNC, __FILE__, __LINE__, NULL, 2,			\
	      (unsigned long long)(stage), (unsigned long long)(val))
#define GUEST_PRINT(msg)						\
	ucall(UCALL_PRINT, __FILE__, __LINE__, (msg), 0)
#define GUEST_ASSERT(cond) do {						\
	if (!(cond))							\
		guest_assert_fail(__FILE__, __LINE__, #cond, 0, 0);	\
} while (0)
#define GUEST_ASSERT_EQ(a, b) do {					\
	unsigned long long __a = (a), __b = (b);			\
	if (__a != __b)							\
		guest_assert_fail(__FILE__, __LINE__, #a " == " #b,	\
				  __a, __b);				\
} while (0)
#define GUEST_DONE() do {						\
	ucall(UCALL_DONE, __FILE__, __LINE__, NULL, 0);			\
	guest_poweroff();						\
} while (0)

/*
 * Power.  The ACPI path defaults to what mvm's FADT/DSDT describe
 * (PM1a_CNT at 0x604, \_S5 SLP_TYP 5); a guest that parsed the real tables
 * may override both.
 */
extern uint16_t guest_pm1a_cnt;
extern uint8_t guest_s5_slp_typ;
void __attribute__((noreturn)) guest_poweroff(void);
void guest_debug_exit(uint8_t status);

#endif
