// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <unistd.h>

#include "lib/pt_harness.h"
#include "core/util.h"

int pt_dev_attach(struct pt_dev *d, struct test_machine *m, const char *spec)
{
	memset(d, 0, sizeof(*d));
	d->m = m;
	d->host = vfio_sim_create(spec, d->bdf, sizeof(d->bdf));
	if (!d->host)
		return -EINVAL;
	d->attached = vfio_pci_attach(&d->vd, m->ctx, d->host, d->bdf);
	return d->attached;
}

void pt_dev_detach(struct pt_dev *d)
{
	if (!d->attached)
		vfio_pci_detach(&d->vd);
	if (d->host)
		d->host->ops->destroy(d->host);
	d->host = NULL;
}

uint32_t pt_cfg_read(struct pt_dev *d, unsigned int off, unsigned int len)
{
	uint8_t b[8];

	pci_config_read(d->m->pci, d->vd.pci.devfn, off, b, len);
	return (uint32_t)get_leN(b, len);
}

void pt_cfg_write(struct pt_dev *d, unsigned int off, unsigned int len,
		  uint32_t val)
{
	uint8_t b[8];

	put_leN(b, len, val);
	pci_config_write(d->m->pci, d->vd.pci.devfn, off, b, len);
}

uint64_t pt_bar(struct pt_dev *d, unsigned int bar)
{
	return pci_bar_address(&d->vd.pci, bar);
}

uint32_t pt_mmio_read(struct pt_dev *d, unsigned int bar, uint64_t off,
		      unsigned int len)
{
	uint8_t b[8];

	iobus_access(d->m->mmio, pt_bar(d, bar) + off, b, len, false);
	return (uint32_t)get_leN(b, len);
}

void pt_mmio_write(struct pt_dev *d, unsigned int bar, uint64_t off,
		   unsigned int len, uint64_t val)
{
	uint8_t b[8];

	put_leN(b, len, val);
	iobus_access(d->m->mmio, pt_bar(d, bar) + off, b, len, true);
}

unsigned int pt_msix_cap(struct pt_dev *d)
{
	unsigned int pos = pt_cfg_read(d, PCI_CAPABILITY_LIST, 1);

	while (pos && pt_cfg_read(d, pos, 1) != PCI_CAP_ID_MSIX)
		pos = pt_cfg_read(d, pos + 1, 1);
	return pos;
}

void pt_msix_ctrl(struct pt_dev *d, uint16_t flags)
{
	pt_cfg_write(d, pt_msix_cap(d) + PCI_MSIX_FLAGS, 2, flags);
}

static uint64_t table_off(struct pt_dev *d, unsigned int v)
{
	return d->vd.msix.table_off + 16ULL * v;
}

void pt_msix_program(struct pt_dev *d, unsigned int v, uint32_t data)
{
	pt_mmio_write(d, d->vd.msix.table_bar, table_off(d, v), 4,
		      0xfee00000u);
	pt_mmio_write(d, d->vd.msix.table_bar, table_off(d, v) + 4, 4, 0);
	pt_mmio_write(d, d->vd.msix.table_bar, table_off(d, v) + 8, 4, data);
}

void pt_msix_mask(struct pt_dev *d, unsigned int v, bool mask)
{
	pt_mmio_write(d, d->vd.msix.table_bar, table_off(d, v) + 12, 4, mask);
}

uint64_t pt_msix_pba(struct pt_dev *d, unsigned int word)
{
	uint64_t off = d->vd.msix.pba_off + 8ULL * word;

	return pt_mmio_read(d, d->vd.msix.pba_bar, off, 4) |
	       (uint64_t)pt_mmio_read(d, d->vd.msix.pba_bar, off + 4, 4) << 32;
}

void pt_settle(struct pt_dev *d)
{
	if (d->vd.has_msix)
		msix_vectors_poll_now(&d->vd.vectors);
	fake_kvm_poll(d->m->kvm);
}
