/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86 specifics of the machine: CPUID policy and the register state in
 * which the boot vCPU enters the guest (Linux 64-bit boot protocol).
 */
#ifndef MVM_X86_H
#define MVM_X86_H

#include <stdint.h>
#include <linux/kvm.h>

#include "core/guest_mem.h"

/* Segment selectors of the boot GDT, as boot.rst asks (__BOOT_CS/__BOOT_DS). */
#define BOOT_CS_SELECTOR	0x10
#define BOOT_DS_SELECTOR	0x18

/*
 * CPUID: take KVM_GET_SUPPORTED_CPUID and make the topology leaves agree
 * with the vCPU count (one package, nr_cpus cores, one thread per core,
 * APIC ID == vCPU index).  Pure function of its inputs, unit tested.
 */
void cpuid_apply_policy(struct kvm_cpuid_entry2 *ent, unsigned int nent,
			unsigned int cpu, unsigned int nr_cpus);
/* Fetch the supported CPUID table; caller frees. */
struct kvm_cpuid2 *cpuid_get_supported(int kvm_fd);
/* pvm_compat: also hide what --pvm-compat hides (include/x86/pvm.h). */
int cpuid_set(int vcpu_fd, const struct kvm_cpuid2 *supported,
	      unsigned int cpu, unsigned int nr_cpus, bool pvm_compat);

/* Write the boot GDT and identity page tables into guest RAM. */
int x86_boot_tables_write(struct guest_mem *mem);
/* Special registers for 64-bit entry (long mode, paging, flat segments). */
void x86_boot_sregs(struct kvm_sregs *sregs);
/* Program the boot vCPU: sregs, regs (rip, rsi), FPU. */
int x86_boot_vcpu_setup(int vcpu_fd, uint64_t rip, uint64_t rsi);
/* LAPIC LVT: LINT0 = ExtINT, LINT1 = NMI (MP spec 1.4 "virtual wire"). */
int x86_lapic_setup(int vcpu_fd);

#endif
