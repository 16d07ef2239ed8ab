/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A host PCI function passed through with VFIO.  The code is split by job:
 *   vfio/vfio_pci.c     the device's life, the host's interrupt mode, stat
 *   vfio/vfio_open.c    sysfs checks, container, group, device fd, DMA map
 *   vfio/vfio_config.c  config space: virtualized header, caps, FLR bit
 *   vfio/vfio_bars.c    BARs: memory slots, trapped pages, I/O BARs, ROM
 *   vfio/vfio_intx.c    INTx through a resampling irqfd
 *   vfio/vfio_msi.c     MSI: one vector, its eventfd and GSI route
 *   vfio/vfio_msix.c    MSI-X: table/PBA MMIO, enable-to-match-guest
 *   vfio/vfio_irq_stats.c  host interrupts per MSI-X vector (mvm stat)
 * All host access goes through struct vfio_host (real or simulated).
 */
#ifndef MVM_VFIO_PCI_H
#define MVM_VFIO_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/vfio.h>

#include "pci/devctx.h"
#include "pci/msix.h"
#include "pci/msix_vectors.h"
#include "pci/pci.h"
#include "vfio/vfio_host.h"

#define VFIO_MAX_SPARSE		16

struct vfio_mmap_area {
	uint64_t offset;		/* within the region */
	uint64_t size;
	void *hva;			/* mmap of the area, NULL if none */
	int slot;			/* KVM memory slot while mapped, or -1 */
};

struct vfio_region {
	uint32_t flags;
	uint64_t size;
	uint64_t offset;		/* of the region in the device fd */
	bool msix_mappable;
	unsigned int nr_areas;
	struct vfio_mmap_area areas[VFIO_MAX_SPARSE];
};

struct vfio_msix_host_stats {
	uint64_t set_irqs;		/* VFIO_DEVICE_SET_IRQS calls for MSI-X */
	uint64_t enables;		/* host MSI-X enable (incl. re-enables) */
	uint64_t disables;
	uint64_t grows;			/* NORESIZE re-enables to add vectors */
	uint64_t errors;
};

struct vfio_pci;

struct vfio_bar_ctx {
	struct vfio_pci *vd;
	unsigned int bar;
};

struct vfio_pci {
	struct pci_device pci;
	struct vfio_bar_ctx barctx[PCI_NR_BARS];
	struct device_ctx *ctx;
	struct vfio_host *host;
	char bdf[16];			/* DDDD:BB:DD.F */
	char name[40];
	int container_fd, group_fd, dev_fd;
	int group_id;
	bool dma_mapped_low, dma_mapped_high;
	struct vfio_device_info info;
	struct vfio_region regions[VFIO_PCI_NUM_REGIONS];
	struct vfio_irq_info irqs[VFIO_PCI_NUM_IRQS];
	/* Expansion ROM: decoded read-only at rom_addr while enabled. */
	bool rom_mapped;
	uint64_t rom_addr;
	/* Config bytes served from the shadow instead of the device. */
	uint8_t virt[PCI_CFG_SIZE];

	/*
	 * MSI-X: the guest view, our vector table, and the host state.  A
	 * vector's eventfd is vectors.v[v].owner_efd (see vfio_msix.c).
	 */
	bool has_msix;
	struct msix msix;
	struct msix_vectors vectors;
	bool msix_dynamic;		/* host allocates vectors on demand */
	bool host_msix_enabled;
	unsigned int host_nvec;		/* vectors allocated on the host */
	struct vfio_msix_host_stats msix_stats;

	/* MSI (emulated capability; one vector used as the host allows). */
	int msi_cap;
	int msi_efd, msi_gsi;
	bool host_msi_enabled;

	/* INTx through a resampling irqfd. */
	int intx_efd, intx_resample_efd;
	bool host_intx_enabled;
	bool pcie_flr;			/* device advertises FLR */
	int pcie_cap;
	struct vfio_host *owned_host;	/* simulated host, freed with us */
};

/*
 * --passthrough SPEC: a host BDF, or "sim:MODEL[,k=v...]" (a simulated
 * host, vfio/host/).  Opens the function as vfio_pci_open() does (needs
 * only ctx->mem); NULL after one line saying what is wrong.  Then
 * vfio_pci_realize(); vfio_pci_free() undoes both at any point.
 */
struct vfio_pci *vfio_pci_create(struct device_ctx *ctx, const char *spec);
void vfio_pci_free(struct vfio_pci *vd);
/* `mvm stat`: host MSI-X counters and interrupts per vector. */
void vfio_pci_print_stat(struct vfio_pci *vd, FILE *out);
/* `mvm debug`: guest and host view of every vector in use. */
void vfio_pci_print_debug(struct vfio_pci *vd, FILE *out);

/*
 * Open `bdf` ("DDDD:BB:DD.F" or "BB:DD.F") on `host`, check that it can
 * be passed through, map guest RAM for its DMA and place it on the PCI
 * bus.  Every refusal is one line saying what to do.
 */
int vfio_pci_attach(struct vfio_pci *vd, struct device_ctx *ctx,
		    struct vfio_host *host, const char *bdf);
/*
 * The same in two steps: open() checks and opens the device and maps
 * guest RAM for DMA (needs only ctx->mem), so a bad --passthrough is
 * refused before KVM is touched; realize() builds the PCI function and
 * places it on ctx->pci.  After a failed realize(), call detach().
 */
int vfio_pci_open(struct vfio_pci *vd, struct device_ctx *ctx,
		  struct vfio_host *host, const char *bdf);
int vfio_pci_realize(struct vfio_pci *vd);
void vfio_pci_detach(struct vfio_pci *vd);

/* Function-level reset: host and guest views return to reset together. */
int vfio_pci_reset(struct vfio_pci *vd);

/*
 * Internal, between the vfio/ files.  vfio_pci.c calls the others; none of
 * them calls vfio_pci.c (the call graph is in its opening comment).
 */

/* vfio_open.c */
int vfio_open_device(struct vfio_pci *vd, const char *bdf);
void vfio_close_device(struct vfio_pci *vd);
ssize_t vfio_region_read(struct vfio_pci *vd, unsigned int index,
			 uint64_t off, void *buf, size_t len);
ssize_t vfio_region_write(struct vfio_pci *vd, unsigned int index,
			  uint64_t off, const void *buf, size_t len);
/* VFIO_DEVICE_SET_IRQS(ACTION_TRIGGER) with eventfd data. */
int vfio_set_irqs_eventfd(struct vfio_pci *vd, unsigned int index,
			  unsigned int start, unsigned int count,
			  const int32_t *fds);
/* VFIO_DEVICE_SET_IRQS with eventfd data and any action. */
int vfio_set_irqs_action(struct vfio_pci *vd, unsigned int index,
			 uint32_t action, unsigned int start,
			 unsigned int count, const int32_t *fds);
int vfio_disable_irqs(struct vfio_pci *vd, unsigned int index);
/* The same, a failure reported as "`what` disable" (e.g. "INTx"). */
void vfio_irqs_off(struct vfio_pci *vd, unsigned int index, const char *what);

/* vfio_config.c: builds the PCI function; *msix_cap is -1 without MSI-X. */
int vfio_config_init(struct vfio_pci *vd, const struct pci_device_ops *ops,
		     int *msix_cap);
/* The PCI bus's cfg_read hook. */
void vfio_config_read(struct pci_device *dev, unsigned int off,
		      uint8_t *data, unsigned int len);
/* What a guest config write asks of the rest, from vfio_config_write(). */
#define VFIO_CFG_DECODE	(1U << 0)	/* command register or ROM BAR */
#define VFIO_CFG_MSI	(1U << 1)	/* the MSI capability */
#define VFIO_CFG_FLR	(1U << 2)	/* Initiate FLR, on a device with FLR */
/* Forward a guest config write to the device; returns VFIO_CFG_* bits. */
unsigned int vfio_config_write(struct vfio_pci *vd, unsigned int off,
			       const uint8_t *data, unsigned int len);

/* vfio_bars.c */
int vfio_bars_init(struct vfio_pci *vd);
/* The PCI bus's bar_map hook: start or stop decoding BAR `bar`. */
int vfio_bars_map(struct pci_device *dev, unsigned int bar, uint64_t addr,
		  bool map);
/* Follow the ROM BAR and Memory Space Enable (PCI 3.0, 6.2.5.2). */
void vfio_rom_update(struct vfio_pci *vd);
void vfio_bars_destroy(struct vfio_pci *vd);

/*
 * The host's interrupt mode is switched by vfio_pci.c alone (vfio-pci
 * allows one interrupt type at a time); these are its steps, each a no-op
 * when it has nothing to do.  Called with the MSI-X lock held, if any.
 */
/* vfio_intx.c */
int vfio_intx_init(struct vfio_pci *vd);
int vfio_intx_host_enable(struct vfio_pci *vd);
void vfio_intx_host_disable(struct vfio_pci *vd);
void vfio_intx_destroy(struct vfio_pci *vd);	/* host INTx already off */

/* vfio_msi.c */
bool vfio_msi_guest_enabled(struct vfio_pci *vd);
/*
 * KVM's side of the vector (eventfd, GSI, route, irqfd), before the host
 * is switched to MSI; without the MSI-X lock (the routing commit runs
 * waiters that take it).  vfio_msi_release() gives it back.
 */
int vfio_msi_prepare(struct vfio_pci *vd);
void vfio_msi_release(struct vfio_pci *vd);
int vfio_msi_host_enable(struct vfio_pci *vd);
void vfio_msi_host_disable(struct vfio_pci *vd);
/* The guest's message into the vector's route; the commit's result. */
int vfio_msi_route(struct vfio_pci *vd);
/* FLR: the guest's MSI Enable back to 0. */
void vfio_msi_reset(struct vfio_pci *vd);
void vfio_msi_destroy(struct vfio_pci *vd);	/* host MSI already off */

/* vfio_msix.c */
int vfio_msix_init(struct vfio_pci *vd, int cap, const struct msix_ops *ops);
/* The msix_ops vector_changed hook. */
void vfio_msix_vector_changed(struct msix *m, unsigned int v);
int vfio_msix_host_enable(struct vfio_pci *vd);
int vfio_msix_host_disable(struct vfio_pci *vd);
/*
 * A guest access to the trapped pages of BAR `bar`: true if off..off+len
 * is in the MSI-X table or PBA, and then done (data is only read when
 * `write`).
 */
bool vfio_msix_mmio(struct vfio_pci *vd, unsigned int bar, uint64_t off,
		    uint8_t *data, unsigned int len, bool write);
/* FLR: the guest's view back to reset, with the MSI-X lock held. */
void vfio_msix_reset_locked(struct vfio_pci *vd);
void vfio_msix_destroy(struct vfio_pci *vd);	/* host MSI-X already off */

/*
 * vfio_irq_stats.c: host interrupts per MSI-X vector (nr entries) from the
 * host's /proc/interrupts; -ENOENT when the host lists none of them.
 */
int vfio_msix_host_irq_counts(struct vfio_pci *vd, uint64_t *counts,
			      unsigned int nr);

#endif
