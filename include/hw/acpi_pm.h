/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ACPI fixed-hardware PM1a register blocks (ACPI 6.3 section 4.8.3.1),
 * as the FADT describes them: PM1a_EVT_BLK (status, enable) at ACPI_PM_PORT
 * and PM1a_CNT_BLK four bytes above.  Enough for a guest to power off
 * through \_S5 and to see a fixed-feature power button press.
 */
#ifndef MVM_ACPI_PM_H
#define MVM_ACPI_PM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/exit.h"
#include "core/iobus.h"
#include "core/irq.h"

/* Register offsets from ACPI_PM_PORT. */
#define ACPI_PM1_STS		0	/* PM1a_EVT_BLK: status half */
#define ACPI_PM1_EN		2	/* PM1a_EVT_BLK: enable half */
#define ACPI_PM1_CNT		4	/* PM1a_CNT_BLK */
#define ACPI_PM1_EVT_LEN	4
#define ACPI_PM1_CNT_LEN	2
#define ACPI_PM_REGS_LEN	6	/* bytes actually implemented */

/* PM1 status/enable bits (ACPI 6.3 tables 4-16, 4-17). */
#define ACPI_PM1_PWRBTN		(1u << 8)
#define ACPI_PM1_STS_WAK	(1u << 15)
/* PM1 control bits (ACPI 6.3 table 4-18). */
#define ACPI_PM1_CNT_SCI_EN	(1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP	(7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN	(1u << 13)

/* The SLP_TYP value the DSDT's \_S5 package hands the guest. */
#define ACPI_S5_SLP_TYP		5

struct acpi_pm {
	pthread_mutex_t lock;
	struct exit_line exit;		/* S5: VM_EXIT_POWEROFF */
	struct irq_line sci;
	uint16_t sts;
	uint16_t en;
	uint16_t cnt;			/* without the write-only bits */
	bool sci_level;			/* last level driven on the SCI */
};

/*
 * Register the device on `pio` at ACPI_PM_PORT.  S5 requests end the VM
 * through `exit` (VM_EXIT_POWEROFF, status 0); the SCI is driven on `sci`
 * (ISA IRQ ACPI_SCI_IRQ on the PC board).
 * Returns 0 or the -errno of iobus_register().
 */
int acpi_pm_init(struct acpi_pm *pm, struct iobus *pio, struct irq_line sci,
		 struct exit_line exit);
void acpi_pm_destroy(struct acpi_pm *pm);

/*
 * Press the fixed-feature power button: sets PWRBTN_STS and raises the SCI
 * if the guest enabled PWRBTN_EN.  Linux then runs its orderly poweroff.
 * Safe from any thread.
 */
void acpi_pm_power_button(struct acpi_pm *pm);

#endif
