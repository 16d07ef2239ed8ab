// SPDX-License-Identifier: GPL-2.0
/*
 * MSI of a passed-through function, for guests that use it instead of
 * MSI-X.  The capability offers one vector (vfio_config.c), routed like an
 * MSI-X vector but without masking: an eventfd the host triggers, attached
 * with an irqfd to a GSI whose route carries the guest's message.
 * vfio_pci.c switches the host to MSI and away from it.
 */
#include <unistd.h>

#include "core/util.h"
#include "vfio/vfio_pci.h"

/* The guest's message, from a 32- or 64-bit capability. */
static void msi_message(struct vfio_pci *vd, uint64_t *addr, uint32_t *data)
{
	unsigned int pos = (unsigned int)vd->msi_cap;
	uint16_t flags = pci_cfg_get16(&vd->pci, pos + PCI_MSI_FLAGS);

	*addr = pci_cfg_get32(&vd->pci, pos + PCI_MSI_ADDRESS_LO);
	if (flags & PCI_MSI_FLAGS_64BIT) {
		*addr |= (uint64_t)pci_cfg_get32(&vd->pci,
						 pos + PCI_MSI_ADDRESS_HI) << 32;
		*data = pci_cfg_get16(&vd->pci, pos + PCI_MSI_DATA_64);
	} else {
		*data = pci_cfg_get16(&vd->pci, pos + PCI_MSI_DATA_32);
	}
}

bool vfio_msi_guest_enabled(struct vfio_pci *vd)
{
	return pci_cfg_get16(&vd->pci, (unsigned int)vd->msi_cap +
			     PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE;
}

int vfio_msi_route(struct vfio_pci *vd)
{
	uint64_t addr;
	uint32_t data;

	msi_message(vd, &addr, &data);
	irq_router_set_msi(vd->ctx->router, vd->msi_gsi, addr, data);
	return irq_router_commit(vd->ctx->router);
}

int vfio_msi_prepare(struct vfio_pci *vd)
{
	struct irq_router *r = vd->ctx->router;
	int fd, err;

	if (vd->msi_efd < 0) {
		fd = vd->host->ops->eventfd(vd->host);
		if (fd < 0) {
			pr_errno(-fd, "%s: eventfd for MSI failed", vd->name);
			return fd;
		}
		vd->msi_efd = fd;
	}
	vd->msi_gsi = irq_router_gsi_alloc(r);
	if (vd->msi_gsi < 0) {
		pr_err("%s: no free GSI for MSI", vd->name);
		return vd->msi_gsi;
	}
	err = vfio_msi_route(vd);
	if (!err)
		err = irq_router_irqfd(r, vd->msi_gsi, vd->msi_efd, true);
	if (err) {
		irq_router_gsi_free(r, vd->msi_gsi);
		vd->msi_gsi = -1;
	}
	return err;
}

void vfio_msi_release(struct vfio_pci *vd)
{
	if (vd->msi_gsi < 0)
		return;
	irq_router_irqfd(vd->ctx->router, vd->msi_gsi, vd->msi_efd, false);
	irq_router_gsi_free(vd->ctx->router, vd->msi_gsi);
	vd->msi_gsi = -1;
}

/* After vfio_msi_prepare(); a refusal gives KVM's side back. */
int vfio_msi_host_enable(struct vfio_pci *vd)
{
	int32_t fd = vd->msi_efd;
	int err;

	err = vfio_set_irqs_eventfd(vd, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &fd);
	if (err) {
		pr_errno(-err, "%s: VFIO_DEVICE_SET_IRQS(MSI enable) failed",
			 vd->name);
		vfio_msi_release(vd);
		return err;
	}
	vd->host_msi_enabled = true;
	return 0;
}

void vfio_msi_host_disable(struct vfio_pci *vd)
{
	if (!vd->host_msi_enabled)
		return;
	vfio_irqs_off(vd, VFIO_PCI_MSI_IRQ_INDEX, "MSI");
	vfio_msi_release(vd);
	vd->host_msi_enabled = false;
}

void vfio_msi_reset(struct vfio_pci *vd)
{
	unsigned int at;

	if (vd->msi_cap < 0)
		return;
	at = (unsigned int)vd->msi_cap + PCI_MSI_FLAGS;
	pci_cfg_set16(&vd->pci, at, pci_cfg_get16(&vd->pci, at) &
		      (uint16_t)~PCI_MSI_FLAGS_ENABLE);
}

void vfio_msi_destroy(struct vfio_pci *vd)
{
	if (vd->msi_efd >= 0)
		close(vd->msi_efd);
	vd->msi_efd = -1;
}
