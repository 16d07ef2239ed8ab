/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parts of struct boot_params (the "zero page") the guests read.
 * Offsets from Documentation/arch/x86/zero-page.rst and boot.rst.
 */
#ifndef GUEST_BOOTPARAM_H
#define GUEST_BOOTPARAM_H

#include <stdint.h>

#define BP_ACPI_RSDP_ADDR	0x070	/* u64 */
#define BP_EXT_CMD_LINE_PTR	0x0c8	/* u32, bits 63:32 of the pointer */
#define BP_E820_ENTRIES		0x1e8	/* u8 */
#define BP_HDR_CMD_LINE_PTR	0x228	/* u32 */
#define BP_E820_TABLE		0x2d0	/* 128 x struct e820_entry */
#define BP_E820_MAX		128

#define E820_RAM		1
#define E820_RESERVED		2
#define E820_ACPI		3
#define E820_NVS		4
#define E820_UNUSABLE		5
#define E820_PMEM		7

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

static inline uint64_t bp_read(const void *bp, unsigned int off,
			       unsigned int len)
{
	const uint8_t *p = (const uint8_t *)bp + off;
	uint64_t v = 0;

	while (len--)
		v = (v << 8) | p[len];
	return v;
}

static inline const char *bp_cmdline(const void *bp)
{
	uint64_t p = bp_read(bp, BP_HDR_CMD_LINE_PTR, 4) |
		     bp_read(bp, BP_EXT_CMD_LINE_PTR, 4) << 32;

	return p ? (const char *)p : "";
}

static inline unsigned int bp_e820_entries(const void *bp)
{
	unsigned int n = bp_read(bp, BP_E820_ENTRIES, 1);

	return n > BP_E820_MAX ? BP_E820_MAX : n;
}

static inline const struct e820_entry *bp_e820(const void *bp, unsigned int i)
{
	return (const struct e820_entry *)((const uint8_t *)bp +
					   BP_E820_TABLE) + i;
}

#endif
