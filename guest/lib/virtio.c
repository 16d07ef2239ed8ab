// SPDX-License-Identifier: GPL-2.0
/*
 * Minimal modern virtio-pci driver for the test guests; see virtio.h.
 * Little-endian x86: ring fields are stored as they are.
 */
#include "guest.h"
#include "idt.h"
#include "pci.h"
#include "virtio.h"

#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11
#define PCI_CAP_NEXT		1
#define PCI_BASE_ADDRESS_MEM_TYPE_64	0x4
#define PCI_BASE_ADDRESS_SPACE_IO	0x1

/* struct virtio_pci_cap (4.1.4). */
#define CAP_CFG_TYPE		3
#define CAP_BAR			4
#define CAP_OFFSET		8
#define CAP_LENGTH		12
#define CAP_NOTIFY_MULT		16

#define PCI_MSIX_FLAGS		2
#define PCI_MSIX_FLAGS_QSIZE	0x07ff
#define PCI_MSIX_FLAGS_MASKALL	0x4000
#define PCI_MSIX_FLAGS_ENABLE	0x8000
#define PCI_MSIX_TABLE		4
#define PCI_MSIX_BIR		0x7
#define MSIX_ENTRY_SIZE		16
#define MSI_ADDR_APIC0		0xfee00000u

#define RESET_POLLS		1000
#define RING_AREA		4096

/* Rings: one page per queue, identity-mapped .bss. */
static uint8_t ring_pool[VIRTIO_GUEST_MAX_QUEUES][RING_AREA]
	__attribute__((aligned(4096)));
static unsigned int ring_used;

static inline void barrier(void)
{
	asm volatile("" ::: "memory");
}

static inline void mb(void)
{
	asm volatile("mfence" ::: "memory");
}

/* BAR b's address (0 if it is an I/O BAR or unassigned). */
static uint64_t bar_addr(struct virtio_pci *vp, unsigned int b)
{
	uint32_t lo, hi = 0;
	unsigned int off = PCI_BASE_ADDRESS_0 + 4 * b;

	lo = pci_cfg_read32(0, vp->dev, vp->fn, off);
	if (lo & PCI_BASE_ADDRESS_SPACE_IO)
		return 0;
	if ((lo & 0x6) == PCI_BASE_ADDRESS_MEM_TYPE_64 && b < 5)
		hi = pci_cfg_read32(0, vp->dev, vp->fn, off + 4);
	return (uint64_t)hi << 32 | (lo & ~0xfULL);
}

/* Map [off, off + len) of BAR b; returns the address or 0. */
static uint64_t map_in_bar(struct virtio_pci *vp, unsigned int b,
			   uint32_t off, uint32_t len)
{
	if (b > 5)
		return 0;
	if (!vp->bar[b])
		vp->bar[b] = bar_addr(vp, b);
	if (!vp->bar[b] || !len)
		return 0;
	if (!pci_map_mmio(vp->bar[b] + off, len))
		return 0;
	return vp->bar[b] + off;
}

int virtio_pci_find(uint16_t device_id, struct virtio_pci *vp)
{
	struct pci_func f[32];
	unsigned int n, i, pos, next, ttl = 48;
	uint16_t cmd;
	int found = -1;

	memset(vp, 0, sizeof(*vp));
	n = pci_scan_bus0(f, 32);
	for (i = 0; i < n && found < 0; i++)
		if (f[i].vendor == VIRTIO_PCI_VENDOR &&
		    f[i].device == VIRTIO_PCI_DEVICE_BASE + device_id)
			found = (int)i;
	if (found < 0)
		return VIRTIO_ERR_NOT_FOUND;
	vp->dev = f[found].dev;
	vp->fn = f[found].fn;
	vp->device_id = device_id;

	cmd = pci_cfg_read16(0, vp->dev, vp->fn, PCI_COMMAND);
	pci_cfg_write16(0, vp->dev, vp->fn, PCI_COMMAND,
			cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

	if (!(pci_cfg_read16(0, vp->dev, vp->fn, PCI_STATUS) &
	      PCI_STATUS_CAP_LIST))
		return VIRTIO_ERR_CAPS;
	pos = pci_cfg_read8(0, vp->dev, vp->fn, PCI_CAPABILITY_LIST) & 0xfc;
	for (; pos >= 0x40 && ttl--; pos = next) {
		uint8_t id = pci_cfg_read8(0, vp->dev, vp->fn, pos);
		uint8_t type, bar;
		uint32_t off, len;
		uint64_t addr;

		next = pci_cfg_read8(0, vp->dev, vp->fn,
				     pos + PCI_CAP_NEXT) & 0xfc;

		if (id == PCI_CAP_ID_MSIX && !vp->msix_cap) {
			vp->msix_cap = (uint8_t)pos;
			continue;
		}
		if (id != PCI_CAP_ID_VNDR)
			continue;
		type = pci_cfg_read8(0, vp->dev, vp->fn, pos + CAP_CFG_TYPE);
		bar = pci_cfg_read8(0, vp->dev, vp->fn, pos + CAP_BAR);
		off = pci_cfg_read32(0, vp->dev, vp->fn, pos + CAP_OFFSET);
		len = pci_cfg_read32(0, vp->dev, vp->fn, pos + CAP_LENGTH);
		/* 4.1.4.1: the first capability of each type is the one. */
		if (type < 1 || type > VIRTIO_PCI_CAP_DEVICE_CFG ||
		    (vp->cap_seen & (1u << type))) {
			if (type == VIRTIO_PCI_CAP_PCI_CFG)
				vp->cap_seen |= 1u << type;
			continue;
		}
		addr = map_in_bar(vp, bar, off, len);
		if (!addr)
			return VIRTIO_ERR_MAP;
		vp->cap_seen |= 1u << type;
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			vp->common = addr;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			vp->notify = addr;
			vp->notify_mult = pci_cfg_read32(0, vp->dev, vp->fn,
							 pos + CAP_NOTIFY_MULT);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			vp->isr = addr;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			vp->device = addr;
			vp->device_len = len;
			break;
		}
	}
	if (!vp->common || !vp->notify || !vp->isr)
		return VIRTIO_ERR_CAPS;
	return 0;
}

uint8_t virtio_status(struct virtio_pci *vp)
{
	return virtio_r8(vp->common + VIRTIO_COMMON_STATUS);
}

static void status_set(struct virtio_pci *vp, uint8_t bits)
{
	virtio_w8(vp->common + VIRTIO_COMMON_STATUS,
		  virtio_status(vp) | bits);
}

int virtio_reset(struct virtio_pci *vp)
{
	unsigned int i;

	virtio_w8(vp->common + VIRTIO_COMMON_STATUS, 0);
	for (i = 0; i < RESET_POLLS; i++)
		if (virtio_status(vp) == 0)
			return 0;
	return VIRTIO_ERR_RESET;
}

int virtio_start(struct virtio_pci *vp, uint64_t want)
{
	uint64_t accept;
	int err;

	err = virtio_reset(vp);
	if (err)
		return err;
	status_set(vp, VIRTIO_STATUS_ACKNOWLEDGE);
	status_set(vp, VIRTIO_STATUS_DRIVER);

	virtio_w32(vp->common + VIRTIO_COMMON_DFSELECT, 0);
	vp->features = virtio_r32(vp->common + VIRTIO_COMMON_DF);
	virtio_w32(vp->common + VIRTIO_COMMON_DFSELECT, 1);
	vp->features |= (uint64_t)virtio_r32(vp->common + VIRTIO_COMMON_DF)
			<< 32;
	accept = (want & vp->features) | (1ULL << VIRTIO_F_VERSION_1);
	virtio_w32(vp->common + VIRTIO_COMMON_GFSELECT, 0);
	virtio_w32(vp->common + VIRTIO_COMMON_GF, (uint32_t)accept);
	virtio_w32(vp->common + VIRTIO_COMMON_GFSELECT, 1);
	virtio_w32(vp->common + VIRTIO_COMMON_GF, (uint32_t)(accept >> 32));

	status_set(vp, VIRTIO_STATUS_FEATURES_OK);
	if (!(virtio_status(vp) & VIRTIO_STATUS_FEATURES_OK)) {
		status_set(vp, VIRTIO_STATUS_FAILED);
		return VIRTIO_ERR_FEATURES;
	}
	vp->negotiated = accept;
	vp->num_queues = virtio_r16(vp->common + VIRTIO_COMMON_NUMQ);
	return 0;
}

void virtio_driver_ok(struct virtio_pci *vp)
{
	mb();
	status_set(vp, VIRTIO_STATUS_DRIVER_OK);
}

uint8_t virtio_cfg_r8(struct virtio_pci *vp, unsigned int off)
{
	return virtio_r8(vp->device + off);
}

uint32_t virtio_cfg_r32(struct virtio_pci *vp, unsigned int off)
{
	return virtio_r32(vp->device + off);
}

uint64_t virtio_cfg_r64(struct virtio_pci *vp, unsigned int off)
{
	uint8_t gen;
	uint32_t lo, hi;

	do {
		gen = virtio_r8(vp->common + VIRTIO_COMMON_CFGGENERATION);
		lo = virtio_r32(vp->device + off);
		hi = virtio_r32(vp->device + off + 4);
	} while (gen != virtio_r8(vp->common + VIRTIO_COMMON_CFGGENERATION));
	return (uint64_t)hi << 32 | lo;
}

uint8_t virtio_isr(struct virtio_pci *vp)
{
	return virtio_r8(vp->isr);
}

int virtio_msix_enable(struct virtio_pci *vp, unsigned int idt_base)
{
	unsigned int cap = vp->msix_cap, i;
	uint32_t tbl;
	uint16_t ctrl;

	if (!cap)
		return VIRTIO_ERR_CAPS;
	ctrl = pci_cfg_read16(0, vp->dev, vp->fn, cap + PCI_MSIX_FLAGS);
	vp->msix_nvec = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;
	tbl = pci_cfg_read32(0, vp->dev, vp->fn, cap + PCI_MSIX_TABLE);
	vp->msix_table = map_in_bar(vp, tbl & PCI_MSIX_BIR,
				    tbl & ~PCI_MSIX_BIR,
				    vp->msix_nvec * MSIX_ENTRY_SIZE);
	if (!vp->msix_table)
		return VIRTIO_ERR_MAP;
	pci_cfg_write16(0, vp->dev, vp->fn, cap + PCI_MSIX_FLAGS,
			PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	for (i = 0; i < vp->msix_nvec; i++) {
		uint64_t e = vp->msix_table + i * MSIX_ENTRY_SIZE;

		virtio_w32(e + 0, MSI_ADDR_APIC0);
		virtio_w32(e + 4, 0);
		virtio_w32(e + 8, idt_base + i);
		virtio_w32(e + 12, 0);
	}
	pci_cfg_write16(0, vp->dev, vp->fn, cap + PCI_MSIX_FLAGS,
			PCI_MSIX_FLAGS_ENABLE);
	return 0;
}

uint16_t virtio_set_config_vector(struct virtio_pci *vp, uint16_t vector)
{
	virtio_w16(vp->common + VIRTIO_COMMON_MSIX, vector);
	return virtio_r16(vp->common + VIRTIO_COMMON_MSIX);
}

int virtio_setup_queue(struct virtio_pci *vp, struct vq *vq,
		       unsigned int index, unsigned int size, uint16_t msix)
{
	uint64_t c = vp->common, desc, avail, used;
	unsigned int i;
	uint8_t *area;

	memset(vq, 0, sizeof(*vq));
	if (index >= vp->num_queues)
		return VIRTIO_ERR_QUEUE;
	virtio_w16(c + VIRTIO_COMMON_Q_SELECT, (uint16_t)index);
	vq->max_size = virtio_r16(c + VIRTIO_COMMON_Q_SIZE);
	if (!vq->max_size)
		return VIRTIO_ERR_QUEUE;
	if (size > vq->max_size)
		size = vq->max_size;
	if (size > VIRTIO_GUEST_MAX_QSIZE)
		size = VIRTIO_GUEST_MAX_QSIZE;
	while (size & (size - 1))
		size &= size - 1;	/* down to a power of two */
	if (!size)
		return VIRTIO_ERR_QUEUE;
	if (ring_used == VIRTIO_GUEST_MAX_QUEUES)
		return VIRTIO_ERR_POOL;
	area = ring_pool[ring_used++];
	memset(area, 0, RING_AREA);

	/* 2.7: desc 16-aligned, avail 2-aligned, used 4-aligned. */
	desc = (uint64_t)(uintptr_t)area;
	avail = desc + 16 * size;
	used = (avail + 6 + 2 * size + 63) & ~63ULL;
	vq->index = (uint16_t)index;
	vq->size = (uint16_t)size;
	vq->desc = (volatile struct virtq_desc *)(uintptr_t)desc;
	vq->avail = (volatile struct virtq_avail *)(uintptr_t)avail;
	vq->used = (volatile struct virtq_used *)(uintptr_t)used;
	for (i = 0; i < size; i++)
		vq->desc[i].next = (uint16_t)(i + 1);
	vq->free_head = 0;
	vq->num_free = (uint16_t)size;

	virtio_w16(c + VIRTIO_COMMON_Q_SIZE, (uint16_t)size);
	virtio_w16(c + VIRTIO_COMMON_Q_MSIX, msix);
	vq->msix_vector = virtio_r16(c + VIRTIO_COMMON_Q_MSIX);
	virtio_w32(c + VIRTIO_COMMON_Q_DESCLO, (uint32_t)desc);
	virtio_w32(c + VIRTIO_COMMON_Q_DESCHI, (uint32_t)(desc >> 32));
	virtio_w32(c + VIRTIO_COMMON_Q_AVAILLO, (uint32_t)avail);
	virtio_w32(c + VIRTIO_COMMON_Q_AVAILHI, (uint32_t)(avail >> 32));
	virtio_w32(c + VIRTIO_COMMON_Q_USEDLO, (uint32_t)used);
	virtio_w32(c + VIRTIO_COMMON_Q_USEDHI, (uint32_t)(used >> 32));
	vq->notify_addr = vp->notify + (uint64_t)vp->notify_mult *
			  virtio_r16(c + VIRTIO_COMMON_Q_NOFF);
	virtio_w16(c + VIRTIO_COMMON_Q_ENABLE, 1);
	if (virtio_r16(c + VIRTIO_COMMON_Q_ENABLE) != 1)
		return VIRTIO_ERR_ENABLE;
	return 0;
}

int vq_add(struct vq *vq, const struct vq_buf *out, unsigned int nr_out,
	   const struct vq_buf *in, unsigned int nr_in)
{
	unsigned int n = nr_out + nr_in, i;
	uint16_t head = vq->free_head, d = head, last = head;

	if (!n || n > vq->num_free)
		return -1;
	for (i = 0; i < n; i++) {
		const struct vq_buf *b = i < nr_out ? &out[i] : &in[i - nr_out];
		volatile struct virtq_desc *e = &vq->desc[d];

		e->addr = (uint64_t)(uintptr_t)b->addr;
		e->len = b->len;
		e->flags = (i >= nr_out ? VIRTQ_DESC_F_WRITE : 0) |
			   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		last = d;
		d = e->next;	/* the free list runs through .next */
	}
	vq->free_head = vq->desc[last].next;
	vq->num_free = (uint16_t)(vq->num_free - n);
	vq->chain_len[head] = (uint16_t)n;

	vq->avail->ring[vq->avail_idx % vq->size] = head;
	barrier();		/* x86: stores are not reordered (wmb) */
	vq->avail->idx = ++vq->avail_idx;
	return head;
}

void vq_kick(struct virtio_pci *vp, struct vq *vq)
{
	mb();			/* avail->idx before reading used->flags */
	if (!(vq->used->flags & 1))	/* VIRTQ_USED_F_NO_NOTIFY */
		virtio_w16(vq->notify_addr, vq->index);
}

int vq_get_used(struct vq *vq, uint32_t *len)
{
	volatile struct virtq_used_elem *e;
	unsigned int i, n;
	uint16_t head, d;

	if (vq->used->idx == vq->last_used)
		return -1;
	barrier();		/* rmb: the entry after the index */
	e = &vq->used->ring[vq->last_used % vq->size];
	head = (uint16_t)e->id;
	if (len)
		*len = e->len;
	vq->last_used++;
	if (head >= vq->size)
		return -1;
	/* Give the chain back to the free list. */
	n = vq->chain_len[head];
	for (d = head, i = 1; i < n; i++)
		d = vq->desc[d].next;
	vq->desc[d].next = vq->free_head;
	vq->free_head = head;
	vq->num_free = (uint16_t)(vq->num_free + n);
	vq->chain_len[head] = 0;
	return head;
}

int vq_wait(struct vq *vq, uint32_t *len, uint64_t timeout_cycles)
{
	uint64_t start = rdtsc();
	int head;

	while ((head = vq_get_used(vq, len)) < 0) {
		if (rdtsc() - start > timeout_cycles)
			return -1;
		cpu_relax();
	}
	return head;
}

void vq_set_no_interrupt(struct vq *vq, bool on)
{
	vq->avail->flags = on ? 1 : 0;	/* VIRTQ_AVAIL_F_NO_INTERRUPT */
}
