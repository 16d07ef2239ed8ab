// SPDX-License-Identifier: GPL-2.0
/* Ending the guest: ACPI S5 through PM1a_CNT, or the debug-exit port. */
#include "guest.h"

#define ACPI_SLP_TYP_SHIFT	10	/* PM1_CNT.SLP_TYP, ACPI 6.5 4.8.3.2.1 */
#define ACPI_SLP_EN		(1 << 13)

uint16_t guest_pm1a_cnt = ACPI_PM_PORT + 4;
uint8_t guest_s5_slp_typ = 5;

void guest_debug_exit(uint8_t status)
{
	outb(DEBUG_EXIT_PORT, status);
}

void guest_poweroff(void)
{
	outw(guest_pm1a_cnt,
	     (guest_s5_slp_typ << ACPI_SLP_TYP_SHIFT) | ACPI_SLP_EN);
	/*
	 * S5 may take effect a little after the write (QEMU handles it in
	 * its main loop), so give it time before the fallbacks: debug-exit,
	 * then stop.
	 */
	for (volatile int i = 0; i < 100000; i++)
		cpu_relax();
	guest_debug_exit(0);
	halt_forever();
}

void guest_start(void *bp)
{
	serial_init();
	guest_main(bp);
	guest_poweroff();
}
