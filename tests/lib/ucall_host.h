/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host side of the ucall port (see ucall.h): records every call a guest
 * makes so a TAP test can assert on them after machine_run().  One VM at a time
 * per test process; the records survive machine_destroy().
 */
#ifndef MVM_TEST_UCALL_HOST_H
#define MVM_TEST_UCALL_HOST_H

#include <stdbool.h>

#include "guest/ucall.h"

struct vm;

#define UCALL_HOST_MAX		1024

/*
 * Claim UCALL_PORT on vm->pio and clear the records.  Call after
 * machine_build() and before machine_run().  Returns 0 or -errno from the bus.
 */
int ucall_attach(struct vm *vm);
/* Forget all records (ucall_attach() does this too). */
void ucall_reset(void);
/* Number of records (calls beyond UCALL_HOST_MAX are counted as dropped). */
unsigned int ucall_count(void);
unsigned int ucall_dropped(void);
/* Copy record i (in arrival order) to *uc; false if out of range. */
bool ucall_get(unsigned int i, struct ucall *uc);
/* How many records have this command. */
unsigned int ucall_count_cmd(unsigned int cmd);
/*
 * Print every UCALL_ASSERT as TAP diagnostics ("# guest assert at
 * file:line: msg"); returns how many there were.
 */
unsigned int ucall_report_asserts(void);

#endif
