/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Intel MultiProcessor Specification 1.4 tables: the floating pointer and
 * the configuration table, for guests that do not read ACPI.  Interrupt
 * routing matches the ACPI tables (see pci_intx_gsi() in mvm/acpi.h).
 */
#ifndef MVM_MPTABLE_H
#define MVM_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/guest_mem.h"

#define MPTABLE_MAX_CPUS	254	/* 8-bit APIC IDs, IOAPIC gets n */

/*
 * Write the tables at MPTABLE_ADDR.  Returns 0, -EINVAL if nr_cpus is 0 or
 * above MPTABLE_MAX_CPUS, -EFAULT if the area is not RAM, -ENOSPC if the
 * tables do not fit MPTABLE_SIZE.
 */
int mptable_build(struct guest_mem *mem, unsigned int nr_cpus);

/* The same into a host buffer the guest sees at guest-physical `gpa`. */
int mptable_write(void *buf, uint64_t gpa, size_t size, unsigned int nr_cpus);

#endif
