// SPDX-License-Identifier: GPL-2.0
/*
 * One passed-through function: its life and the host's interrupt mode.
 *
 * Life: the board makes it from a --passthrough argument (a host BDF, or
 * "sim:MODEL[,k=v...]" for the simulated host of vfio/host/) with
 * vfio_pci_create(), which opens the function (vfio_open.c), and
 * vfio_pci_realize() builds it: config space (vfio_config.c), MSI-X
 * (vfio_msix.c), BARs (vfio_bars.c), its slot on the PCI bus, INTx
 * (vfio_intx.c).  vfio_pci_attach() does both (tests).  vfio_pci_reset()
 * is FLR.  vfio_pci_detach(), or vfio_pci_free() for what create() made,
 * undo everything at any point.  It prints its own state for `mvm stat`
 * and `mvm debug`.
 *
 * Interrupt mode: vfio-pci allows one interrupt type at a time
 * (drivers/vfio/pci/vfio_pci_intrs.c: vfio_pci_set_intx_trigger() and
 * vfio_pci_set_msi_trigger() refuse a trigger while another type is on).
 * set_irq_mode() is the one place that switches the host between none,
 * INTx, MSI and MSI-X, as QEMU's vfio_disable_interrupts() is for
 * hw/vfio/pci.c: what is on goes off, then the new mode goes on.  The
 * guest chooses through config writes: MSI-X Enable (pci/msix.c calls
 * msix_enable_changed()), MSI Enable (msi_written()), and FLR, after
 * which it is back to INTx.
 *
 * Calls between the vfio/ files (vfio/host/ aside) only go down:
 *
 *   vfio_pci ----> vfio_config, vfio_bars, vfio_intx, vfio_msi,
 *                  vfio_msix, vfio_open, vfio_irq_stats
 *   vfio_bars ---> vfio_msix (its trapped MSI-X pages), vfio_open
 *   vfio_config, vfio_intx, vfio_msi, vfio_msix ---> vfio_open
 *
 * The PCI bus and pci/msix.c call in through the hooks registered here
 * (vfio_pci_ops, vfio_msix_ops).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "vfio/vfio_pci.h"
#include "vfio/vfio_sim.h"

enum irq_mode { IRQ_MODE_NONE, IRQ_MODE_INTX, IRQ_MODE_MSI, IRQ_MODE_MSIX };

/* mvm's record of the host's mode: at most one type is on. */
static enum irq_mode host_irq_mode(struct vfio_pci *vd)
{
	if (vd->host_msix_enabled)
		return IRQ_MODE_MSIX;
	if (vd->host_msi_enabled)
		return IRQ_MODE_MSI;
	return vd->host_intx_enabled ? IRQ_MODE_INTX : IRQ_MODE_NONE;
}

/*
 * Switch the host to `mode`, with the MSI-X lock held (irq_lock()): the
 * MSI-X table handler reads the host's state under it.  MSI needs
 * vfio_msi_prepare() first.
 */
static int set_irq_mode(struct vfio_pci *vd, enum irq_mode mode)
{
	int err;

	if (mode == host_irq_mode(vd))
		return 0;
	/*
	 * What is on goes off first: vfio-pci refuses MSI-X while INTx or
	 * MSI is active, and the other way round.  MSI-X that would not go
	 * off stays on in mvm's record too, and then nothing else goes on.
	 */
	err = vfio_msix_host_disable(vd);
	if (err)
		return err;
	vfio_msi_host_disable(vd);
	vfio_intx_host_disable(vd);
	switch (mode) {
	case IRQ_MODE_INTX:
		return vfio_intx_host_enable(vd);
	case IRQ_MODE_MSI:
		err = vfio_msi_host_enable(vd);
		if (err)
			vfio_intx_host_enable(vd);	/* back to INTx */
		return err;
	case IRQ_MODE_MSIX:
		return vfio_msix_host_enable(vd);
	default:
		return 0;
	}
}

static void irq_lock(struct vfio_pci *vd)
{
	if (vd->has_msix)
		pthread_mutex_lock(&vd->msix.lock);
}

static void irq_unlock(struct vfio_pci *vd)
{
	if (vd->has_msix)
		pthread_mutex_unlock(&vd->msix.lock);
}

static int switch_irq_mode(struct vfio_pci *vd, enum irq_mode mode)
{
	int err;

	irq_lock(vd);
	err = set_irq_mode(vd, mode);
	irq_unlock(vd);
	return err;
}

/*
 * pci/msix.c's hook, with the MSI-X lock held: the guest flipped MSI-X
 * Enable.  The host follows at once, unmasked vectors or not (see
 * vfio_msix.c).  MSI-X off, the function is back to INTx; or stays in
 * MSI, which the guest can have turned on while the host refused MSI-X.
 */
static void msix_enable_changed(struct msix *m, bool enabled)
{
	struct vfio_pci *vd = m->opaque;

	if (enabled)
		set_irq_mode(vd, IRQ_MODE_MSIX);
	else if (host_irq_mode(vd) != IRQ_MODE_MSI)
		set_irq_mode(vd, IRQ_MODE_INTX);
}

static const struct msix_ops vfio_msix_ops = {
	.enable_changed = msix_enable_changed,
	.vector_changed = vfio_msix_vector_changed,
};

/* The guest wrote its MSI capability: follow Enable, or the message. */
static void msi_written(struct vfio_pci *vd)
{
	bool enabled = vfio_msi_guest_enabled(vd);

	if (enabled && !vd->host_msi_enabled) {
		if (vd->host_msix_enabled) {
			pr_warn_ratelimited("%s: guest enabled MSI while MSI-X is on: ignored",
					    vd->name);
			return;
		}
		if (vfio_msi_prepare(vd))
			return;
		switch_irq_mode(vd, IRQ_MODE_MSI);
		/* MSI did not go on: KVM's side of it goes back. */
		if (!vd->host_msi_enabled)
			vfio_msi_release(vd);
	} else if (!enabled && vd->host_msi_enabled) {
		switch_irq_mode(vd, IRQ_MODE_INTX);
	} else if (enabled) {
		vfio_msi_route(vd);
	}
}

/*
 * The PCI bus's config write hook: vfio_config.c forwards the bytes to
 * the device, and what they set off is done here.
 */
static void cfg_written(struct pci_device *dev, unsigned int off,
			const uint8_t *data, unsigned int len, uint32_t old)
{
	struct vfio_pci *vd = container_of(dev, struct vfio_pci, pci);
	unsigned int what = vfio_config_write(vd, off, data, len);

	if (what & VFIO_CFG_DECODE)
		vfio_rom_update(vd);
	if (vd->has_msix)
		msix_cfg_written(&vd->msix, off, len);
	if (what & VFIO_CFG_MSI)
		msi_written(vd);
	if (what & VFIO_CFG_FLR)
		vfio_pci_reset(vd);
}

static const struct pci_device_ops vfio_pci_ops = {
	.cfg_read = vfio_config_read,
	.cfg_written = cfg_written,
	.bar_map = vfio_bars_map,
};

int vfio_pci_reset(struct vfio_pci *vd)
{
	int err = 0, irq_err = 0;

	/*
	 * The guest's view after FLR: MSI/MSI-X off, decoding off; the host
	 * gets the same before the device is reset.  One hold of the lock:
	 * no table write may slip in between.  INTx, the mode after reset,
	 * stays on if it is.
	 */
	irq_lock(vd);
	if (host_irq_mode(vd) != IRQ_MODE_INTX)
		irq_err = set_irq_mode(vd, IRQ_MODE_NONE);
	vfio_msix_reset_locked(vd);
	irq_unlock(vd);
	vfio_msi_reset(vd);
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
	/* Back to INTx, unless MSI-X would not go off (then INTx cannot). */
	if (!irq_err)
		switch_irq_mode(vd, IRQ_MODE_INTX);
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
	int msix_cap, err;

	err = vfio_config_init(vd, &vfio_pci_ops, &msix_cap);
	if (!err && msix_cap >= 0)
		err = vfio_msix_init(vd, msix_cap, &vfio_msix_ops);
	if (!err)
		err = vfio_bars_init(vd);
	if (!err)
		err = pci_bus_register(vd->ctx->pci, &vd->pci, -1);
	if (!err)
		err = vfio_intx_init(vd);
	if (!err)
		switch_irq_mode(vd, IRQ_MODE_INTX);
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
	switch_irq_mode(vd, IRQ_MODE_NONE);
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

struct vfio_pci *vfio_pci_create(struct device_ctx *ctx, const char *spec)
{
	struct vfio_host *host = vfio_host_real(), *sim = NULL;
	struct vfio_pci *vd;
	char bdf[32];

	snprintf(bdf, sizeof(bdf), "%s", spec);
	if (!strncmp(spec, "sim:", 4)) {
		sim = vfio_sim_create(spec + 4, bdf, sizeof(bdf));
		if (!sim)
			return NULL;
		host = sim;
	}
	vd = malloc(sizeof(*vd));
	if (!vd) {
		pr_err("--passthrough %s: out of memory", spec);
		goto fail;
	}
	if (vfio_pci_open(vd, ctx, host, bdf)) {
		free(vd);
		goto fail;
	}
	vd->owned_host = sim;
	return vd;
fail:
	if (sim)
		sim->ops->destroy(sim);
	return NULL;
}

void vfio_pci_free(struct vfio_pci *vd)
{
	struct vfio_host *sim;

	if (!vd)
		return;
	sim = vd->owned_host;
	vfio_pci_detach(vd);
	free(vd);
	if (sim)
		sim->ops->destroy(sim);
}

void vfio_pci_print_stat(struct vfio_pci *vd, FILE *out)
{
	uint64_t *counts;
	bool have;

	fprintf(out, "%s msix set_irqs %llu enables %llu disables %llu grows %llu errors %llu\n",
		vd->name,
		(unsigned long long)vd->msix_stats.set_irqs,
		(unsigned long long)vd->msix_stats.enables,
		(unsigned long long)vd->msix_stats.disables,
		(unsigned long long)vd->msix_stats.grows,
		(unsigned long long)vd->msix_stats.errors);
	if (!vd->has_msix || !vd->vectors.v)
		return;
	/* Interrupts per vector as the host kernel took them. */
	counts = calloc(vd->msix.nr, sizeof(*counts));
	have = counts && !vfio_msix_host_irq_counts(vd, counts, vd->msix.nr);
	msix_vectors_stat(&vd->vectors, vd->name, have ? counts : NULL, false,
			  out);
	free(counts);
}

/* Guest view and host view of each vector, side by side. */
void vfio_pci_print_debug(struct vfio_pci *vd, FILE *out)
{
	unsigned int v;

	if (!vd->has_msix)
		return;
	pthread_mutex_lock(&vd->msix.lock);
	fprintf(out, "%s msix guest %s%s, host %s (%s, %u vectors allocated)\n",
		vd->name, vd->msix.enabled ? "enabled" : "disabled",
		vd->msix.function_mask ? " function-masked" : "",
		vd->host_msix_enabled ? "enabled" : "disabled",
		vd->msix_dynamic ? "dynamic" : "noresize", vd->host_nvec);
	for (v = 0; v < vd->msix.nr; v++) {
		struct msix_vector *x = &vd->vectors.v[v];

		if (!x->host_live && x->gsi < 0 &&
		    !msix_vector_data(&vd->msix, v) &&
		    msix_vector_masked(&vd->msix, v))
			continue;	/* untouched vector */
		fprintf(out, "  vector %u guest addr %#llx data %#x %s%s | host %s gsi %d %s\n",
			v, (unsigned long long)msix_vector_addr(&vd->msix, v),
			msix_vector_data(&vd->msix, v),
			msix_vector_masked(&vd->msix, v) ? "masked" : "unmasked",
			msix_pending(&vd->msix, v) ? " pending" : "",
			x->host_live ? "trigger" : "no-trigger", x->gsi,
			x->irqfd ? "irqfd" : x->polled ? "polled" : "idle");
	}
	pthread_mutex_unlock(&vd->msix.lock);
}
