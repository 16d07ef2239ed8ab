/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest side of virtio for unit tests: tests act as the driver.
 *
 * struct gvq is a split virtqueue as a driver builds it (virtio 1.2, 2.7)
 * in a struct guest_mem: descriptor table, avail and used rings, plus a
 * bump allocator for buffers and indirect tables in the same region.
 * Raw accessors let tests build malformed rings on purpose.
 *
 * struct test_machine is a KVM-less machine (I/O buses, PCI bus, guest
 * RAM, interrupt router on a fake KVM, a recording fake KVM_IOEVENTFD,
 * an INTx recorder) and struct vtest_dev a virtio-pci driver for one
 * function on it: it finds the capabilities, negotiates features, sets
 * up queues, notifies and programs MSI-X as Linux's virtio_pci_modern
 * does, through config space and BAR MMIO.
 */
#ifndef MVM_TEST_GUEST_VIRTQ_H
#define MVM_TEST_GUEST_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/fake_kvm.h"
#include "lib/test_machine.h"
#include "pci/devctx.h"
#include "virtio/virtio.h"
#include "virtio/virtqueue.h"

struct gvq {
	struct guest_mem *mem;
	uint16_t size;
	bool event_idx;
	uint64_t desc, avail, used;	/* guest-physical */
	uint64_t data_next, data_end;	/* buffer allocator */
	uint16_t free[VIRTQ_MAX_SIZE];	/* stack of free descriptors */
	unsigned int nr_free;
	uint16_t avail_idx;		/* shadow of avail->idx */
	uint16_t published;		/* avail->idx at the last publish */
	uint16_t last_used;
};

struct gvq_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;			/* device-writable */
};

/*
 * Lay out a queue of `size` entries at [base, base + len) of guest RAM:
 * rings first, buffers after.  Returns 0 or -ENOSPC.
 */
int gvq_init(struct gvq *g, struct guest_mem *mem, uint64_t base,
	     uint64_t len, uint16_t size, bool event_idx);
/* A 16-byte aligned buffer in the region (aborts when out of room). */
uint64_t gvq_alloc(struct gvq *g, uint32_t len);
void *gvq_ptr(struct gvq *g, uint64_t gpa, uint64_t len);

/* Make a chain of descriptors for bufs (or one indirect descriptor to a
 * table of them) and put its head in the avail ring; not yet visible to
 * the device until gvq_publish().  Returns the head or -ENOSPC. */
int gvq_add(struct gvq *g, const struct gvq_buf *bufs, unsigned int n);
int gvq_add_indirect(struct gvq *g, const struct gvq_buf *bufs,
		     unsigned int n);
/* Publish avail->idx; returns whether the device wants a notification
 * (2.7.13.4: avail_event with EVENT_IDX, else !VIRTQ_USED_F_NO_NOTIFY). */
bool gvq_publish(struct gvq *g);
/* Take one used element; false if none.  Frees its descriptors. */
bool gvq_get_used(struct gvq *g, uint32_t *id, uint32_t *len);
uint16_t gvq_used_idx(struct gvq *g);
uint16_t gvq_used_flags(struct gvq *g);
uint16_t gvq_avail_event(struct gvq *g);

/* Raw access for malformed rings. */
void gvq_write_desc(struct gvq *g, uint16_t i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next);
void gvq_put_head(struct gvq *g, uint16_t head);	/* ring[avail_idx++] */
void gvq_set_avail_idx(struct gvq *g, uint16_t idx);
void gvq_set_avail_flags(struct gvq *g, uint16_t flags);
void gvq_set_used_event(struct gvq *g, uint16_t idx);

/* ---- a machine and a virtio-pci driver ---- */

#define VTEST_MSI_ADDR		0xfee00000u

struct vtest_dev {
	struct test_machine *m;
	unsigned int devfn;
	uint64_t bar[PCI_NR_BARS];
	/* Capability offsets in config space (0: absent). */
	unsigned int cap_common, cap_notify, cap_isr, cap_device, cap_pcicfg;
	unsigned int cap_msix;
	/* Where each structure is: BAR index and offset. */
	unsigned int common_bar, notify_bar, isr_bar, device_bar;
	uint32_t common_off, notify_off, isr_off, device_off;
	uint32_t device_len;
	uint32_t notify_mult;
};

/* Find the virtio device `device_id` on the bus and parse its caps. */
int vtest_find(struct vtest_dev *d, struct test_machine *m,
	       uint16_t device_id);
uint32_t vtest_cfg_read(struct vtest_dev *d, unsigned int off,
			unsigned int len);
void vtest_cfg_write(struct vtest_dev *d, unsigned int off, unsigned int len,
		     uint32_t val);
/* MMIO as a vCPU would do it (an assigned ioeventfd takes the write). */
uint64_t vtest_mmio_read(struct test_machine *m, uint64_t addr,
			 unsigned int len);
void vtest_mmio_write(struct test_machine *m, uint64_t addr,
		      unsigned int len, uint64_t val);
uint64_t vtest_common_read(struct vtest_dev *d, unsigned int off,
			   unsigned int len);
void vtest_common_write(struct vtest_dev *d, unsigned int off,
			unsigned int len, uint64_t val);
uint8_t vtest_status(struct vtest_dev *d);
uint8_t vtest_isr_read(struct vtest_dev *d);
uint64_t vtest_devcfg_read(struct vtest_dev *d, unsigned int off,
			   unsigned int len);
/* 3.1.1 steps 1-6; returns true if FEATURES_OK stuck. */
bool vtest_negotiate(struct vtest_dev *d, uint64_t features);
uint64_t vtest_device_features(struct vtest_dev *d);
/* 4.1.5.1.3: program queue q from g and enable it. */
void vtest_setup_queue(struct vtest_dev *d, unsigned int q, struct gvq *g,
		       uint16_t msix_vector);
void vtest_driver_ok(struct vtest_dev *d);
void vtest_notify(struct vtest_dev *d, unsigned int q);
/* Enable MSI-X with vectors 0..n-1 unmasked, data = data_base + v. */
void vtest_msix_enable(struct vtest_dev *d, unsigned int n,
		       uint32_t data_base);
/* Wait (bounded, 10 s) until the device has returned a buffer. */
bool vtest_wait_used(struct gvq *g);
/* Deliver interrupts (fake KVM irqfds and polled vectors); wait until
 * `data` has been injected at least `count` times (bounded, 10 s). */
bool vtest_wait_msi(struct vtest_dev *d, struct virtio_dev *vdev,
		    uint32_t data, unsigned int count);

#endif
