/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ACPI tables (ACPI 6.3): RSDP, XSDT, FADT, FACS, MADT, MCFG and a DSDT
 * describing the PCI host bridge, its interrupt routing, COM1 and the S5
 * sleep state.  Linux kernels without an MP-table parser find CPUs, the
 * IOAPIC and PCI only through these tables.
 */
#ifndef MVM_ACPI_H
#define MVM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "core/guest_mem.h"
#include "x86/layout.h"

/*
 * Largest vCPU count the tables can describe: APIC IDs are 8 bits (xAPIC)
 * and the IOAPIC takes the ID after the last CPU.
 */
#define ACPI_MAX_CPUS		254

/*
 * mmio64_base/size: the 64-bit PCI BAR window, which must start at or above
 * 4 GiB (below it would overlap the 32-bit hole); size 0 means none.
 */
struct acpi_machine {
	unsigned int nr_cpus;		/* 1..ACPI_MAX_CPUS, APIC IDs 0..n-1 */
	uint64_t mmio64_base;
	uint64_t mmio64_size;
};

/*
 * Write the tables into guest RAM at ACPI_TABLES_ADDR (RSDP first, so the
 * guest finds it by scanning 0xe0000-0xfffff).  Returns 0 and the RSDP's
 * guest-physical address, -EINVAL for a bad machine description, -EFAULT if
 * the area is not RAM, -ENOSPC if the tables do not fit ACPI_TABLES_SIZE.
 */
int acpi_tables_build(struct guest_mem *mem, const struct acpi_machine *m,
		      uint64_t *rsdp_gpa);

/*
 * The same into a host buffer of `size` bytes that the guest will see at
 * guest-physical `gpa` (tables point at each other by guest address).
 */
int acpi_tables_write(void *buf, uint64_t gpa, size_t size,
		      const struct acpi_machine *m, uint64_t *rsdp_gpa);

/*
 * Legacy PCI INTx routing of bus 0, shared by the DSDT's _PRT, the MP table
 * and the PCI devices: device `slot` (0-31) pin `pin` (0 = INTA .. 3 = INTD,
 * i.e. the config-space Interrupt Pin register minus one) raises IOAPIC pin
 * PCI_INTX_IRQ_BASE + ((slot + pin) % 4).  This is the PCI-to-PCI bridge
 * swizzle of the PCI spec, so neighbouring slots spread their INTA over the
 * four lines 16-19.  The lines are level-triggered, active-low (ACPI 6.3
 * section 6.2.13: a _PRT entry with Source 0 names a GSI with those
 * properties).
 */
static inline unsigned int pci_intx_gsi(unsigned int slot, unsigned int pin)
{
	return PCI_INTX_IRQ_BASE + ((slot + pin) % 4);
}

#endif
