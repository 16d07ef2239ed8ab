/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PCI bus: configuration mechanism #1 (ports 0xcf8/0xcfc), ECAM (PCIe
 * enhanced configuration access, MMIO at PCI_ECAM_BASE), a host bridge at
 * 00:00.0, and the generic config-space model every function uses: a shadow
 * of the 4 KiB space, a writable-bits mask, a write-1-to-clear mask and BAR
 * decoding.  Devices meet the rest of the machine only through this bus,
 * the iobus and the irq layer.
 */
#ifndef MVM_PCI_H
#define MVM_PCI_H

#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/iobus.h"
#include "core/irq.h"

#define PCI_CFG_SIZE		4096
#define PCI_NR_BARS		6
#define PCI_MAX_DEVFN		256

enum pci_bar_type { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_device;

struct pci_bar {
	enum pci_bar_type type;
	bool prefetch;
	uint64_t size;			/* power of two, 0 = unused */
	/* Trapped BARs: the bus registers these ops on the right iobus. */
	const struct io_ops *ops;
	void *opaque;
	/* Current decoding state, as programmed by the guest. */
	bool mapped;
	uint64_t mapped_addr;
};

struct pci_device_ops {
	/*
	 * Optional: called after the generic model handled a config write
	 * of `data` (the shadow already holds the result, `old` the bytes
	 * before); lets a device react (MSI-X enable, FLR, forwarding).
	 */
	void (*cfg_written)(struct pci_device *dev, unsigned int off,
			    const uint8_t *data, unsigned int len,
			    uint32_t old);
	/* Optional: fill `data` for a read; default reads the shadow. */
	void (*cfg_read)(struct pci_device *dev, unsigned int off,
			 uint8_t *data, unsigned int len);
	/*
	 * Optional: a BAR starts or stops decoding at `addr`.  Without it
	 * the bus registers bar->ops on the iobus.  Returns 0 or -errno.
	 */
	int (*bar_map)(struct pci_device *dev, unsigned int bar,
		       uint64_t addr, bool map);
};

struct pci_device {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];
	uint8_t w1cmask[PCI_CFG_SIZE];
	struct pci_bar bars[PCI_NR_BARS];
	const struct pci_device_ops *ops;
	struct pci_bus *bus;
	unsigned int devfn;
	const char *name;
	struct irq_line intx;
	uint16_t cap_end;		/* first free byte for capabilities */
	void *priv;
};

#define PCI_MAX_RESERVED	8

struct pci_bus {
	pthread_mutex_t lock;
	struct iobus *pio;
	struct iobus *mmio;
	uint32_t config_address;	/* 0xcf8 latch */
	struct pci_device *devs[PCI_MAX_DEVFN];
	struct pci_device host_bridge;
	/* Address allocators standing in for firmware BAR assignment. */
	uint64_t io_next, mmio32_next, mmio64_next, mmio64_end;
	void (*irq_set)(void *opaque, unsigned int pin, int level);
	void *irq_opaque;
	/* Ranges no memory BAR may decode over (pci_bus_reserve()). */
	struct pci_reserved {
		uint64_t start, end;	/* [start, end) */
		const char *what;
	} reserved[PCI_MAX_RESERVED];
	unsigned int nr_reserved;
};

int pci_bus_init(struct pci_bus *bus, struct iobus *pio, struct iobus *mmio,
		 uint64_t mmio64_base, uint64_t mmio64_size);
void pci_bus_destroy(struct pci_bus *bus);
/*
 * The board's fixed ranges (guest RAM, ECAM, the APICs): a memory BAR a
 * guest moves over one is not decoded (a warning says why), since the
 * RAM memslot or the in-kernel APIC would take the accesses first, and
 * on real hardware that is a firmware bug.  At most PCI_MAX_RESERVED.
 */
void pci_bus_reserve(struct pci_bus *bus, uint64_t start, uint64_t size,
		     const char *what);

/* Prepare an empty type-0 function (IDs, class); all bytes read-only. */
void pci_device_init(struct pci_device *dev, const char *name,
		     uint16_t vendor, uint16_t device, uint32_t class_code);
/* The writable and RW1C bits of a type-0 header's common registers. */
void pci_cfg_header_masks(struct pci_device *dev);
/* Declare BAR n (before registration); MEM64 takes two slots. */
int pci_device_add_bar(struct pci_device *dev, unsigned int n,
		       enum pci_bar_type type, uint64_t size, bool prefetch,
		       const struct io_ops *ops, void *opaque);
/* Append a capability of `len` bytes; returns its offset or -ENOSPC. */
int pci_device_add_capability(struct pci_device *dev, uint8_t id,
			      unsigned int len);
/*
 * Place the device on bus 0 at `slot` (-1: first free), assign its BARs
 * from the windows as firmware would, enable decoding, wire INTx.
 */
int pci_bus_register(struct pci_bus *bus, struct pci_device *dev, int slot);
void pci_bus_unregister(struct pci_bus *bus, struct pci_device *dev);

/* Config access by BDF-less devfn on bus 0; used by both mechanisms. */
void pci_config_read(struct pci_bus *bus, unsigned int devfn,
		     unsigned int off, uint8_t *data, unsigned int len);
void pci_config_write(struct pci_bus *bus, unsigned int devfn,
		      unsigned int off, const uint8_t *data,
		      unsigned int len);

/* Level of the device's INTx line (INTx routing per the ACPI _PRT). */
void pci_intx_set(struct pci_device *dev, int level);

/* Generic config-space model (pci/pci_config.c). */
void pci_cfg_generic_read(struct pci_device *dev, unsigned int off,
			  uint8_t *data, unsigned int len);
void pci_cfg_generic_write(struct pci_device *dev, unsigned int off,
			   const uint8_t *data, unsigned int len);
/* Re-evaluate BAR decoding after a command register or BAR change. */
void pci_update_bars(struct pci_device *dev);
uint64_t pci_bar_address(const struct pci_device *dev, unsigned int n);

static inline uint16_t pci_cfg_get16(const struct pci_device *d,
				     unsigned int off)
{
	return (uint16_t)(d->cfg[off] | d->cfg[off + 1] << 8);
}

static inline uint32_t pci_cfg_get32(const struct pci_device *d,
				     unsigned int off)
{
	return (uint32_t)pci_cfg_get16(d, off) |
	       (uint32_t)pci_cfg_get16(d, off + 2) << 16;
}

static inline void pci_cfg_set16(struct pci_device *d, unsigned int off,
				 uint16_t v)
{
	d->cfg[off] = (uint8_t)v;
	d->cfg[off + 1] = (uint8_t)(v >> 8);
}

static inline void pci_cfg_set32(struct pci_device *d, unsigned int off,
				 uint32_t v)
{
	pci_cfg_set16(d, off, (uint16_t)v);
	pci_cfg_set16(d, off + 2, (uint16_t)(v >> 16));
}

#define PCI_DEVFN_SLOT(devfn)	((devfn) >> 3)
#define PCI_DEVFN_FN(devfn)	((devfn) & 7)

#endif
