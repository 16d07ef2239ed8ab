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

void pci_cfg_write16(unsigned int bus, unsigned int dev, unsigned int fn,
		     unsigned int off, uint16_t v)
{
	outl(PCI_CONFIG_ADDR_PORT, cfg_addr(bus, dev, fn, off));
	outw(PCI_CONFIG_DATA_PORT + (off & 2), v);
}

unsigned int pci_find_cap(unsigned int bus, unsigned int dev,
			  unsigned int fn, unsigned int id, uint64_t *seen)
{
	unsigned int pos, found = 0, ttl = 48;	/* Linux's PCI_FIND_CAP_TTL */

	if (!(pci_cfg_read16(bus, dev, fn, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = pci_cfg_read8(bus, dev, fn, PCI_CAPABILITY_LIST) & 0xfc;
	while (pos >= 0x40 && ttl--) {
		uint16_t ent = pci_cfg_read16(bus, dev, fn, pos);
		unsigned int cid = ent & 0xff;

		if (seen)
			*seen |= 1ULL << (cid & 63);
		if (cid == id && !found)
			found = pos;
		if (found && !seen)
			break;
		pos = (ent >> 8) & 0xfc;
	}
	return found;
}

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PWT		(1ULL << 3)
#define PTE_PCD		(1ULL << 4)
#define PTE_PS		(1ULL << 7)
#define PTE_ADDR	0x000ffffffffff000ULL
#define PT_POOL		4

static uint64_t pt_pool[PT_POOL][512] __attribute__((aligned(4096)));
static unsigned int pt_used;

/* The table an entry points to, allocating a zeroed one if absent. */
static uint64_t *pt_next(uint64_t *ent)
{
	uint64_t *t;

	if (*ent & PTE_P)
		return (uint64_t *)(uintptr_t)(*ent & PTE_ADDR);
	if (pt_used == PT_POOL)
		return NULL;
	t = pt_pool[pt_used++];
	memset(t, 0, 4096);
	/* .bss is identity-mapped: virtual == physical. */
	*ent = (uint64_t)(uintptr_t)t | PTE_P | PTE_RW;
	return t;
}

void *pci_map_mmio(uint64_t phys_addr, uint64_t size)
{
	uint64_t a, end = phys_addr + size;
	uint64_t *pml4 = (uint64_t *)(uintptr_t)(read_cr3() & PTE_ADDR);

	for (a = phys_addr & ~0x1fffffULL; a < end; a += 0x200000) {
		uint64_t *pdpt = pt_next(&pml4[(a >> 39) & 511]), *pd;

		if (!pdpt)
			return NULL;
		if (pdpt[(a >> 30) & 511] & PTE_PS)
			continue;	/* a 1 GiB page maps it already */
		pd = pt_next(&pdpt[(a >> 30) & 511]);
		if (!pd)
			return NULL;
		pd[(a >> 21) & 511] = a | PTE_P | PTE_RW | PTE_PWT | PTE_PCD |
				      PTE_PS;
	}
	asm volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	return (void *)(uintptr_t)phys_addr;
}
