// SPDX-License-Identifier: GPL-2.0
#include "guest.h"
#include "pci.h"

static uint32_t cfg_addr(unsigned int bus, unsigned int dev, unsigned int fn,
			 unsigned int off)
{
	return 0x80000000u | bus << 16 | (dev & 31) << 11 | (fn & 7) << 8 |
	       (off & 0xfc);
}

uint32_t pci_cfg_read32(unsigned int bus, unsigned int dev, unsigned int fn,
			unsigned int off)
{
	outl(PCI_CONFIG_ADDR_PORT, cfg_addr(bus, dev, fn, off));
	return inl(PCI_CONFIG_DATA_PORT);
}

void pci_cfg_write32(unsigned int bus, unsigned int dev, unsigned int fn,
		     unsigned int off, uint32_t v)
{
	outl(PCI_CONFIG_ADDR_PORT, cfg_addr(bus, dev, fn, off));
	outl(PCI_CONFIG_DATA_PORT, v);
}

/* Narrow reads use the byte lanes of 0xcfc, as the spec allows. */
uint16_t pci_cfg_read16(unsigned int bus, unsigned int dev, unsigned int fn,
			unsigned int off)
{
	outl(PCI_CONFIG_ADDR_PORT, cfg_addr(bus, dev, fn, off));
	return inw(PCI_CONFIG_DATA_PORT + (off & 2));
}

uint8_t pci_cfg_read8(unsigned int bus, unsigned int dev, unsigned int fn,
		      unsigned int off)
{
	outl(PCI_CONFIG_ADDR_PORT, cfg_addr(bus, dev, fn, off));
	return inb(PCI_CONFIG_DATA_PORT + (off & 3));
}

unsigned int pci_scan_bus0(struct pci_func *out, unsigned int max)
{
	unsigned int dev, fn, n = 0;

	for (dev = 0; dev < 32; dev++) {
		unsigned int nfn = 1;

		for (fn = 0; fn < nfn; fn++) {
			uint32_t id = pci_cfg_read32(0, dev, fn, PCI_VENDOR_ID);

			if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
				continue;
			if (fn == 0 && pci_cfg_read8(0, dev, 0, PCI_HEADER_TYPE) &
				       PCI_HEADER_MULTIFUNC)
				nfn = 8;
			if (n < max) {
				out[n].dev = dev;
				out[n].fn = fn;
				out[n].vendor = id & 0xffff;
				out[n].device = id >> 16;
				out[n].class = pci_cfg_read32(0, dev, fn,
						PCI_CLASS_REVISION) >> 8;
			}
			n++;
		}
	}
	return n < max ? n : max;
}
