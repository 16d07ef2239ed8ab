// SPDX-License-Identifier: GPL-2.0
/*
 * The generic PCI config-space model: a shadow of the 4 KiB space where
 * each byte is read-only, writable (wmask) or write-1-to-clear (w1cmask),
 * plus BAR decoding.  BAR sizing needs no special case: the writable bits
 * of a BAR are exactly the address bits above its size, so the guest's
 * "write all ones, read back" probe returns ~(size - 1) | type bits
 * (PCI Local Bus Spec 3.0, 6.2.5.1).
 */
#include "pci/pci.h"
#include "core/util.h"

void pci_device_init(struct pci_device *dev, const char *name,
		     uint16_t vendor, uint16_t device, uint32_t class_code)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	pci_cfg_set16(dev, PCI_VENDOR_ID, vendor);
	pci_cfg_set16(dev, PCI_DEVICE_ID, device);
	/* class_code is base:sub:prog-if in bits 23:0; revision 0. */
	pci_cfg_set32(dev, PCI_CLASS_REVISION, class_code << 8);
	dev->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	dev->cap_end = 0x40;	/* capabilities follow the type-0 header */
	pci_cfg_header_masks(dev);
}

void pci_cfg_header_masks(struct pci_device *dev)
{
	/* Command: I/O, memory, bus master, parity, SERR, INTx disable. */
	dev->wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
				  PCI_COMMAND_MASTER | PCI_COMMAND_PARITY;
	dev->wmask[PCI_COMMAND + 1] = (PCI_COMMAND_SERR |
				       PCI_COMMAND_INTX_DISABLE) >> 8;
	/* Status error bits are RW1C (PCI 3.0, 6.2.3). */
	dev->w1cmask[PCI_STATUS + 1] = (PCI_STATUS_PARITY |
					PCI_STATUS_SIG_TARGET_ABORT |
					PCI_STATUS_REC_TARGET_ABORT |
					PCI_STATUS_REC_MASTER_ABORT |
					PCI_STATUS_SIG_SYSTEM_ERROR |
					PCI_STATUS_DETECTED_PARITY) >> 8;
	dev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	dev->wmask[PCI_LATENCY_TIMER] = 0xff;
	dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

int pci_device_add_bar(struct pci_device *dev, unsigned int n,
		       enum pci_bar_type type, uint64_t size, bool prefetch,
		       const struct io_ops *ops, void *opaque)
{
	unsigned int off = PCI_BASE_ADDRESS_0 + 4 * n;
	uint64_t mask;
	uint32_t lo;

	if (n >= PCI_NR_BARS || (type == PCI_BAR_MEM64 && n == 5) ||
	    size == 0 || (size & (size - 1)))
		return -EINVAL;
	if (type == PCI_BAR_IO && (size < 4 || size > 256))
		return -EINVAL;
	if (type != PCI_BAR_IO && size < 16)
		return -EINVAL;
	if (type == PCI_BAR_MEM32 && size > 2 * GiB)
		return -EINVAL;
	dev->bars[n] = (struct pci_bar){
		.type = type, .size = size, .prefetch = prefetch,
		.ops = ops, .opaque = opaque,
	};
	mask = ~(size - 1);
	switch (type) {
	case PCI_BAR_IO:
		lo = PCI_BASE_ADDRESS_SPACE_IO;
		break;
	case PCI_BAR_MEM32:
		lo = PCI_BASE_ADDRESS_MEM_TYPE_32;
		break;
	default:
		lo = PCI_BASE_ADDRESS_MEM_TYPE_64;
		break;
	}
	if (prefetch && type != PCI_BAR_IO)
		lo |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	pci_cfg_set32(dev, off, lo);
	put_le32(&dev->wmask[off], (uint32_t)mask &
		 (type == PCI_BAR_IO ? ~3U : ~15U));
	if (type == PCI_BAR_MEM64) {
		pci_cfg_set32(dev, off + 4, 0);
		put_le32(&dev->wmask[off + 4], (uint32_t)(mask >> 32));
		dev->bars[n + 1].type = PCI_BAR_NONE;
	}
	return 0;
}

int pci_device_add_capability(struct pci_device *dev, uint8_t id,
			      unsigned int len)
{
	unsigned int pos = PCI_CAPABILITY_LIST, off = dev->cap_end;

	if (len < 2 || off + len > 0x100)
		return -ENOSPC;
	/* Link the new capability after the last one in the list. */
	while (dev->cfg[pos])
		pos = dev->cfg[pos] + 1U;
	dev->cfg[off] = id;
	dev->cfg[off + 1] = 0;
	dev->cfg[pos] = (uint8_t)off;
	dev->cap_end = (uint16_t)ALIGN_UP(off + len, 4U);
	pci_cfg_set16(dev, PCI_STATUS,
		      pci_cfg_get16(dev, PCI_STATUS) | PCI_STATUS_CAP_LIST);
	return (int)off;
}

uint64_t pci_bar_address(const struct pci_device *dev, unsigned int n)
{
	const struct pci_bar *bar = &dev->bars[n];
	unsigned int off = PCI_BASE_ADDRESS_0 + 4 * n;
	uint64_t addr = pci_cfg_get32(dev, off);

	if (bar->type == PCI_BAR_IO)
		return addr & PCI_BASE_ADDRESS_IO_MASK & 0xffff;
	addr &= PCI_BASE_ADDRESS_MEM_MASK;
	if (bar->type == PCI_BAR_MEM64)
		addr |= (uint64_t)pci_cfg_get32(dev, off + 4) << 32;
	return addr;
}

static int bar_map(struct pci_device *dev, unsigned int n, uint64_t addr,
		   bool map)
{
	struct pci_bar *bar = &dev->bars[n];
	struct iobus *io = bar->type == PCI_BAR_IO ? dev->bus->pio :
						     dev->bus->mmio;

	if (dev->ops && dev->ops->bar_map)
		return dev->ops->bar_map(dev, n, addr, map);
	if (!bar->ops)
		return 0;
	if (map)
		return iobus_register(io, addr, bar->size, bar->ops,
				      bar->opaque, dev->name);
	return iobus_unregister(io, addr, bar->opaque);
}

/* The reserved range a memory BAR at [addr, addr + size) overlaps. */
static const char *reserved_overlap(const struct pci_bus *bus, uint64_t addr,
				    uint64_t size)
{
	unsigned int i;

	for (i = 0; i < bus->nr_reserved; i++)
		if (addr < bus->reserved[i].end &&
		    bus->reserved[i].start < addr + size)
			return bus->reserved[i].what;
	return NULL;
}

void pci_update_bars(struct pci_device *dev)
{
	uint16_t cmd = pci_cfg_get16(dev, PCI_COMMAND);
	unsigned int n;

	if (!dev->bus)
		return;
	for (n = 0; n < PCI_NR_BARS; n++) {
		struct pci_bar *bar = &dev->bars[n];
		uint64_t addr = pci_bar_address(dev, n);
		bool want;

		if (bar->type == PCI_BAR_NONE)
			continue;
		want = cmd & (bar->type == PCI_BAR_IO ? PCI_COMMAND_IO :
				PCI_COMMAND_MEMORY);
		/*
		 * A BAR at 0 or one that wraps (mid-sizing: all ones) is not
		 * decoded; neither is a memory BAR over one of the board's
		 * reserved ranges (RAM, ECAM, the APICs).
		 */
		if (!addr || addr + bar->size - 1 < addr)
			want = false;
		if (bar->type == PCI_BAR_IO && addr + bar->size > 0x10000)
			want = false;
		if (want && bar->type != PCI_BAR_IO) {
			const char *what = reserved_overlap(dev->bus, addr,
							    bar->size);

			if (what) {
				pr_warn_ratelimited("%s: BAR%u at %#llx overlaps %s: not decoded",
						    dev->name, n,
						    (unsigned long long)addr,
						    what);
				want = false;
			}
		}
		if (bar->mapped && (!want || addr != bar->mapped_addr)) {
			bar_map(dev, n, bar->mapped_addr, false);
			bar->mapped = false;
		}
		if (want && !bar->mapped) {
			if (bar_map(dev, n, addr, true) == 0) {
				bar->mapped = true;
				bar->mapped_addr = addr;
			} else {
				pr_warn_ratelimited("%s: BAR%u at %#llx cannot be decoded (overlaps another device)",
						    dev->name, n,
						    (unsigned long long)addr);
			}
		}
	}
}

void pci_cfg_generic_read(struct pci_device *dev, unsigned int off,
			  uint8_t *data, unsigned int len)
{
	memcpy(data, &dev->cfg[off], len);
}

static bool touches(unsigned int off, unsigned int len, unsigned int start,
		    unsigned int end)
{
	return off < end && off + len > start;
}

void pci_cfg_generic_write(struct pci_device *dev, unsigned int off,
			   const uint8_t *data, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++) {
		unsigned int o = off + i;
		uint8_t v = data[i];

		dev->cfg[o] = (uint8_t)((dev->cfg[o] & ~dev->wmask[o]) |
					(v & dev->wmask[o]));
		dev->cfg[o] &= (uint8_t)~(v & dev->w1cmask[o]);
	}
	if (touches(off, len, PCI_COMMAND, PCI_COMMAND + 2) ||
	    touches(off, len, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_5 + 4))
		pci_update_bars(dev);
}
