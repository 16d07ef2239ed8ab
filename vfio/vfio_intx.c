// SPDX-License-Identifier: GPL-2.0
/*
 * INTx of a passed-through function, for guests that use neither MSI nor
 * MSI-X.  vfio_pci.c switches the host to it and away from it.
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
	uint64_t stale;

	if (!vd->host_intx_enabled)
		return;
	/* VFIO first: no new trigger after this; then KVM; then forget a
	 * trigger that came in between, so the next enable starts clean. */
	vfio_irqs_off(vd, VFIO_PCI_INTX_IRQ_INDEX, "INTx");
	irq_router_irqfd_resample(vd->ctx->router, (int)vd->pci.intx.pin,
				  vd->intx_efd, -1, false);
	if (read(vd->intx_efd, &stale, sizeof(stale)) < 0)
		stale = 0;
	vd->host_intx_enabled = false;
}

/* A no-op without INTx (no pin, or the host has none). */
int vfio_intx_host_enable(struct vfio_pci *vd)
{
	int32_t fd;
	int err;

	if (vd->host_intx_enabled || vd->intx_efd < 0)
		return 0;
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
		return err;
	}
	err = irq_router_irqfd_resample(vd->ctx->router, (int)vd->pci.intx.pin,
					vd->intx_efd, vd->intx_resample_efd,
					true);
	if (err) {
		vfio_disable_irqs(vd, VFIO_PCI_INTX_IRQ_INDEX);
		return err;
	}
	vd->host_intx_enabled = true;
	return 0;
}

/* The eventfds; vfio_pci.c turns INTx on. */
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
	return 0;
fail:
	pr_errno(-fd, "%s: eventfd for INTx failed", vd->name);
	close_fd(&vd->intx_efd);
	return fd;
}

void vfio_intx_destroy(struct vfio_pci *vd)
{
	close_fd(&vd->intx_efd);
	close_fd(&vd->intx_resample_efd);
}
