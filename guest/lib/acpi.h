/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough ACPI (spec 6.5, chapter 5) to list CPUs and power off: find
 * the RSDP, walk the XSDT (or RSDT), read the MADT and the FADT, and pull
 * \_S5's SLP_TYP out of the DSDT.  Plus the MP table (MP spec 1.4) as the
 * fallback CPU list.
 */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include <stdint.h>

struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

struct cpu_info {
	uint32_t apic_id;
	uint8_t enabled;
};

uint8_t acpi_checksum(const void *p, unsigned int len);
/* RSDP from boot_params.acpi_rsdp_addr, else the BIOS areas; or NULL. */
const void *acpi_find_rsdp(const void *bp);
/* First table with this signature (checksum-verified), or NULL. */
const struct acpi_sdt_header *acpi_find_table(const void *rsdp,
					      const char sig[4]);
/* LAPIC / x2APIC entries of the MADT; returns the count (<= max). */
unsigned int acpi_madt_cpus(const struct acpi_sdt_header *madt,
			    struct cpu_info *out, unsigned int max);
/* PM1a_CNT_BLK port from the FADT, 0 if absent. */
uint16_t acpi_fadt_pm1a_cnt(const struct acpi_sdt_header *fadt);
/* \_S5 SLP_TYPa from the FADT's DSDT; returns -1 if not found. */
int acpi_s5_slp_typ(const struct acpi_sdt_header *fadt);

/* Processors listed in the MP table; returns the count, 0 if none. */
unsigned int mptable_cpus(struct cpu_info *out, unsigned int max);

#endif
