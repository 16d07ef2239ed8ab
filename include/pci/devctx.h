/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a PCI device model may use of the machine: the two I/O buses, the
 * PCI bus, the interrupt router, the event loop, guest RAM, and KVM memory
 * slots (for BARs backed by host memory, e.g. a VFIO region mmap).  Device
 * models meet the machine only through this; unit tests pass fakes.
 */
#ifndef MVM_DEVCTX_H
#define MVM_DEVCTX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/evloop.h"
#include "core/guest_mem.h"
#include "core/iobus.h"
#include "core/memslot.h"
#include "core/irq_router.h"
#include "pci/pci.h"

struct device_ctx {
	struct iobus *pio;
	struct iobus *mmio;
	struct pci_bus *pci;
	struct irq_router *router;
	struct evloop *loop;
	struct guest_mem *mem;
	const struct memslot_ops *slots;
	void *slots_opaque;
	const struct ioeventfd_ops *ioeventfd;	/* NULL: not available */
	void *ioeventfd_opaque;
};

#endif
