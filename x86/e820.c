// SPDX-License-Identifier: GPL-2.0
/*
 * The e820 memory map handed to the guest in boot_params.e820_table
 * (arch/x86/include/uapi/asm/bootparam.h, offset 0x2d0).  It describes the
 * layout of include/x86/layout.h and struct guest_mem, in ascending order:
 *
 *   RAM       [0, EBDA_START)                 conventional memory
 *   reserved  [EBDA_START, HIGH_MEMORY_START) EBDA, VGA hole, ACPI tables
 *                                             and MP table at 0xe0000-0xfffff
 *   RAM       [HIGH_MEMORY_START, low_size)   kernel, initrd
 *   reserved  [PCI_ECAM_BASE, +PCI_ECAM_SIZE) PCI ECAM (see below)
 *   RAM       [HIGH_RAM_START, +high_size)    RAM above the MMIO hole
 */
#include "x86/boot.h"
#include "x86/layout.h"
#include "core/util.h"

static int e820_add(struct boot_e820_entry *map, unsigned int max,
		    unsigned int *nr, uint64_t addr, uint64_t size,
		    uint32_t type)
{
	if (!size)
		return 0;
	if (*nr >= max)
		return -E2BIG;
	map[*nr].addr = addr;
	map[*nr].size = size;
	map[*nr].type = type;
	(*nr)++;
	return 0;
}

int e820_build(const struct guest_mem *mem, struct boot_e820_entry *map,
	       unsigned int max)
{
	unsigned int nr = 0;
	int err;

	/* guest_mem_init() guarantees at least 2 MiB, so low_size > 1 MiB. */
	if (mem->low_size <= HIGH_MEMORY_START)
		return -EINVAL;
	err = e820_add(map, max, &nr, 0, EBDA_START, E820_RAM);
	if (!err)
		err = e820_add(map, max, &nr, EBDA_START,
			       HIGH_MEMORY_START - EBDA_START, E820_RESERVED);
	if (!err)
		err = e820_add(map, max, &nr, HIGH_MEMORY_START,
			       mem->low_size - HIGH_MEMORY_START, E820_RAM);
	/*
	 * Linux only trusts an MCFG (ECAM) region that is reserved in e820
	 * or claimed by an ACPI motherboard resource; otherwise it logs
	 * "MMCONFIG at ... not reserved" and may fall back to port 0xcf8
	 * config access (arch/x86/pci/mmconfig-shared.c).  Reserving it here
	 * is the simplest way to satisfy that check.
	 */
	if (!err)
		err = e820_add(map, max, &nr, PCI_ECAM_BASE, PCI_ECAM_SIZE,
			       E820_RESERVED);
	if (!err)
		err = e820_add(map, max, &nr, HIGH_RAM_START, mem->high_size,
			       E820_RAM);
	return err ? err : (int)nr;
}
