/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hosts whose KVM is PVM, and guest instructions KVM's emulator gives up on.
 *
 * PVM (a KVM flavour for hosts without VMX/SVM, /sys/module/kvm_pvm) runs
 * guest user mode natively but emulates guest kernel mode instruction by
 * instruction, and its emulator stops with KVM_EXIT_INTERNAL_ERROR
 * (KVM_INTERNAL_ERROR_EMULATION) on instructions it does not know
 * (docs/pvm.md).  Some of those mvm can finish the way the CPU would:
 *
 *   int3                          #BP, a trap: the frame's RIP is after it
 *   an instruction whose CPUID    #UD, a fault: the guest would get the
 *   feature mvm hides from the    same on a CPU without the feature
 *   guest (--pvm-compat)
 *
 * Anything else is reported with registers and bytes and the VM stops.
 */
#ifndef MVM_PVM_H
#define MVM_PVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm_cpuid_entry2;

/* --pvm-compat: on, off, or on when the host is PVM (the default). */
enum pvm_compat_mode {
	PVM_COMPAT_AUTO = 0,
	PVM_COMPAT_ON,
	PVM_COMPAT_OFF,
};

/*
 * The host's KVM is PVM: kvm_pvm is loaded and neither kvm_intel nor
 * kvm_amd is (sysfs: the root of sysfs, "/sys" outside tests).
 */
bool pvm_host_detect(const char *sysfs);

/* "--pvm-compat=VALUE" parsing; -1 and a message naming VALUE if bad. */
int pvm_compat_parse(const char *val, enum pvm_compat_mode *mode);

/*
 * Kernel command-line options that keep Linux off the instructions PVM's
 * emulator cannot run (the features hidden by pvm_cpuid_hide()).
 */
#define PVM_COMPAT_CMDLINE	"noxsave nosmap nosmep clearcpuid=141,151"

/* Clear the features of PVM_COMPAT_CMDLINE from a guest CPUID. */
void pvm_cpuid_hide(struct kvm_cpuid_entry2 *ent, unsigned int nent);

enum emul_action {
	EMUL_STOP = 0,		/* report and stop the VM */
	EMUL_INJECT_BP,		/* #BP with RIP advanced past the insn */
	EMUL_INJECT_UD,		/* #UD with RIP unchanged */
};

struct emul_insn {
	unsigned int len;	/* bytes, prefixes included; 0: unknown */
	const char *name;	/* "int3", "popcnt", ... or NULL */
	/* The CPUID feature it needs, if any: leaf, subleaf 0, reg, bit. */
	uint32_t leaf;
	char reg;		/* 'b', 'c', 'd'; 0: none */
	unsigned int bit;
};

/*
 * Decode the x86-64 instruction (64-bit mode: CS.L = 1) at bytes[0..n)
 * far enough to know what to do with it.  compat: the features of pvm_cpuid_hide() are hidden
 * from the guest.  Pure: unit-tested in tests/unit/test_pvm.c.
 */
enum emul_action emul_decide(const uint8_t *bytes, size_t n, bool compat,
			     struct emul_insn *insn);

#endif
