// SPDX-License-Identifier: GPL-2.0
/*
 * INTx and MSI of a passed-through function, for guests that fall back to
 * them, plus function-level reset and attach/detach.
 *
 * INTx is level-triggered: the host masks the line when it fires
 * (VFIO_IRQ_INFO_AUTOMASKED); KVM's resampling irqfd tells us, through the
 * resample eventfd, when the guest EOIed it, and VFIO's UNMASK eventfd
 * action unmasks it on the host without a trip through mvm.
 */
#include <unistd.h>

#include "core/util.h"
#include "vfio/vfio_pci.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vfio_intx_host_disable(struct vfio_pci *vd)
{
	int err;

	uint64_t stale;

	if (!vd->host_intx_enabled)
		return;
	/* VFIO first: no new trigger after this; then KVM; then forget a
	 * trigger that came in between, so the next enable starts clean. */
	err = vfio_disable_irqs(vd, VFIO_PCI_INTX_IRQ_INDEX);
	if (err)
		pr_errno(-err, "%s: VFIO_DEVICE_SET_IRQS(INTx disable) failed",
			 vd->name);
	irq_router_irqfd_resample(vd->ctx->router, (int)vd->pci.intx.pin,
				  vd->intx_efd, -1, false);
	if (read(vd->intx_efd, &stale, sizeof(stale)) < 0)
		stale = 0;
	vd->host_intx_enabled = false;
}

void vfio_intx_host_enable(struct vfio_pci *vd)
{
	int32_t fd;
	int err;

	if (vd->host_intx_enabled || vd->intx_efd < 0)
		return;
	fd = vd->intx_efd;
	err = vfio_set_irqs_eventfd(vd, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd);
	if (!err) {
		fd = vd->intx_resample_efd;
		err = vfio_set_irqs_action(vd, VFIO_PCI_INTX_IRQ_INDEX,
					   VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
					   &fd);
	}
	if (err) {
		pr_errno(-err, "%s: VFIO_DEVICE_SET_IRQS(INTx enable) failed",
			 vd->name);
		vfio_disable_irqs(vd, VFIO_PCI_INTX_IRQ_INDEX);
		return;
	}
	if (irq_router_irqfd_resample(vd->ctx->router, (int)vd->pci.intx.pin,
				      vd->intx_efd, vd->intx_resample_efd,
				      true)) {
		vfio_disable_irqs(vd, VFIO_PCI_INTX_IRQ_INDEX);
		return;
	}
	vd->host_intx_enabled = true;
}

int vfio_intx_init(struct vfio_pci *vd)
{
	int fd;

	vd->intx_efd = vd->intx_resample_efd = -1;
	if (!vd->pci.cfg[PCI_INTERRUPT_PIN] ||
	    !vd->irqs[VFIO_PCI_INTX_IRQ_INDEX].count)
		return 0;
	fd = vd->host->ops->eventfd(vd->host);
	if (fd < 0)
		goto fail;
	vd->intx_efd = fd;
	fd = vd->host->ops->eventfd(vd->host);
	if (fd < 0)
		goto fail;
	vd->intx_resample_efd = fd;
	vfio_intx_host_enable(vd);
	return 0;
fail:
	pr_errno(-fd, "%s: eventfd for INTx failed", vd->name);
	close_fd(&vd->intx_efd);
	return fd;
}

void vfio_intx_destroy(struct vfio_pci *vd)
{
	vfio_intx_host_disable(vd);
	close_fd(&vd->intx_efd);
	close_fd(&vd->intx_resample_efd);
}

/* MSI: one vector, routed like an MSI-X vector but without masking. */
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

void vfio_msi_host_disable(struct vfio_pci *vd)
{
	int err;

	if (!vd->host_msi_enabled)
		return;
	err = vfio_disable_irqs(vd, VFIO_PCI_MSI_IRQ_INDEX);
	if (err)
		pr_errno(-err, "%s: VFIO_DEVICE_SET_IRQS(MSI disable) failed",
			 vd->name);
	irq_router_irqfd(vd->ctx->router, vd->msi_gsi, vd->msi_efd, false);
	irq_router_gsi_free(vd->ctx->router, vd->msi_gsi);
	vd->msi_gsi = -1;
	vd->host_msi_enabled = false;
}

static int msi_host_enable(struct vfio_pci *vd)
{
	struct irq_router *r = vd->ctx->router;
	uint64_t addr;
	uint32_t data;
	int32_t fd;
	int err;

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
	msi_message(vd, &addr, &data);
	irq_router_set_msi(r, vd->msi_gsi, addr, data);
	err = irq_router_commit(r);
	if (err)
		goto free_gsi;
	err = irq_router_irqfd(r, vd->msi_gsi, vd->msi_efd, true);
	if (err)
		goto free_gsi;
	vfio_intx_host_disable(vd);
	fd = vd->msi_efd;
	err = vfio_set_irqs_eventfd(vd, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &fd);
	if (err) {
		pr_errno(-err, "%s: VFIO_DEVICE_SET_IRQS(MSI enable) failed",
			 vd->name);
		irq_router_irqfd(r, vd->msi_gsi, vd->msi_efd, false);
		vfio_intx_host_enable(vd);
		goto free_gsi;
	}
	vd->host_msi_enabled = true;
	return 0;
free_gsi:
	irq_router_gsi_free(r, vd->msi_gsi);
	vd->msi_gsi = -1;
	return err;
}

void vfio_msi_cfg_written(struct vfio_pci *vd, unsigned int off,
			  unsigned int len)
{
	uint16_t flags = pci_cfg_get16(&vd->pci, (unsigned int)vd->msi_cap +
				       PCI_MSI_FLAGS);
	bool enabled = flags & PCI_MSI_FLAGS_ENABLE;
	uint64_t addr;
	uint32_t data;

	if (enabled && !vd->host_msi_enabled) {
		if (vd->host_msix_enabled) {
			pr_warn_ratelimited("%s: guest enabled MSI while MSI-X is on: ignored",
					    vd->name);
			return;
		}
		msi_host_enable(vd);
	} else if (!enabled && vd->host_msi_enabled) {
		vfio_msi_host_disable(vd);
		vfio_intx_host_enable(vd);
	} else if (enabled) {
		msi_message(vd, &addr, &data);
		irq_router_set_msi(vd->ctx->router, vd->msi_gsi, addr, data);
		irq_router_commit(vd->ctx->router);
	}
}

void vfio_msi_destroy(struct vfio_pci *vd)
{
	vfio_msi_host_disable(vd);
	close_fd(&vd->msi_efd);
}

int vfio_pci_reset(struct vfio_pci *vd)
{
	int err = 0;

	/* The guest's view after FLR: MSI/MSI-X off, decoding off; the host
	 * gets the same before the device is reset. */
	vfio_msix_reset(vd);
	if (vd->msi_cap >= 0) {
		unsigned int at = (unsigned int)vd->msi_cap + PCI_MSI_FLAGS;

		vfio_msi_host_disable(vd);
		pci_cfg_set16(&vd->pci, at, pci_cfg_get16(&vd->pci, at) &
			      (uint16_t)~PCI_MSI_FLAGS_ENABLE);
	}
	if (vd->info.flags & VFIO_DEVICE_FLAGS_RESET) {
		err = vd->host->ops->ioctl(vd->host, vd->dev_fd,
					   VFIO_DEVICE_RESET, NULL);
		if (err)
			pr_errno(-err, "%s: VFIO_DEVICE_RESET failed",
				 vd->name);
	} else {
		pr_warn("%s: the host cannot reset this device; FLR emulated only",
			vd->name);
	}
	pci_cfg_set16(&vd->pci, PCI_COMMAND, 0);
	pci_update_bars(&vd->pci);
	vfio_rom_update(vd);
	vfio_intx_host_enable(vd);
	return err;
}

int vfio_pci_open(struct vfio_pci *vd, struct device_ctx *ctx,
		  struct vfio_host *host, const char *bdf)
{
	int err;

	memset(vd, 0, sizeof(*vd));
	vd->ctx = ctx;
	vd->host = host;
	vd->msi_efd = vd->msi_gsi = -1;
	vd->intx_efd = vd->intx_resample_efd = -1;
	err = vfio_open_device(vd, bdf);
	if (err)
		vfio_close_device(vd);
	return err;
}

int vfio_pci_realize(struct vfio_pci *vd)
{
	int err;

	err = vfio_config_init(vd);
	if (!err)
		err = vfio_bars_init(vd);
	if (!err)
		err = pci_bus_register(vd->ctx->pci, &vd->pci, -1);
	if (!err)
		err = vfio_intx_init(vd);
	return err;
}

int vfio_pci_attach(struct vfio_pci *vd, struct device_ctx *ctx,
		    struct vfio_host *host, const char *bdf)
{
	int err = vfio_pci_open(vd, ctx, host, bdf);

	if (err)
		return err;
	err = vfio_pci_realize(vd);
	if (err)
		vfio_pci_detach(vd);
	return err;
}

void vfio_pci_detach(struct vfio_pci *vd)
{
	vfio_intx_destroy(vd);
	vfio_msi_destroy(vd);
	vfio_msix_destroy(vd);
	if (vd->pci.bus) {
		pci_bus_unregister(vd->pci.bus, &vd->pci);
		vfio_rom_update(vd);
	}
	vfio_bars_destroy(vd);
	vfio_close_device(vd);
}
