// SPDX-License-Identifier: GPL-2.0
/*
 * PCI bus 0 through both configuration mechanisms: host bridge, master
 * aborts, BAR sizing and decoding, capability list, INTx routing.
 */
#include "tap.h"
#include "x86/acpi.h"
#include "x86/layout.h"
#include "pci/pci.h"
#include "core/util.h"

static struct iobus pio, mmio;
static int bar_reads, irq_level = -1;
static unsigned int irq_pin;

static uint32_t cfg_read(unsigned int devfn, unsigned int reg,
			 unsigned int len)
{
	uint8_t d[8];

	put_le32(d, 0x80000000U | devfn << 8 | (reg & 0xfc));
	iobus_access(&pio, PCI_CONFIG_ADDR_PORT, d, 4, true);
	iobus_access(&pio, PCI_CONFIG_DATA_PORT + (reg & 3), d, len, false);
	return (uint32_t)get_leN(d, len);
}

static void cfg_write(unsigned int devfn, unsigned int reg, unsigned int len,
		      uint32_t v)
{
	uint8_t d[8];

	put_le32(d, 0x80000000U | devfn << 8 | (reg & 0xfc));
	iobus_access(&pio, PCI_CONFIG_ADDR_PORT, d, 4, true);
	put_leN(d, len, v);
	iobus_access(&pio, PCI_CONFIG_DATA_PORT + (reg & 3), d, len, true);
}

static uint32_t ecam_read(unsigned int devfn, unsigned int reg,
			  unsigned int len)
{
	uint8_t d[8];

	iobus_access(&mmio, PCI_ECAM_BASE + (devfn << 12) + reg, d, len,
		     false);
	return (uint32_t)get_leN(d, len);
}

static void bar_read(void *opaque, uint64_t off, uint8_t *data,
		     unsigned int len)
{
	bar_reads++;
	put_leN(data, len, 0xabcd0000 + off);
}

static const struct io_ops bar_ops = { .read = bar_read };

static void irq_set(void *opaque, unsigned int pin, int level)
{
	irq_pin = pin;
	irq_level = level;
}

int main(void)
{
	struct pci_bus bus;
	struct pci_device dev;
	uint8_t d[8];
	uint64_t bar0, bar2;
	int cap1, cap2;

	log_quiet = true;
	iobus_init(&pio, "pio");
	iobus_init(&mmio, "mmio");
	is_int(pci_bus_init(&bus, &pio, &mmio, 0x400000000ULL, 1ULL << 30), 0,
	       "bus created");
	bus.irq_set = irq_set;

	is_int(cfg_read(0, PCI_VENDOR_ID, 2), 0x1b36, "host bridge vendor");
	is_int(cfg_read(0, PCI_CLASS_DEVICE, 2), 0x0600,
	       "host bridge class 06:00");
	is_int(ecam_read(0, PCI_VENDOR_ID, 4), cfg_read(0, 0, 4),
	       "ECAM and mechanism #1 see the same function");
	is_int(cfg_read(3 << 3, PCI_VENDOR_ID, 4), 0xffffffff,
	       "empty slot reads as master abort");
	/* Disabled CONFIG_ADDRESS: data port reads all ones. */
	put_le32(d, 0);
	iobus_access(&pio, PCI_CONFIG_ADDR_PORT, d, 4, true);
	iobus_access(&pio, PCI_CONFIG_DATA_PORT, d, 4, false);
	is_int(get_le32(d), 0xffffffff, "enable bit clear: no config cycle");
	/* Linux's mechanism probe: byte write to 0xcfb leaves the latch. */
	put_le32(d, 0x80000000U);
	iobus_access(&pio, PCI_CONFIG_ADDR_PORT, d, 4, true);
	d[0] = 1;
	iobus_access(&pio, PCI_CONFIG_ADDR_PORT + 3, d, 1, true);
	iobus_access(&pio, PCI_CONFIG_ADDR_PORT, d, 4, false);
	is_int(get_le32(d), 0x80000000U, "0xcf8 latch reads back");
	ok(iobus_access(&mmio, PCI_ECAM_BASE + 1, d, 2, false) &&
	   get_le16(d) == 0xffff, "unaligned ECAM read returns all ones");

	pci_device_init(&dev, "testdev", 0x1234, 0x5678, 0xff0000);
	is_int(pci_device_add_bar(&dev, 0, PCI_BAR_MEM32, 0x1000, false,
				  &bar_ops, &dev), 0, "mem32 BAR0 declared");
	is_int(pci_device_add_bar(&dev, 2, PCI_BAR_MEM64, 0x100000, true,
				  &bar_ops, &dev), 0, "mem64 BAR2 declared");
	is_int(pci_device_add_bar(&dev, 4, PCI_BAR_IO, 0x20, false, &bar_ops,
				  &dev), 0, "I/O BAR4 declared");
	is_int(pci_device_add_bar(&dev, 5, PCI_BAR_MEM64, 0x1000, false,
				  NULL, NULL), -EINVAL,
	       "64-bit BAR in the last slot refused");
	is_int(pci_device_add_bar(&dev, 1, PCI_BAR_MEM32, 0x1800, false,
				  NULL, NULL), -EINVAL,
	       "size that is not a power of two refused");
	cap1 = pci_device_add_capability(&dev, PCI_CAP_ID_MSIX, 12);
	cap2 = pci_device_add_capability(&dev, PCI_CAP_ID_EXP, 0x3c);
	dev.cfg[PCI_INTERRUPT_PIN] = 1;
	is_int(pci_bus_register(&bus, &dev, 3), 0, "device placed in slot 3");

	is_int(cfg_read(3 << 3, PCI_VENDOR_ID, 4), 0x56781234, "IDs visible");
	ok(cfg_read(3 << 3, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST,
	   "status says there is a capability list");
	is_int(cfg_read(3 << 3, PCI_CAPABILITY_LIST, 1), cap1,
	       "list starts at the first capability");
	is_int(cfg_read(3 << 3, cap1, 1), PCI_CAP_ID_MSIX, "first is MSI-X");
	is_int(cfg_read(3 << 3, cap1 + 1, 1), cap2, "...and links the next");
	is_int(cfg_read(3 << 3, cap2, 1), PCI_CAP_ID_EXP, "second is PCIe");
	is_int(cfg_read(3 << 3, cap2 + 1, 1), 0, "...and ends the list");
	is_int(cfg_read(3 << 3, PCI_INTERRUPT_LINE, 1),
	       pci_intx_gsi(3, 0), "interrupt line is the _PRT's GSI");

	bar0 = cfg_read(3 << 3, PCI_BASE_ADDRESS_0, 4);
	bar2 = cfg_read(3 << 3, PCI_BASE_ADDRESS_2, 4) |
	       (uint64_t)cfg_read(3 << 3, PCI_BASE_ADDRESS_3, 4) << 32;
	ok(bar0 >= PCI_MMIO32_BASE && bar0 < PCI_MMIO32_BASE + PCI_MMIO32_SIZE,
	   "BAR0 assigned in the 32-bit window (%#llx)",
	   (unsigned long long)bar0);
	is_int(bar2 & 0xf, PCI_BASE_ADDRESS_MEM_TYPE_64 |
	       PCI_BASE_ADDRESS_MEM_PREFETCH, "BAR2 type bits: 64-bit pref");
	is_int(bar2 & ~0xfULL, 0x400000000ULL, "BAR2 assigned in 64-bit window");
	ok(cfg_read(3 << 3, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY,
	   "memory decoding enabled by 'firmware'");
	d[0] = 0;
	ok(iobus_access(&mmio, bar0 + 0x10, d, 4, false) &&
	   get_le32(d) == 0xabcd0010, "BAR0 decodes to the device");

	/* Sizing the way Linux does it: decode off, all ones, read back. */
	cfg_write(3 << 3, PCI_COMMAND, 2, 0);
	ok(!iobus_find(&mmio, bar0), "decode off: BAR0 no longer claimed");
	cfg_write(3 << 3, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	is_int(cfg_read(3 << 3, PCI_BASE_ADDRESS_0, 4), 0xfffff000,
	       "BAR0 sizing reads ~(4K-1)");
	cfg_write(3 << 3, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	cfg_write(3 << 3, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
	is_int(cfg_read(3 << 3, PCI_BASE_ADDRESS_2, 4), 0xfff0000c,
	       "BAR2 low sizing keeps type bits");
	is_int(cfg_read(3 << 3, PCI_BASE_ADDRESS_3, 4), 0xffffffff,
	       "BAR2 high dword all writable");
	cfg_write(3 << 3, PCI_BASE_ADDRESS_4, 4, 0xffffffff);
	is_int(cfg_read(3 << 3, PCI_BASE_ADDRESS_4, 4), 0xffffffe1,
	       "I/O BAR sizing: ~(32-1) | IO bit");
	/* Move BAR0 and enable decoding again. */
	cfg_write(3 << 3, PCI_BASE_ADDRESS_0, 4, 0xc8000000);
	cfg_write(3 << 3, PCI_BASE_ADDRESS_2, 4, 0);
	cfg_write(3 << 3, PCI_BASE_ADDRESS_3, 4, 0);
	cfg_write(3 << 3, PCI_BASE_ADDRESS_4, 4, 0xd000);
	cfg_write(3 << 3, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	ok(iobus_find(&mmio, 0xc8000000) &&
	   iobus_find(&mmio, 0xc8000000)->opaque == &dev,
	   "BAR0 decodes at its new address");
	ok(!iobus_find(&mmio, bar0), "...and not at the old one");
	ok(iobus_find(&pio, 0xd01f) && !iobus_find(&pio, 0xd020),
	   "I/O BAR decodes exactly 32 ports");
	ok(!dev.bars[2].mapped, "BAR2 at address 0 is not decoded");
	/* Over a reserved range (the bus reserves ECAM; a board adds RAM):
	 * not decoded, and decoded again once moved away. */
	pci_bus_reserve(&bus, 0, 64 << 20, "guest RAM");
	cfg_write(3 << 3, PCI_BASE_ADDRESS_0, 4, 0xe0000000);
	ok(!dev.bars[0].mapped && iobus_find(&mmio, 0xe0000000) &&
	   iobus_find(&mmio, 0xe0000000)->opaque != &dev,
	   "BAR0 moved over ECAM: not decoded, ECAM still answers");
	cfg_write(3 << 3, PCI_BASE_ADDRESS_0, 4, 0x01000000);
	ok(!dev.bars[0].mapped && !iobus_find(&mmio, 0x01000000),
	   "BAR0 moved into guest RAM: not decoded");
	cfg_write(3 << 3, PCI_BASE_ADDRESS_0, 4, 0xc8000000);
	ok(dev.bars[0].mapped && iobus_find(&mmio, 0xc8000000) &&
	   iobus_find(&mmio, 0xc8000000)->opaque == &dev,
	   "BAR0 moved back: decoded again");

	/* Read-only and RW1C bits. */
	cfg_write(3 << 3, PCI_VENDOR_ID, 4, 0);
	is_int(cfg_read(3 << 3, PCI_VENDOR_ID, 4), 0x56781234,
	       "IDs are read-only");
	dev.cfg[PCI_STATUS + 1] |= PCI_STATUS_REC_MASTER_ABORT >> 8;
	cfg_write(3 << 3, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT);
	ok(!(cfg_read(3 << 3, PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT),
	   "status error bit is write-1-to-clear");
	ok(cfg_read(3 << 3, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST,
	   "...and the capability bit survives");

	/* INTx, honouring Interrupt Disable. */
	pci_intx_set(&dev, 1);
	ok(irq_level == 1 && irq_pin == pci_intx_gsi(3, 0),
	   "INTx raises the routed GSI");
	ok(cfg_read(3 << 3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT,
	   "status.interrupt reflects the pin");
	cfg_write(3 << 3, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE |
		  PCI_COMMAND_MEMORY);
	pci_intx_set(&dev, 1);
	is_int(irq_level, 0, "INTx disabled: line stays low");

	/* A second device: first free slot and no BAR overlap. */
	{
		struct pci_device d2;

		pci_device_init(&d2, "dev2", 0x1234, 0x1111, 0xff0000);
		pci_device_add_bar(&d2, 0, PCI_BAR_MEM32, 0x1000, false,
				   &bar_ops, &d2);
		is_int(pci_bus_register(&bus, &d2, -1), 0, "second device");
		is_int(d2.devfn, 1 << 3, "went to the first free slot");
		ok(pci_bar_address(&d2, 0) != pci_bar_address(&dev, 0),
		   "distinct BAR addresses");
		pci_bus_unregister(&bus, &d2);
		is_int(cfg_read(1 << 3, 0, 4), 0xffffffff, "unregistered");
	}
	pci_bus_unregister(&bus, &dev);
	pci_bus_destroy(&bus);
	iobus_destroy(&pio);
	iobus_destroy(&mmio);
	return tap_done();
}
