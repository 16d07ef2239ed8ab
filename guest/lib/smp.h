/* SPDX-License-Identifier: GPL-2.0 */
/* Local APIC access and AP bring-up with INIT-SIPI-SIPI. */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <stdint.h>

#define LAPIC_ID		0x020
#define LAPIC_SVR		0x0f0
#define LAPIC_ICR_LO		0x300
#define LAPIC_ICR_HI		0x310

#define APIC_SVR_ENABLE		(1 << 8)
#define APIC_DM_INIT		(5 << 8)
#define APIC_DM_STARTUP		(6 << 8)
#define APIC_ICR_BUSY		(1 << 12)	/* delivery status */
#define APIC_LEVEL_ASSERT	(1 << 14)
#define APIC_DEST_ALLBUT	(3 << 18)	/* all excluding self */

uint32_t lapic_read(unsigned int reg);
void lapic_write(unsigned int reg, uint32_t v);
void lapic_enable(void);
/* Send an IPI (ICR layout: SDM Vol. 3A 10.6.1) and wait until it is sent. */
void lapic_send_ipi(unsigned int apic_id, uint32_t icr_lo);

/*
 * Start every other CPU (broadcast INIT, then two SIPIs, the MP spec B.4
 * "universal start-up algorithm").  Each AP runs fn() on its own stack;
 * returning from fn() halts the AP.  Returns without waiting.
 */
void smp_start_aps(void (*fn)(void));
/* APs that have reached fn() so far. */
unsigned int smp_aps_running(void);

#endif
