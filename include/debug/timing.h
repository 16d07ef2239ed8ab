/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `mvm run --timing[=MARKER]`: when a boot reached each of its phases,
 * in milliseconds after mvm started, printed when the VM ends
 * (docs/performance.md).  Each point is stamped once, the first time; a
 * point costs one load when timing is off.
 */
#ifndef MVM_TIMING_H
#define MVM_TIMING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum timing_point {
	TIMING_BUILT,		/* RAM, kernel and devices ready */
	TIMING_FIRST_ENTRY,	/* vCPU 0's first KVM_RUN */
	TIMING_KERNEL_HIGH,	/* first exit with RIP in the upper half */
	TIMING_CONSOLE,		/* first byte the guest wrote to the UART */
	TIMING_MARKER,		/* MARKER in the UART's output */
	TIMING_END,		/* the VM ended */
	TIMING_NR
};

extern bool timing_on;			/* written before threads start */
extern _Atomic uint64_t timing_at[TIMING_NR];	/* ns after start + 1 */

/* mvm started: the origin of every point (main() calls it first). */
void timing_start(void);
/* --timing: stamp points from now on; MARKER (may be NULL) is looked
 * for in the UART's output.  -EINVAL if it is empty or too long. */
int timing_enable(const char *marker);

static inline bool timing_wants(enum timing_point p)
{
	return timing_on &&
	       !atomic_load_explicit(&timing_at[p], memory_order_relaxed);
}

void timing_mark(enum timing_point p);
/* The guest wrote buf to the UART (the board's output observer). */
void timing_console(const uint8_t *buf, size_t len);
/* One line per point, in order of time; unreached ones last. */
void timing_print(FILE *out);

#endif
