// SPDX-License-Identifier: GPL-2.0
/*
 * The state the boot vCPU enters the kernel in: Linux's 64-bit boot
 * protocol (Documentation/arch/x86/boot.rst, "64-bit BOOT PROTOCOL"):
 * long mode, paging on with an identity map of the loaded kernel, zero page
 * and command line; a GDT with __BOOT_CS (0x10, 64-bit code) and __BOOT_DS
 * (0x18, flat data); interrupts off; %rsi = zero page.
 */
#include <sys/ioctl.h>

#include "x86/layout.h"
#include "core/util.h"
#include "x86/x86.h"

#define X86_CR0_PE	(1ULL << 0)
#define X86_CR0_MP	(1ULL << 1)
#define X86_CR0_ET	(1ULL << 4)
#define X86_CR0_NE	(1ULL << 5)
#define X86_CR0_PG	(1ULL << 31)
#define X86_CR4_PAE	(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)

/* GDT entries: base 0, limit 0xfffff, G=1. */
#define GDT_CODE64	0x00af9b000000ffffULL	/* P, DPL0, S, code RX A, L */
#define GDT_DATA	0x00cf93000000ffffULL	/* P, DPL0, S, data RW A, DB */

int x86_boot_tables_write(struct guest_mem *mem)
{
	uint8_t *gdt = gpa_to_hva(mem, BOOT_GDT_ADDR, 4 * 8);
	uint8_t *pml4 = gpa_to_hva(mem, BOOT_PML4_ADDR, 4096);
	uint8_t *pdpt = gpa_to_hva(mem, BOOT_PDPT_ADDR, 4096);
	uint8_t *pd = gpa_to_hva(mem, BOOT_PD_ADDR, 4 * 4096);
	unsigned int i;

	if (!gdt || !pml4 || !pdpt || !pd)
		return -ENOSPC;
	memset(gdt, 0, 4 * 8);
	put_le64(gdt + BOOT_CS_SELECTOR, GDT_CODE64);
	put_le64(gdt + BOOT_DS_SELECTOR, GDT_DATA);

	/*
	 * Identity-map 4 GiB with 2 MiB pages.  1 GiB pages would need fewer
	 * tables but are not accepted by every KVM flavour (a PVM host
	 * triple-faults on them: shared/notes/kvm-host.md).
	 */
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	put_le64(pml4, BOOT_PDPT_ADDR | PTE_P | PTE_RW);
	for (i = 0; i < 4; i++)
		put_le64(pdpt + i * 8,
			 (BOOT_PD_ADDR + i * 4096ULL) | PTE_P | PTE_RW);
	for (i = 0; i < 4 * 512; i++)
		put_le64(pd + i * 8, ((uint64_t)i << 21) | PTE_P | PTE_RW |
			 PTE_PS);
	return 0;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel,
		.type = type, .present = 1, .dpl = 0, .s = 1,
		.l = code ? 1 : 0, .db = code ? 0 : 1, .g = 1,
	};
}

void x86_boot_sregs(struct kvm_sregs *sregs)
{
	seg(&sregs->cs, BOOT_CS_SELECTOR, 0xb, true);
	seg(&sregs->ds, BOOT_DS_SELECTOR, 0x3, false);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	sregs->gdt.base = BOOT_GDT_ADDR;
	sregs->gdt.limit = 4 * 8 - 1;
	/* No IDT: the kernel installs its own before enabling interrupts. */
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	/* VMX needs a usable 64-bit TSS in TR even if the guest never uses it. */
	sregs->tr = (struct kvm_segment){
		.base = 0, .limit = 0x67, .selector = 0, .type = 0xb,
		.present = 1, .s = 0,
	};
	sregs->ldt = (struct kvm_segment){ .type = 0x2, .present = 1,
					   .limit = 0xffff };
	sregs->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		     X86_CR0_PG;
	sregs->cr3 = BOOT_PML4_ADDR;
	sregs->cr4 = X86_CR4_PAE;
	sregs->efer = EFER_LME | EFER_LMA;
}

int x86_boot_vcpu_setup(int vcpu_fd, uint64_t rip, uint64_t rsi)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	struct kvm_fpu fpu = { 0 };

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		pr_errno(errno, "KVM_GET_SREGS failed");
		return -errno;
	}
	x86_boot_sregs(&sregs);
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0) {
		pr_errno(errno, "KVM_SET_SREGS failed");
		return -errno;
	}
	regs.rflags = 0x2;	/* bit 1 is reserved and always set; IF=0 */
	regs.rip = rip;
	regs.rsi = rsi;
	regs.rsp = BOOT_STACK_TOP;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0) {
		pr_errno(errno, "KVM_SET_REGS failed");
		return -errno;
	}
	fpu.fcw = 0x37f;	/* x87 default control word (FNINIT) */
	fpu.mxcsr = 0x1f80;	/* SSE default: all exceptions masked */
	if (ioctl(vcpu_fd, KVM_SET_FPU, &fpu) < 0) {
		pr_errno(errno, "KVM_SET_FPU failed");
		return -errno;
	}
	return 0;
}

/* Local APIC register offsets and LVT delivery modes (Intel SDM 10.5.1). */
#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

static uint32_t lvt_mode(uint32_t v, uint32_t mode)
{
	return (v & ~0x700U) | (mode << 8);
}

int x86_lapic_setup(int vcpu_fd)
{
	struct kvm_lapic_state lapic;
	uint32_t v;

	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &lapic) < 0) {
		pr_errno(errno, "KVM_GET_LAPIC failed");
		return -errno;
	}
	v = get_le32(&lapic.regs[APIC_LVT0]);
	put_le32(&lapic.regs[APIC_LVT0], lvt_mode(v, APIC_MODE_EXTINT));
	v = get_le32(&lapic.regs[APIC_LVT1]);
	put_le32(&lapic.regs[APIC_LVT1], lvt_mode(v, APIC_MODE_NMI));
	if (ioctl(vcpu_fd, KVM_SET_LAPIC, &lapic) < 0) {
		pr_errno(errno, "KVM_SET_LAPIC failed");
		return -errno;
	}
	return 0;
}
