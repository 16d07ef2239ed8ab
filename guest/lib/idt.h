/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interrupts for the test guests: a 256-entry IDT (isr.S stubs), per-vector
 * hit counters, the xAPIC's EOI.  Exceptions (vectors 0-31) are test
 * failures: they report UCALL_ASSERT with the vector, error code and RIP
 * and end the guest.  Every other vector counts a hit in idt_hits[],
 * calls the handler installed for it (if any) and sends the LAPIC an EOI
 * (not for the spurious vector 0xff, SDM Vol. 3A 10.9).
 *
 *   idt_init();  lapic_enable();  irq_enable();
 *   ... wait for idt_hits[0x40] to change ...
 */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include <stdint.h>

#define IDT_NR_VECTORS		256
#define IDT_FIRST_EXTERNAL	32
#define LAPIC_SPURIOUS_VECTOR	0xff
#define LAPIC_EOI		0x0b0
#define X86_EFLAGS_IF		0x200

/* What isr.S passes to idt_dispatch() (the frame after the vector). */
struct irq_frame {
	uint64_t error_code;	/* 0 where the CPU pushes none */
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_t)(unsigned int vector, struct irq_frame *f);

/* Hits per vector since idt_init(); written only in interrupt context. */
extern volatile uint32_t idt_hits[IDT_NR_VECTORS];
/*
 * Deliveries of a vector >= 32 into code running with IF=0: not counted
 * as hits, no EOI (see idt_dispatch() in idt.c for why they happen).
 */
extern volatile uint32_t idt_replays;

/* Install the IDT on this CPU (lidt); safe to call again on every CPU. */
void idt_init(void);
/*
 * Run fn (NULL: none) for vector, before the EOI.  For an exception
 * (vector < 32) fn replaces the test-failure report; it may move f->rip
 * past a faulting instruction.
 */
void idt_set_handler(unsigned int vector, irq_handler_t fn);
/* Called by isr.S. */
void idt_dispatch(uint64_t vector, struct irq_frame *f);
void lapic_eoi(void);

static inline uint32_t idt_hits_read(unsigned int vector)
{
	return __atomic_load_n(&idt_hits[vector], __ATOMIC_SEQ_CST);
}

static inline void irq_enable(void)
{
	asm volatile("sti" ::: "memory");
}

static inline void irq_disable(void)
{
	asm volatile("cli" ::: "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

#endif
