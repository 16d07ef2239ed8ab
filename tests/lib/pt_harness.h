/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Passthrough tests on the KVM-less test machine (lib/test_machine.h):
 * one simulated VFIO function attached with the production code.  Guest
 * actions go through the same paths a vCPU exit would take: config
 * mechanism #1 and MMIO on the dispatcher.
 */
#ifndef MVM_PT_HARNESS_H
#define MVM_PT_HARNESS_H

#include "lib/fake_kvm.h"
#include "lib/test_machine.h"
#include "pci/devctx.h"
#include "vfio/vfio_pci.h"
#include "vfio/vfio_sim.h"

struct pt_dev {
	struct test_machine *m;
	struct vfio_host *host;
	char bdf[32];
	struct vfio_pci vd;
	int attached;		/* vfio_pci_attach() result */
};

/* Create the simulated host from `spec` and attach it. */
int pt_dev_attach(struct pt_dev *d, struct test_machine *m, const char *spec);
void pt_dev_detach(struct pt_dev *d);

/* Guest-side accesses. */
uint32_t pt_cfg_read(struct pt_dev *d, unsigned int off, unsigned int len);
void pt_cfg_write(struct pt_dev *d, unsigned int off, unsigned int len,
		  uint32_t val);
uint64_t pt_bar(struct pt_dev *d, unsigned int bar);
uint32_t pt_mmio_read(struct pt_dev *d, unsigned int bar, uint64_t off,
		      unsigned int len);
void pt_mmio_write(struct pt_dev *d, unsigned int bar, uint64_t off,
		   unsigned int len, uint64_t val);
/* MSI-X as a driver does it. */
unsigned int pt_msix_cap(struct pt_dev *d);
void pt_msix_ctrl(struct pt_dev *d, uint16_t flags);
void pt_msix_program(struct pt_dev *d, unsigned int v, uint32_t data);
void pt_msix_mask(struct pt_dev *d, unsigned int v, bool mask);
uint64_t pt_msix_pba(struct pt_dev *d, unsigned int word);
/* Let KVM and the event loop do what they would: deliver everything. */
void pt_settle(struct pt_dev *d);

#endif
