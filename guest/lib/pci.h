/* SPDX-License-Identifier: GPL-2.0 */
/* PCI configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2). */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdint.h>

#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_CLASS_REVISION	0x08	/* class << 8 | revision */
#define PCI_HEADER_TYPE		0x0e
#define PCI_HEADER_MULTIFUNC	0x80

uint32_t pci_cfg_read32(unsigned int bus, unsigned int dev, unsigned int fn,
			unsigned int off);
void pci_cfg_write32(unsigned int bus, unsigned int dev, unsigned int fn,
		     unsigned int off, uint32_t v);
uint16_t pci_cfg_read16(unsigned int bus, unsigned int dev, unsigned int fn,
			unsigned int off);
uint8_t pci_cfg_read8(unsigned int bus, unsigned int dev, unsigned int fn,
		      unsigned int off);

struct pci_func {
	uint8_t dev, fn;
	uint16_t vendor, device;
	uint32_t class;		/* base class, subclass, prog-if */
};

/* Functions present on bus 0, in order; returns how many (at most max). */
unsigned int pci_scan_bus0(struct pci_func *out, unsigned int max);

/* Added for the passthrough guests (g_mbox, g_msix_bench). */
#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4
#define PCI_STATUS		0x06
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_BASE_ADDRESS_0	0x10
#define PCI_CAPABILITY_LIST	0x34

void pci_cfg_write16(unsigned int bus, unsigned int dev, unsigned int fn,
		     unsigned int off, uint16_t v);
/*
 * Offset of the first capability `id` on the function's list, 0 if none.
 * If `seen` is not NULL, every ID met on the walk sets bit (id & 63).
 */
unsigned int pci_find_cap(unsigned int bus, unsigned int dev,
			  unsigned int fn, unsigned int id, uint64_t *seen);
/*
 * Make [phys, phys + size) accessible at the same virtual address,
 * uncached (PCD|PWT), with 2 MiB pages in the live page tables.  The boot
 * map covers only 4 GiB; 64-bit BARs sit above it.  Returns the pointer,
 * or NULL when the small pool of page-table pages is exhausted.
 */
void *pci_map_mmio(uint64_t phys, uint64_t size);

#endif
