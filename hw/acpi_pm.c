// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI PM1a event and control registers (ACPI 6.3 section 4.8.3.1), the
 * fixed hardware the FADT points at:
 *
 *   +0  PM1_STS  16 bit, write 1 to clear
 *   +2  PM1_EN   16 bit
 *   +4  PM1_CNT  16 bit; SCI_EN reads 1 (no SMM, always in ACPI mode);
 *                SLP_EN is write-only and starts the sleep in SLP_TYP
 *
 * The only sleep state offered is S5 (\_S5 in the DSDT), which ends the VM.
 * The only event is the fixed power button; the SCI is level-triggered and
 * follows PM1_STS & PM1_EN.
 */
#include "hw/acpi_pm.h"
#include "x86/layout.h"
#include "core/util.h"

/* Status bits that can be raised here and so can assert the SCI. */
#define ACPI_PM1_EVENTS		ACPI_PM1_PWRBTN
/* Write-only control bits: GBL_RLS (bit 2) and SLP_EN read as 0. */
#define ACPI_PM1_CNT_WO		((1u << 2) | ACPI_PM1_CNT_SLP_EN)

static void acpi_pm_update_sci(struct acpi_pm *pm)
{
	bool level = pm->sts & pm->en & ACPI_PM1_EVENTS;

	if (level == pm->sci_level)
		return;
	pm->sci_level = level;
	irq_line_set(&pm->sci, level);
}

static void acpi_pm_sleep(struct acpi_pm *pm, uint16_t cnt)
{
	unsigned int typ = (cnt & ACPI_PM1_CNT_SLP_TYP) >>
			   ACPI_PM1_CNT_SLP_TYP_SHIFT;

	if (typ == ACPI_S5_SLP_TYP) {
		exit_line_request(&pm->exit, VM_EXIT_POWEROFF, 0);
		return;
	}
	pr_warn_ratelimited("acpi-pm: sleep type %u ignored (S5 is %u)",
			    typ, ACPI_S5_SLP_TYP);
}

/* Accesses of 1, 2 or 4 bytes inside the three registers are honoured. */
static bool acpi_pm_valid(uint64_t off, unsigned int len, bool is_write)
{
	if ((len == 1 || len == 2 || len == 4) &&
	    off + len <= ACPI_PM_REGS_LEN)
		return true;
	pr_warn_ratelimited("acpi-pm: %u-byte %s at port %#llx ignored",
			    len, is_write ? "write" : "read",
			    (unsigned long long)(ACPI_PM_PORT + off));
	return false;
}

static void acpi_pm_read(void *opaque, uint64_t off, uint8_t *data,
			 unsigned int len)
{
	struct acpi_pm *pm = opaque;
	uint8_t regs[ACPI_PM_REGS_LEN];

	if (!acpi_pm_valid(off, len, false)) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&pm->lock);
	put_le16(regs + ACPI_PM1_STS, pm->sts);
	put_le16(regs + ACPI_PM1_EN, pm->en);
	put_le16(regs + ACPI_PM1_CNT, pm->cnt | ACPI_PM1_CNT_SCI_EN);
	pthread_mutex_unlock(&pm->lock);
	memcpy(data, regs + off, len);
}

static void acpi_pm_write(void *opaque, uint64_t off, const uint8_t *data,
			  unsigned int len)
{
	struct acpi_pm *pm = opaque;
	uint8_t regs[ACPI_PM_REGS_LEN], wstatus[2] = { 0, 0 };
	bool cnt_written = false;
	unsigned int i;
	uint16_t cnt;

	if (!acpi_pm_valid(off, len, true))
		return;
	pthread_mutex_lock(&pm->lock);
	put_le16(regs + ACPI_PM1_EN, pm->en);
	put_le16(regs + ACPI_PM1_CNT, pm->cnt);
	/* Byte by byte, so any access width merges the same way. */
	for (i = 0; i < len; i++) {
		unsigned int at = off + i;

		if (at < ACPI_PM1_EN)
			wstatus[at] = data[i];
		else
			regs[at] = data[i];
		if (at >= ACPI_PM1_CNT)
			cnt_written = true;
	}
	pm->sts &= ~get_le16(wstatus);
	pm->en = get_le16(regs + ACPI_PM1_EN);
	cnt = get_le16(regs + ACPI_PM1_CNT);
	pm->cnt = cnt & ~(ACPI_PM1_CNT_WO | ACPI_PM1_CNT_SCI_EN);
	acpi_pm_update_sci(pm);
	if (cnt_written && (cnt & ACPI_PM1_CNT_SLP_EN))
		acpi_pm_sleep(pm, cnt);
	pthread_mutex_unlock(&pm->lock);
}

static const struct io_ops acpi_pm_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};

int acpi_pm_init(struct acpi_pm *pm, struct iobus *pio, struct irq_line sci,
		 struct exit_line exit)
{
	int ret;

	memset(pm, 0, sizeof(*pm));
	pm->sci = sci;
	pm->exit = exit;
	ret = pthread_mutex_init(&pm->lock, NULL);
	if (ret)
		return -ret;
	ret = iobus_register(pio, ACPI_PM_PORT, ACPI_PM_SIZE, &acpi_pm_ops, pm,
			     "acpi-pm");
	if (ret)
		pthread_mutex_destroy(&pm->lock);
	return ret;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	pthread_mutex_destroy(&pm->lock);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts |= ACPI_PM1_PWRBTN;
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}
