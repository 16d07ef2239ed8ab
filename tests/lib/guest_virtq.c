// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/guest_virtq.h"
#include "pci/msix.h"
#include "core/util.h"

/* ---- the driver's virtqueue ---- */

void *gvq_ptr(struct gvq *g, uint64_t gpa, uint64_t len)
{
	void *p = gpa_to_hva(g->mem, gpa, len);

	if (!p) {
		fprintf(stderr, "gvq: %#llx+%llu is not guest RAM\n",
			(unsigned long long)gpa, (unsigned long long)len);
		abort();
	}
	return p;
}

static void w16(struct gvq *g, uint64_t gpa, uint16_t v)
{
	uint16_t *p = gvq_ptr(g, gpa, 2);

	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static uint16_t r16(struct gvq *g, uint64_t gpa)
{
	uint16_t *p = gvq_ptr(g, gpa, 2);

	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

int gvq_init(struct gvq *g, struct guest_mem *mem, uint64_t base,
	     uint64_t len, uint16_t size, bool event_idx)
{
	uint64_t end;
	unsigned int i;

	memset(g, 0, sizeof(*g));
	g->mem = mem;
	g->size = size;
	g->event_idx = event_idx;
	g->desc = ALIGN_UP(base, 16);
	g->avail = g->desc + virtq_desc_bytes(size);
	g->used = ALIGN_UP(g->avail + virtq_avail_bytes(size), 4096);
	end = ALIGN_UP(g->used + virtq_used_bytes(size), 4096);
	if (end > base + len)
		return -ENOSPC;
	memset(gvq_ptr(g, g->desc, end - g->desc), 0, end - g->desc);
	g->data_next = end;
	g->data_end = base + len;
	for (i = 0; i < size; i++)
		g->free[i] = (uint16_t)(size - 1 - i);
	g->nr_free = size;
	return 0;
}

uint64_t gvq_alloc(struct gvq *g, uint32_t len)
{
	uint64_t gpa = g->data_next;

	if (gpa + len > g->data_end) {
		fprintf(stderr, "gvq: out of buffer space\n");
		abort();
	}
	g->data_next = ALIGN_UP(gpa + len, 16);
	return gpa;
}

void gvq_write_desc(struct gvq *g, uint16_t i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	uint8_t *d = gvq_ptr(g, g->desc + (uint64_t)i * VIRTQ_DESC_SIZE,
			     VIRTQ_DESC_SIZE);

	put_le64(d, addr);
	put_le32(d + 8, len);
	put_le16(d + 12, flags);
	put_le16(d + 14, next);
}

void gvq_put_head(struct gvq *g, uint16_t head)
{
	w16(g, g->avail + 4 + 2ULL * (g->avail_idx % g->size), head);
	g->avail_idx++;
}

void gvq_set_avail_idx(struct gvq *g, uint16_t idx)
{
	g->avail_idx = idx;
	w16(g, g->avail + 2, idx);
	g->published = idx;
}

void gvq_set_avail_flags(struct gvq *g, uint16_t flags)
{
	w16(g, g->avail, flags);
}

void gvq_set_used_event(struct gvq *g, uint16_t idx)
{
	w16(g, g->avail + 4 + 2ULL * g->size, idx);
}

static uint16_t desc_flags(const struct gvq_buf *b, bool more)
{
	return (uint16_t)((b->write ? VIRTQ_DESC_F_WRITE : 0) |
			  (more ? VIRTQ_DESC_F_NEXT : 0));
}

int gvq_add(struct gvq *g, const struct gvq_buf *bufs, unsigned int n)
{
	uint16_t idx[VIRTQ_MAX_SIZE];
	unsigned int i;

	if (!n || n > g->nr_free)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		idx[i] = g->free[--g->nr_free];
	for (i = 0; i < n; i++)
		gvq_write_desc(g, idx[i], bufs[i].gpa, bufs[i].len,
			       desc_flags(&bufs[i], i + 1 < n),
			       i + 1 < n ? idx[i + 1] : 0);
	gvq_put_head(g, idx[0]);
	return idx[0];
}

int gvq_add_indirect(struct gvq *g, const struct gvq_buf *bufs,
		     unsigned int n)
{
	uint64_t table = gvq_alloc(g, n * VIRTQ_DESC_SIZE);
	uint8_t *t = gvq_ptr(g, table, n * VIRTQ_DESC_SIZE);
	unsigned int i;
	uint16_t head;

	if (!g->nr_free)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		uint8_t *d = t + i * VIRTQ_DESC_SIZE;

		put_le64(d, bufs[i].gpa);
		put_le32(d + 8, bufs[i].len);
		put_le16(d + 12, desc_flags(&bufs[i], i + 1 < n));
		put_le16(d + 14, (uint16_t)(i + 1));
	}
	head = g->free[--g->nr_free];
	gvq_write_desc(g, head, table, n * VIRTQ_DESC_SIZE,
		       VIRTQ_DESC_F_INDIRECT, 0);
	gvq_put_head(g, head);
	return head;
}

uint16_t gvq_avail_event(struct gvq *g)
{
	return r16(g, g->used + 4 + (uint64_t)VIRTQ_USED_ELEM_SIZE * g->size);
}

uint16_t gvq_used_flags(struct gvq *g)
{
	return r16(g, g->used);
}

uint16_t gvq_used_idx(struct gvq *g)
{
	return r16(g, g->used + 2);
}

bool gvq_publish(struct gvq *g)
{
	uint16_t old = g->published, new_idx = g->avail_idx;

	w16(g, g->avail + 2, new_idx);
	g->published = new_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (g->event_idx)
		return virtq_need_event(gvq_avail_event(g), new_idx, old);
	return !(gvq_used_flags(g) & VIRTQ_USED_F_NO_NOTIFY);
}

static void free_chain(struct gvq *g, uint16_t head)
{
	uint16_t i = head;
	unsigned int n = 0;
	uint8_t *d;

	for (;;) {
		d = gvq_ptr(g, g->desc + (uint64_t)i * VIRTQ_DESC_SIZE,
			    VIRTQ_DESC_SIZE);
		g->free[g->nr_free++] = i;
		if (!(get_le16(d + 12) & VIRTQ_DESC_F_NEXT) || ++n >= g->size)
			break;
		i = get_le16(d + 14) % g->size;
	}
}

bool gvq_get_used(struct gvq *g, uint32_t *id, uint32_t *len)
{
	uint8_t *e;

	if (gvq_used_idx(g) == g->last_used)
		return false;
	e = gvq_ptr(g, g->used + 4 + (uint64_t)VIRTQ_USED_ELEM_SIZE *
		    (g->last_used % g->size), VIRTQ_USED_ELEM_SIZE);
	*id = get_le32(e);
	*len = get_le32(e + 4);
	g->last_used++;
	if (g->event_idx)
		gvq_set_used_event(g, g->last_used);
	if (*id < g->size && g->nr_free < g->size)
		free_chain(g, (uint16_t)*id);
	return true;
}

/* ---- the machine ---- */

uint64_t vtest_mmio_read(struct test_machine *m, uint64_t addr,
			 unsigned int len)
{
	uint8_t b[8] = { 0 };

	iobus_access(m->mmio, addr, b, len, false);
	return get_leN(b, len);
}

void vtest_mmio_write(struct test_machine *m, uint64_t addr,
		      unsigned int len, uint64_t val)
{
	uint64_t one = 1;
	uint8_t b[8];
	unsigned int i;

	/* KVM: a matching ioeventfd takes the write without an exit. */
	for (i = 0; i < m->nr_ioev; i++) {
		if (m->ioev[i].addr == addr && m->ioev[i].len == len) {
			if (write(m->ioev[i].fd, &one, sizeof(one)) < 0)
				abort();
			return;
		}
	}
	put_leN(b, len, val);
	iobus_access(m->mmio, addr, b, len, true);
}

/* ---- the driver ---- */

uint32_t vtest_cfg_read(struct vtest_dev *d, unsigned int off,
			unsigned int len)
{
	uint8_t b[4];

	pci_config_read(d->m->pci, d->devfn, off, b, len);
	return (uint32_t)get_leN(b, len);
}

void vtest_cfg_write(struct vtest_dev *d, unsigned int off, unsigned int len,
		     uint32_t val)
{
	uint8_t b[4];

	put_leN(b, len, val);
	pci_config_write(d->m->pci, d->devfn, off, b, len);
}

/* 4.1.4.1: walk the vendor capabilities, first of each type wins. */
static void parse_caps(struct vtest_dev *d)
{
	unsigned int pos = vtest_cfg_read(d, PCI_CAPABILITY_LIST, 1);
	unsigned int guard = 0;

	while (pos && guard++ < 48) {
		unsigned int id = vtest_cfg_read(d, pos, 1);
		unsigned int type = vtest_cfg_read(d, pos + 3, 1);
		unsigned int bar = vtest_cfg_read(d, pos + 4, 1);
		uint32_t off = vtest_cfg_read(d, pos + 8, 4);
		uint32_t len = vtest_cfg_read(d, pos + 12, 4);

		if (id == PCI_CAP_ID_MSIX && !d->cap_msix)
			d->cap_msix = pos;
		if (id == PCI_CAP_ID_VNDR) {
			if (type == VIRTIO_PCI_CAP_COMMON_CFG && !d->cap_common) {
				d->cap_common = pos;
				d->common_bar = bar;
				d->common_off = off;
			} else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG &&
				   !d->cap_notify) {
				d->cap_notify = pos;
				d->notify_bar = bar;
				d->notify_off = off;
				d->notify_mult = vtest_cfg_read(d, pos + 16, 4);
			} else if (type == VIRTIO_PCI_CAP_ISR_CFG && !d->cap_isr) {
				d->cap_isr = pos;
				d->isr_bar = bar;
				d->isr_off = off;
			} else if (type == VIRTIO_PCI_CAP_DEVICE_CFG &&
				   !d->cap_device) {
				d->cap_device = pos;
				d->device_bar = bar;
				d->device_off = off;
				d->device_len = len;
			} else if (type == VIRTIO_PCI_CAP_PCI_CFG &&
				   !d->cap_pcicfg) {
				d->cap_pcicfg = pos;
			}
		}
		pos = vtest_cfg_read(d, pos + 1, 1);
	}
}

static uint64_t bar_addr(struct vtest_dev *d, unsigned int n)
{
	uint64_t lo = vtest_cfg_read(d, PCI_BASE_ADDRESS_0 + 4 * n, 4);

	if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64)
		return (lo & ~0xfULL) |
		       (uint64_t)vtest_cfg_read(d, PCI_BASE_ADDRESS_0 + 4 * n + 4,
						4) << 32;
	return lo & ~0xfULL;
}

int vtest_find(struct vtest_dev *d, struct test_machine *m,
	       uint16_t device_id)
{
	unsigned int devfn, n;

	memset(d, 0, sizeof(*d));
	d->m = m;
	for (devfn = 0; devfn < PCI_MAX_DEVFN; devfn += 8) {
		d->devfn = devfn;
		if (vtest_cfg_read(d, PCI_VENDOR_ID, 2) == VIRTIO_PCI_VENDOR &&
		    vtest_cfg_read(d, PCI_DEVICE_ID, 2) ==
		    (uint32_t)(VIRTIO_PCI_DEVICE_BASE + device_id))
			break;
	}
	if (devfn >= PCI_MAX_DEVFN)
		return -ENODEV;
	parse_caps(d);
	for (n = 0; n < PCI_NR_BARS; n++)
		d->bar[n] = bar_addr(d, n);
	return d->cap_common && d->cap_notify && d->cap_isr ? 0 : -ENODEV;
}

uint64_t vtest_common_read(struct vtest_dev *d, unsigned int off,
			   unsigned int len)
{
	return vtest_mmio_read(d->m, d->bar[d->common_bar] + d->common_off +
			       off, len);
}

void vtest_common_write(struct vtest_dev *d, unsigned int off,
			unsigned int len, uint64_t val)
{
	vtest_mmio_write(d->m, d->bar[d->common_bar] + d->common_off + off,
			 len, val);
}

uint8_t vtest_status(struct vtest_dev *d)
{
	return (uint8_t)vtest_common_read(d, VIRTIO_PCI_COMMON_STATUS, 1);
}

uint8_t vtest_isr_read(struct vtest_dev *d)
{
	return (uint8_t)vtest_mmio_read(d->m, d->bar[d->isr_bar] + d->isr_off,
					1);
}

uint64_t vtest_devcfg_read(struct vtest_dev *d, unsigned int off,
			   unsigned int len)
{
	return vtest_mmio_read(d->m, d->bar[d->device_bar] + d->device_off +
			       off, len);
}

uint64_t vtest_device_features(struct vtest_dev *d)
{
	uint64_t f;

	vtest_common_write(d, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	f = vtest_common_read(d, VIRTIO_PCI_COMMON_DF, 4);
	vtest_common_write(d, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	return f | vtest_common_read(d, VIRTIO_PCI_COMMON_DF, 4) << 32;
}

bool vtest_negotiate(struct vtest_dev *d, uint64_t features)
{
	uint8_t s;

	vtest_common_write(d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	s = VIRTIO_STATUS_ACKNOWLEDGE;
	vtest_common_write(d, VIRTIO_PCI_COMMON_STATUS, 1, s);
	s |= VIRTIO_STATUS_DRIVER;
	vtest_common_write(d, VIRTIO_PCI_COMMON_STATUS, 1, s);
	vtest_common_write(d, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	vtest_common_write(d, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)features);
	vtest_common_write(d, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	vtest_common_write(d, VIRTIO_PCI_COMMON_GF, 4,
			   (uint32_t)(features >> 32));
	s |= VIRTIO_STATUS_FEATURES_OK;
	vtest_common_write(d, VIRTIO_PCI_COMMON_STATUS, 1, s);
	return vtest_status(d) & VIRTIO_STATUS_FEATURES_OK;
}

void vtest_setup_queue(struct vtest_dev *d, unsigned int q, struct gvq *g,
		       uint16_t msix_vector)
{
	vtest_common_write(d, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	vtest_common_write(d, VIRTIO_PCI_COMMON_Q_SIZE, 2, g->size);
	vtest_common_write(d, VIRTIO_PCI_COMMON_Q_MSIX, 2, msix_vector);
	vtest_common_write(d, VIRTIO_PCI_COMMON_Q_DESCLO, 4, (uint32_t)g->desc);
	vtest_common_write(d, VIRTIO_PCI_COMMON_Q_DESCHI, 4, g->desc >> 32);
	vtest_common_write(d, VIRTIO_PCI_COMMON_Q_AVAILLO, 4,
			   (uint32_t)g->avail);
	vtest_common_write(d, VIRTIO_PCI_COMMON_Q_AVAILHI, 4, g->avail >> 32);
	vtest_common_write(d, VIRTIO_PCI_COMMON_Q_USEDLO, 4, (uint32_t)g->used);
	vtest_common_write(d, VIRTIO_PCI_COMMON_Q_USEDHI, 4, g->used >> 32);
	vtest_common_write(d, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
}

void vtest_driver_ok(struct vtest_dev *d)
{
	vtest_common_write(d, VIRTIO_PCI_COMMON_STATUS, 1,
			   vtest_status(d) | VIRTIO_STATUS_DRIVER_OK);
}

void vtest_notify(struct vtest_dev *d, unsigned int q)
{
	uint16_t off;

	vtest_common_write(d, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	off = (uint16_t)vtest_common_read(d, VIRTIO_PCI_COMMON_Q_NOFF, 2);
	/* 4.1.4.4: cap.offset + queue_notify_off * multiplier; Linux
	 * writes the queue index as 16 bits. */
	vtest_mmio_write(d->m, d->bar[d->notify_bar] + d->notify_off +
			 (uint64_t)off * d->notify_mult, 2, q);
}

void vtest_msix_enable(struct vtest_dev *d, unsigned int n,
		       uint32_t data_base)
{
	uint32_t table = vtest_cfg_read(d, d->cap_msix + PCI_MSIX_TABLE, 4);
	uint64_t base = d->bar[table & PCI_MSIX_TABLE_BIR] +
			(table & PCI_MSIX_TABLE_OFFSET);
	unsigned int v;

	vtest_cfg_write(d, d->cap_msix + PCI_MSIX_FLAGS, 2,
			PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	for (v = 0; v < n; v++) {
		vtest_mmio_write(d->m, base + 16 * v, 4, VTEST_MSI_ADDR);
		vtest_mmio_write(d->m, base + 16 * v + 4, 4, 0);
		vtest_mmio_write(d->m, base + 16 * v + 8, 4, data_base + v);
		vtest_mmio_write(d->m, base + 16 * v + 12, 4, 0);
	}
	vtest_cfg_write(d, d->cap_msix + PCI_MSIX_FLAGS, 2,
			PCI_MSIX_FLAGS_ENABLE);
}

#define WAIT_STEPS	10000	/* x 1 ms */

bool vtest_wait_used(struct gvq *g)
{
	unsigned int i;

	for (i = 0; i < WAIT_STEPS; i++) {
		if (gvq_used_idx(g) != g->last_used)
			return true;
		usleep(1000);
	}
	return false;
}

bool vtest_wait_msi(struct vtest_dev *d, struct virtio_dev *vdev,
		    uint32_t data, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < WAIT_STEPS; i++) {
		msix_vectors_poll_now(&vdev->vectors);
		fake_kvm_poll(d->m->kvm);
		if (fake_kvm_count(d->m->kvm, data) >= count)
			return true;
		usleep(1000);
	}
	return false;
}
