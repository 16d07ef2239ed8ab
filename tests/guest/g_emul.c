// SPDX-License-Identifier: GPL-2.0
/*
 * An instruction KVM's emulator cannot run (core/vcpu_emul.c): POPCNT with
 * its operand in MMIO.  The access faults to KVM, whose emulator does not
 * decode POPCNT (arch/x86/kvm/emulate.c: 0f b8 is not in its table), so
 * mvm gets KVM_EXIT_INTERNAL_ERROR / KVM_INTERNAL_ERROR_EMULATION, the
 * same exit PVM gives for any guest kernel instruction it cannot emulate.
 *
 * With --pvm-compat mvm hides POPCNT from CPUID and raises #UD: the
 * guest's handler sees the fault at the instruction and skips it.
 * Without, mvm must stop the VM with registers and bytes.
 *
 * Reports: SYNC(1, CPUID.1:ECX.POPCNT), SYNC(2, address of the popcnt),
 * SYNC(3, RIP in the #UD frame), SYNC(4, #UD count), then debug-exit 0x55.
 */
#include "guest.h"
#include "idt.h"

#define MMIO_GPA	0xd0000000UL	/* no RAM, no device: plain MMIO */

extern char popcnt_insn[], popcnt_after[];

static volatile uint64_t ud_rip, ud_count;

static void on_ud(unsigned int vector, struct irq_frame *f)
{
	ud_rip = f->rip;
	ud_count++;
	if (f->rip == (uint64_t)popcnt_insn)
		f->rip = (uint64_t)popcnt_after;
	else
		guest_debug_exit(0xee);	/* a #UD we did not ask for */
}

void guest_main(void *bp)
{
	uint32_t a, b, c, d;
	uint64_t x = 0;

	idt_init();
	idt_set_handler(6, on_ud);
	cpuid(1, &a, &b, &c, &d);
	GUEST_SYNC(1, (c >> 23) & 1);
	GUEST_SYNC(2, (uint64_t)popcnt_insn);
	asm volatile(".globl popcnt_insn, popcnt_after\n"
		     "popcnt_insn: popcntq (%1), %0\n"
		     "popcnt_after:"
		     : "+r"(x) : "r"(MMIO_GPA) : "memory", "cc");
	GUEST_SYNC(3, ud_rip);
	GUEST_SYNC(4, ud_count);
	guest_debug_exit(0x55);
}
