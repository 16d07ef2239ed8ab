// SPDX-License-Identifier: GPL-2.0
/*
 * Target of the scripted gdb session (tests/nested/gdb-session.t).
 *
 * The guest spins until the debugger sets gdb_go, calls gdb_target() and
 * leaves through the debug-exit port with a status computed from
 * gdb_counter, so the exit code shows whether gdb's writes reached guest
 * memory: untouched it is ((0x1234 + 5) * 2) & 0x7f = 0x72; with gdb_counter
 * set to 100 at the breakpoint it is ((100 + 5) * 2) & 0x7f = 0x52.
 */
#include "guest.h"

volatile uint64_t gdb_counter = 0x1234;
volatile uint32_t gdb_go;

/* noinline and a global: gdb breaks on it by name. */
__attribute__((noinline)) uint64_t gdb_target(uint64_t x);
__attribute__((noinline)) uint64_t gdb_target(uint64_t x)
{
	uint64_t v = gdb_counter + x;

	gdb_counter = v;
	return v * 2;
}

void guest_main(void *bp)
{
	while (!gdb_go)
		cpu_relax();
	guest_debug_exit((uint8_t)(gdb_target(5) & 0x7f));
	GUEST_ASSERT(0);
}
