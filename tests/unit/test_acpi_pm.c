// SPDX-License-Identifier: GPL-2.0
/*
 * The PM1a registers through the real PIO dispatcher: status is
 * write-1-to-clear, SCI_EN always reads 1, SLP_EN with the \_S5 sleep
 * type powers off exactly once, other sleep types do not, the power
 * button drives the SCI, and odd accesses read 0xff without side effects.
 */
#include "hw/acpi_pm.h"
#include "core/iobus.h"
#include "x86/layout.h"
#include "core/util.h"
#include "tap.h"

/* The device's one way out of the VM: its exit line, recorded here. */
static unsigned int exit_calls;
static enum vm_exit_reason exit_why;

static void record_exit(void *opaque, enum vm_exit_reason why, int status)
{
	exit_calls++;
	exit_why = why;
}

static int sci_level = -1;
static unsigned int sci_changes, sci_pin;

static void sci_set(void *opaque, unsigned int pin, int level)
{
	sci_pin = pin;
	sci_level = level;
	sci_changes++;
}

static uint64_t pio_read(struct iobus *pio, uint16_t port, unsigned int len)
{
	uint8_t data[8] = { 0 };

	iobus_access(pio, port, data, len, false);
	return len == 3 ? get_le32(data) : get_leN(data, len);
}

static void pio_write(struct iobus *pio, uint16_t port, unsigned int len,
		      uint64_t v)
{
	uint8_t data[8];

	put_leN(data, len, v);
	iobus_access(pio, port, data, len, true);
}

#define STS	(ACPI_PM_PORT + ACPI_PM1_STS)
#define EN	(ACPI_PM_PORT + ACPI_PM1_EN)
#define CNT	(ACPI_PM_PORT + ACPI_PM1_CNT)

static uint16_t slp(unsigned int typ, bool en)
{
	return typ << ACPI_PM1_CNT_SLP_TYP_SHIFT |
	       (en ? ACPI_PM1_CNT_SLP_EN : 0);
}

int main(void)
{
	const struct exit_line exit = { .request = record_exit };
	const struct irq_line sci = {
		.set = sci_set, .pin = ACPI_SCI_IRQ,
	};
	struct acpi_pm pm, other;
	struct iobus pio;
	unsigned int typ;

	log_quiet = true;
	iobus_init(&pio, "pio");
	is_int(acpi_pm_init(&pm, &pio, sci, exit), 0, "acpi_pm_init");
	is_int(acpi_pm_init(&other, &pio, sci, exit), -EEXIST,
	       "second device on the same ports refused");

	/* Reset state. */
	is_int(pio_read(&pio, STS, 2), 0, "PM1_STS resets to 0");
	is_int(pio_read(&pio, EN, 2), 0, "PM1_EN resets to 0");
	is_int(pio_read(&pio, CNT, 2), ACPI_PM1_CNT_SCI_EN,
	       "PM1_CNT: SCI_EN set from reset");
	pio_write(&pio, CNT, 2, 0);
	is_int(pio_read(&pio, CNT, 2), ACPI_PM1_CNT_SCI_EN,
	       "SCI_EN cannot be cleared");

	/* Enable is plain read/write, at any width. */
	pio_write(&pio, EN, 2, 0x0521);
	is_int(pio_read(&pio, EN, 2), 0x0521, "PM1_EN holds a word");
	pio_write(&pio, EN + 1, 1, 0x01);
	is_int(pio_read(&pio, EN, 2), 0x0121, "PM1_EN high byte alone");
	is_int(pio_read(&pio, STS, 4), 0x01210000,
	       "dword read of the event block: STS low, EN high");
	pio_write(&pio, EN, 2, 0);

	/* Power button: status, SCI gated by enable, write-1-to-clear. */
	acpi_pm_power_button(&pm);
	is_int(pio_read(&pio, STS, 2), ACPI_PM1_PWRBTN, "PWRBTN_STS set");
	is_int(sci_changes, 0, "no SCI while PWRBTN_EN is clear");
	pio_write(&pio, EN, 2, ACPI_PM1_PWRBTN);
	is_int(sci_level, 1, "SCI asserted once enabled");
	is_int(sci_pin, ACPI_SCI_IRQ, "on the SCI line");
	pio_write(&pio, STS, 2, ~ACPI_PM1_PWRBTN & 0xffff);
	is_int(pio_read(&pio, STS, 2), ACPI_PM1_PWRBTN,
	       "writing 0 to a status bit keeps it");
	is_int(sci_level, 1, "SCI still asserted");
	pio_write(&pio, STS + 1, 1, ACPI_PM1_PWRBTN >> 8);
	is_int(pio_read(&pio, STS, 2), 0, "writing 1 clears it (byte access)");
	is_int(sci_level, 0, "SCI deasserted");
	is_int(sci_changes, 2, "SCI changed exactly twice");

	/* Sleep: Linux first writes SLP_TYP, then SLP_TYP | SLP_EN. */
	pio_write(&pio, CNT, 2, slp(ACPI_S5_SLP_TYP, false));
	is_int(exit_calls, 0, "SLP_TYP without SLP_EN does nothing");
	is_int(pio_read(&pio, CNT, 2),
	       slp(ACPI_S5_SLP_TYP, false) | ACPI_PM1_CNT_SCI_EN,
	       "SLP_TYP reads back");
	for (typ = 0; typ < 8; typ++) {
		if (typ == ACPI_S5_SLP_TYP)
			continue;
		pio_write(&pio, CNT, 2, slp(typ, true));
	}
	is_int(exit_calls, 0, "other sleep types do not power off");
	pio_write(&pio, CNT, 2, slp(ACPI_S5_SLP_TYP, true));
	is_int(exit_calls, 1, "S5 | SLP_EN powers off exactly once");
	is_int(exit_why, VM_EXIT_POWEROFF, "with VM_EXIT_POWEROFF");
	ok(!(pio_read(&pio, CNT, 2) & ACPI_PM1_CNT_SLP_EN),
	   "SLP_EN reads as 0");
	pio_write(&pio, CNT + 1, 1, slp(ACPI_S5_SLP_TYP, true) >> 8);
	is_int(exit_calls, 2, "a byte write of the high half works too");

	/* Odd accesses: 0xff, no effect, no crash. */
	exit_calls = 0;
	is_int(pio_read(&pio, ACPI_PM_PORT + 6, 2), 0xffff,
	       "unimplemented offset reads 0xff");
	is_int(pio_read(&pio, CNT, 4), 0xffffffff,
	       "dword read past PM1_CNT reads 0xff");
	is_int(pio_read(&pio, ACPI_PM_PORT + 15, 1), 0xff, "last port");
	is_int(pio_read(&pio, STS, 8), 0xffffffffffffffffULL,
	       "8-byte read refused");
	is_int(pio_read(&pio, CNT + 1, 3), 0xffffff, "3-byte read refused");
	pio_write(&pio, CNT, 4, slp(ACPI_S5_SLP_TYP, true));
	pio_write(&pio, CNT, 8, slp(ACPI_S5_SLP_TYP, true));
	is_int(exit_calls, 0, "refused writes have no effect");
	pio_write(&pio, EN, 2, 0x1234);
	pio_write(&pio, ACPI_PM_PORT + 6, 2, 0xffff);
	is_int(pio_read(&pio, EN, 2), 0x1234, "registers untouched");

	iobus_unregister(&pio, ACPI_PM_PORT, &pm);
	acpi_pm_destroy(&pm);
	iobus_destroy(&pio);
	return tap_done();
}
