// SPDX-License-Identifier: GPL-2.0
/*
 * Config space of a passed-through function.  The type-0 header, the
 * capability pointers, MSI and MSI-X are virtualized in the shadow
 * (dev->cfg); every other byte is read from and written to the device.
 * Capabilities mvm does not implement are unlinked from the list, so the
 * guest never sees them; extended capabilities are all hidden (the list
 * header at 0x100 reads as 0, PCIe Base Spec 7.6.3: "no extended
 * capabilities").  What a guest write sets off (ROM decoding, the host's
 * interrupt mode, FLR) is done by vfio_pci.c; vfio_config_write() says
 * which parts were written.
 */
#include <stdlib.h>

#include "core/util.h"
#include "vfio/vfio_pci.h"

static void virtualize(struct vfio_pci *vd, unsigned int off,
		       unsigned int len)
{
	memset(&vd->virt[off], 1, len);
}

/* Keep the capabilities we implement or pass through safely. */
static bool cap_supported(uint8_t id)
{
	switch (id) {
	case PCI_CAP_ID_PM:	/* power states: forwarded, vfio-pci checks */
	case PCI_CAP_ID_MSI:	/* emulated */
	case PCI_CAP_ID_EXP:	/* PCIe: forwarded, FLR intercepted */
	case PCI_CAP_ID_MSIX:	/* emulated */
		return true;
	default:
		return false;
	}
}

static int cap_length(struct vfio_pci *vd, uint8_t id, unsigned int pos)
{
	uint16_t flags;

	switch (id) {
	case PCI_CAP_ID_PM:
		return PCI_PM_SIZEOF;
	case PCI_CAP_ID_MSI:
		flags = pci_cfg_get16(&vd->pci, pos + PCI_MSI_FLAGS);
		return (flags & PCI_MSI_FLAGS_64BIT ? 14 : 10) +
		       (flags & PCI_MSI_FLAGS_MASKBIT ? 10 : 0);
	case PCI_CAP_ID_EXP:
		return PCI_CAP_EXP_ENDPOINT_SIZEOF_V2;
	case PCI_CAP_ID_MSIX:
		return PCI_CAP_MSIX_SIZEOF;
	default:
		return 2;
	}
}

/* Walk the device's list, relink only supported caps, remember them. */
static int scan_capabilities(struct vfio_pci *vd, int *msix_cap)
{
	struct pci_device *d = &vd->pci;
	unsigned int pos, prev = PCI_CAPABILITY_LIST, hops = 0;

	*msix_cap = -1;
	vd->msi_cap = -1;
	vd->pcie_cap = -1;
	virtualize(vd, PCI_CAPABILITY_LIST, 1);
	if (!(pci_cfg_get16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
		d->cfg[PCI_CAPABILITY_LIST] = 0;
		return 0;
	}
	pos = d->cfg[PCI_CAPABILITY_LIST] & ~3U;
	d->cfg[PCI_CAPABILITY_LIST] = 0;
	/* 48 hops at most, like Linux's PCI_FIND_CAP_TTL: a loop is a bug. */
	while (pos >= 0x40 && pos < 0x100 && hops++ < 48) {
		uint8_t id = d->cfg[pos];
		unsigned int next = d->cfg[pos + 1] & ~3U;
		int len = cap_length(vd, id, pos);

		virtualize(vd, pos + 1, 1);
		if (cap_supported(id) && pos + (unsigned int)len <= 0x100) {
			d->cfg[prev] = (uint8_t)pos;
			prev = pos + 1;
			if (id == PCI_CAP_ID_MSIX)
				*msix_cap = (int)pos;
			else if (id == PCI_CAP_ID_MSI)
				vd->msi_cap = (int)pos;
			else if (id == PCI_CAP_ID_EXP)
				vd->pcie_cap = (int)pos;
		} else {
			pr_info("%s: hiding capability %#x at %#x", vd->name,
				id, pos);
		}
		pos = next;
	}
	d->cfg[prev] = 0;
	if (!d->cfg[PCI_CAPABILITY_LIST])
		pci_cfg_set16(d, PCI_STATUS, pci_cfg_get16(d, PCI_STATUS) &
			      (uint16_t)~PCI_STATUS_CAP_LIST);
	return 0;
}

static void setup_msi(struct vfio_pci *vd)
{
	struct pci_device *d = &vd->pci;
	unsigned int pos = (unsigned int)vd->msi_cap;
	uint16_t flags = pci_cfg_get16(d, pos + PCI_MSI_FLAGS);
	bool is64 = flags & PCI_MSI_FLAGS_64BIT;

	/* One vector, no per-vector masking: what we emulate (PCI 3.0,
	 * 6.8.1.3: Multiple Message Capable = 0 means one vector). */
	flags &= (uint16_t)~(PCI_MSI_FLAGS_QMASK | PCI_MSI_FLAGS_QSIZE |
			     PCI_MSI_FLAGS_MASKBIT | PCI_MSI_FLAGS_ENABLE);
	pci_cfg_set16(d, pos + PCI_MSI_FLAGS, flags);
	virtualize(vd, pos, cap_length(vd, PCI_CAP_ID_MSI, pos) + 0U);
	d->wmask[pos + PCI_MSI_FLAGS] = PCI_MSI_FLAGS_ENABLE;
	put_le32(&d->wmask[pos + PCI_MSI_ADDRESS_LO], 0xfffffffc);
	if (is64) {
		put_le32(&d->wmask[pos + PCI_MSI_ADDRESS_HI], 0xffffffff);
		put_le16(&d->wmask[pos + PCI_MSI_DATA_64], 0xffff);
	} else {
		put_le16(&d->wmask[pos + PCI_MSI_DATA_32], 0xffff);
	}
}

static void setup_header(struct vfio_pci *vd)
{
	struct pci_device *d = &vd->pci;

	/* The whole type-0 header is ours. */
	virtualize(vd, 0, PCI_STD_HEADER_SIZEOF);
	pci_cfg_header_masks(d);
	/* Decoding starts off; the PCI bus enables it when it assigns. */
	pci_cfg_set16(d, PCI_COMMAND, 0);
	pci_cfg_set16(d, PCI_STATUS, pci_cfg_get16(d, PCI_STATUS) &
		      (PCI_STATUS_CAP_LIST | PCI_STATUS_66MHZ |
		       PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MASK));
	d->cfg[PCI_BIST] = 0;
	/* Only INTx if the host can deliver it. */
	if (!vd->irqs[VFIO_PCI_INTX_IRQ_INDEX].count)
		d->cfg[PCI_INTERRUPT_PIN] = 0;
	/* The ROM BAR: emulated (sizing); contents read through VFIO. */
	pci_cfg_set32(d, PCI_ROM_ADDRESS, 0);
	if (vd->regions[VFIO_PCI_ROM_REGION_INDEX].size >= 2048)
		put_le32(&d->wmask[PCI_ROM_ADDRESS],
			 (uint32_t)~(vd->regions[VFIO_PCI_ROM_REGION_INDEX].size -
				     1) & (PCI_ROM_ADDRESS_MASK |
					   PCI_ROM_ADDRESS_ENABLE));
	/* Extended capabilities: none shown. */
	if (vd->regions[VFIO_PCI_CONFIG_REGION_INDEX].size > 0x100) {
		put_le32(&d->cfg[0x100], 0);
		virtualize(vd, 0x100, 4);
	}
}

static void declare_bars(struct vfio_pci *vd)
{
	struct pci_device *d = &vd->pci;
	unsigned int i;

	for (i = 0; i < PCI_NR_BARS; i++) {
		uint32_t raw = pci_cfg_get32(d, PCI_BASE_ADDRESS_0 + 4 * i);
		uint64_t size = vd->regions[i].size;
		enum pci_bar_type type;

		pci_cfg_set32(d, PCI_BASE_ADDRESS_0 + 4 * i, 0);
		if (!size)
			continue;
		if (raw & PCI_BASE_ADDRESS_SPACE_IO)
			type = PCI_BAR_IO;
		else if ((raw & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
			 PCI_BASE_ADDRESS_MEM_TYPE_64)
			type = PCI_BAR_MEM64;
		else
			type = PCI_BAR_MEM32;
		if (pci_device_add_bar(d, i, type, size,
				       raw & PCI_BASE_ADDRESS_MEM_PREFETCH,
				       NULL, vd))
			pr_warn("%s: BAR%u (%llu bytes) cannot be emulated, hidden",
				vd->name, i, (unsigned long long)size);
		if (type == PCI_BAR_MEM64)
			pci_cfg_set32(d, PCI_BASE_ADDRESS_0 + 4 * ++i, 0);
	}
}

void vfio_config_read(struct pci_device *dev, unsigned int off,
		      uint8_t *data, unsigned int len)
{
	struct vfio_pci *vd = container_of(dev, struct vfio_pci, pci);
	uint8_t hw[4];
	unsigned int i;
	bool any_hw = false;

	for (i = 0; i < len; i++)
		any_hw |= !vd->virt[off + i];
	if (any_hw && vfio_region_read(vd, VFIO_PCI_CONFIG_REGION_INDEX, off,
				       hw, len) != (ssize_t)len)
		memset(hw, 0xff, sizeof(hw));
	for (i = 0; i < len; i++)
		data[i] = vd->virt[off + i] ? dev->cfg[off + i] : hw[i];
}

/* Forward the runs of non-virtualized bytes to the device. */
static void forward_write(struct vfio_pci *vd, unsigned int off,
			  const uint8_t *data, unsigned int len)
{
	unsigned int i = 0;

	while (i < len) {
		unsigned int j = i;

		if (vd->virt[off + i]) {
			i++;
			continue;
		}
		while (j < len && !vd->virt[off + j])
			j++;
		if (vfio_region_write(vd, VFIO_PCI_CONFIG_REGION_INDEX,
				      off + i, data + i, j - i) !=
		    (ssize_t)(j - i))
			pr_warn_ratelimited("%s: config write at %#x failed",
					    vd->name, off + i);
		i = j;
	}
}

static bool touches(unsigned int off, unsigned int len, unsigned int at,
		    unsigned int n)
{
	return off < at + n && off + len > at;
}

unsigned int vfio_config_write(struct vfio_pci *vd, unsigned int off,
			       const uint8_t *data, unsigned int len)
{
	unsigned int what = 0;
	uint8_t fwd[4];

	/*
	 * PCIe Device Control: Initiate Function Level Reset (7.5.3.4).  The
	 * bit is not forwarded: vfio-pci would reset the device at once,
	 * before the host's interrupt state is brought back to reset.
	 */
	memcpy(fwd, data, MIN(len, 4U));
	if (vd->pcie_cap >= 0) {
		unsigned int hi = (unsigned int)vd->pcie_cap + PCI_EXP_DEVCTL + 1;

		if (off <= hi && off + len > hi &&
		    (fwd[hi - off] & (PCI_EXP_DEVCTL_BCR_FLR >> 8))) {
			fwd[hi - off] &= (uint8_t)~(PCI_EXP_DEVCTL_BCR_FLR >> 8);
			if (vd->pcie_flr)
				what |= VFIO_CFG_FLR;
		}
	}
	forward_write(vd, off, fwd, len);
	/* The command register is ours, and the device's too: keep its
	 * decode and bus-master bits in step with the guest's. */
	if (touches(off, len, PCI_COMMAND, 2)) {
		uint16_t cmd = pci_cfg_get16(&vd->pci, PCI_COMMAND);

		vfio_region_write(vd, VFIO_PCI_CONFIG_REGION_INDEX,
				  PCI_COMMAND, &cmd, 2);
	}
	if (touches(off, len, PCI_COMMAND, 2) ||
	    touches(off, len, PCI_ROM_ADDRESS, 4))
		what |= VFIO_CFG_DECODE;
	if (vd->msi_cap >= 0 &&
	    touches(off, len, (unsigned int)vd->msi_cap,
		    (unsigned int)cap_length(vd, PCI_CAP_ID_MSI,
					     (unsigned int)vd->msi_cap)))
		what |= VFIO_CFG_MSI;
	return what;
}

int vfio_config_init(struct vfio_pci *vd, const struct pci_device_ops *ops,
		     int *msix_cap)
{
	struct pci_device *d = &vd->pci;
	uint64_t size = vd->regions[VFIO_PCI_CONFIG_REGION_INDEX].size;
	uint32_t devcap;

	*msix_cap = -1;
	memset(d, 0, sizeof(*d));
	d->name = vd->name;
	d->ops = ops;
	size = MIN(size, (uint64_t)PCI_CFG_SIZE);
	if (size < 0x40 || vfio_region_read(vd, VFIO_PCI_CONFIG_REGION_INDEX,
					    0, d->cfg, size) != (ssize_t)size) {
		pr_err("--passthrough %s: cannot read its config space",
		       vd->bdf);
		return -EIO;
	}
	memset(vd->virt, 0, sizeof(vd->virt));
	/* Past the device's config space there is nothing: virtual zeros. */
	if (size < PCI_CFG_SIZE)
		virtualize(vd, (unsigned int)size,
			   PCI_CFG_SIZE - (unsigned int)size);
	scan_capabilities(vd, msix_cap);
	setup_header(vd);
	declare_bars(vd);
	if (vd->pcie_cap >= 0) {
		devcap = pci_cfg_get32(d, (unsigned int)vd->pcie_cap +
				       PCI_EXP_DEVCAP);
		vd->pcie_flr = devcap & PCI_EXP_DEVCAP_FLR;
	}
	if (vd->msi_cap >= 0)
		setup_msi(vd);
	if (*msix_cap >= 0)
		virtualize(vd, (unsigned int)*msix_cap, PCI_CAP_MSIX_SIZEOF);
	return 0;
}
