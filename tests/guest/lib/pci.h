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

#endif
