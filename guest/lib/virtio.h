/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal modern virtio-pci driver for the test guests (virtio 1.2:
 * 4.1 the PCI transport, 2.7 split virtqueues, 3.1.1 initialisation).
 * One CPU, no locking.  Rings live in a static pool in .bss, which is
 * identity-mapped, so guest-virtual addresses are guest-physical.
 *
 *   struct virtio_pci vp;
 *   struct vq q;
 *
 *   virtio_pci_find(VIRTIO_ID_BLOCK, &vp);	 find, map BAR4, walk caps
 *   virtio_start(&vp, 0);			 reset, ACK, DRIVER, VERSION_1
 *   virtio_setup_queue(&vp, &q, 0, 16, VIRTIO_MSI_NO_VECTOR);
 *   virtio_driver_ok(&vp);
 *   head = vq_add(&q, bufs, nr_out, nr_in);	 post a chain
 *   vq_kick(&vp, &q);
 *   head = vq_wait(&q, &len);			 poll the used ring
 *
 * Every register access is an MMIO exit; waiting on the used ring is a
 * spin on RAM and costs none.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

/* 4.1.2: non-transitional PCI IDs. */
#define VIRTIO_PCI_VENDOR		0x1af4
#define VIRTIO_PCI_DEVICE_BASE		0x1040

/* 5: device IDs. */
#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_CONSOLE		3
#define VIRTIO_ID_RNG			4

/* 2.1: device status. */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

/* 6: reserved feature bits. */
#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_RING_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32

/* 4.1.4: vendor capability cfg_type. */
#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_PCI_CFG		5

/* 4.1.4.3: common configuration offsets. */
#define VIRTIO_COMMON_DFSELECT		0x00
#define VIRTIO_COMMON_DF		0x04
#define VIRTIO_COMMON_GFSELECT		0x08
#define VIRTIO_COMMON_GF		0x0c
#define VIRTIO_COMMON_MSIX		0x10
#define VIRTIO_COMMON_NUMQ		0x12
#define VIRTIO_COMMON_STATUS		0x14
#define VIRTIO_COMMON_CFGGENERATION	0x15
#define VIRTIO_COMMON_Q_SELECT		0x16
#define VIRTIO_COMMON_Q_SIZE		0x18
#define VIRTIO_COMMON_Q_MSIX		0x1a
#define VIRTIO_COMMON_Q_ENABLE		0x1c
#define VIRTIO_COMMON_Q_NOFF		0x1e
#define VIRTIO_COMMON_Q_DESCLO		0x20
#define VIRTIO_COMMON_Q_DESCHI		0x24
#define VIRTIO_COMMON_Q_AVAILLO		0x28
#define VIRTIO_COMMON_Q_AVAILHI		0x2c
#define VIRTIO_COMMON_Q_USEDLO		0x30
#define VIRTIO_COMMON_Q_USEDHI		0x34

#define VIRTIO_MSI_NO_VECTOR		0xffff
#define VIRTIO_ISR_QUEUE		1
#define VIRTIO_ISR_CONFIG		2

/* 2.7.5 */
#define VIRTQ_DESC_F_NEXT		1
#define VIRTQ_DESC_F_WRITE		2

/* Queues the pool holds, and their largest size here. */
#define VIRTIO_GUEST_MAX_QUEUES		4
#define VIRTIO_GUEST_MAX_QSIZE		64

/* Errors of virtio_pci_find / virtio_start / virtio_setup_queue. */
enum {
	VIRTIO_ERR_NOT_FOUND = -1,	/* no such PCI function */
	VIRTIO_ERR_BAR = -2,		/* a capability's BAR is unusable */
	VIRTIO_ERR_CAPS = -3,		/* common/notify/ISR cap missing */
	VIRTIO_ERR_MAP = -4,		/* pci_map_mmio failed */
	VIRTIO_ERR_RESET = -5,		/* status did not read 0 */
	VIRTIO_ERR_FEATURES = -6,	/* FEATURES_OK did not stick */
	VIRTIO_ERR_QUEUE = -7,		/* no such queue / size 0 */
	VIRTIO_ERR_POOL = -8,		/* out of ring memory */
	VIRTIO_ERR_ENABLE = -9,		/* queue_enable did not read 1 */
};

struct virtio_pci {
	uint8_t dev, fn;
	uint16_t device_id;		/* virtio device ID */
	uint64_t bar[6];		/* BAR addresses that caps point into */
	uint64_t common, isr, device, notify;	/* mapped addresses */
	uint32_t device_len;		/* device cfg length (0: none) */
	uint32_t notify_mult;		/* notify_off_multiplier */
	uint8_t cap_seen;		/* bit per cfg_type found */
	uint8_t msix_cap;		/* MSI-X capability offset, 0: none */
	uint16_t msix_nvec;
	uint64_t msix_table;		/* mapped address, 0: not set up */
	uint64_t features;		/* offered by the device */
	uint64_t negotiated;
	uint16_t num_queues;
};

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

struct vq {
	uint16_t index;			/* queue number */
	uint16_t size;
	uint16_t max_size;		/* what the device offered */
	uint16_t msix_vector;		/* as read back */
	volatile struct virtq_desc *desc;
	volatile struct virtq_avail *avail;
	volatile struct virtq_used *used;
	uint64_t notify_addr;
	uint16_t free_head, num_free;
	uint16_t avail_idx;		/* next avail->idx to publish */
	uint16_t last_used;		/* used entries consumed */
	uint16_t chain_len[VIRTIO_GUEST_MAX_QSIZE];
};

/* One buffer of a chain (which list it is in says its direction). */
struct vq_buf {
	void *addr;
	uint32_t len;
};

/* Register accessors (BAR4 is mapped uncached). */
static inline uint8_t virtio_r8(uint64_t a)
{
	return *(volatile uint8_t *)a;
}

static inline uint16_t virtio_r16(uint64_t a)
{
	return *(volatile uint16_t *)a;
}

static inline uint32_t virtio_r32(uint64_t a)
{
	return *(volatile uint32_t *)a;
}

static inline void virtio_w8(uint64_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}

static inline void virtio_w16(uint64_t a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}

static inline void virtio_w32(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

/*
 * Find the first virtio function with `device_id` on bus 0, enable
 * memory decoding and bus mastering, walk its vendor capabilities and map
 * the BARs they point into.  0 or VIRTIO_ERR_*.
 */
int virtio_pci_find(uint16_t device_id, struct virtio_pci *vp);

uint8_t virtio_status(struct virtio_pci *vp);
/* Write 0 and wait until status reads 0 (4.1.4.3.2). */
int virtio_reset(struct virtio_pci *vp);
/*
 * 3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, read the offered features,
 * accept VIRTIO_F_VERSION_1 | (want & offered), FEATURES_OK and check
 * that it stuck.  0 or VIRTIO_ERR_*.
 */
int virtio_start(struct virtio_pci *vp, uint64_t want);
/* Step 8. */
void virtio_driver_ok(struct virtio_pci *vp);

/* Device configuration (4.1.4.6) access, off within device_len. */
uint8_t virtio_cfg_r8(struct virtio_pci *vp, unsigned int off);
uint32_t virtio_cfg_r32(struct virtio_pci *vp, unsigned int off);
/* A 64-bit field read as two halves under config_generation (4.1.3.1). */
uint64_t virtio_cfg_r64(struct virtio_pci *vp, unsigned int off);

/* Read and clear the ISR (4.1.4.5). */
uint8_t virtio_isr(struct virtio_pci *vp);

/*
 * MSI-X (optional): program table entry i to fixed delivery to APIC 0
 * with IDT vector `idt_base + i` for every entry, unmask them and enable
 * MSI-X.  The caller sets up the IDT and the LAPIC.  0 or VIRTIO_ERR_*.
 */
int virtio_msix_enable(struct virtio_pci *vp, unsigned int idt_base);
/* config_msix_vector, as read back. */
uint16_t virtio_set_config_vector(struct virtio_pci *vp, uint16_t vector);

/*
 * Set up queue `index` with min(size, device max, pool max) entries, MSI-X
 * vector `msix` (VIRTIO_MSI_NO_VECTOR: none) and enable it.  Between
 * virtio_start() and virtio_driver_ok().  0 or VIRTIO_ERR_*.
 */
int virtio_setup_queue(struct virtio_pci *vp, struct vq *vq,
		       unsigned int index, unsigned int size, uint16_t msix);

/*
 * Post a chain: out[0..nr_out) device-readable, then in[0..nr_in)
 * device-writable.  Returns the head or -1 if the ring is full.
 */
int vq_add(struct vq *vq, const struct vq_buf *out, unsigned int nr_out,
	   const struct vq_buf *in, unsigned int nr_in);
/* Tell the device (unless it asked not to be, VIRTQ_USED_F_NO_NOTIFY). */
void vq_kick(struct virtio_pci *vp, struct vq *vq);
/* A used chain if one is there: its head (len = bytes written), else -1. */
int vq_get_used(struct vq *vq, uint32_t *len);
/*
 * Spin (no exits) until a chain is used, up to `timeout_cycles` TSC
 * cycles; returns its head, or -1 on timeout.
 */
int vq_wait(struct vq *vq, uint32_t *len, uint64_t timeout_cycles);
/* Suppress used-buffer notifications (VIRTQ_AVAIL_F_NO_INTERRUPT). */
void vq_set_no_interrupt(struct vq *vq, bool on);

#endif
