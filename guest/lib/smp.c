// SPDX-License-Identifier: GPL-2.0
#include "guest.h"
#include "guest_layout.h"
#include "smp.h"

extern const uint8_t ap_trampoline_start[], ap_trampoline_end[];
extern uint32_t ap_boot_cr3;
void ap_entry(void);

static void (*volatile ap_fn)(void);
static volatile unsigned int aps_running;

uint32_t lapic_read(unsigned int reg)
{
	return mmio_read32(LAPIC_ADDR + reg);
}

void lapic_write(unsigned int reg, uint32_t v)
{
	mmio_write32(LAPIC_ADDR + reg, v);
}

void lapic_enable(void)
{
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | APIC_SVR_ENABLE | 0xff);
}

void lapic_send_ipi(unsigned int apic_id, uint32_t icr_lo)
{
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo);
	while (lapic_read(LAPIC_ICR_LO) & APIC_ICR_BUSY)
		cpu_relax();
}

/*
 * The MP spec asks for 10 ms after INIT and 200 us after each SIPI.
 * Virtual LAPICs act at once; a short spin keeps the order honest on
 * anything slower without a timer (and stays cheap under emulation).
 */
static void short_delay(void)
{
	for (volatile int i = 0; i < 1000; i++)
		cpu_relax();
}

void ap_entry(void)
{
	__atomic_add_fetch(&aps_running, 1, __ATOMIC_SEQ_CST);
	ap_fn();
}

unsigned int smp_aps_running(void)
{
	return __atomic_load_n(&aps_running, __ATOMIC_SEQ_CST);
}

void smp_start_aps(void (*fn)(void))
{
	uint32_t vector = TRAMPOLINE_ADDR >> 12;

	ap_fn = fn;
	ap_boot_cr3 = (uint32_t)read_cr3();
	memcpy(phys(TRAMPOLINE_ADDR), ap_trampoline_start,
	       ap_trampoline_end - ap_trampoline_start);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	lapic_enable();
	lapic_send_ipi(0, APIC_DEST_ALLBUT | APIC_LEVEL_ASSERT | APIC_DM_INIT);
	short_delay();
	lapic_send_ipi(0, APIC_DEST_ALLBUT | APIC_DM_STARTUP | vector);
	short_delay();
	lapic_send_ipi(0, APIC_DEST_ALLBUT | APIC_DM_STARTUP | vector);
}
