// SPDX-License-Identifier: GPL-2.0
/*
 * BARs of a passed-through function.  The parts VFIO lets us mmap (the
 * whole region, or its sparse-mmap areas) become KVM memory slots, so
 * ordinary BAR accesses never exit.  The pages holding the MSI-X table
 * and PBA are never mapped, even when the kernel reports MSIX_MAPPABLE:
 * the guest's view of them is emulated (pci/msix.c), and vfio_msix.c
 * takes their accesses.  Everything else in the BAR traps to mvm and is
 * forwarded with pread/pwrite.
 */
#include <sys/mman.h>

#include "core/util.h"
#include "vfio/vfio_pci.h"

#define HOST_PAGE	4096ULL

struct range {
	uint64_t start, end;
};

/* Remove [x.start, x.end) from every area; areas stay sorted. */
static void subtract(struct vfio_region *r, struct range x)
{
	struct vfio_mmap_area out[VFIO_MAX_SPARSE];
	unsigned int i, n = 0;

	for (i = 0; i < r->nr_areas; i++) {
		struct vfio_mmap_area a = r->areas[i];
		uint64_t end = a.offset + a.size;

		if (x.end <= a.offset || x.start >= end) {
			if (n < VFIO_MAX_SPARSE)
				out[n++] = a;
			continue;
		}
		if (x.start > a.offset && n < VFIO_MAX_SPARSE)
			out[n++] = (struct vfio_mmap_area){
				.offset = a.offset,
				.size = x.start - a.offset, .slot = -1 };
		if (x.end < end && n < VFIO_MAX_SPARSE)
			out[n++] = (struct vfio_mmap_area){
				.offset = x.end, .size = end - x.end,
				.slot = -1 };
	}
	memcpy(r->areas, out, n * sizeof(out[0]));
	r->nr_areas = n;
}

static struct range page_range(uint64_t off, uint64_t len)
{
	return (struct range){ ALIGN_DOWN(off, HOST_PAGE),
			       ALIGN_UP(off + len, HOST_PAGE) };
}

static void bar_read(void *opaque, uint64_t off, uint8_t *data,
		     unsigned int len)
{
	struct vfio_bar_ctx *bc = opaque;
	struct vfio_pci *vd = bc->vd;

	if (vfio_msix_mmio(vd, bc->bar, off, data, len, false))
		return;
	if (vfio_region_read(vd, bc->bar, off, data, len) != (ssize_t)len) {
		pr_warn_ratelimited("%s: BAR%u read at %#llx failed",
				    vd->name, bc->bar,
				    (unsigned long long)off);
		memset(data, 0xff, len);
	}
}

static void bar_write(void *opaque, uint64_t off, const uint8_t *data,
		      unsigned int len)
{
	struct vfio_bar_ctx *bc = opaque;
	struct vfio_pci *vd = bc->vd;

	if (vfio_msix_mmio(vd, bc->bar, off, (uint8_t *)data, len, true))
		return;
	if (vfio_region_write(vd, bc->bar, off, data, len) != (ssize_t)len)
		pr_warn_ratelimited("%s: BAR%u write at %#llx failed",
				    vd->name, bc->bar,
				    (unsigned long long)off);
}

static const struct io_ops bar_ops = { .read = bar_read, .write = bar_write };

int vfio_bars_init(struct vfio_pci *vd)
{
	unsigned int i, j;

	for (i = 0; i < PCI_NR_BARS; i++) {
		struct vfio_region *r = &vd->regions[i];

		vd->barctx[i] = (struct vfio_bar_ctx){ .vd = vd, .bar = i };
		if (vd->pci.bars[i].type == PCI_BAR_NONE ||
		    vd->pci.bars[i].type == PCI_BAR_IO ||
		    !(r->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
			r->nr_areas = 0;
			continue;
		}
		if (vd->has_msix && vd->msix.table_bar == i)
			subtract(r, page_range(vd->msix.table_off,
					       msix_table_size(&vd->msix)));
		if (vd->has_msix && vd->msix.pba_bar == i)
			subtract(r, page_range(vd->msix.pba_off,
					       msix_pba_size(&vd->msix)));
		for (j = 0; j < r->nr_areas; j++) {
			struct vfio_mmap_area *a = &r->areas[j];

			a->slot = -1;
			if (!IS_ALIGNED(a->offset, HOST_PAGE) ||
			    !IS_ALIGNED(a->size, HOST_PAGE) || !a->size) {
				a->hva = NULL;	/* traps instead */
				continue;
			}
			a->hva = vd->host->ops->mmap(vd->host, a->size,
						     PROT_READ | PROT_WRITE,
						     vd->dev_fd,
						     (off_t)(r->offset +
							     a->offset));
			if (!a->hva)
				pr_warn("%s: BAR%u: mmap of %#llx+%#llx failed (%s): those accesses will trap",
					vd->name, i,
					(unsigned long long)a->offset,
					(unsigned long long)a->size,
					strerror(errno));
		}
	}
	return 0;
}

void vfio_bars_destroy(struct vfio_pci *vd)
{
	unsigned int i, j;

	for (i = 0; i < PCI_NR_BARS; i++) {
		struct vfio_region *r = &vd->regions[i];

		for (j = 0; j < r->nr_areas; j++) {
			struct vfio_mmap_area *a = &r->areas[j];

			if (a->slot >= 0 && vd->ctx->slots)
				vd->ctx->slots->unmap(vd->ctx->slots_opaque,
						      a->slot);
			a->slot = -1;
			if (a->hva)
				vd->host->ops->munmap(vd->host, a->hva,
						      a->size);
			a->hva = NULL;
		}
	}
}

int vfio_bars_map(struct pci_device *dev, unsigned int bar, uint64_t addr,
		  bool map)
{
	struct vfio_pci *vd = container_of(dev, struct vfio_pci, pci);
	struct pci_bar *b = &vd->pci.bars[bar];
	struct vfio_region *r = &vd->regions[bar];
	struct iobus *bus = b->type == PCI_BAR_IO ? vd->ctx->pio :
						    vd->ctx->mmio;
	struct device_ctx *ctx = vd->ctx;
	unsigned int j;
	int err;

	if (!map) {
		for (j = 0; j < r->nr_areas; j++) {
			if (r->areas[j].slot >= 0)
				ctx->slots->unmap(ctx->slots_opaque,
						  r->areas[j].slot);
			r->areas[j].slot = -1;
		}
		return iobus_unregister(bus, addr, &vd->barctx[bar]);
	}
	err = iobus_register(bus, addr, b->size, &bar_ops, &vd->barctx[bar],
			     vd->name);
	if (err)
		return err;
	for (j = 0; j < r->nr_areas && ctx->slots; j++) {
		struct vfio_mmap_area *a = &r->areas[j];
		int slot;

		if (!a->hva)
			continue;
		slot = ctx->slots->map(ctx->slots_opaque, addr + a->offset,
				       a->size, a->hva);
		if (slot < 0) {
			pr_warn_ratelimited("%s: BAR%u: no memory slot for %#llx+%#llx: accesses will trap",
					    vd->name, bar,
					    (unsigned long long)a->offset,
					    (unsigned long long)a->size);
			continue;
		}
		a->slot = slot;
	}
	return 0;
}

/* Expansion ROM: reads come from VFIO's ROM region; writes are ignored. */
static void rom_read(void *opaque, uint64_t off, uint8_t *data,
		     unsigned int len)
{
	struct vfio_pci *vd = opaque;

	if (vfio_region_read(vd, VFIO_PCI_ROM_REGION_INDEX, off, data, len) !=
	    (ssize_t)len)
		memset(data, 0xff, len);
}

static const struct io_ops rom_ops = { .read = rom_read };

void vfio_rom_update(struct vfio_pci *vd)
{
	uint64_t size = vd->regions[VFIO_PCI_ROM_REGION_INDEX].size;
	uint32_t rom = pci_cfg_get32(&vd->pci, PCI_ROM_ADDRESS);
	uint64_t addr = rom & PCI_ROM_ADDRESS_MASK;
	bool want = size >= 2048 && (rom & PCI_ROM_ADDRESS_ENABLE) && addr &&
		    (pci_cfg_get16(&vd->pci, PCI_COMMAND) & PCI_COMMAND_MEMORY);

	if (vd->rom_mapped && (!want || addr != vd->rom_addr)) {
		iobus_unregister(vd->ctx->mmio, vd->rom_addr, vd);
		vd->rom_mapped = false;
	}
	if (want && !vd->rom_mapped) {
		if (iobus_register(vd->ctx->mmio, addr, size, &rom_ops, vd,
				   vd->name) == 0) {
			vd->rom_mapped = true;
			vd->rom_addr = addr;
		} else {
			pr_warn_ratelimited("%s: ROM at %#llx overlaps another device: not decoded",
					    vd->name, (unsigned long long)addr);
		}
	}
}
