/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Event tracing for debugging device models and interrupt delivery
 * (`mvm run --trace msix,vfio --trace-file FILE`, docs/debugging.md).
 *
 * A trace point costs one predictable branch on a global bitmask when its
 * category is off: no call, no formatting, no argument evaluation.  When
 * on, trace_emit() writes one line with a single write(2), so lines from
 * different threads never interleave:
 *
 *   12.003456 vcpu1 msix: virtio-rng: table write vector 0 data=0x4021
 *   12.003502 - irq: routing commit 41 routes -> 0
 *
 * i.e. seconds.microseconds since mvm started (monotonic clock), the vCPU
 * whose thread emitted it ("-" elsewhere), the category, the caller's text.
 */
#ifndef MVM_TRACE_H
#define MVM_TRACE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "core/util.h"

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

enum {
	TRACE_PCI	= 1U << 0,	/* config space accesses, BAR moves */
	TRACE_MSIX	= 1U << 1,	/* guest view: table, PBA, enable, masks */
	TRACE_VFIO	= 1U << 2,	/* host calls: SET_IRQS, regions, resets */
	TRACE_MMIO	= 1U << 3,	/* MMIO exits */
	TRACE_PIO	= 1U << 4,	/* port I/O exits */
	TRACE_IRQ	= 1U << 5,	/* GSI routes, commits, irqfd, MSI inject */
	TRACE_VIRTIO	= 1U << 6,	/* virtio transport and queues */
	TRACE_EXIT	= 1U << 7,	/* every exit to mvm; KVM's counts */
	TRACE_ALL	= (1U << 8) - 1,
};

/* Categories on; written only before threads start (option parsing). */
extern unsigned int trace_mask;

#define trace_on(cat)	unlikely(trace_mask & TRACE_##cat)

/* TRACE(MSIX, "%s: vector %u unmasked", dev->name, v); */
#define TRACE(cat, fmt, ...)						\
	do {								\
		if (trace_on(cat))					\
			trace_emit(TRACE_##cat, fmt, ##__VA_ARGS__);	\
	} while (0)

/*
 * Add the categories of a comma-separated list ("pci,msix", "all") to
 * trace_mask.  An unknown or empty name changes nothing, prints one line
 * naming it and the valid ones, and returns -EINVAL.
 */
int trace_parse(const char *spec);
/* Trace to this file (created or truncated) instead of stderr. */
int trace_open_file(const char *path);
/* Trace to fd (not owned: trace_close() leaves it open). */
void trace_set_fd(int fd);
/* Back to stderr, closing a file opened by trace_open_file(). */
void trace_close(void);
/* The calling thread is vCPU `index` (-1: not a vCPU thread). */
void trace_set_vcpu(int index);
/* "pci", "msix", ... for one TRACE_* bit; "?" otherwise. */
const char *trace_category_name(unsigned int cat);

/* Write one trace line; use TRACE(), which tests the mask first. */
void trace_emit(unsigned int cat, const char *fmt, ...) __printf(2, 3);
/* Test hook: how many times trace_emit() ran. */
extern atomic_ulong trace_emit_calls;

/*
 * Ready-made trace points for MSI-X and interrupt delivery (the list of
 * where they go is in docs/debugging.md).  `dev` is a device name.
 */
static inline const char *trace_msix_field(unsigned long long off)
{
	static const char *const names[] = { "addr_lo", "addr_hi", "data",
					     "ctrl" };

	return names[(off % 16) / 4];
}

/* The guest wrote DWORD `val` at table offset `off` (vector off / 16). */
#define TRACE_MSIX_TABLE_WRITE(dev, off, val)				\
	TRACE(MSIX, "%s: table write vector %u %s=%#x", (dev),		\
	      (unsigned int)((off) / 16), trace_msix_field(off),	\
	      (unsigned int)(val))
/* MSI-X Enable / Function Mask in Message Control changed. */
#define TRACE_MSIX_CONTROL(dev, enabled, fmask)				\
	TRACE(MSIX, "%s: MSI-X %s, function mask %s", (dev),		\
	      (enabled) ? "enabled" : "disabled", (fmask) ? "on" : "off")
/* Vector v's effective mask changed (mask bit, function mask, enable). */
#define TRACE_MSIX_MASK(dev, v, masked)					\
	TRACE(MSIX, "%s: vector %u %s", (dev), (unsigned int)(v),	\
	      (masked) ? "masked" : "unmasked")
/* Vector v's pending bit was set (interrupt while masked) or cleared. */
#define TRACE_MSIX_PBA(dev, v, set)					\
	TRACE(MSIX, "%s: PBA vector %u %s", (dev), (unsigned int)(v),	\
	      (set) ? "set" : "clear")
/* VFIO_DEVICE_SET_IRQS(MSI-X) for vectors [start, start + count). */
#define TRACE_VFIO_SET_IRQS(dev, what, start, count, result)		\
	TRACE(VFIO, "%s: SET_IRQS MSI-X %s vectors %u+%u -> %d", (dev),	\
	      (what), (unsigned int)(start), (unsigned int)(count),	\
	      (int)(result))
/* VFIO_DEVICE_SET_IRQS(MSI-X, DATA_NONE, count 0): host disable. */
#define TRACE_VFIO_DISABLE(dev, result)					\
	TRACE(VFIO, "%s: SET_IRQS MSI-X disable -> %d", (dev), (int)(result))
/* KVM_SET_GSI_ROUTING with nr entries. */
#define TRACE_IRQ_COMMIT(nr, result)					\
	TRACE(IRQ, "routing commit %u routes -> %d", (unsigned int)(nr),	\
	      (int)(result))
/* A GSI's MSI route got a new message. */
#define TRACE_IRQ_ROUTE(gsi, addr, data)				\
	TRACE(IRQ, "gsi %d route addr=%#llx data=%#x", (int)(gsi),	\
	      (unsigned long long)(addr), (unsigned int)(data))
/* KVM_IRQFD (de)assign of eventfd efd on gsi. */
#define TRACE_IRQFD(gsi, efd, assign, result)				\
	TRACE(IRQ, "irqfd %s gsi %d fd %d -> %d",			\
	      (assign) ? "assign" : "deassign", (int)(gsi), (int)(efd),	\
	      (int)(result))
/* KVM_SIGNAL_MSI: mvm delivered an interrupt itself. */
#define TRACE_IRQ_SIGNAL_MSI(addr, data, result)			\
	TRACE(IRQ, "signal MSI addr=%#llx data=%#x -> %d",		\
	      (unsigned long long)(addr), (unsigned int)(data), (int)(result))

#endif
