// SPDX-License-Identifier: GPL-2.0
/*
 * PCI bus 0: configuration mechanism #1 (PCI Local Bus Spec 3.0, 3.2.2.3.2:
 * 0xcf8 CONFIG_ADDRESS, 0xcfc CONFIG_DATA), ECAM (PCIe Base Spec 7.2.2:
 * offset = bus << 20 | device << 15 | function << 12 | register), the host
 * bridge at 00:00.0, and firmware-style BAR assignment at registration.
 */
#include "x86/acpi.h"
#include "x86/layout.h"
#include "pci/pci.h"
#include "debug/trace.h"
#include "core/util.h"

/* A virtual host bridge: Red Hat's ID for a generic PCIe host bridge. */
#define HOST_BRIDGE_VENDOR	0x1b36
#define HOST_BRIDGE_DEVICE	0x0008
#define CLASS_HOST_BRIDGE	0x060000

#define CONFIG_ADDRESS_ENABLE	0x80000000U

void pci_config_read(struct pci_bus *bus, unsigned int devfn,
		     unsigned int off, uint8_t *data, unsigned int len)
{
	struct pci_device *dev;

	pthread_mutex_lock(&bus->lock);
	dev = devfn < PCI_MAX_DEVFN ? bus->devs[devfn] : NULL;
	if (!dev || off + len > PCI_CFG_SIZE)
		memset(data, 0xff, len);	/* master abort */
	else if (dev->ops && dev->ops->cfg_read)
		dev->ops->cfg_read(dev, off, data, len);
	else
		pci_cfg_generic_read(dev, off, data, len);
	TRACE(PCI, "%s cfg read off %#x size %u -> %#llx",
	      dev ? dev->name : "(none)", off, len,
	      (unsigned long long)get_leN(data, len));
	pthread_mutex_unlock(&bus->lock);
}

void pci_config_write(struct pci_bus *bus, unsigned int devfn,
		      unsigned int off, const uint8_t *data,
		      unsigned int len)
{
	struct pci_device *dev;

	pthread_mutex_lock(&bus->lock);
	dev = devfn < PCI_MAX_DEVFN ? bus->devs[devfn] : NULL;
	if (dev && off + len <= PCI_CFG_SIZE) {
		uint32_t old = (uint32_t)get_leN(&dev->cfg[off], len);

		pci_cfg_generic_write(dev, off, data, len);
		if (dev->ops && dev->ops->cfg_written)
			dev->ops->cfg_written(dev, off, data, len, old);
	}
	TRACE(PCI, "%s cfg write off %#x size %u value %#llx",
	      dev ? dev->name : "(none)", off, len,
	      (unsigned long long)get_leN(data, len));
	pthread_mutex_unlock(&bus->lock);
}

/* 0xcf8: only full dword accesses address the latch (Linux probes 0xcfb
 * with byte writes to tell mechanism #1 from #2; those are ignored). */
static void cf8_read(void *opaque, uint64_t off, uint8_t *data,
		     unsigned int len)
{
	struct pci_bus *bus = opaque;

	if (off == 0 && len == 4)
		put_le32(data, bus->config_address);
	else
		memset(data, 0xff, len);
}

static void cf8_write(void *opaque, uint64_t off, const uint8_t *data,
		      unsigned int len)
{
	struct pci_bus *bus = opaque;

	if (off == 0 && len == 4)
		bus->config_address = get_le32(data);
}

static const struct io_ops cf8_ops = { .read = cf8_read, .write = cf8_write };

/* Decode CONFIG_ADDRESS; returns false when no bus-0 function is selected. */
static bool cfc_target(struct pci_bus *bus, uint64_t off, unsigned int len,
		       unsigned int *devfn, unsigned int *reg)
{
	uint32_t a = bus->config_address;

	if (!(a & CONFIG_ADDRESS_ENABLE) || ((a >> 16) & 0xff) != 0)
		return false;
	if (off + len > 4)
		return false;
	*devfn = (a >> 8) & 0xff;
	*reg = (a & 0xfc) + (unsigned int)off;
	return true;
}

static void cfc_read(void *opaque, uint64_t off, uint8_t *data,
		     unsigned int len)
{
	struct pci_bus *bus = opaque;
	unsigned int devfn, reg;

	if (cfc_target(bus, off, len, &devfn, &reg))
		pci_config_read(bus, devfn, reg, data, len);
	else
		memset(data, 0xff, len);
}

static void cfc_write(void *opaque, uint64_t off, const uint8_t *data,
		      unsigned int len)
{
	struct pci_bus *bus = opaque;
	unsigned int devfn, reg;

	if (cfc_target(bus, off, len, &devfn, &reg))
		pci_config_write(bus, devfn, reg, data, len);
}

static const struct io_ops cfc_ops = { .read = cfc_read, .write = cfc_write };

static bool ecam_decode(uint64_t off, unsigned int len, unsigned int *devfn,
			unsigned int *reg)
{
	/* Config accesses must be naturally aligned and within a dword. */
	if (len > 4 || (off & (len - 1)))
		return false;
	*devfn = (unsigned int)(off >> 12) & 0xff;
	*reg = (unsigned int)off & 0xfff;
	return true;
}

static void ecam_read(void *opaque, uint64_t off, uint8_t *data,
		      unsigned int len)
{
	unsigned int devfn, reg;

	if (ecam_decode(off, len, &devfn, &reg)) {
		pci_config_read(opaque, devfn, reg, data, len);
	} else {
		pr_warn_ratelimited("ECAM: unaligned %u-byte read at %#llx ignored",
				    len, (unsigned long long)off);
		memset(data, 0xff, len);
	}
}

static void ecam_write(void *opaque, uint64_t off, const uint8_t *data,
		       unsigned int len)
{
	unsigned int devfn, reg;

	if (ecam_decode(off, len, &devfn, &reg))
		pci_config_write(opaque, devfn, reg, data, len);
	else
		pr_warn_ratelimited("ECAM: unaligned %u-byte write at %#llx ignored",
				    len, (unsigned long long)off);
}

static const struct io_ops ecam_ops = { .read = ecam_read,
					.write = ecam_write };

int pci_bus_init(struct pci_bus *bus, struct iobus *pio, struct iobus *mmio,
		 uint64_t mmio64_base, uint64_t mmio64_size)
{
	int err;

	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
	bus->pio = pio;
	bus->mmio = mmio;
	bus->io_next = PCI_IO_WINDOW_BASE;
	bus->mmio32_next = PCI_MMIO32_BASE;
	bus->mmio64_next = mmio64_base;
	bus->mmio64_end = mmio64_base + mmio64_size;

	err = iobus_register(pio, PCI_CONFIG_ADDR_PORT, 4, &cf8_ops, bus,
			     "pci-config-address");
	if (!err)
		err = iobus_register(pio, PCI_CONFIG_DATA_PORT, 4, &cfc_ops,
				     bus, "pci-config-data");
	if (!err)
		err = iobus_register(mmio, PCI_ECAM_BASE, PCI_ECAM_SIZE,
				     &ecam_ops, bus, "pci-ecam");
	if (err)
		return err;
	pci_bus_reserve(bus, PCI_ECAM_BASE, PCI_ECAM_SIZE, "the PCI ECAM window");

	pci_device_init(&bus->host_bridge, "host-bridge", HOST_BRIDGE_VENDOR,
			HOST_BRIDGE_DEVICE, CLASS_HOST_BRIDGE);
	return pci_bus_register(bus, &bus->host_bridge, 0);
}

void pci_bus_reserve(struct pci_bus *bus, uint64_t start, uint64_t size,
		     const char *what)
{
	if (!size || bus->nr_reserved == PCI_MAX_RESERVED)
		return;
	bus->reserved[bus->nr_reserved++] = (struct pci_reserved){
		.start = start, .end = start + size, .what = what,
	};
}

void pci_bus_destroy(struct pci_bus *bus)
{
	pthread_mutex_destroy(&bus->lock);
}

static int assign_bar(struct pci_bus *bus, struct pci_device *dev,
		      unsigned int n)
{
	struct pci_bar *bar = &dev->bars[n];
	unsigned int off = PCI_BASE_ADDRESS_0 + 4 * n;
	uint64_t addr;

	switch (bar->type) {
	case PCI_BAR_IO:
		addr = ALIGN_UP(bus->io_next, bar->size);
		if (addr + bar->size > PCI_IO_WINDOW_BASE + PCI_IO_WINDOW_SIZE)
			return -ENOSPC;
		bus->io_next = addr + bar->size;
		break;
	case PCI_BAR_MEM64:
		addr = ALIGN_UP(bus->mmio64_next, bar->size);
		if (addr + bar->size <= bus->mmio64_end) {
			bus->mmio64_next = addr + bar->size;
			break;
		}
		/* A 64-bit BAR may live below 4 GiB too. */
		__attribute__((fallthrough));
	case PCI_BAR_MEM32:
		addr = ALIGN_UP(bus->mmio32_next, bar->size);
		if (addr + bar->size > PCI_MMIO32_BASE + PCI_MMIO32_SIZE)
			return -ENOSPC;
		bus->mmio32_next = addr + bar->size;
		break;
	default:
		return 0;
	}
	pci_cfg_set32(dev, off, (pci_cfg_get32(dev, off) & 0xf) |
		      (uint32_t)addr);
	if (bar->type == PCI_BAR_MEM64)
		pci_cfg_set32(dev, off + 4, (uint32_t)(addr >> 32));
	return 0;
}

int pci_bus_register(struct pci_bus *bus, struct pci_device *dev, int slot)
{
	unsigned int devfn, n;
	uint16_t cmd = 0;
	int err = 0;

	pthread_mutex_lock(&bus->lock);
	if (slot < 0) {
		for (slot = 1; slot < 32; slot++)
			if (!bus->devs[slot << 3])
				break;
	}
	if (slot >= 32 || bus->devs[slot << 3]) {
		pr_err("%s: no free PCI slot on bus 0", dev->name);
		err = -ENOSPC;
		goto out;
	}
	devfn = (unsigned int)slot << 3;
	for (n = 0; n < PCI_NR_BARS; n++) {
		if (dev->bars[n].type == PCI_BAR_NONE)
			continue;
		err = assign_bar(bus, dev, n);
		if (err) {
			pr_err("%s: BAR%u (%llu bytes) does not fit the PCI window",
			       dev->name, n,
			       (unsigned long long)dev->bars[n].size);
			goto out;
		}
		cmd |= dev->bars[n].type == PCI_BAR_IO ? PCI_COMMAND_IO :
							 PCI_COMMAND_MEMORY;
	}
	dev->bus = bus;
	dev->devfn = devfn;
	if (dev->cfg[PCI_INTERRUPT_PIN]) {
		unsigned int gsi = pci_intx_gsi((unsigned int)slot,
						dev->cfg[PCI_INTERRUPT_PIN] - 1U);

		dev->cfg[PCI_INTERRUPT_LINE] = (uint8_t)gsi;
		dev->intx = (struct irq_line){
			.set = bus->irq_set, .opaque = bus->irq_opaque,
			.pin = gsi,
		};
	}
	bus->devs[devfn] = dev;
	/* Firmware leaves assigned BARs decoding, as a BIOS would. */
	pci_cfg_set16(dev, PCI_COMMAND, pci_cfg_get16(dev, PCI_COMMAND) | cmd);
	pci_update_bars(dev);
out:
	pthread_mutex_unlock(&bus->lock);
	return err;
}

void pci_bus_unregister(struct pci_bus *bus, struct pci_device *dev)
{
	pthread_mutex_lock(&bus->lock);
	if (dev->bus == bus && bus->devs[dev->devfn] == dev) {
		pci_cfg_set16(dev, PCI_COMMAND, 0);
		pci_update_bars(dev);
		bus->devs[dev->devfn] = NULL;
		dev->bus = NULL;
	}
	pthread_mutex_unlock(&bus->lock);
}

void pci_intx_set(struct pci_device *dev, int level)
{
	/* PCI 3.0, 6.2.2: Interrupt Disable masks the pin. */
	if (pci_cfg_get16(dev, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE)
		level = 0;
	if (level)
		dev->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		dev->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	irq_line_set(&dev->intx, level);
}
