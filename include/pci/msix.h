/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MSI-X as the guest sees it (PCI Local Bus Spec 3.0, 6.8.2; PCIe Base
 * Spec 6.1, 7.7.2): the capability's Message Control register, the vector
 * table and the Pending Bit Array.  One implementation for every device,
 * emulated or passed through.  What happens behind a vector (irqfd, GSI,
 * host enable) is the owner's business, told through struct msix_ops.
 */
#ifndef MVM_MSIX_H
#define MVM_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pci/pci.h"

#define MSIX_MAX_VECTORS	2048
#define MSIX_ENTRY_SIZE		16
#define MSIX_ENTRY_ADDR_LO	0
#define MSIX_ENTRY_ADDR_HI	4
#define MSIX_ENTRY_DATA		8
#define MSIX_ENTRY_CTRL		12
#define MSIX_CTRL_MASKBIT	1U

struct msix;

struct msix_ops {
	/* MSI-X Enable changed; called before the vector_changed calls. */
	void (*enable_changed)(struct msix *m, bool enabled);
	/* Vector v's effective mask or message may have changed. */
	void (*vector_changed)(struct msix *m, unsigned int v);
};

struct msix_entry {
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
	uint32_t ctrl;
};

struct msix {
	/* Guards the table, PBA and the owner's per-vector state. */
	pthread_mutex_t lock;
	struct pci_device *dev;
	unsigned int cap;		/* config-space offset of the cap */
	unsigned int nr;		/* table size */
	unsigned int table_bar, pba_bar;
	uint32_t table_off, pba_off;
	struct msix_entry *table;
	uint64_t *pba;
	bool enabled;
	bool function_mask;
	const struct msix_ops *ops;
	void *opaque;
	uint64_t bad_accesses;
};

/*
 * Add the MSI-X capability to dev's config space (cap < 0) or adopt the
 * one at `cap` (passthrough: the device's own), and allocate the table.
 */
int msix_init(struct msix *m, struct pci_device *dev, int cap,
	      unsigned int nr, unsigned int table_bar, uint32_t table_off,
	      unsigned int pba_bar, uint32_t pba_off,
	      const struct msix_ops *ops, void *opaque);
void msix_destroy(struct msix *m);

/* Sizes of the two structures in bytes. */
static inline uint32_t msix_table_size(const struct msix *m)
{
	return m->nr * MSIX_ENTRY_SIZE;
}

static inline uint32_t msix_pba_size(const struct msix *m)
{
	return ((m->nr + 63) / 64) * 8;
}

/*
 * MMIO handlers; `off` is relative to the table / PBA start.  Legal
 * accesses are DWORD or QWORD, naturally aligned (6.8.2); anything else
 * is ignored with a rate-limited warning and reads as zero.
 */
void msix_table_read(struct msix *m, uint64_t off, uint8_t *data,
		     unsigned int len);
void msix_table_write(struct msix *m, uint64_t off, const uint8_t *data,
		      unsigned int len);
void msix_pba_read(struct msix *m, uint64_t off, uint8_t *data,
		   unsigned int len);
void msix_pba_write(struct msix *m, uint64_t off, const uint8_t *data,
		    unsigned int len);

/* The device's config write hook calls this for every config write. */
void msix_cfg_written(struct msix *m, unsigned int off, unsigned int len);

/* Back to the reset state: disabled, every vector masked, PBA clear. */
void msix_reset(struct msix *m);
void msix_reset_locked(struct msix *m);	/* with m->lock held */

/* Helpers for the owner; call with m->lock held. */
bool msix_vector_masked(const struct msix *m, unsigned int v);
uint64_t msix_vector_addr(const struct msix *m, unsigned int v);
uint32_t msix_vector_data(const struct msix *m, unsigned int v);
bool msix_pending(const struct msix *m, unsigned int v);
void msix_set_pending(struct msix *m, unsigned int v, bool pending);

#endif
