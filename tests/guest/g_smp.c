// SPDX-License-Identifier: GPL-2.0
/*
 * SMP bring-up: the BSP wakes every AP with INIT-SIPI-SIPI through its
 * LAPIC; each AP reports its APIC ID with a ucall on its own stack.  The
 * BSP waits until the number of CPUs the ACPI MADT lists (or the MP table)
 * have checked in, then reports GUEST_DONE.
 */
#include "guest.h"
#include "acpi.h"
#include "smp.h"

#define MAX_CPUS	64
#define WAIT_SPINS	50000000u

static struct cpu_info cpus[MAX_CPUS];
static volatile unsigned int checked_in;

static void ap_main(void)
{
	GUEST_SYNC(1, this_cpu_apic_id());
	__atomic_add_fetch(&checked_in, 1, __ATOMIC_SEQ_CST);
}

void guest_main(void *bp)
{
	const void *rsdp = acpi_find_rsdp(bp);
	const struct acpi_sdt_header *madt = NULL;
	unsigned int n = 0, spins = 0;

	if (rsdp)
		madt = acpi_find_table(rsdp, "APIC");
	if (madt)
		n = acpi_madt_cpus(madt, cpus, MAX_CPUS);
	if (!n)
		n = mptable_cpus(cpus, MAX_CPUS);
	GUEST_ASSERT(n >= 1);
	/* The BSP is APIC ID 0 in mvm (and QEMU). */
	GUEST_ASSERT_EQ(this_cpu_apic_id(), 0);
	GUEST_SYNC(0, n);
	GUEST_SYNC(1, this_cpu_apic_id());

	if (n > 1)
		smp_start_aps(ap_main);
	while (__atomic_load_n(&checked_in, __ATOMIC_SEQ_CST) < n - 1 &&
	       ++spins < WAIT_SPINS)
		cpu_relax();
	GUEST_ASSERT_EQ(checked_in, n - 1);
	guest_printf("g_smp: %u CPUs up\n", n);
	GUEST_DONE();
}
