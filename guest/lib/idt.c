// SPDX-License-Identifier: GPL-2.0
/* The test guests' IDT; see idt.h. */
#include "guest.h"
#include "guest_layout.h"
#include "idt.h"
#include "smp.h"

/* 64-bit interrupt gate, SDM Vol. 3A 6.14.1. */
struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type_attr;	/* P | DPL 0 | type 0xe (interrupt gate) */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __attribute__((packed));

#define IDT_GATE_INTR		0x8e
#define ISR_STUB_SIZE		16	/* isr.S aligns every stub to 16 */

extern const uint8_t isr_stubs[];

static struct idt_gate idt[IDT_NR_VECTORS] __attribute__((aligned(16)));
static irq_handler_t handlers[IDT_NR_VECTORS];
static volatile int idt_built;
volatile uint32_t idt_hits[IDT_NR_VECTORS];
volatile uint32_t idt_replays;

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

static void build(void)
{
	unsigned int v;

	for (v = 0; v < IDT_NR_VECTORS; v++) {
		uint64_t a = (uint64_t)(uintptr_t)isr_stubs +
			     (uint64_t)v * ISR_STUB_SIZE;

		idt[v] = (struct idt_gate){
			.off_lo = (uint16_t)a,
			.sel = GUEST_CS64,
			.type_attr = IDT_GATE_INTR,
			.off_mid = (uint16_t)(a >> 16),
			.off_hi = (uint32_t)(a >> 32),
		};
	}
}

void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) desc = {
		.limit = sizeof(idt) - 1,
		.base = (uint64_t)(uintptr_t)idt,
	};

	if (!__atomic_exchange_n(&idt_built, 1, __ATOMIC_SEQ_CST))
		build();
	asm volatile("lidt %0" : : "m"(desc) : "memory");
}

void idt_set_handler(unsigned int vector, irq_handler_t fn)
{
	if (vector < IDT_NR_VECTORS)
		__atomic_store_n(&handlers[vector], fn, __ATOMIC_SEQ_CST);
}

void idt_dispatch(uint64_t vector, struct irq_frame *f)
{
	irq_handler_t fn;

	if (vector < IDT_FIRST_EXTERNAL) {
		/* An exception the test expects: its handler, no EOI. */
		fn = __atomic_load_n(&handlers[vector], __ATOMIC_SEQ_CST);
		if (fn) {
			__atomic_add_fetch(&idt_hits[vector], 1,
					   __ATOMIC_SEQ_CST);
			fn((unsigned int)vector, f);
			return;
		}
		/* guest_assert_fail() reports and ends the guest. */
		ucall(UCALL_ASSERT, __FILE__, __LINE__, "CPU exception", 3,
		      (unsigned long long)vector,
		      (unsigned long long)f->error_code,
		      (unsigned long long)f->rip);
		guest_printf("exception %u at rip %llx, error code %llx\n",
			     (unsigned int)vector,
			     (unsigned long long)f->rip,
			     (unsigned long long)f->error_code);
		guest_debug_exit(1);
		guest_poweroff();
	}
	/*
	 * A maskable interrupt is taken only with RFLAGS.IF=1 (SDM Vol. 3A
	 * 6.8.1), and these vectors come only from the LAPIC, so a frame
	 * whose interrupted code had IF=0 is not an interrupt the VMM
	 * injected.  It happens under QEMU TCG's nested SVM (the nested
	 * harness): helper_vmrun() delivers the VMCB's EVENTINJ interrupt
	 * but leaves cs->exception_index set to its vector, so a vCPU kick
	 * before the guest's next exit makes cpu_handle_exception() deliver
	 * the same vector again, inside its own handler (QEMU 7.2,
	 * target/i386/tcg/sysemu/svm_helper.c).  L1 KVM's kvm_inj_virq
	 * trace shows one injection where the guest counted two.  Count it
	 * apart and do not EOI: the real delivery's handler does.  A VMM
	 * that injects an interrupt twice is still seen twice, each with
	 * IF=1.
	 */
	if (!(f->rflags & X86_EFLAGS_IF)) {
		__atomic_add_fetch(&idt_replays, 1, __ATOMIC_SEQ_CST);
		return;
	}
	__atomic_add_fetch(&idt_hits[vector], 1, __ATOMIC_SEQ_CST);
	fn = __atomic_load_n(&handlers[vector], __ATOMIC_SEQ_CST);
	if (fn)
		fn((unsigned int)vector, f);
	if (vector != LAPIC_SPURIOUS_VECTOR)
		lapic_eoi();
}
